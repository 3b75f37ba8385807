"""The metal network of a distorted layer as an Ising pseudo-spin lattice, and couplings fitted on it.

In the 1T' (Td) layer every W has six W neighbours within 5 Angstrom, in three pairs: the short bond
of its zigzag chain (about 2.86 Angstrom in WTe2), the bond along the chain axis a to the next W of
its own row (about 3.49 Angstrom) and the long bond to the neighbouring chain (about 4.42 Angstrom).
They are read here from the structure (distance shells, the row bond being the one parallel to a),
never assumed. A pseudo-spin s = +1 / -1 per metal site marks which of two orbitals it fills; the
model

    E / N = E_0 - h <s> - sum_k J_k <s_i s_j>_k ,   k in (zigzag, interchain, row),

with <s_i s_j>_k the average over the bonds of kind k (there are N bonds of each kind, N sites)
and J_k per bond in meV (J > 0: equal pseudo-spins on that bond are favoured). The zigzag and
interchain bonds both join the two metal sublattices (W1, W2), so without the row coupling the
network is bipartite; it is then a square lattice whose plaquettes carry two zigzag and two
interchain bonds next to each other (not alternating, as in the anisotropic square model). Its
critical point is nevertheless Onsager's, sinh(2 J_zz / k_B T) sinh(2 J_ic / k_B T) = 1: the
criterion of Cimasoni and Duminil-Copin for doubly periodic planar graphs (the even subgraphs of
the two-site torus cell, split by homology) gives (1 - t_zz^2)(1 - t_ic^2) = 4 t_zz t_ic,
t = tanh(J / k_B T), the same equation. helpers.rungs.transition.montecarlo simulates this network
('zigzag' geometry) and a test checks its T_c against that formula.
"""
from __future__ import annotations

import math
from typing import NamedTuple
import numpy as np


BOND_KINDS = ("zigzag", "interchain", "row")
METALS = ("W", "Mo", "Re")


def metal_indices(atoms, metals=METALS) -> list[int]:
    """Indices of the metal atoms (W, Mo, Re) in `atoms`."""
    return [i for i, s in enumerate(atoms.get_chemical_symbols()) if s in metals]


def metal_bonds(atoms, cutoff_A: float = 5.0, tol_A: float = 0.05) -> list[dict]:
    """Every directed metal-metal bond of a periodic layer within `cutoff_A` (Angstrom): dicts with
    the indices i, j among the metals (order of `metal_indices`), the length (Angstrom) and the kind:
    'row' if parallel to the first cell vector (the chain axis a), otherwise 'zigzag' for the
    shortest remaining distance shell and 'interchain' for the next (shells `tol_A` wide).
    ValueError if a metal does not have exactly two bonds of each kind (not a 1T'-like network)."""
    from ase.neighborlist import neighbor_list
    idx = metal_indices(atoms)
    if len(idx) < 1:
        raise ValueError("atoms: no metal (W, Mo, Re) atom in the structure")
    sub = atoms[idx]
    i, j, d, D = neighbor_list("ijdD", sub, cutoff_A)
    a = np.array(atoms.cell[0], dtype=float)          # a copy: the caller's cell is not touched
    a /= np.linalg.norm(a)
    along = np.abs(D @ a) / d > 0.99
    others = np.sort(d[~along])
    shells = []
    for x in others:
        if not shells or x - shells[-1] > tol_A:
            shells.append(x)
    if len(shells) < 2:
        raise ValueError(f"atoms: found {len(shells)} metal-metal distance shells off the chain axis within "
                         f"{cutoff_A} Angstrom; a 1T'-like layer has two (zigzag and interchain)")
    kind = np.where(along, "row", np.where(np.abs(d - shells[0]) <= tol_A, "zigzag",
                                           np.where(np.abs(d - shells[1]) <= tol_A, "interchain", "")))
    bonds = [{"i": int(p), "j": int(q), "length_A": float(x), "kind": str(k)}
             for p, q, x, k in zip(i, j, d, kind) if k]
    for s in range(len(idx)):
        for k in BOND_KINDS:
            n = sum(1 for b in bonds if b["i"] == s and b["kind"] == k)
            if n != 2:
                raise ValueError(f"atoms: metal {s} has {n} {k} bonds (need 2: a 1T'-like zigzag-chain layer)")
    return bonds


