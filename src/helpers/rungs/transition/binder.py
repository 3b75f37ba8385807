"""T_c from the crossing of Binder cumulants U_4(T) of several lattice sizes.

U_4 = 1 - <m^4>/(3<m^2>^2) tends to 2/3 below T_c and to 0 above it, and at T_c to a value that
does not depend on size (0.6107 for the isotropic square lattice with periodic boundaries), so the
curves of two sizes cross near T_c with a shift that shrinks fast with size (L^-(1/nu + omega)).

Between the temperatures of the grid U_4 is interpolated by histogram reweighting: the run at
beta_i gives U_4 at a nearby beta from its own samples weighted by exp(-(beta - beta_i) E), E the
energy of the lattice, and the two runs bracketing a temperature are mixed linearly in beta, so
the curve passes through the measured values and follows their curvature between them. For each
pair of consecutive sizes the crossing is the root (brentq) of U_4(L_small) - U_4(L_large) in the
grid interval where the measured difference changes sign.

Errors: a bootstrap over the measurement blocks of every run (each run resampled independently,
so each sample is a possible outcome of the whole simulation) gives the statistical error of each
crossing. The estimate is the crossing of the two largest sizes; its error adds in quadrature its
bootstrap error and the shift from the next-smaller pair's crossing (drift_K: finite-size
correction plus the noise of the smaller pair; zero with two sizes). The bootstrap error alone
is kept beside it: over 26 seeded repetitions of the tests' simulations (sizes 8, 16, 32; 2000
sweeps) the crossing scattered about the exact T_c by about its bootstrap error, but twice by
more than three of them, so the bootstrap alone is not a safe error bar for small runs.
"""
from __future__ import annotations

from typing import NamedTuple
import numpy as np
from scipy import optimize

from . import lattice as lat
from . import montecarlo as mc
from .onsager import K_B_MEV_PER_K


class NoCrossing(RuntimeError):
    """The Binder cumulants of two sizes do not cross inside the temperature grid."""


class BinderTc(NamedTuple):
    """T_c (K) from the crossing of the two largest sizes, its error (K: bootstrap and drift in
    quadrature), its bootstrap error alone, the shift from the next-smaller pair's crossing
    (drift_K, 0 with two sizes), every consecutive pair's crossing {(L1, L2): (T, bootstrap
    error)}, the sizes, the temperatures and the cumulants {L: (U_4 array, error array)}."""
    T_c_K: float
    error_K: float
    bootstrap_error_K: float
    drift_K: float
    pair_crossings: dict
    sizes: tuple
    temperatures_K: np.ndarray
    cumulants: dict


def reweighted_binder(m, e_meV, L: int, T_run_K: float, T_K: float) -> float:
    """U_4 at T_K from samples (m per site, e in meV per site) taken at T_run_K on an L x L lattice,
    by single-histogram reweighting (weights exp(-(beta - beta_run) N e)). Trustworthy within about
    one energy-fluctuation width, |beta - beta_run| N sigma_e of order 1."""
    d_beta = 1.0 / (K_B_MEV_PER_K * T_K) - 1.0 / (K_B_MEV_PER_K * T_run_K)
    lw = -d_beta * L * L * np.asarray(e_meV)
    w = np.exp(lw - lw.max())
    m2 = m * m
    return float(mc.binder_cumulant(w @ m2 / w.sum(), w @ (m2 * m2) / w.sum()))


def _curve(samples, L, T):
    """U_4(T') for T' within the grid T: reweighted from the two bracketing runs, mixed in beta."""
    def u(Tp):
        i = int(np.clip(np.searchsorted(T, Tp) - 1, 0, len(T) - 2))
        b, b0, b1 = 1 / Tp, 1 / T[i], 1 / T[i + 1]
        w = (b - b1) / (b0 - b1)
        u0 = reweighted_binder(*samples[i], L, T[i], Tp)
        u1 = reweighted_binder(*samples[i + 1], L, T[i + 1], Tp)
        return w * u0 + (1 - w) * u1
    return u


def _bracket(T, d) -> int:
    idx = [i for i in np.nonzero(np.sign(d[:-1]) * np.sign(d[1:]) <= 0)[0]]
    if not idx:
        raise NoCrossing(f"U_4 difference {np.round(d, 4).tolist()} keeps its sign over "
                         f"T = {T[0]:.4g}..{T[-1]:.4g} K: widen the temperature grid")
    mid = 0.5 * (len(T) - 1)
    return min(idx, key=lambda j: abs(j + 0.5 - mid))


