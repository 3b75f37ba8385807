"""Projected Wannier functions (Ku et al., PRL 89, 167204 (2002)) from GPAW LCAO Bloch states.

Recipe, at every k of a full Monkhorst-Pack grid:
1. Bloch states psi_nk = sum_M C_Mn phi_Mk from the LCAO generalized eigenproblem H C = S C e.
2. Projections A_nm = <psi_nk | phi_mk> = (C^H S)_nm onto the chosen atomic-like orbitals m
   (first-zeta W-5d and Te-5p functions of the dzp basis), for the bands in an energy window.
3. Band selection by projectability: of the bands in the window, the N_orb with the largest
   weight sum_m |A_nm|^2 (N_orb = number of orbitals), so that the model reproduces them exactly
   on the grid.
4. Loewdin orthonormalization U = A (A^H A)^(-1/2); Wannier Hamiltonian H_k = U^H diag(e) U.
5. H(R) = (1/N_k) sum_k exp(-i k.R) H_k, on the lattice vectors R of the Born-von Karman
   supercell of the grid (minimal images).
Energies are in eV relative to the DFT Fermi level; lengths in Angstrom.

Orbital axes: GPAW's real spherical harmonics in the Cartesian frame of the cell (x along the
W chains, y across them, z out of plane), in the order p: (y, z, x) and
d: (xy, yz, 3z^2-r^2, xz, x^2-y^2). The octahedral frame of the paper is rotated with respect
to this one; orbital labels here are Cartesian.
"""
from __future__ import annotations

from dataclasses import dataclass, field
import numpy as np

from ..dft.process import atoms_from


P_LABELS = ["py", "pz", "px"]
D_LABELS = ["dxy", "dyz", "dz2", "dxz", "dx2-y2"]


#: Version of the model construction (projected Wannier functions, downfolding): part of the
#: provenance of every model built from a cached LCAO result, so bump it when the recipe changes.
MODEL_RECIPE = 1


@dataclass
class TBModel:
    """A tight-binding model H(R) on the orbitals of a crystal (eV, Angstrom)."""
    R: np.ndarray            # (nR, 3) integer lattice vectors
    H_R: np.ndarray          # (nR, norb, norb) complex, eV
    labels: list             # orbital labels, e.g. 'W0:dxy'
    atom_of: np.ndarray      # (norb,) atom index of each orbital
    l_of: np.ndarray         # (norb,) angular momentum of each orbital
    positions: np.ndarray    # (natoms, 3) Angstrom
    cell: np.ndarray         # (3, 3) Angstrom
    info: dict = field(default_factory=dict)

    @property
    def norb(self) -> int:
        return self.H_R.shape[1]

    def hk(self, k_frac: np.ndarray) -> np.ndarray:
        """H(k) = sum_R exp(2 pi i k.R) H(R), k in fractional reciprocal coordinates."""
        k_frac = np.atleast_2d(k_frac)
        phase = np.exp(2j * np.pi * k_frac @ self.R.T)          # (nk, nR)
        return np.einsum("kr,rij->kij", phase, self.H_R)

    def bands(self, k_frac: np.ndarray) -> np.ndarray:
        """Eigenvalues (eV) at each k, shape (nk, norb)."""
        return np.linalg.eigvalsh(self.hk(k_frac))

    def onsite(self) -> np.ndarray:
        """H(R=0), the on-site block (crystal field and intra-cell hopping), eV."""
        return self.H_R[np.where((self.R == 0).all(axis=1))[0][0]]

    def hopping(self, R, i: int, j: int) -> complex:
        """<i, 0| H | j, R>, eV."""
        idx = np.where((self.R == np.asarray(R)).all(axis=1))[0]
        return self.H_R[idx[0], i, j] if len(idx) else 0.0

    def to_dict(self) -> dict:
        return {"R": self.R.tolist(), "H_R_re": self.H_R.real.tolist(), "H_R_im": self.H_R.imag.tolist(),
                "labels": list(self.labels), "atom_of": self.atom_of.tolist(), "l_of": self.l_of.tolist(),
                "positions": self.positions.tolist(), "cell": np.asarray(self.cell).tolist(),
                "info": self.info}

    @classmethod
    def from_dict(cls, d: dict) -> "TBModel":
        return cls(np.array(d["R"]), np.array(d["H_R_re"]) + 1j * np.array(d["H_R_im"]), d["labels"],
                   np.array(d["atom_of"]), np.array(d["l_of"]), np.array(d["positions"]),
                   np.array(d["cell"]), d.get("info", {}))


