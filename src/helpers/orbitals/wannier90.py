"""The second Wannier construction: Wannier90 driven through GPAW's interface, read back as a
helpers.wannier.TBModel and compared with our projected Wannier functions.

The GPAW side (SCF, the .win/.amn/.mmn/.eig files, the two wannier90.x runs) is the task
"wannier90" of helpers.gpaw_job, launched and cached by helpers.dft.wannier90. This module holds
what does not need GPAW: the .win text, parsers of Wannier90's outputs (_hr.dat, _wsvec.dat,
.wout, .mmn, _u.mat), the Marzari-Vanderbilt centres of any gauge, the map from Wannier90's
orbital order to helpers.wannier's, and the comparison of two constructions.

Orbital orders. helpers.wannier (GPAW's real harmonics): p (y, z, x), d (xy, yz, z2, xz, x2-y2).
Wannier90 (projections `W: d`, `Te: p`): p (z, x, y), d (z2, xz, yz, x2-y2, xy); both sets of real
harmonics have positive coefficients, so the map is a pure permutation. Wannier90 lists the
projections species line by species line, each over that species' atoms in input order.

Units: energies eV (models relative to the Fermi level), lengths Angstrom.
"""
from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np

from .. import wannier as W

#: Wannier90's order of the real harmonics of each l (its user guide, table 3.1)
W90_NAMES = {0: ["s"], 1: ["pz", "px", "py"], 2: ["dz2", "dxz", "dyz", "dx2-y2", "dxy"]}
#: helpers.wannier's (GPAW's) order
OURS_NAMES = {0: ["s"], 1: list(W.P_LABELS), 2: list(W.D_LABELS)}
L_LETTER = {0: "s", 1: "p", 2: "d"}


# --- orbital order ----------------------------------------------------------------------------

def gpaw_index_of_w90(l: int) -> list:
    """For each Wannier90 real harmonic of angular momentum `l` (in Wannier90's order), its index
    in GPAW's order: d -> [2, 3, 1, 4, 0], p -> [1, 2, 0]."""
    if l not in W90_NAMES:
        raise ValueError(f"l={l!r}: only s, p, d (0, 1, 2) are mapped")
    return [OURS_NAMES[l].index(n) for n in W90_NAMES[l]]


def _check_wanted(symbols, wanted: dict) -> None:
    if not wanted or any(l not in W90_NAMES for l in wanted.values()):
        raise ValueError(f"wanted={wanted!r}: map chemical symbols to l in (0, 1, 2)")
    missing = [s for s in wanted if s not in symbols]
    if missing:
        raise ValueError(f"wanted={wanted!r}: no atom of {missing} in the structure {list(symbols)}")


def w90_orbitals(symbols, wanted: dict) -> list:
    """Wannier90's projection orbitals, in its order, as (atom, l, name): one projections line per
    species in order of first appearance among the atoms, each over that species' atoms."""
    _check_wanted(symbols, wanted)
    species = [s for i, s in enumerate(symbols) if s in wanted and s not in symbols[:i]]
    return [(a, wanted[s], n) for s in species for a, sa in enumerate(symbols) if sa == s
            for n in W90_NAMES[wanted[s]]]


def ours_orbitals(symbols, wanted: dict) -> list:
    """helpers.wannier's orbitals, in its order, as (atom, l, name): atoms in index order, GPAW's
    real harmonics."""
    _check_wanted(symbols, wanted)
    return [(a, wanted[s], n) for a, s in enumerate(symbols) if s in wanted for n in OURS_NAMES[wanted[s]]]


def w90_to_ours(symbols, wanted: dict) -> np.ndarray:
    """perm with H_ours = H_w90[perm][:, perm]: perm[i] is the Wannier90 index of our orbital i."""
    w90 = {(a, n): i for i, (a, l, n) in enumerate(w90_orbitals(symbols, wanted))}
    return np.array([w90[(a, n)] for a, l, n in ours_orbitals(symbols, wanted)])


