"""What a mean-field or DFT+U state is, per metal site, from its d-shell occupation matrices.

A state is identified by basis-free quantities, never by the diagonal of one chosen basis:
per site the natural orbitals (eigenvectors of n_up + n_dn in the five d functions) and their
occupations, the d count, the moment and whether the two spins fill the same orbital; between
two sites the overlap of their dominant natural orbitals after mapping one site onto the other
by the operation that relates them (for the two W of the 1T' layer, the inversion: d functions
are even, so in a common Cartesian frame the map is the identity). An antiferro-orbital state
of rotated orbitals has equal diagonals in any fixed a, b, c basis on both sites, but its
dominant natural orbitals on the two sites are orthogonal: the overlap tells FO (near 1) from
AFO (near 0) whatever the orbitals are.

Occupation matrices are 5x5 (Hermitian), in electrons, in the real d functions of each site
(GPAW's order xy, yz, z2, xz, x2-y2 unless a caller states otherwise). Moments in muB.
"""
from __future__ import annotations

import numpy as np


#: A site counts as orbitally polarized when its largest natural occupation (both spins) is at least
#: this (a doubly occupied orbital has 2; the unpolarized crystal-field d2 state of WTe2 about 1).
POLARIZED_MIN = 1.5
#: For PAW projector occupations: a site counts as polarized when its largest natural occupation exceeds
#: the next by at least this (electrons); the unpolarized DFT+U state of the d2 layer has 0.11 (its filled
#: orbital a against the next), a biased b or c filling 0.7-0.8. DFT+U states are also compared with the
#: unbiased state directly (helpers.rungs.afo.dftu.states.state_table), so a start that falls back does not rest on this line.
GAP_MIN = 0.3
#: Overlaps |<v1|R v2>| of the dominant natural orbitals above FO_MIN read FO, below AFO_MAX AFO.
FO_MIN = 0.8
AFO_MAX = 0.4


def _check_matrix(n, name: str) -> np.ndarray:
    n = np.asarray(n)
    if n.shape != (5, 5) or not np.all(np.isfinite(n)):
        raise ValueError(f"{name}: need a finite 5x5 occupation matrix, got shape {n.shape}")
    if not np.allclose(n, n.conj().T, atol=1e-6):
        raise ValueError(f"{name}: occupation matrix is not Hermitian")
    return 0.5 * (n + n.conj().T)


def natural_orbitals(n_up, n_dn=None) -> dict:
    """Natural orbitals of one site: eigenvalues (descending, electrons, both spins) and eigenvectors
    (columns, in the site's d functions) of n_up + n_dn; the d count; the moment tr(n_up - n_dn)
    (muB); the largest occupation of each spin; and |<u|d>|, the overlap of the dominant natural
    orbitals of the two spins (1 for a closed-shell doubly occupied orbital, near 0 for an open-shell
    S_z = 0 state that fills two different orbitals). `n_dn` None: a spin-restricted matrix of both
    spins, split equally."""
    if n_dn is None:
        n = _check_matrix(n_up, "n")
        n_up = n_dn = 0.5 * n
    n_up, n_dn = _check_matrix(n_up, "n_up"), _check_matrix(n_dn, "n_dn")
    w, v = np.linalg.eigh(n_up + n_dn)
    order = np.argsort(w)[::-1]
    w, v = w[order], v[:, order]
    wu, vu = np.linalg.eigh(n_up)
    wd, vd = np.linalg.eigh(n_dn)
    return {"occupations": w.real, "vectors": v, "d_count": float(np.trace(n_up + n_dn).real),
            "polarization": float(w[0].real - w[1].real),
            "moment_muB": float(np.trace(n_up - n_dn).real),
            "largest_up": float(wu[-1]), "largest_dn": float(wd[-1]),
            "up_down_overlap": _spin_overlap(wu, vu, wd, vd)}


def _spin_overlap(wu, vu, wd, vd, tol: float = 1e-4) -> float:
    """|<u|d>| of the spins' dominant natural orbitals; where a spin's largest occupation is degenerate
    (within `tol`), the norm of the other spin's dominant orbital projected on that subspace, so that
    equal spin matrices always give 1."""
    Vu = vu[:, wu >= wu[-1] - tol]
    Vd = vd[:, wd >= wd[-1] - tol]
    return float(max(np.linalg.norm(Vd.conj().T @ vu[:, -1]), np.linalg.norm(Vu.conj().T @ vd[:, -1])))


