"""Which W-5d orbitals are a, b and c: site symmetry, local frames, and labels followed from 1T.

The paper names three low-lying effective W-5d orbitals a, b, c and says b and c stay degenerate
when the lattice is lowered from 1T to the distorted layer. What "degenerate" and "b, c" mean is
not pinned down by the text, so this module provides each reasonable reading:

- eigenvalues: the crystal-field levels (eigenvalues of a W's on-site 5x5 block, energy order);
- diagonal energies in the local octahedral frame (cubic axes pointing, as nearly as the
  distorted octahedron allows, from W to its six Te): the three t2g energies <xy|h|xy>, ...;
- diagonal energies in the trigonal frame of the 1T layer (a1g, and the two e_g^pi and two e_g^sigma
  partners, z along the layer normal);
- continuity: the eigen-orbitals followed along a linear interpolation of the structure from the
  fictitious 1T layer to the distorted one, so that a label names the same orbital throughout.

And the site-symmetry group of the metal (spglib), which says which degeneracies symmetry can
force and which dipole components an orbital may carry. Energies in eV, lengths in Angstrom.
"""
from __future__ import annotations

import numpy as np
from ase import Atoms

from .dshell import d_rotation_matrix


def interpolate(start: Atoms, end: Atoms, lam: float) -> Atoms:
    """The structure a fraction `lam` (0: `start`, 1: `end`) along the straight line between two
    structures with the same atoms in the same order: fractional coordinates (minimal image) and
    cell interpolated linearly."""
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam={lam!r}: must lie in [0, 1]")
    if start.get_chemical_symbols() != end.get_chemical_symbols():
        raise ValueError("start and end must hold the same atoms in the same order")
    fa, fb = start.get_scaled_positions(wrap=False), end.get_scaled_positions(wrap=False)
    d = fb - fa
    d[:, :2] -= np.round(d[:, :2])                 # in-plane minimal image; z is not periodic
    cell = (1 - lam) * np.array(start.cell) + lam * np.array(end.cell)
    out = Atoms(start.get_chemical_symbols(), cell=cell, pbc=start.pbc)
    out.set_scaled_positions(fa + lam * d)
    return out


# --- site symmetry ----------------------------------------------------------------------------

def site_operations(atoms: Atoms, index: int, symprec: float = 0.05) -> list:
    """Cartesian 3x3 point parts of the space-group operations that map atom `index` onto itself
    (modulo lattice vectors): its site-symmetry group. spglib, tolerance `symprec` (Angstrom).
    Found in the primitive cell (a rectangular 1T cell hides the three-fold axes) and cleaned to
    the nearest orthogonal matrices."""
    import spglib
    if not 0 <= index < len(atoms):
        raise ValueError(f"index={index!r}: must be an atom index in [0, {len(atoms) - 1}]")
    cart = atoms.get_positions()
    ds = spglib.get_symmetry_dataset((np.array(atoms.cell), atoms.get_scaled_positions(), atoms.numbers),
                                     symprec=symprec)
    prim = np.array(ds.primitive_lattice)
    mapping = np.asarray(ds.mapping_to_primitive)
    first = [int(np.where(mapping == m)[0][0]) for m in sorted(set(mapping.tolist()))]
    frac = cart[first] @ np.linalg.inv(prim)
    numbers = atoms.numbers[first]
    site = sorted(set(mapping.tolist())).index(mapping[index])
    sym = spglib.get_symmetry((prim, frac, numbers), symprec=symprec)
    ops = []
    for rot, tr in zip(sym["rotations"], sym["translations"]):
        d = rot @ frac[site] + tr - frac[site]
        if np.linalg.norm((d - np.round(d)) @ prim) < symprec:
            o = prim.T @ rot @ np.linalg.inv(prim.T)
            u, _, vt = np.linalg.svd(o)
            ops.append(u @ vt)
    return ops


def d_representation(op: np.ndarray) -> np.ndarray:
    """5x5 matrix of a Cartesian point operation on the real d orbitals (columns: images of
    xy, yz, z2, xz, x2-y2). d orbitals are even, so an improper operation acts like its proper
    part (-op)."""
    op = np.asarray(op, float)
    proper = op if np.linalg.det(op) > 0 else -op
    return d_rotation_matrix(proper.T)


def forced_degeneracies(ops: list, seed: int = 1, tol: float = 1e-4) -> list:
    """Degeneracies of the d levels that the site group `ops` forces: the multiplicities of the
    eigenvalues of a random Hermitian 5x5 matrix averaged over the group (a generic crystal field of
    that symmetry). E.g. [1, 1, 1, 1, 1] for a mirror alone, [1, 2, 2] for D3d."""
    w = np.sort(np.linalg.eigvalsh(generic_field(ops, seed)))
    groups, count = [], 1
    for x, y in zip(w[:-1], w[1:]):
        if y - x < tol * max(1.0, abs(w).max()):
            count += 1
        else:
            groups.append(count)
            count = 1
    return groups + [count]