def select_orbitals(setups_basis: list, symbols: list, wanted: dict) -> tuple[list, list, list, list]:
    """Indices (in the LCAO basis) of the first-zeta functions with angular momentum wanted[symbol].

    `setups_basis[a]` is the list of (l, type-string) of atom a's radial basis functions in order;
    `wanted` maps a chemical symbol to the l to keep, e.g. {'W': 2, 'Te': 1}.
    Returns (basis indices, labels, atom index, l) of the selected orbitals.
    """
    idx, labels, atom_of, l_of = [], [], [], []
    M = 0
    for a, (sym, bfs) in enumerate(zip(symbols, setups_basis)):
        taken = False
        for l, kind in bfs:
            n = 2 * l + 1
            if sym in wanted and l == wanted[sym] and not taken and "sz" in kind:
                names = D_LABELS if l == 2 else P_LABELS if l == 1 else ["s"]
                idx += list(range(M, M + n))
                labels += [f"{sym}{a}:{nm}" for nm in names]
                atom_of += [a] * n
                l_of += [l] * n
                taken = True
            M += n
    return idx, labels, atom_of, l_of


def loewdin(A: np.ndarray) -> np.ndarray:
    """A (A^H A)^(-1/2): orthonormalized projections (columns orthonormal)."""
    O = A.conj().T @ A
    w, V = np.linalg.eigh(O)
    if w.min() < 1e-8:
        raise np.linalg.LinAlgError(f"projections are linearly dependent (smallest overlap eigenvalue {w.min():.2e})")
    return A @ (V * w**-0.5) @ V.conj().T


def projected_wannier(eps_kn, A_knm, window=(-np.inf, np.inf)):
    """Wannier Hamiltonians H_k (nk, norb, norb), eV, from Bloch eigenvalues `eps_kn` (eV) and
    projections `A_knm` = <psi_nk|phi_m> onto the model's orbitals.

    Returns (H_k, info): info holds the smallest projectability among the bands used, the number
    of bands in the window at each k, and how many k needed more bands than orbitals.
    """
    norb = A_knm.shape[2]
    Hk, min_proj, n_win, n_used = [], [], [], []
    for e, A in zip(eps_kn, A_knm):
        chosen, U, n_in = pwf_at_k(e, A, window)
        Hk.append(U.conj().T @ np.diag(e[chosen]) @ U)
        min_proj.append(float((np.abs(A[chosen]) ** 2).sum(axis=1).min()))
        n_win.append(n_in)
        n_used.append(len(chosen))
    return np.array(Hk), {"min_projectability": float(min(min_proj)),
                          "n_bands_in_window": n_win, "max_bands_used": int(max(n_used)),
                          "k_with_extra_bands": int(sum(n > norb for n in n_used))}


def pwf_at_k(e: np.ndarray, A: np.ndarray, window) -> tuple[np.ndarray, np.ndarray, int]:
    """At one k: the bands used (indices), the Loewdin-orthonormalized projections U (bands x
    orbitals; the Wannier functions are w_m = sum_n psi_n U_nm) and the number of bands in the
    energy window (eV)."""
    norb = A.shape[1]
    inwin = np.where((e >= window[0]) & (e <= window[1]))[0]
    if len(inwin) < norb:
        raise ValueError(f"energy window {tuple(window)} eV holds {len(inwin)} bands at some k, fewer than "
                         f"the {norb} orbitals; widen the window")
    chosen = select_bands(A, inwin, norb)
    return chosen, loewdin(A[chosen]), len(inwin)


def select_bands(A: np.ndarray, candidates: np.ndarray, norb: int, min_overlap: float = 1e-2) -> np.ndarray:
    """Bands for the projection: the `norb` candidates with the largest projectability, plus the
    next ones (by projectability) while the projections do not yet span the orbital space
    (smallest eigenvalue of A^H A below `min_overlap`). With exactly `norb` bands the model
    reproduces them exactly; with more it is their projection."""
    proj = (np.abs(A[candidates]) ** 2).sum(axis=1)
    order = candidates[np.argsort(proj)[::-1]]
    n = norb
    while n < len(order):
        sub = A[np.sort(order[:n])]
        if np.linalg.eigvalsh(sub.conj().T @ sub).min() >= min_overlap:
            break
        n += 1
    return np.sort(order[:n])