def dominant_overlap(site1: dict, site2: dict, rotation=None) -> float:
    """|<v1| R v2>|: the overlap of site 1's dominant natural orbital with site 2's mapped onto
    site 1 by the 5x5 d representation R of the operation relating them (identity by default:
    inversion, or a pure translation)."""
    R = np.eye(5) if rotation is None else np.asarray(rotation)
    if R.shape != (5, 5):
        raise ValueError(f"rotation: need a 5x5 d representation, got shape {R.shape}")
    return float(abs(np.vdot(site1["vectors"][:, 0], R @ site2["vectors"][:, 0])))


def classify(sites: list, pairs: list | None = None, rotations: list | None = None,
             polarized_min: float = POLARIZED_MIN, gap_min: float | None = None, afo_max: float | None = None) -> dict:
    """What a state is, from per-site natural orbitals (`natural_orbitals` of each metal site).

    `pairs`: the site pairs (i, j) related by the operation whose d representation is the matching
    entry of `rotations` (default: every pair of sites, identity). Returns the d counts, the charge
    disproportionation (max - min d count, electrons), the moments, the largest natural occupation
    per site, whether each site is orbitally polarized (largest >= polarized_min), the overlaps of
    the dominant natural orbitals of each pair, and `kind`. With `gap_min` a site counts as polarized
    when its two largest natural occupations differ by at least gap_min instead (for PAW projector
    occupations, whose d counts include the covalent d weight of the ligand bands, so that a doubly
    occupied orbital does not reach 2). `kind`: 'unpolarized' (no site polarized),
    'FO' or 'AFO' (every site polarized, every pair overlap above FO_MIN or below AFO_MAX, or `afo_max`),
    'mixed' (polarized sites that are neither), or 'partly polarized'."""
    n = len(sites)
    if n == 0:
        raise ValueError("sites: need at least one site")
    if pairs is None:
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    rotations = [None] * len(pairs) if rotations is None else list(rotations)
    if len(rotations) != len(pairs):
        raise ValueError(f"rotations: need one per pair ({len(pairs)}), got {len(rotations)}")
    largest = [float(s["occupations"][0]) for s in sites]
    if gap_min is None:
        polarized = [x >= polarized_min for x in largest]
    else:
        polarized = [s["polarization"] >= gap_min for s in sites]
    overlaps = [dominant_overlap(sites[i], sites[j], R) for (i, j), R in zip(pairs, rotations)]
    if not any(polarized):
        kind = "unpolarized"
    elif not all(polarized):
        kind = "partly polarized"
    elif overlaps and all(o >= FO_MIN for o in overlaps):
        kind = "FO"
    elif overlaps and all(o <= (AFO_MAX if afo_max is None else afo_max) for o in overlaps):
        kind = "AFO"
    else:
        kind = "mixed"
    counts = [s["d_count"] for s in sites]
    return {"kind": kind, "d_counts": counts, "polarization": [s["polarization"] for s in sites], "disproportionation": float(max(counts) - min(counts)),
            "moments_muB": [s["moment_muB"] for s in sites], "largest": largest, "polarized": polarized,
            "up_down_overlap": [s["up_down_overlap"] for s in sites], "pairs": [list(p) for p in pairs],
            "overlaps": overlaps}


def filled_orbital_overlaps(site: dict, orbitals) -> np.ndarray:
    """|<o|v>|^2 of the site's dominant natural orbital v with each column o of `orbitals`
    (5 x m, in the same d functions): which named orbitals (a, b, c of a reading, or any other)
    the filled orbital is made of. Sums to 1 over a complete basis."""
    O = np.asarray(orbitals)
    if O.ndim != 2 or O.shape[0] != 5:
        raise ValueError(f"orbitals: need 5 x m columns, got shape {O.shape}")
    return np.abs(O.conj().T @ site["vectors"][:, 0]) ** 2
