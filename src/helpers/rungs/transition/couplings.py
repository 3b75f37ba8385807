"""Ising couplings along (J_x) and across (J_y) the chains fitted to energies of ordered patterns.

A pattern is an explicit pseudo-spin configuration (+1 / -1) on a periodic cell of n_y x n_x sites
(axis 1 along the chains, x; axis 0 across them, y): for instance one of the orbital-ordered states
of a cell doubled along and across the chains, with +1 for one orbital and -1 for the other. Its
energy per cell in the model H = E_0 N - J_x sum_x s_i s_j - J_y sum_y s_i s_j is

    E / N = E_0 - J_x <s_i s_{i+x}> - J_y <s_i s_{i+y}>,

the averages over the N sites of the cell, each site with its bond to the next site along x and
along y of the periodic cell (a cell one site wide along a direction is uniform along it). The fit
is linear least squares in (E_0, J_x, J_y); it needs patterns whose bond averages span three
dimensions, and says so when they do not. Energies in meV per cell of the pattern's array.
"""
from __future__ import annotations

import math
from typing import Mapping, NamedTuple
import numpy as np


class UnderdeterminedFit(ValueError):
    """The patterns do not fix E_0, J_x and J_y (fewer than three independent bond averages)."""


def doubled_cell_patterns() -> dict[str, np.ndarray]:
    """The four pseudo-spin patterns of the cell doubled along and across the chains (2 x 2 sites,
    rows across the chains, columns along them):

    FO              every site +1 (ferro-orbital)
    stripes_across  alternating across the chains, uniform along each chain: +1 chain, -1 chain
    stripes_along   alternating along each chain, equal on neighbouring chains
    checkerboard    alternating both along and across

    Which of these is the paper's AFO depends on which W the pseudo-spins sit on; the caller states
    the mapping (these names describe the pattern, not a paper label)."""
    return {"FO": np.array([[1, 1], [1, 1]]),
            "stripes_across": np.array([[1, 1], [-1, -1]]),
            "stripes_along": np.array([[1, -1], [1, -1]]),
            "checkerboard": np.array([[1, -1], [-1, 1]])}


def _pattern(config, name: str) -> np.ndarray:
    s = np.asarray(config)
    if s.ndim != 2 or s.size == 0 or not np.all(np.isin(s, (-1, 1))):
        raise ValueError(f"pattern {name!r}: must be a 2D array of +1/-1 pseudo-spins "
                         f"(rows across the chains, columns along them), got {s.tolist()!r}")
    return s.astype(int)


def bond_averages(config) -> tuple[float, float]:
    """(<s_i s_{i+x}>, <s_i s_{i+y}>) of a periodic pattern, x along axis 1, y along axis 0."""
    s = _pattern(config, "config")
    return (float(np.mean(s * np.roll(s, -1, axis=1))), float(np.mean(s * np.roll(s, -1, axis=0))))


def pattern_energy_meV(config, J_x_meV: float, J_y_meV: float, E0_meV: float = 0.0) -> float:
    """Model energy (meV per cell of the pattern's array) of a pattern for given couplings."""
    s = _pattern(config, "config")
    cx, cy = bond_averages(s)
    return float(s.size * (E0_meV - J_x_meV * cx - J_y_meV * cy))


class CouplingFit(NamedTuple):
    """Fitted J_x, J_y and E_0 (meV per site), the residual per pattern (meV per cell, data minus
    model), its root mean square, and the degrees of freedom left (patterns - 3). `J_x_err`,
    `J_y_err` are standard errors from the residual when dof > 0 (NaN otherwise)."""
    J_x_meV: float
    J_y_meV: float
    E0_meV: float
    residuals_meV: dict
    rms_residual_meV: float
    dof: int
    J_x_err_meV: float
    J_y_err_meV: float


def fit_couplings(energies_meV: Mapping[str, float], patterns: Mapping[str, object]) -> CouplingFit:
    """Least-squares J_x, J_y, E_0 from energies (meV per cell) of named patterns.

    `energies_meV` maps a pattern name to its energy per cell of the configuration `patterns[name]`
    (a 2D +1/-1 array, see `doubled_cell_patterns`). Each energy is divided by the cell's number of
    sites and fitted to E_0 - J_x <s s_x> - J_y <s s_y>. Raises UnderdeterminedFit when the
    patterns' bond averages do not span three dimensions (e.g. only FO and one stripe pattern), and
    ValueError for a name without a pattern or a non-finite energy."""
    if not isinstance(energies_meV, Mapping) or len(energies_meV) == 0:
        raise ValueError("energies_meV: must be a non-empty mapping {pattern name: meV per cell}")
    rows, rhs, sizes, names = [], [], [], []
    for name, E in energies_meV.items():
        if name not in patterns:
            raise ValueError(f"energies_meV[{name!r}]: no pattern of that name; state its "
                             f"configuration in `patterns` (known: {sorted(patterns)})")
        if isinstance(E, bool) or not isinstance(E, (int, float, np.integer, np.floating)) \
                or not math.isfinite(E):
            raise ValueError(f"energies_meV[{name!r}]={E!r}: must be a finite energy in meV")
        s = _pattern(patterns[name], name)
        cx, cy = bond_averages(s)
        rows.append([1.0, -cx, -cy])
        rhs.append(float(E) / s.size)
        sizes.append(s.size)
        names.append(name)
    A, y = np.array(rows), np.array(rhs)
    rank = np.linalg.matrix_rank(A, tol=1e-10)
    if rank < 3:
        raise UnderdeterminedFit(
            f"patterns {names}: their bond averages (<s s_x>, <s s_y>) span only {rank} of the 3 "
            "unknowns (E_0, J_x, J_y); add a pattern that differs along x and across y independently "
            "(e.g. FO, stripes_along and stripes_across)")
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    res_site = y - A @ coef
    dof = len(y) - 3
    res_cell = {n: float(r * N) for n, r, N in zip(names, res_site, sizes)}
    rms = float(np.sqrt(np.mean(np.array(list(res_cell.values())) ** 2)))
    if dof > 0:
        sigma2 = float(res_site @ res_site) / dof
        cov = sigma2 * np.linalg.inv(A.T @ A)
        ex, ey = float(np.sqrt(cov[1, 1])), float(np.sqrt(cov[2, 2]))
    else:
        ex = ey = float("nan")
    return CouplingFit(float(coef[1]), float(coef[2]), float(coef[0]), res_cell, rms, dof, ex, ey)