def crossing_temperature(T, samples_small, samples_large, L_small: int, L_large: int) -> float:
    """Temperature (K) where the Binder cumulants of two sizes cross, from their samples
    [(m, e_meV) per temperature of the grid T]: the root nearest the middle of the grid if the
    measured difference changes sign more than once. Raises NoCrossing."""
    us, ul = _curve(samples_small, L_small, T), _curve(samples_large, L_large, T)
    d = np.array([us(x) - ul(x) for x in T])
    i = _bracket(T, d)
    if d[i] == 0:
        return float(T[i])
    if d[i + 1] == 0:
        return float(T[i + 1])
    return float(optimize.brentq(lambda x: us(x) - ul(x), T[i], T[i + 1], xtol=1e-6 * T[i]))


def _samples(runs, rng=None):
    """[(m, e)] per run, whole measurement blocks resampled with replacement when rng is given."""
    out = []
    for r in runs:
        n = len(r.m) // r.n_blocks * r.n_blocks
        m, e = r.m[:n].reshape(r.n_blocks, -1), r.e_meV[:n].reshape(r.n_blocks, -1)
        if rng is not None:
            pick = rng.integers(0, r.n_blocks, r.n_blocks)
            m, e = m[pick], e[pick]
        out.append((m.reshape(-1), e.reshape(-1)))
    return out


def tc_from_runs(runs_by_L: dict, n_bootstrap: int = 200, seed: int = 0) -> BinderTc:
    """Binder-crossing T_c from {L: [Run at each temperature]} (same temperature grid for all L)."""
    sizes = lat.check_sizes(sorted(runs_by_L))
    T = np.array([r.T_K for r in runs_by_L[sizes[0]]])
    lat.check_temperatures(T)
    if len(T) < 2:
        raise ValueError("runs_by_L: a crossing needs at least two temperatures")
    for L in sizes:
        if not np.array_equal([r.T_K for r in runs_by_L[L]], T):
            raise ValueError(f"runs_by_L[{L}]: temperatures differ from those of L={sizes[0]}")
    n_bootstrap = lat.check_sweeps(n_bootstrap, "n_bootstrap", minimum=10)
    pairs = list(zip(sizes, sizes[1:]))
    full = {L: _samples(runs_by_L[L]) for L in sizes}
    central = {p: crossing_temperature(T, full[p[0]], full[p[1]], *p) for p in pairs}
    rng = np.random.default_rng(seed)
    boot = {p: [] for p in pairs}
    for _ in range(n_bootstrap):
        sample = {L: _samples(runs_by_L[L], rng) for L in sizes}
        for p in pairs:
            try:
                boot[p].append(crossing_temperature(T, sample[p[0]], sample[p[1]], *p))
            except NoCrossing:
                boot[p].append(np.nan)
    err = {}
    for p in pairs:
        x = np.array(boot[p])
        if np.mean(np.isnan(x)) > 0.1:
            raise NoCrossing(f"sizes {p}: the crossing leaves the grid in {np.mean(np.isnan(x)):.0%} "
                             "of bootstrap samples: widen the grid or measure longer")
        err[p] = float(np.nanstd(x, ddof=1))
    last = pairs[-1]
    drift = abs(central[last] - central[pairs[-2]]) if len(pairs) > 1 else 0.0
    cum = {L: (np.array([r.binder()[0] for r in runs_by_L[L]]),
               np.array([r.binder()[1] for r in runs_by_L[L]])) for L in sizes}
    return BinderTc(central[last], float(np.hypot(err[last], drift)), err[last], drift,
                    {p: (central[p], err[p]) for p in pairs},
                    tuple(sizes), T, cum)


def binder_tc(sizes, temperatures_K, J_x_meV: float, J_y_meV: float, *, n_sweeps: int = 2000,
              n_thermalize: int = 200, algorithm: str = "cluster", seed: int = 0,
              n_blocks: int = 20, n_bootstrap: int = 200, geometry: str = "square") -> BinderTc:
    """Simulate every size at every temperature (K, strictly increasing; bracket T_c) and return the
    Binder-crossing T_c. All input is checked before the first sweep. `geometry`: 'square' or
    'zigzag' (helpers.rungs.transition.montecarlo.GEOMETRIES)."""
    sizes = lat.check_sizes(sizes)
    lat.check_temperatures(temperatures_K)
    mc._check_run(sizes[0], J_x_meV, J_y_meV, 0.0, n_sweeps, n_thermalize, algorithm, n_blocks, geometry)
    lat.check_sweeps(n_bootstrap, "n_bootstrap", minimum=10)
    runs = {L: mc.scan(L, temperatures_K, J_x_meV, J_y_meV, n_sweeps=n_sweeps,
                       n_thermalize=n_thermalize, algorithm=algorithm, seed=seed, n_blocks=n_blocks,
                       geometry=geometry)
            for L in sizes}
    return tc_from_runs(runs, n_bootstrap=n_bootstrap, seed=seed)