def bond_lengths_A(atoms) -> dict:
    """Mean length (Angstrom) of each bond kind of the primitive cell."""
    b = metal_bonds(atoms)
    return {k: float(np.mean([x["length_A"] for x in b if x["kind"] == k])) for k in BOND_KINDS}


def correlations(atoms, spins, cell=(1, 1, 1)) -> dict:
    """<s_i s_j> over the bonds of each kind and <s> of a pseudo-spin pattern: `spins` holds +1/-1
    per metal of the cell `atoms.repeat(cell)` (sub-cell-major, as helpers.manybody.uhf.supercell
    orders them). Returns {'m': <s>, 'zigzag': ..., 'interchain': ..., 'row': ...}."""
    cell = tuple(int(c) for c in cell)
    big = atoms.repeat(cell)
    n = len(metal_indices(big))
    s = np.asarray(spins)
    if s.shape != (n,) or not np.all(np.isin(s, (-1, 1))):
        raise ValueError(f"spins: need {n} values of +1/-1 (one per metal of the cell {cell}), got {list(spins)!r}")
    bonds = metal_bonds(big)
    out = {"m": float(s.mean())}
    for k in BOND_KINDS:
        out[k] = float(np.mean([s[b["i"]] * s[b["j"]] for b in bonds if b["kind"] == k]))
    return out


class NetworkFit(NamedTuple):
    """Couplings per bond (meV; J > 0 favours equal pseudo-spins) and the field h (meV per site,
    > 0 favours s = +1) fitted to pattern energies; E_0 (meV per site); residual per pattern (meV per
    site, data minus model) and its root mean square; degrees of freedom left; standard errors (NaN
    without spare data); and `determined`: the parameters the data fix (a parameter the patterns do
    not separate from another is reported as NaN, never guessed)."""
    J_meV: dict
    h_meV: float
    E0_meV: float
    residuals_meV: dict
    rms_residual_meV: float
    dof: int
    J_err_meV: dict
    determined: tuple


def fit(patterns: dict, kinds=("zigzag", "interchain", "row"), field: bool = True) -> NetworkFit:
    """Least-squares couplings of `kinds` (and the field h if `field`) from {name: (energy in meV per
    site, correlations(...))}. Parameters the patterns cannot separate come back as NaN and are left
    out of `determined`; the fit of the others is then the minimum-norm one restricted to what the
    data fix (a combination such as J_zigzag + J_interchain may be fixed while neither is)."""
    if not patterns:
        raise ValueError("patterns: need at least one {name: (meV per site, correlations)}")
    for k in kinds:
        if k not in BOND_KINDS:
            raise ValueError(f"kinds: {k!r} is not a bond kind; choose from {BOND_KINDS}")
    names = list(patterns)
    cols = ["E0"] + (["h"] if field else []) + list(kinds)
    A, y = [], []
    for nme in names:
        E, c = patterns[nme]
        if not (isinstance(E, (int, float, np.floating)) and math.isfinite(E)):
            raise ValueError(f"patterns[{nme!r}]: energy {E!r} must be a finite number of meV per site")
        A.append([1.0] + ([-c["m"]] if field else []) + [-c[k] for k in kinds])
        y.append(float(E))
    A, y = np.array(A), np.array(y)
    # which parameters are fixed: e_p is in the row space of A
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    P = np.linalg.pinv(A) @ A
    fixed = [bool(np.allclose(P[:, p], np.eye(len(cols))[:, p], atol=1e-8)) for p in range(len(cols))]
    rank = np.linalg.matrix_rank(A, tol=1e-10)
    res = y - A @ coef
    dof = len(y) - rank
    errs = np.full(len(cols), np.nan)
    if dof > 0 and rank == len(cols):
        cov = float(res @ res) / dof * np.linalg.inv(A.T @ A)
        errs = np.sqrt(np.diag(cov))
    val = {c: (float(v) if f else float("nan")) for c, v, f in zip(cols, coef, fixed)}
    return NetworkFit({k: val[k] for k in kinds}, val.get("h", 0.0), val["E0"],
                      {n: float(r) for n, r in zip(names, res)}, float(np.sqrt(np.mean(res ** 2))), int(dof),
                      {k: float(e) for k, e in zip(cols, errs) if k in kinds},
                      tuple(c for c, f in zip(cols, fixed) if f))