def gpaw_projector_columns(symbols, wanted: dict, projector_l: dict) -> list:
    """Per atom, the indices of GPAW's PAW projector functions to use as Wannier90's projections,
    in Wannier90's order: the first bound projector of angular momentum wanted[symbol] (e.g. W 5d,
    Te 5p), its m components permuted from GPAW's order to Wannier90's. `projector_l[symbol]` is
    the list of (l, n) of that setup's projectors (n = -1: unbound). Atoms without projections get
    an empty list. GPAW's writer walks the atoms in index order, so the atoms of each species must
    come in the order Wannier90 lists them (raises ValueError otherwise)."""
    order = [a for a, l, n in w90_orbitals(symbols, wanted)]
    walk = [a for a, s in enumerate(symbols) if s in wanted for _ in range(2 * wanted[s] + 1)]
    if order != walk:
        raise ValueError(f"symbols={list(symbols)}: the atoms of each projected species must be "
                         "contiguous, species in order of first appearance (GPAW's .amn writer "
                         "walks atoms in index order, Wannier90 species by species)")
    out = []
    for s in symbols:
        if s not in wanted:
            out.append([])
            continue
        offset = 0
        for l, n in projector_l[s]:
            if l == wanted[s] and n != -1:
                break
            offset += 2 * l + 1
        else:
            raise ValueError(f"the {s} setup has no bound projector with l={wanted[s]}")
        out.append([offset + m for m in gpaw_index_of_w90(wanted[s])])
    return out


# --- input --------------------------------------------------------------------------------------

def win_text(cell, symbols, frac, kpts, mp_grid, wanted: dict, num_bands: int, exclude: int,
             froz_max_eV: float, num_iter: int, dis_num_iter: int, win_min_eV: float | None = None,
             win_max_eV: float | None = None) -> str:
    """Wannier90 input (.win): `num_bands` bands above the `exclude` lowest (semicore), projections
    `wanted` ({'W': 2, 'Te': 1} -> W: d, Te: p), outer window [win_min, win_max] (absolute eV; None:
    all bands) and frozen window up to `froz_max_eV`, `num_iter` localization steps (0: the
    projected functions of the disentangled subspace), the cell (Angstrom), fractional positions
    and the k points (fractional, the order of the .amn/.mmn/.eig files)."""
    nw = len(w90_orbitals(symbols, wanted))
    if num_bands < nw:
        raise ValueError(f"num_bands={num_bands}: fewer than the {nw} Wannier functions")
    species = [s for i, s in enumerate(symbols) if s in wanted and s not in symbols[:i]]
    lines = [f"num_bands = {num_bands}", f"num_wann = {nw}"]
    if exclude:
        lines.append("exclude_bands = " + ",".join(str(i + 1) for i in range(exclude)))
    lines += ["spinors = false"]
    if num_bands > nw:
        if win_min_eV is not None:
            lines.append(f"dis_win_min = {win_min_eV:.6f}")
        if win_max_eV is not None:
            lines.append(f"dis_win_max = {win_max_eV:.6f}")
        lines += [f"dis_froz_max = {froz_max_eV:.6f}", f"dis_num_iter = {dis_num_iter}",
                  "dis_conv_tol = 1.0e-10", "dis_conv_window = 5", "dis_mix_ratio = 0.5"]
    lines += [f"num_iter = {num_iter}", "conv_tol = 1.0e-10", "conv_window = 5",
              "guiding_centres = true", "write_hr = true", "write_u_matrices = true",
              "use_ws_distance = true", "", "begin projections"]
    lines += [f"{s}: {L_LETTER[wanted[s]]}" for s in species]
    lines += ["end projections", "", "begin unit_cell_cart", "ang"]
    lines += ["  ".join(f"{x:.10f}" for x in v) for v in np.asarray(cell)]
    lines += ["end unit_cell_cart", "", "begin atoms_frac"]
    lines += [f"{s} " + "  ".join(f"{x:.10f}" for x in p) for s, p in zip(symbols, np.asarray(frac))]
    lines += ["end atoms_frac", "", "mp_grid = " + " ".join(str(int(n)) for n in mp_grid), "",
              "begin kpoints"]
    lines += ["  ".join(f"{x:.10f}" for x in k) for k in np.asarray(kpts)]
    lines += ["end kpoints", ""]
    return "\n".join(lines)


# --- parsers --------------------------------------------------------------------------------------

def read_text(source) -> str:
    """Text of a file (plain or .gz) or the string itself if it is not a path to a file."""
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and Path(source).is_file()):
        path = Path(source)
        if path.suffix == ".gz":
            with gzip.open(path, "rt") as f:
                return f.read()
        return path.read_text()
    return str(source)