def lcao_arrays(result: dict, spin: int | None = None) -> dict:
    """Eigenvalues `eps_kn`, projections `A_knm` and path bands `e_path` of a cached LCAO result,
    for one `spin` (0 or 1) of a spin-polarized run; None for a spin-restricted run."""
    from pathlib import Path
    data = np.load(Path(result["cache_entry"]) / result["npz"])
    polarized = "eps_skn" in data.files
    if polarized and spin not in (0, 1):
        raise ValueError(f"spin={spin!r}: this LCAO result is spin-polarized; choose spin 0 or 1")
    if not polarized and spin is not None:
        raise ValueError(f"spin={spin!r}: this LCAO result is spin-restricted; leave spin=None")
    out = {k: data[k] for k in ("kpts", "path_kpts", "sz_index")}
    if polarized:
        out.update(eps_kn=data["eps_skn"][spin], A_knm=data["A_sknm"][spin], e_path=data["e_path_s"][spin])
    else:
        out.update(eps_kn=data["eps_kn"], A_knm=data["A_knm"], e_path=data["e_path"])
    return out


def model_from_lcao(result: dict, wanted: dict, window=(-np.inf, np.inf), spin: int | None = None) -> TBModel:
    """Projected-Wannier tight-binding model from a cached helpers.dft.jobs.lcao result.

    `wanted` maps chemical symbols to the angular momentum kept, e.g. {'W': 2, 'Te': 1} for the
    p-d model or {'W': 2} for a d-only model; `window` (eV, relative to the Fermi level)
    bounds the bands that may be used; `spin` picks a spin channel of a spin-polarized run.
    Energies of the model are relative to the Fermi level.
    """
    atoms, basis_idx, labels, atom_of, l_of, eps, A, data = model_inputs(result, wanted, spin)
    Hk, info = projected_wannier(eps, A, window)
    grid = result["kpts"]
    R = lattice_vectors(grid)
    H_R = fourier_to_real_space(Hk, data["kpts"], R)
    info.update(kgrid=list(grid), window=list(map(float, window)), wanted=wanted, spin=spin)
    if "key" in result:
        info["provenance"] = {"lcao": result["key"], "wanted": wanted, "window": list(map(float, window)),
                              "spin": spin, "recipe": MODEL_RECIPE}
    return TBModel(R, H_R, labels, np.array(atom_of), np.array(l_of), atoms.positions,
                   np.array(atoms.cell), info)


def model_inputs(result: dict, wanted: dict, spin: int | None = None):
    """What model_from_lcao builds from: the structure (atoms at GPAW's wrapped positions), the
    selected basis functions (indices, labels, atom, l), eigenvalues relative to E_F (eV), the
    projections onto the selected functions, and the raw arrays of the cache entry."""
    data = lcao_arrays(result, spin)
    atoms = atoms_from(result["final"] if "final" in result else result["inputs"]["atoms"])
    # GPAW places its basis functions at the wrapped positions (get_scaled_positions()); the
    # model must use the same ones, or orbitals of an atom sitting on a cell face end up one
    # lattice vector away from where the Bloch phases put them.
    atoms.positions = atoms.get_scaled_positions() @ np.array(atoms.cell)
    basis_idx, labels, atom_of, l_of = select_orbitals(result["basis"], atoms.get_chemical_symbols(), wanted)
    column = {int(M): c for c, M in enumerate(data["sz_index"])}
    A = data["A_knm"][:, :, [column[M] for M in basis_idx]].astype(complex)
    eps = data["eps_kn"] - result["fermi_level_eV"]
    return atoms, basis_idx, labels, atom_of, l_of, eps, A, data


def band_deviation(model: TBModel, result: dict, window=(-1.0, 1.0)) -> float:
    """Largest |E_TB - E_DFT| (eV) along the cached band path, matching each DFT band inside
    `window` (eV, relative to E_F) to the nearest model band."""
    data = lcao_arrays(result, model.info.get("spin"))
    e_dft = data["e_path"] - result["fermi_level_eV"]
    e_tb = model.bands(data["path_kpts"])
    worst = 0.0
    for d, t in zip(e_dft, e_tb):
        for e in d[(d >= window[0]) & (d <= window[1])]:
            worst = max(worst, float(np.abs(t - e).min()))
    return worst