def allowed_dipole_axes(ops: list, tol: float = 1e-3) -> list:
    """Cartesian directions ('x', 'y', 'z') along which a site of symmetry `ops` may carry a dipole
    (the vector components invariant under every operation): none when the group has inversion."""
    P = sum(np.asarray(o, float) for o in ops) / len(ops)
    return [ax for i, ax in enumerate("xyz") if np.linalg.norm(P[:, i] - np.eye(3)[:, i]) < tol]


def site_symmetry(atoms: Atoms, index: int, symprec: float = 0.05) -> dict:
    """The site-symmetry group of atom `index` and what it allows: order, whether it holds
    inversion, the d-level degeneracies it forces, and the dipole directions it allows."""
    import spglib
    ops = site_operations(atoms, index, symprec)
    ds = spglib.get_symmetry_dataset((np.array(atoms.cell), atoms.get_scaled_positions(), atoms.numbers),
                                     symprec=symprec)
    return {"space group": f"{ds.international} ({ds.number})",
            "site symmetry": str(ds.site_symmetry_symbols[index]).replace(".", "") or "1",
            "order": len(ops),
            "inversion": any(np.allclose(o, -np.eye(3), atol=1e-3) for o in ops),
            "d degeneracies forced": forced_degeneracies(ops),
            "dipole allowed along": allowed_dipole_axes(ops)}


def mirror_parity_basis(ops: list) -> tuple[np.ndarray, np.ndarray] | None:
    """If the site group holds a mirror, the d functions even and odd under it (columns, in the
    cell-frame d basis): (even (5, n_even), odd (5, n_odd)). None without a mirror."""
    for o in ops:
        w = np.linalg.eigvalsh(0.5 * (o + o.T))
        if np.allclose(o, o.T, atol=1e-3) and np.allclose(np.sort(w), [-1, 1, 1], atol=1e-3):
            w, v = np.linalg.eigh(d_representation(o))
            return v[:, w > 0], v[:, w < 0]
    return None


# --- local frames ------------------------------------------------------------------------------

def ligand_vectors(atoms: Atoms, index: int, n: int = 6) -> np.ndarray:
    """Vectors (n, 3), Angstrom, from atom `index` to its n nearest neighbours (periodic images in
    the plane included)."""
    from ase.neighborlist import neighbor_list
    i, j, D = neighbor_list("ijD", atoms, 4.0)
    D = D[i == index]
    return D[np.argsort(np.linalg.norm(D, axis=1))[:n]]


def octahedral_frame(atoms: Atoms, index: int) -> np.ndarray:
    """Local octahedral frame of a metal: a proper rotation whose columns are cubic axes pointing,
    as nearly as the octahedron allows, from the metal to its six ligands. The six bonds are
    paired into the three most opposite pairs; each pair's difference vector is an axis; the three
    are orthonormalized symmetrically (polar decomposition). Axes ordered by their angle with the
    cell's x, y, z (Hungarian-free greedy), right-handed."""
    u = ligand_vectors(atoms, index, 6)
    u = u / np.linalg.norm(u, axis=1)[:, None]
    free, axes = list(range(6)), []
    while free:
        i = free.pop(0)
        j = min(free, key=lambda k: u[i] @ u[k])
        free.remove(j)
        axes.append(u[i] - u[j])
    A = np.array(axes).T                                     # columns
    U, _, Vt = np.linalg.svd(A)
    R = U @ Vt
    if np.linalg.det(R) < 0:
        R[:, 2] *= -1
    return R


def frame_orbitals(frame: np.ndarray) -> np.ndarray:
    """The d orbitals of a local frame (columns xy', yz', z2', xz', x2-y2' in the cell-frame d
    basis): phi'_m(r) = Y_m(frame^T r)."""
    return d_rotation_matrix(frame)