def read_hr(source) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wannier90's seedname_hr.dat: (R (nR, 3) int, ndegen (nR,), H (nR, nw, nw) complex eV) as
    written, H[r, m, n] = <w_m0|H|w_nR>, not yet divided by the Wigner-Seitz degeneracies."""
    lines = read_text(source).splitlines()
    nw, nr = int(lines[1].split()[0]), int(lines[2].split()[0])
    deg, i = [], 3
    while len(deg) < nr:
        deg += [int(x) for x in lines[i].split()]
        i += 1
    data = np.array(" ".join(lines[i:i + nr * nw * nw]).split(), float).reshape(nr * nw * nw, 7)
    R = data[::nw * nw, :3].astype(int)
    m, n = data[:, 3].astype(int) - 1, data[:, 4].astype(int) - 1
    H = np.zeros((nr, nw, nw), complex)
    H[np.repeat(np.arange(nr), nw * nw), m, n] = data[:, 5] + 1j * data[:, 6]
    return R, np.array(deg), H


def read_wsvec(source) -> dict:
    """Wannier90's seedname_wsvec.dat (use_ws_distance): {(R1, R2, R3, m, n): T (nT, 3) int}, the
    supercell translations among which hopping H_mn(R) is shared equally (0-based m, n)."""
    lines = read_text(source).splitlines()[1:]
    out, i = {}, 0
    while i < len(lines):
        head = lines[i].split()
        if not head:
            i += 1
            continue
        key = tuple(int(x) for x in head[:3]) + (int(head[3]) - 1, int(head[4]) - 1)
        nT = int(lines[i + 1].split()[0])
        out[key] = np.array([[int(x) for x in lines[i + 2 + j].split()[:3]] for j in range(nT)]).reshape(nT, 3)
        i += 2 + nT
    return out


def read_wout(source) -> dict:
    """Final centres (nw, 3) Angstrom, spreads (nw,) Angstrom^2 and the spread decomposition
    (Omega_I, Omega_D, Omega_OD, Omega_total, Angstrom^2) from a .wout file."""
    lines = read_text(source).splitlines()
    start = max((i for i, s in enumerate(lines) if "Final State" in s), default=0)
    cen, spr, omega = [], [], {}
    for s in lines[start:]:
        if "WF centre and spread" in s:
            inside = s[s.index("(") + 1:s.index(")")]
            cen.append([float(x) for x in inside.replace(",", " ").split()])
            spr.append(float(s[s.index(")") + 1:].split()[0]))
        m = re.search(r"Omega (I|D|OD|Total)\s*=\s*(\S+)", s)
        if m:
            omega[f"Omega_{m.group(1)}"] = float(m.group(2))
    if not cen:
        raise ValueError("no 'WF centre and spread' lines after the final state in this .wout")
    n = len(cen)
    # the final-state block lists each function once (then the sum); keep the first nw entries
    nw = next((i for i in range(1, n) if cen[i] == cen[0] and spr[i] == spr[0]), n)
    return {"centres_A": np.array(cen[:nw]), "spreads_A2": np.array(spr[:nw]), **omega}


def read_mmn(source) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Overlaps M_mn(k, b) = <u_mk|u_n,k+b> from a .mmn file: (M (nk, nb, nbands, nbands),
    neighbour index kb (nk, nb), G shift (nk, nb, 3))."""
    lines = read_text(source).splitlines()
    nbands, nk, nb = (int(x) for x in lines[1].split()[:3])
    M = np.zeros((nk, nb, nbands, nbands), complex)
    kb = np.zeros((nk, nb), int)
    G = np.zeros((nk, nb, 3), int)
    i, count = 2, {}
    block = nbands * nbands
    for _ in range(nk * nb):
        k1, k2, g1, g2, g3 = (int(x) for x in lines[i].split()[:5])
        j = count.get(k1 - 1, 0)
        count[k1 - 1] = j + 1
        kb[k1 - 1, j], G[k1 - 1, j] = k2 - 1, (g1, g2, g3)
        vals = np.array(" ".join(lines[i + 1:i + 1 + block]).split(), float).reshape(block, 2)
        # m runs fastest: line index = n * nbands + m
        M[k1 - 1, j] = (vals[:, 0] + 1j * vals[:, 1]).reshape(nbands, nbands).T
        i += 1 + block
    return M, kb, G