def lattice_vectors(grid) -> np.ndarray:
    """Integer lattice vectors of the Born-von Karman supercell of a k grid, centred on 0."""
    ranges = [np.arange(-(n // 2) + (1 - n % 2), n // 2 + 1) if n > 1 else np.array([0]) for n in grid]
    return np.array(np.meshgrid(*ranges, indexing="ij")).reshape(3, -1).T


def fourier_to_real_space(Hk, kpts_frac, R) -> np.ndarray:
    """H(R) = (1/N_k) sum_k exp(-2 pi i k.R) H_k."""
    phase = np.exp(-2j * np.pi * np.asarray(kpts_frac) @ R.T)    # (nk, nR)
    return np.einsum("kr,kij->rij", phase, Hk) / len(kpts_frac)


# --- quality checks ---------------------------------------------------------------------------

def hermiticity_error(model: TBModel) -> float:
    """max |H(R) - H(-R)^H| (eV); zero for a Hermitian H(k)."""
    err = 0.0
    for r, H in zip(model.R, model.H_R):
        m = np.where((model.R == -r).all(axis=1))[0]
        if len(m):
            err = max(err, float(np.abs(H - model.H_R[m[0]].conj().T).max()))
    return err


def orbital_signs(l: int, s) -> list:
    """Signs of GPAW's real harmonics of angular momentum l under (x, y, z) -> (sx x, sy y, sz z)."""
    sx, sy, sz = s
    return {0: [1], 1: [sy, sz, sx], 2: [sx * sy, sy * sz, 1, sx * sz, 1]}[l]


def symmetry_error(model: TBModel, rot: np.ndarray, trans: np.ndarray, tol: float = 0.05) -> float:
    """max |H(R)_ij - s_i s_j H(rot R + L_j - L_i)_i'j'| (eV) for a space-group operation
    (rot, trans) in fractional coordinates whose rotation is diagonal (inversion, mirrors and
    two-fold axes along x, y, z of an orthogonal cell): such an operation maps each orbital onto
    the same orbital of the image atom times a sign s_i. `tol`: fractional tolerance for
    matching image atoms."""
    rot = np.asarray(rot)
    if not np.allclose(rot, np.diag(np.diag(rot))):
        raise ValueError("symmetry_error handles diagonal rotations only")
    frac = model.positions @ np.linalg.inv(model.cell)
    image = frac @ rot.T + trans
    target, shift = [], []
    for a, p in enumerate(image):
        d = p - frac
        b = int(np.argmin(np.linalg.norm(d - np.round(d), axis=1)))
        if np.linalg.norm(d[b] - np.round(d[b])) > tol:
            raise ValueError(f"operation does not map atom {a} onto an atom (tolerance {tol})")
        target.append(b)
        shift.append(np.round(d[b]).astype(int))
    # orbital map: same (l, m) on the image atom
    first = {a: int(np.where(model.atom_of == a)[0][0]) for a in set(model.atom_of.tolist())}
    diag = np.diag(rot)
    imap, sign = np.zeros(model.norb, int), np.zeros(model.norb)
    i = 0
    while i < model.norb:
        a, l = int(model.atom_of[i]), int(model.l_of[i])
        b = target[a]
        for m, sg in enumerate(orbital_signs(l, diag)):
            imap[i + m] = first[b] + m
            sign[i + m] = sg
        i += 2 * l + 1
    Rindex = {tuple(r): n for n, r in enumerate(model.R)}
    err = 0.0
    for n, r in enumerate(model.R):
        for i in range(model.norb):
            Li = shift[model.atom_of[i]]
            for j in range(model.norb):
                rr = tuple(rot @ r + shift[model.atom_of[j]] - Li)
                if rr not in Rindex:
                    continue
                val = sign[i] * sign[j] * model.H_R[Rindex[rr], imap[i], imap[j]]
                err = max(err, abs(model.H_R[n, i, j] - val))
    return float(err)


def diagonal_symmetry_operations(atoms, symprec: float = 0.02) -> list:
    """The (rotation, translation) pairs of `atoms`' space group with diagonal rotations."""
    import spglib
    ds = spglib.get_symmetry((atoms.cell, atoms.get_scaled_positions(), atoms.numbers), symprec=symprec)
    return [(r, t) for r, t in zip(ds["rotations"], ds["translations"])
            if np.allclose(r, np.diag(np.diag(r))) and not np.allclose(r, np.eye(3))]


def electron_count(model: TBModel, kgrid, efermi: float = 0.0, width: float = 0.05) -> float:
    """Electrons (both spins) in the model's bands below `efermi` (eV), Fermi-Dirac smeared, on a k grid."""
    k = kgrid_points(kgrid)
    e = model.bands(k)
    x = np.clip((e - efermi) / width, -60, 60)
    return float(2 * (1 / (np.exp(x) + 1)).sum() / len(k))


def kgrid_points(grid) -> np.ndarray:
    """Fractional coordinates of a Gamma-centred uniform grid."""
    return np.array(np.meshgrid(*[np.arange(n) / n for n in grid], indexing="ij")).reshape(3, -1).T


def effective_orbitals(model: TBModel, keep: list, grid, e_low: float = -1.5, width: float = 0.5):
    """Downfold a model onto the orbitals `keep` (e.g. the W-5d of a p-d model): projected Wannier
    functions (Ku et al. 2002) with a smooth energy window.

    At each k, G_k = f(H_k) Phi projects the kept orbitals Phi onto the states of H_k weighted by
    f(e) = 1 / (1 + exp(-(e - e_low)/width)): states well below `e_low` (eV, relative to the
    Fermi level; the Te-5p bonding states) are removed, states above it kept. Loewdin
    orthonormalization gives W_k = G_k (G_k^H G_k)^(-1/2) and H_eff(k) = W_k^H H_k W_k.
    Because f(H_k) is a smooth matrix function of k, the Wannier functions are well localized.

    Returns (eff, coeff, R): the effective TBModel on the kept orbitals, and coeff[r, j, m], the
    amplitude of effective orbital m (home cell) on model orbital j in cell R[r]. The effective
    orbitals carry tails on the removed orbitals (Te-5p tails of W-5d functions): their dipoles.
    """
    keep = np.asarray(keep)
    k, W_k = effective_projector(model, keep, grid, e_low, width)
    H_k = model.hk(k)
    Hk = np.einsum("kim,kij,kjn->kmn", W_k.conj(), H_k, W_k)
    R = lattice_vectors(grid)
    coeff = np.einsum("kr,kjm->rjm", np.exp(2j * np.pi * k @ R.T), W_k) / len(k)
    H_R = fourier_to_real_space(Hk, k, R)
    home = np.where((R == 0).all(axis=1))[0][0]
    info = {"kgrid": list(grid), "e_low_eV": e_low, "width_eV": width,
            "home_cell_weight_min": float((np.abs(coeff[home]) ** 2).sum(axis=0).min())}
    if "provenance" in model.info:
        info["provenance"] = {"downfolded from": model.info["provenance"], "keep": keep.tolist(),
                              "grid": list(grid), "e_low_eV": float(e_low), "width_eV": float(width)}
    eff = TBModel(R, H_R, [model.labels[i] for i in keep], model.atom_of[keep], model.l_of[keep],
                  model.positions, model.cell, info)
    return eff, coeff, R


def effective_projector(model: TBModel, keep, grid, e_low: float, width: float):
    """The k points of `grid` and, at each, W_k (norb x nkeep): the downfolded orbitals of
    `effective_orbitals` expressed in the model's orbitals (columns orthonormal)."""
    keep = np.asarray(keep)
    k = kgrid_points(grid)
    e_k, V_k = np.linalg.eigh(model.hk(k))
    x = np.clip((e_k - e_low) / width, -60, 60)
    f = 1.0 / (1.0 + np.exp(-x))
    fH = np.einsum("kin,kn,kjn->kij", V_k, f, V_k.conj())
    return k, np.array([loewdin(g[:, keep]) for g in fH])


def position_matrix(model: TBModel, coeff: np.ndarray, R: np.ndarray) -> np.ndarray:
    """X[x, m, n] = <w_m| r_x |w_n> (Angstrom) between effective orbitals, with the tight-binding
    position operator (diagonal in model orbitals, at their atoms). The centre of a combination
    v of effective orbitals is v^H X v."""
    pos_j = model.positions[model.atom_of]
    r = pos_j[None, :, :] + (R @ np.asarray(model.cell))[:, None, :]   # (nR, norb, 3)
    return np.einsum("rjm,rjx,rjn->xmn", coeff.conj(), r, coeff)


def centres(model: TBModel, coeff: np.ndarray, R: np.ndarray) -> np.ndarray:
    """Centre <r> (Angstrom) of each effective orbital: the diagonal of `position_matrix`
    (tight-binding position operator; intra-atomic dipole matrix elements neglected)."""
    X = position_matrix(model, coeff, R)
    norm = (np.abs(coeff) ** 2).sum(axis=(0, 1))
    return (np.real(np.einsum("xmm->mx", X)) / norm[:, None])


def crystal_field(model: TBModel, atom: int) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (eV, ascending) and eigenvectors (columns) of the on-site block of the
    d orbitals of `atom`: its crystal-field levels and orbitals."""
    idx = np.where((model.atom_of == atom) & (model.l_of == 2))[0]
    block = model.onsite()[np.ix_(idx, idx)]
    w, v = np.linalg.eigh(0.5 * (block + block.conj().T))
    return w, v