def t2g_diagonal_energies(h5: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """Diagonal energies (eV) <m'|h|m'> of the three t2g orbitals xy', yz', xz' of the local
    octahedral frame, for an on-site 5x5 block `h5` in the cell-frame d basis."""
    V = frame_orbitals(frame)[:, [0, 1, 3]]
    return np.real(np.einsum("im,ij,jm->m", V, h5, V))


def trigonal_orbitals(frame: np.ndarray, ops: list | None = None) -> tuple[np.ndarray, list]:
    """Trigonal-frame orbitals built from a local octahedral frame: a1g (the t2g combination along
    the layer normal, i.e. the cell's z2 projected on t2g), the two e_g^pi (rest of t2g) and the two
    e_g^sigma (the octahedral e_g), each pair split by the site mirror when `ops` hold one.
    Returns (5x5 columns, names)."""
    V = frame_orbitals(frame)
    t2g, eg = V[:, [0, 1, 3]], V[:, [2, 4]]
    z2 = np.eye(5)[:, 2]
    a1g = t2g @ (t2g.T @ z2)
    a1g /= np.linalg.norm(a1g)
    rest = t2g - np.outer(a1g, a1g @ t2g)
    u, s, _ = np.linalg.svd(rest)
    epi = u[:, :2]
    mirror = mirror_parity_basis(ops) if ops else None

    def split(pair):
        if mirror is None:
            return pair, ["", ""]
        M = pair.T @ (mirror[0] @ mirror[0].T - mirror[1] @ mirror[1].T) @ pair
        w, v = np.linalg.eigh(M)
        return pair @ v[:, ::-1], ["+" if x > 0 else "-" for x in w[::-1]]

    epi, pe = split(epi)
    esig, ps = split(eg)
    names = ["a1g", f"epi{pe[0]}", f"epi{pe[1]}", f"esig{ps[0]}", f"esig{ps[1]}"]
    return np.column_stack([a1g, epi, esig]), names


def diagonal_energies(h5: np.ndarray, orbitals: np.ndarray) -> np.ndarray:
    """<v_m|h|v_m> (eV) of the columns of `orbitals` for an on-site block `h5`."""
    return np.real(np.einsum("im,ij,jm->m", orbitals.conj(), h5, orbitals))


# --- levels followed along a path ---------------------------------------------------------------

def parity_levels(h5: np.ndarray, ops: list) -> tuple[np.ndarray, np.ndarray, list]:
    """Eigenvalues (eV, ascending), eigenvectors (columns) and mirror parity ('+'/'-') of an on-site
    block, diagonalized separately in the mirror-even and mirror-odd d functions when the site has
    a mirror (so that levels of different parity may cross without mixing)."""
    h5 = 0.5 * (h5 + h5.conj().T)
    mirror = mirror_parity_basis(ops)
    if mirror is None:
        w, v = np.linalg.eigh(h5)
        return w, v, [""] * 5
    ws, vs, ps = [], [], []
    for sign, B in zip("+-", mirror):
        w, v = np.linalg.eigh(B.T @ h5 @ B)
        ws += list(w)
        vs += list((B @ v).T)
        ps += [sign] * len(w)
    order = np.argsort(ws)
    return np.array(ws)[order], np.array(vs)[order].T, [ps[i] for i in order]


def follow(blocks: list, ops: list) -> list:
    """Follow the eigen-orbitals of a sequence of on-site blocks (a structural path) continuously:
    returns, per step, the permutation `perm` such that column perm[m] of that step's eigenvectors
    continues orbital m of the first step, and the smallest overlap |<prev|next>| used (1: smooth).
    Matching maximizes the total overlap with the previous step (linear_sum_assignment)."""
    from scipy.optimize import linear_sum_assignment
    out, prev = [], None
    for h5 in blocks:
        w, v, p = parity_levels(h5, ops)
        if prev is None:
            perm, worst = np.arange(5), 1.0
        else:
            ov = np.abs(prev.conj().T @ v)
            rows, perm = linear_sum_assignment(-ov)
            worst = float(ov[rows, perm].min())
        out.append({"energies": w[perm], "vectors": v[:, perm], "parity": [p[i] for i in perm],
                    "min_overlap": worst})
        prev = v[:, perm]
    return out


def name_by_overlap(vectors: np.ndarray, reference: np.ndarray, names: list) -> list:
    """Name each column of `vectors` after the reference orbital it overlaps most (assignment)."""
    from scipy.optimize import linear_sum_assignment
    ov = np.abs(reference.conj().T @ vectors)
    rows, cols = linear_sum_assignment(-ov)
    out = [""] * vectors.shape[1]
    for r, c in zip(rows, cols):
        out[c] = names[r]
    return out


# --- the readings of "a, b, c" -------------------------------------------------------------------

READINGS = ("energy order", "continuity from 1T", "local octahedral frame", "trigonal frame")
#: What each reading means by the levels of a, b, c.
READING_MEANS = {
    "energy order": "eigenvalues of the on-site block; a, b, c the three lowest",
    "continuity from 1T": "eigenvalues; a the descendant of the 1T a1g level, b and c of the 1T e_g^pi pair",
    "local octahedral frame": "diagonal energies of the t2g orbitals xy', yz', xz' of the octahedron's own "
                              "cubic axes; b, c the pair closest in energy, a the third",
    "trigonal frame": "diagonal energies of a1g and the two e_g^pi built on the octahedron's own axes "
                      "(split by the site mirror)"}
#: Two levels closer than this (eV) are called degenerate: k_B T at 300 K.
DEGENERACY_TOL = 0.025


def complete_basis(cols: np.ndarray) -> np.ndarray:
    """A 5x5 orthogonal matrix whose first columns are the (orthonormal) `cols`."""
    q, _ = np.linalg.qr(np.column_stack([cols, np.eye(5)]))
    q = q[:, :5]
    q[:, :cols.shape[1]] = cols
    return q


def generic_field(ops: list, seed: int = 1) -> np.ndarray:
    """A random real symmetric 5x5 crystal field averaged over the site group `ops`: what every
    field of that symmetry shares, and nothing more."""
    rng = np.random.default_rng(seed)
    h = rng.normal(size=(5, 5))
    h = h + h.T
    D = [d_representation(o) for o in ops]
    return sum(d @ h @ d.T for d in D) / len(D)


def symmetry_forced(u: np.ndarray, v: np.ndarray, ops: list, kind: str, tol: float = 0.02) -> bool:
    """Whether the site symmetry alone makes two orbitals' levels equal, for any crystal field:
    for kind 'diagonal', their diagonal energies; for kind 'eigenvalues', the two eigenvalues of the
    field restricted to span{u, v}. Tested on a generic field of the symmetry (generic_field).
    A degeneracy that symmetry forces is a consistency check of the code, not evidence."""
    if kind not in ("diagonal", "eigenvalues"):
        raise ValueError(f"kind={kind!r}: choose 'diagonal' or 'eigenvalues'")
    g = generic_field(ops)
    scale = np.abs(g).max()
    if kind == "diagonal":
        return bool(abs(u @ g @ u - v @ g @ v) < tol * scale)
    B = np.column_stack([u, v])
    w = np.linalg.eigvalsh(B.T @ g @ B)
    return bool(abs(w[1] - w[0]) < tol * scale)


def reading(h5: np.ndarray, atoms: Atoms, index: int, name: str, names_from_1T: list | None = None) -> dict:
    """Orbitals a, b, c of the metal `index` (on-site block `h5`, cell-frame d basis) under one
    reading (READINGS): the 5x5 orbital matrix (columns a, b, c, then the rest), the three energies
    (eV) in the sense of the reading, the b-c splitting (eV), whether b and c count as degenerate
    (DEGENERACY_TOL) and whether a site operation exchanges them (degeneracy forced by symmetry).
    `names_from_1T`: the continuity names (a1g, epi+, ...) of the eigenvectors of parity_levels,
    from follow() along a path; without it they are taken by overlap with the trigonal orbitals."""
    if name not in READINGS:
        raise ValueError(f"reading={name!r}: choose from {list(READINGS)}")
    h5 = np.real(0.5 * (h5 + h5.conj().T))
    ops = site_operations(atoms, index)
    frame = octahedral_frame(atoms, index)
    if name == "energy order":
        w, v = np.linalg.eigh(h5)
        orbs, e = v, w[:3]
    elif name == "continuity from 1T":
        w, v, _ = parity_levels(h5, ops)
        trig, tnames = trigonal_orbitals(frame, ops)
        names = names_from_1T or name_by_overlap(v, trig, tnames)
        a = names.index("a1g")
        pis = [i for i, n in enumerate(names) if n.startswith("epi")]
        pis.sort(key=lambda i: w[i])
        order = [a] + pis
        orbs = complete_basis(v[:, order])
        e = w[order]
    elif name == "local octahedral frame":
        V = frame_orbitals(frame)[:, [0, 1, 3]]
        d = diagonal_energies(h5, V)
        pairs = [(0, 1), (0, 2), (1, 2)]
        i, j = min(pairs, key=lambda p: abs(d[p[0]] - d[p[1]]))
        k = ({0, 1, 2} - {i, j}).pop()
        i, j = sorted((i, j), key=lambda m: d[m])
        orbs = complete_basis(V[:, [k, i, j]])
        e = d[[k, i, j]]
    else:
        trig, tnames = trigonal_orbitals(frame, ops)
        d = diagonal_energies(h5, trig)
        i, j = sorted((1, 2), key=lambda m: d[m])
        orbs = complete_basis(trig[:, [0, i, j]])
        e = d[[0, i, j]]
    split = float(abs(e[2] - e[1]))
    return {"reading": name, "orbitals": orbs, "energies_eV": np.asarray(e, float), "bc_splitting_eV": split,
            "degenerate": split < DEGENERACY_TOL,
            "forced by symmetry": symmetry_forced(orbs[:, 1], orbs[:, 2], ops,
                                                  "eigenvalues" if name in READINGS[:2] else "diagonal"),
            "a lowest": bool(e[0] < min(e[1], e[2]))}