def read_umat(source) -> np.ndarray:
    """U(k) (nk, rows, cols) from Wannier90's _u.mat (num_wann x num_wann) or _u_dis.mat
    (num_bands x num_wann), the first index running fastest in the file."""
    lines = [s for s in read_text(source).splitlines()[1:] if s.strip()]
    nk, ncol, nrow = (int(x) for x in lines[0].split()[:3])   # header: nk, num_wann, num_bands|num_wann
    U = np.zeros((nk, nrow, ncol), complex)
    i = 1
    for k in range(nk):
        vals = np.array(" ".join(lines[i + 1:i + 1 + nrow * ncol]).split(), float).reshape(-1, 2)
        U[k] = (vals[:, 0] + 1j * vals[:, 1]).reshape(ncol, nrow).T
        i += 1 + nrow * ncol
    return U


# --- centres --------------------------------------------------------------------------------------

def b_weights(b_cart: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """Finite-difference weights w_b (Angstrom^2) of the vectors b (Angstrom^-1) connecting a k
    point to its neighbours: equal within a shell of equal |b|, fixed by the completeness relation
    sum_b w_b b_a b_c = delta_ac (Marzari and Vanderbilt 1997). Raises ValueError if the shells
    cannot satisfy it."""
    b_cart = np.asarray(b_cart, float)
    norms = np.linalg.norm(b_cart, axis=1)
    shells = []
    for n in norms:
        if not any(abs(n - s) < tol * max(1.0, n) for s in shells):
            shells.append(n)
    shell_of = np.array([int(np.argmin([abs(n - s) for s in shells])) for n in norms])
    A = np.array([sum(np.outer(b, b) for b, s in zip(b_cart, shell_of) if s == j).ravel()
                  for j in range(len(shells))]).T                     # (9, nshells)
    w, *_ = np.linalg.lstsq(A, np.eye(3).ravel(), rcond=None)
    if np.abs(A @ w - np.eye(3).ravel()).max() > 1e-6:
        raise ValueError("these b vectors do not satisfy the completeness relation for any weights")
    return w[shell_of]


def mv_centres(M, kb, G, kpts_frac, recip_cart, U, guide=None) -> np.ndarray:
    """Centres (nw, 3) Angstrom of the Wannier functions of gauge U (nk, nbands, nw):
    r_n = -(1/N_k) sum_{k,b} w_b b Im ln [U_k^H M(k,b) U_{k+b}]_nn (Marzari and Vanderbilt 1997),
    with M, kb, G from read_mmn, k points in fractional coordinates and `recip_cart` the
    reciprocal lattice vectors (rows, 2 pi / Angstrom). `guide` (nw, 3), Angstrom: each logarithm
    is taken on the branch nearest to -b.guide_n (Wannier90's guiding centres), so that a centre
    near its guide does not jump by a fraction of a lattice vector on a coarse k grid."""
    kpts_frac = np.asarray(kpts_frac)
    b = (kpts_frac[kb] + G - kpts_frac[:, None, :]) @ np.asarray(recip_cart)   # (nk, nb, 3)
    w = b_weights(b[0])
    nk = len(M)
    nw = U.shape[2]
    g = np.zeros((nw, 3)) if guide is None else np.asarray(guide, float)
    r = np.zeros((nw, 3))
    for k in range(nk):
        for j in range(M.shape[1]):
            Mw = U[k].conj().T @ M[k, j] @ U[kb[k, j]]
            ref = g @ b[k, j]                                           # b.guide_n
            phase = np.angle(np.diag(Mw) * np.exp(1j * ref)) - ref
            r -= w[j] * np.outer(phase, b[k, j])
    return r / nk


# --- models ---------------------------------------------------------------------------------------

def hr_to_H_R(R, ndegen, H, wsvec: dict | None = None, fold_z: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Lattice vectors and H(R) (eV) of the tight-binding Hamiltonian H(k) = sum_R e^{ik.R} H(R)
    defined by Wannier90's hr.dat: each H(R) divided by its Wigner-Seitz degeneracy, and with
    `wsvec` each element H_mn(R) shared equally among its translations R + T (use_ws_distance).
    `fold_z`: add up the R differing only along the third axis (a layer on a single k point in z:
    k_z = 0 is the only k of the model, so this leaves H(k) unchanged)."""
    acc = {}
    nw = H.shape[1]
    for r, d, h in zip(np.asarray(R), np.asarray(ndegen), np.asarray(H)):
        for m in range(nw):
            for n in range(nw):
                if h[m, n] == 0:
                    continue
                T = wsvec.get((int(r[0]), int(r[1]), int(r[2]), m, n)) if wsvec is not None else None
                T = np.zeros((1, 3), int) if T is None or len(T) == 0 else T
                for t in T:
                    rr = r + t
                    if fold_z:
                        rr = (rr[0], rr[1], 0)
                    key = tuple(int(x) for x in rr)
                    acc.setdefault(key, np.zeros((nw, nw), complex))[m, n] += h[m, n] / (d * len(T))
    keys = sorted(acc)
    return np.array(keys), np.array([acc[k] for k in keys])


def nearest_atoms(centres, positions, cell, fold_z: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """For each centre (Angstrom): the nearest atom and the lattice vector L (integers) with the
    centre closest to positions[atom] + L.cell (L_z = 0 with `fold_z`)."""
    cell = np.asarray(cell)
    frac = np.asarray(centres) @ np.linalg.inv(cell)
    pos = np.asarray(positions) @ np.linalg.inv(cell)
    atom, L = [], []
    for f in frac:
        d = f[None, :] - pos
        shift = np.round(d)
        dist = np.linalg.norm((d - shift) @ cell, axis=1)
        a = int(np.argmin(dist))
        s = shift[a].astype(int)
        if fold_z:
            s[2] = 0
        atom.append(a)
        L.append(s)
    return np.array(atom), np.array(L)


def model_from_hr(hr, *, symbols, positions, cell, fermi_level_eV: float, wanted: dict,
                  wsvec=None, centres=None, atomic: bool = True, fold_z: bool = True) -> W.TBModel:
    """A helpers.wannier.TBModel from Wannier90's hr.dat (text, path, or the (R, ndegen, H) of
    read_hr), energies shifted to the Fermi level `fermi_level_eV` (eV, the DFT's).

    `positions` (Angstrom) must be the atomic positions of the Wannier90 run (GPAW's wrapped ones).
    `atomic=True` (projection-only functions): the orbitals are Wannier90's projections
    (wanted = {'W': 2, 'Te': 1}), reordered to helpers.wannier's order and labels (W d as xy, yz,
    z2, xz, x2-y2; Te p as y, z, x). `atomic=False` (maximally localized functions): each function
    is given to the atom nearest to its centre, with the l of that atom's projection, labelled
    'W0:w7' (7 = Wannier90's index), functions sorted by atom; raises ValueError unless every atom
    gets 2l+1 of them. With `centres` (nw, 3, Angstrom, Wannier90's order) each function is moved
    by a lattice vector to sit by its atom (H_mn(R) -> H_mn(R + L_m - L_n)); the centres are kept
    in info['centres_A'] (in the model's order, moved likewise)."""
    R, ndegen, H = read_hr(hr) if not isinstance(hr, tuple) else hr
    ws = read_wsvec(wsvec) if isinstance(wsvec, (str, Path)) else wsvec
    R_, H_R = hr_to_H_R(R, ndegen, H, ws, fold_z)
    nw = H.shape[1]
    symbols = list(symbols)
    positions = np.asarray(positions, float)
    if atomic:
        orbs = w90_orbitals(symbols, wanted)
        if len(orbs) != nw:
            raise ValueError(f"wanted={wanted!r} gives {len(orbs)} orbitals, the hr.dat has {nw}")
        perm = w90_to_ours(symbols, wanted)
        ours = ours_orbitals(symbols, wanted)
        labels = [f"{symbols[a]}{a}:{n}" for a, l, n in ours]
        atom_of = np.array([a for a, l, n in ours])
        l_of = np.array([l for a, l, n in ours])
    else:
        if centres is None:
            raise ValueError("centres are needed to give maximally localized functions to atoms")
        atom_w90, _ = nearest_atoms(centres, positions, cell, fold_z)
        perm = np.array(sorted(range(nw), key=lambda i: (atom_w90[i], i)))
        atom_of = atom_w90[perm]
        l_of = np.array([wanted.get(symbols[a], -1) for a in atom_of])
        counts = {a: int((atom_of == a).sum()) for a in set(atom_of.tolist())}
        bad = {symbols[a] + str(a): c for a, c in counts.items()
               if symbols[a] not in wanted or c != 2 * wanted[symbols[a]] + 1}
        missing = [a for a, s in enumerate(symbols) if s in wanted and a not in counts]
        if bad or missing:
            raise ValueError(f"the functions' centres do not give each atom 2l+1 functions: {bad}, "
                             f"atoms without any: {missing}")
        labels = [f"{symbols[a]}{a}:w{i + 1}" for a, i in zip(atom_of, perm)]
    H_R = H_R[:, perm][:, :, perm]
    home = np.where((R_ == 0).all(axis=1))[0][0]
    H_R[home] -= fermi_level_eV * np.eye(nw)
    info = {"source": "wannier90", "atomic_order": atomic, "fermi_level_eV": float(fermi_level_eV)}
    if centres is not None:
        c = np.asarray(centres, float)[perm]
        # the nearest image of the function's own atom: shift it home
        L = np.array([nearest_atoms(c[i:i + 1], positions[atom_of[i]:atom_of[i] + 1], cell, fold_z)[1][0]
                      for i in range(nw)])
        if np.any(L):
            R_, H_R = _rehome(R_, H_R, L)
        info["centres_A"] = (c - L @ np.asarray(cell)).tolist()
        info["moved_by_lattice_vectors"] = int(np.any(L, axis=1).sum())
    return W.TBModel(R_, H_R, labels, atom_of, l_of, positions, np.asarray(cell, float), info)


def _rehome(R, H_R, L) -> tuple[np.ndarray, np.ndarray]:
    """H'_mn(R') = H_mn(R) with R' = R - L_m + L_n: functions m moved by -L_m lattice vectors."""
    acc = {}
    nw = H_R.shape[1]
    for r, h in zip(R, H_R):
        for m in range(nw):
            for n in range(nw):
                key = tuple(int(x) for x in r - L[m] + L[n])
                acc.setdefault(key, np.zeros((nw, nw), complex))[m, n] += h[m, n]
    keys = sorted(acc)
    return np.array(keys), np.array([acc[k] for k in keys])


def write_hr(R, ndegen, H) -> str:
    """hr.dat text in Wannier90's format (the inverse of read_hr; for tests and exports)."""
    nr, nw = len(R), H.shape[1]
    out = ["written by helpers.orbitals.wannier90", f"{nw:12d}", f"{nr:12d}"]
    for i in range(0, nr, 15):
        out.append("".join(f"{d:5d}" for d in ndegen[i:i + 15]))
    for r, h in zip(R, H):
        for n in range(nw):
            for m in range(nw):
                out.append(f"{r[0]:5d}{r[1]:5d}{r[2]:5d}{m + 1:5d}{n + 1:5d}{h[m, n].real:12.6f}{h[m, n].imag:12.6f}")
    return "\n".join(out) + "\n"


# --- comparison -----------------------------------------------------------------------------------

def shell_levels(model: W.TBModel) -> list:
    """Eigenvalues (eV, ascending) of the 5x5 on-site block of each metal's d functions."""
    from .. import orbital_order as oo
    return [W.crystal_field(model, a)[0] for a in oo.metal_atoms(model)]


def effective_levels(model: W.TBModel, grid=(12, 6, 1), e_low: float = -1.5, width: float = 0.5) -> list:
    """Crystal-field levels (eV, ascending) of each W in the effective W-5d model obtained by
    downfolding `model` with orbital_order.downfold_d."""
    from .. import orbital_order as oo
    eff, _, _ = oo.downfold_d(model, grid, e_low, width)
    return [lv for lv, _ in oo.local_orbitals(eff)]


def dd_bonds(model: W.TBModel, max_length: float = 4.5, fold_z: bool = True) -> dict:
    """||T||_F (eV, Frobenius norm, basis independent) of the d-d hopping block of every metal-metal
    bond up to `max_length` Angstrom, keyed by (i, j, bond vector r_j + R.cell - r_i rounded to
    0.01 Angstrom), each bond once (i < j, or i = j with R > 0). Values (length, norm, (i, j, R))."""
    from .. import orbital_order as oo
    shells = dict(zip(oo.metal_atoms(model), oo.d_shells(model)))
    cell = np.asarray(model.cell)
    out = {}
    for n, r in enumerate(model.R):
        for i, si in shells.items():
            for j, sj in shells.items():
                if i > j or (i == j and tuple(r) <= (0, 0, 0)):
                    continue
                d = model.positions[j] + r @ cell - model.positions[i]
                if fold_z:
                    d[2] -= cell[2, 2] * np.round(d[2] / cell[2, 2])
                length = float(np.linalg.norm(d))
                if length > max_length:
                    continue
                key = (int(i), int(j)) + tuple(float(x) for x in np.round(d, 2) + 0.0)
                out[key] = (length, float(np.linalg.norm(model.H_R[n][np.ix_(si, sj)])), (i, j, tuple(int(x) for x in r)))
    return out


def z_offsets(model: W.TBModel) -> list:
    """Per metal atom: the z offsets (Angstrom) of its d functions' centres from the atom (in the
    model's order), from info['centres_A']; None without centres."""
    from .. import orbital_order as oo
    if "centres_A" not in model.info:
        return None
    c = np.asarray(model.info["centres_A"])
    cz = model.cell[2][2]
    out = []
    for a, shell in zip(oo.metal_atoms(model), oo.d_shells(model)):
        dz = c[shell, 2] - model.positions[a, 2]
        out.append(dz - cz * np.round(dz / cz))
    return out


def compare(ours: W.TBModel, theirs: W.TBModel, lcao_result: dict | None = None, grid=(12, 6, 1),
            e_low: float = -1.5, width: float = 0.5, band_window=(-1.0, 1.0), max_bond: float = 4.5,
            n_bonds: int = 4) -> list:
    """Rows {quantity, ours, theirs, difference (theirs - ours), unit} comparing two Wannier
    constructions of one crystal (the same atoms, in the same order): band deviation against the
    DFT path bands of `lcao_result`, the on-site d levels of each metal (eigenvalues of its 5x5
    block), the crystal-field levels a, b, c (and all five) of the effective W-5d model of each
    (orbital_order.downfold_d on `grid` with e_low, width) and their splittings, ||T|| of the d-d
    blocks of the `n_bonds` shortest metal-metal bonds, and the z offsets of the d functions'
    centres from their metal (per function when both models are in atomic order, and the shell
    mean, which is invariant under rotations within a shell)."""
    rows = []

    def add(q, a, b, unit):
        rows.append({"quantity": q, "ours": float(a), "theirs": float(b), "difference": float(b - a), "unit": unit})

    if lcao_result is not None:
        add(f"max band deviation in {tuple(band_window)} eV", W.band_deviation(ours, lcao_result, band_window),
            W.band_deviation(theirs, lcao_result, band_window), "eV")
    names = ["a", "b", "c", "d4", "d5"]
    for w, (lo, lt) in enumerate(zip(shell_levels(ours), shell_levels(theirs))):
        for i in range(5):
            add(f"W{w} on-site d level {i + 1}", lo[i], lt[i], "eV")
    for w, (lo, lt) in enumerate(zip(effective_levels(ours, grid, e_low, width),
                                     effective_levels(theirs, grid, e_low, width))):
        for i in range(5):
            add(f"W{w} effective level {names[i]}", lo[i], lt[i], "eV")
        add(f"W{w} splitting b-a", lo[1] - lo[0], lt[1] - lt[0], "eV")
        add(f"W{w} splitting c-b", lo[2] - lo[1], lt[2] - lt[1], "eV")
    bo, bt = dd_bonds(ours, max_bond), dd_bonds(theirs, max_bond)
    shared = sorted(set(bo) & set(bt), key=lambda k: (round(bo[k][0], 2), k))
    lengths = sorted({round(bo[k][0], 2) for k in shared})[:n_bonds]
    for k in shared:
        if round(bo[k][0], 2) in lengths:
            i, j, _ = bo[k][2]
            add(f"||T_dd|| W{i}-W{j} d={bo[k][0]:.3f} A vec=({k[2]:+.2f},{k[3]:+.2f},{k[4]:+.2f})",
                bo[k][1], bt[k][1], "eV")
    from .. import orbital_order as oo
    zo, zt = z_offsets(ours), z_offsets(theirs)
    if zo is not None and zt is not None:
        atomic = ours.info.get("atomic_order", True) and theirs.info.get("atomic_order", True)
        for w, (a, b) in enumerate(zip(zo, zt)):
            add(f"W{w} d-shell mean z offset", np.mean(a), np.mean(b), "Angstrom")
            if atomic:
                for i, s in enumerate(oo.d_shells(ours)[w]):
                    add(f"W{w} z offset {ours.labels[s].split(':')[1]}", a[i], b[i], "Angstrom")
    return rows


def models(result: dict, fold_z: bool = True) -> dict:
    """The tight-binding models of a cached helpers.dft.wannier90 result (energies relative to its
    Fermi level): 'proj' (Wannier90, projection-only, helpers.wannier's orbital order), 'mlwf'
    (Wannier90, maximally localized, functions given to atoms by their centres; None, with the
    reason in 'mlwf_error', when the centres do not give each atom 2l+1 functions, as on a k grid
    too coarse for localization) and 'ours' (our projected Wannier functions of the same Bloch
    states, with their centres)."""
    entry = Path(result["cache_entry"])
    wanted = {k: int(v) for k, v in result["inputs"]["projections"].items()}
    geo = dict(symbols=result["symbols"], positions=np.array(result["positions_A"]),
               cell=np.array(result["cell"]), fermi_level_eV=result["fermi_level_eV"], wanted=wanted)
    out = {}
    for tag, atomic in (("proj", True), ("mlwf", False)):
        r = result[tag]
        try:
            out[tag] = model_from_hr(entry / r["hr"], wsvec=entry / r["wsvec"], centres=np.array(r["centres_A"]),
                                     atomic=atomic, fold_z=fold_z, **geo)
        except ValueError as err:
            if atomic:
                raise
            out[tag], out[f"{tag}_error"] = None, str(err)
            continue
        out[tag].info.update(run=tag, spreads_A2=r["spreads_A2"], kgrid=list(result["inputs"]["kpts"]))
    o = result["ours"]
    data = np.load(entry / o["npz"])
    pos = np.array(result["positions_A"])
    out["ours"] = W.TBModel(data["R"], data["H_R"], o["labels"], np.array(o["atom_of"]), np.array(o["l_of"]),
                            pos, np.array(result["cell"]),
                            {"source": "helpers.wannier recipe on the Wannier90 job's Bloch states",
                             "centres_A": o["centres_A"], "atomic_order": True,
                             "kgrid": list(result["inputs"]["kpts"])})
    return out


def with_centres(model: W.TBModel, centres, positions) -> W.TBModel:
    """`model` with info['centres_A'] set to `centres` (Angstrom, one per orbital of the model)
    measured in a frame where the atoms sit at `positions`, carried to the model's own frame
    (each centre moved with its atom)."""
    c = np.asarray(centres, float) - np.asarray(positions, float)[model.atom_of] + model.positions[model.atom_of]
    return W.TBModel(model.R, model.H_R, model.labels, model.atom_of, model.l_of, model.positions,
                     model.cell, {**model.info, "centres_A": c.tolist()})


def construction_rows(result: dict, lcao_result: dict, grid=(12, 6, 1), e_low: float = -1.5,
                      width: float = 0.5, band_window=(-1.0, 1.0)) -> dict:
    """Comparison rows (compare) of our W-5d + Te-5p model of `lcao_result` (orbital_order.pd_model,
    the compendium's model; its functions' centres taken from our recipe on the Wannier90 job's
    Bloch states) against: 'proj' and 'mlwf' (the two Wannier90 runs of `result`, a cached
    helpers.dft.wannier90) and 'ours, job states' (our recipe on the job's Bloch states: what the
    periodic z, the moved layer and the job's own SCF change)."""
    from .. import orbital_order as oo
    ms = models(result)
    ours = with_centres(oo.pd_model(lcao_result), ms["ours"].info["centres_A"], ms["ours"].positions)
    out = {}
    for tag, theirs in (("proj", ms["proj"]), ("mlwf", ms["mlwf"]), ("ours, job states", ms["ours"])):
        if theirs is not None:
            out[tag] = compare(ours, theirs, lcao_result, grid, e_low, width, band_window)
    return out
