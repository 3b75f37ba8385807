"""Polarization against a field swept down and up: the hysteresis loop of the pseudo-spin model.

The field term is -h sum_i s_i with h (meV per site) conjugate to the order parameter m (the
pattern the coupling signs favour), so for the paper's mechanism h = E * p, the out-of-plane field
times the dipole that one site's pseudo-spin carries, and the polarization is P = m * dipole per
site (in whatever unit the dipole is given: e*Angstrom per site, or microC/cm2 at full order).

Dynamics: checkerboard Metropolis (local flips, so the lattice stays in a metastable state until it
nucleates the reversed one, as a real film does; a cluster update would erase the loop). The loop
starts ordered at +h_max, sweeps h down to -h_max and back up on the same grid, with a fixed number
of sweeps at each field (the sweep rate: a slower sweep gives a narrower loop) and records the
mean m over them. The coercive fields are where m changes sign on each branch (linear
interpolation); the remanence is m at h = 0 on each branch.
"""
from __future__ import annotations

from typing import NamedTuple
import numpy as np

from . import lattice as lat
from . import montecarlo as mc
from .onsager import K_B_MEV_PER_K


#: meV of field energy per V/nm of out-of-plane field and e*Angstrom of dipole (1 V/nm * 1 e*A = 0.1 eV).
MEV_PER_V_PER_NM_E_ANGSTROM = 100.0


def field_energy_meV(E_V_per_nm: float, dipole_e_angstrom: float) -> float:
    """h = E * p (meV): the field term per pseudo-spin of an out-of-plane field E (V/nm) acting on
    the dipole p (e*Angstrom) that one site's pseudo-spin carries."""
    return MEV_PER_V_PER_NM_E_ANGSTROM * float(E_V_per_nm) * float(dipole_e_angstrom)


def field_V_per_nm(h_meV: float, dipole_e_angstrom: float) -> float:
    """The out-of-plane field (V/nm) whose term per site is h_meV for a dipole p (e*Angstrom) per
    site: E = h / p (e.g. the coercive field of a loop in V/nm)."""
    if not (np.isfinite(dipole_e_angstrom) and dipole_e_angstrom != 0):
        raise ValueError(f"dipole_e_angstrom={dipole_e_angstrom!r}: must be a finite, non-zero dipole")
    return float(h_meV) / (MEV_PER_V_PER_NM_E_ANGSTROM * float(dipole_e_angstrom))


class Loop(NamedTuple):
    """Fields h_meV (the grid, decreasing from +h_max to -h_max), the order parameter per site on
    the way down (m_down) and back up (m_up, on the same grid), and the polarization P = m * dipole."""
    T_K: float
    h_meV: np.ndarray
    m_down: np.ndarray
    m_up: np.ndarray
    dipole_per_site: float

    @property
    def P_down(self):
        return self.m_down * self.dipole_per_site

    @property
    def P_up(self):
        return self.m_up * self.dipole_per_site


def hysteresis_loop(L: int, T_K: float, J_x_meV: float, J_y_meV: float, h_max_meV: float, *,
                    n_fields: int = 41, sweeps_per_field: int = 20, n_thermalize: int = 100,
                    dipole_per_site: float = 1.0, seed: int = 0, geometry: str = "square") -> Loop:
    """The loop m(h) at T_K on an L x L lattice: ordered start at +h_max (n_thermalize sweeps
    there), then h from +h_max to -h_max in n_fields steps and back, `sweeps_per_field` Metropolis
    sweeps at each field, m averaged over them. Input checked before any sweep. `geometry`: 'square'
    or 'zigzag' (helpers.rungs.transition.montecarlo.GEOMETRIES)."""
    if geometry not in mc.GEOMETRIES:
        raise ValueError(f"geometry={geometry!r}: must be one of {mc.GEOMETRIES}")
    L = lat.check_size(L)
    T = lat.check_temperature(T_K)
    Jx, Jy = lat.check_coupling(J_x_meV, "J_x_meV"), lat.check_coupling(J_y_meV, "J_y_meV")
    h_max = lat.check_coupling(h_max_meV, "h_max_meV")
    if h_max <= 0:
        raise ValueError(f"h_max_meV={h_max_meV!r}: must be a field in meV above 0")
    n_fields = lat.check_sweeps(n_fields, "n_fields", minimum=3)
    sweeps_per_field = lat.check_sweeps(sweeps_per_field, "sweeps_per_field", minimum=1)
    n_thermalize = lat.check_sweeps(n_thermalize, "n_thermalize")
    if isinstance(dipole_per_site, bool) or not isinstance(dipole_per_site, (int, float)) \
            or not np.isfinite(dipole_per_site):
        raise ValueError(f"dipole_per_site={dipole_per_site!r}: must be a finite dipole per site")
    dipole = float(dipole_per_site)
    rng = mc.generator(seed, L)
    beta = 1.0 / (K_B_MEV_PER_K * T)
    s = np.ones((1, L, L), dtype=np.int8)
    masks = lat.checkerboard_masks(L)
    bJx, bJy = (beta * J for J in mc.bond_couplings(L, Jx, Jy, geometry))
    h = np.linspace(h_max, -h_max, n_fields)

    def run(field, n, record):
        total = 0.0
        for _ in range(n):
            mc.metropolis_sweep(s, bJx, bJy, beta * field, rng, masks)
            if record:
                total += float(s.mean(dtype=float))
        return total / max(n, 1)

    run(h_max, n_thermalize, False)
    m_down = np.array([run(f, sweeps_per_field, True) for f in h])
    m_up = np.array([run(f, sweeps_per_field, True) for f in h[::-1]])[::-1]
    return Loop(T, h, m_down, m_up, dipole)


def _zero_crossing(h, m):
    idx = np.nonzero(np.sign(m[:-1]) != np.sign(m[1:]))[0]
    if idx.size == 0:
        return np.nan
    i = idx[len(idx) // 2]
    return float(h[i] + (h[i + 1] - h[i]) * m[i] / (m[i] - m[i + 1]))


class Coercivity(NamedTuple):
    """Field (meV) where m changes sign going down (h_c_down < 0 for an open loop) and going up,
    the coercive field (h_c_up - h_c_down)/2, the remanent order parameter on each branch, and the
    loop area, the integral of m_down - m_up over h (meV per site: the work per site and cycle,
    positive for an open loop, zero within noise for a closed one)."""
    h_c_down_meV: float
    h_c_up_meV: float
    coercive_meV: float
    remanence_down: float
    remanence_up: float
    area_meV: float


def coercivity(loop: Loop) -> Coercivity:
    """Coercive fields, remanence and area of a loop. NaN coercive fields mean the branch never
    reversed within +-h_max (raise h_max or slow the sweep)."""
    h = loop.h_meV[::-1]                                    # increasing
    md, mu = loop.m_down[::-1], loop.m_up[::-1]
    hd, hu = _zero_crossing(h, md), _zero_crossing(h, mu)
    area = float(np.trapezoid(md - mu, h))
    return Coercivity(hd, hu, 0.5 * (hu - hd), float(np.interp(0.0, h, md)),
                      float(np.interp(0.0, h, mu)), area)
