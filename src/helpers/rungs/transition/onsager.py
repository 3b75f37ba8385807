"""Exact results of the anisotropic square-lattice Ising model (no field).

Onsager (1944): the critical temperature solves sinh(2 J_x / k_B T) sinh(2 J_y / k_B T) = 1;
isotropic limit k_B T_c = 2 J / ln(1 + sqrt 2) = 2.269185 J. Yang (1952, as generalized by Chang
to anisotropic couplings): spontaneous magnetization m = [1 - (sinh 2K_x sinh 2K_y)^-2]^(1/8) below
T_c (K = J / k_B T). Onsager's energy per site (isotropic) with the complete elliptic integral K(k):
u = -J coth 2K [1 + (2/pi)(2 tanh^2 2K - 1) K(k)], k = 2 sinh 2K / cosh^2 2K; u(T_c) = -sqrt(2) J.

Couplings in meV, temperatures in K. Signs of the couplings do not matter (bipartite lattice):
every function uses |J_x|, |J_y|.
"""
from __future__ import annotations

import math
import numpy as np
from scipy import optimize, special


#: Boltzmann constant, meV/K (CODATA 2018, exact).
K_B_MEV_PER_K = 8.617333262e-2
#: k_B T_c / J of the isotropic square lattice, 2 / ln(1 + sqrt 2).
ISOTROPIC_TC_OVER_J = 2.0 / math.log(1.0 + math.sqrt(2.0))


def _coupling(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value):
        raise ValueError(f"{name}={value!r}: must be a finite number of meV")
    return abs(float(value))


def _temperature(value, name: str = "T_K") -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name}={value!r}: must be a finite temperature in K above 0")
    return float(value)


def _log_sinh(z: float) -> float:
    """log(sinh z) for z > 0 without overflow or loss of precision."""
    if z > 20.0:
        return z - math.log(2.0) + math.log1p(-math.exp(-2.0 * z))
    return math.log(math.sinh(z))


def critical_temperature_K(J_x_meV: float, J_y_meV: float) -> float:
    """Onsager's T_c (K) of the anisotropic square lattice from sinh(2J_x/kT) sinh(2J_y/kT) = 1.

    The left side grows monotonically with beta = 1/kT from 0 to infinity, so the root is unique;
    it is found in log(beta) with brentq (relative precision 1e-14) for any ratio J_y/J_x,
    including very anisotropic ones (T_c -> 0 logarithmically as one coupling vanishes). Returns
    0.0 when either coupling is 0 (a set of 1D chains does not order at T > 0)."""
    a, b = _coupling(J_x_meV, "J_x_meV"), _coupling(J_y_meV, "J_y_meV")
    if a == 0.0 or b == 0.0:
        return 0.0
    if a == b:
        return ISOTROPIC_TC_OVER_J * a / K_B_MEV_PER_K

    def g(log_beta):
        beta = math.exp(log_beta)
        return _log_sinh(2 * a * beta) + _log_sinh(2 * b * beta)

    # the isotropic solutions of the two couplings bracket the anisotropic root
    lo = math.log(math.log(1 + math.sqrt(2)) / (2 * max(a, b)))
    hi = math.log(math.log(1 + math.sqrt(2)) / (2 * min(a, b)))
    log_beta = optimize.brentq(g, lo, hi, xtol=1e-15, rtol=1e-14, maxiter=500)
    return 1.0 / (K_B_MEV_PER_K * math.exp(log_beta))


def isotropic_critical_temperature_K(J_meV: float) -> float:
    """T_c (K) of the isotropic model, k_B T_c = 2 J / ln(1 + sqrt 2)."""
    return ISOTROPIC_TC_OVER_J * _coupling(J_meV, "J_meV") / K_B_MEV_PER_K


def couplings_for_tc(T_c_K: float, ratio: float) -> tuple[float, float]:
    """(J_x, J_y) in meV, J_y = ratio * J_x > 0, whose Onsager T_c equals `T_c_K`: the couplings a
    mechanism needs to order at that temperature (e.g. 350 K) at a given anisotropy."""
    T = _temperature(T_c_K, "T_c_K")
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float, np.integer, np.floating)) \
            or not math.isfinite(ratio) or ratio <= 0:
        raise ValueError(f"ratio={ratio!r}: must be J_y/J_x > 0 (a ratio of 0 never orders)")
    # T_c is proportional to J_x at fixed ratio: scale the solution for J_x = 1 meV
    J_x = T / critical_temperature_K(1.0, float(ratio))
    return J_x, float(ratio) * J_x


def spontaneous_magnetization(T_K: float, J_x_meV: float, J_y_meV: float) -> float:
    """Yang's spontaneous magnetization per site (|m| in [0, 1]) of the infinite lattice at T_K:
    [1 - (sinh 2K_x sinh 2K_y)^-2]^(1/8) below T_c, 0 at and above it."""
    T = _temperature(T_K)
    a, b = _coupling(J_x_meV, "J_x_meV"), _coupling(J_y_meV, "J_y_meV")
    if a == 0.0 or b == 0.0:
        return 0.0
    beta = 1.0 / (K_B_MEV_PER_K * T)
    log_prod = _log_sinh(2 * a * beta) + _log_sinh(2 * b * beta)
    if log_prod <= 0.0:
        return 0.0
    return float((-math.expm1(-2.0 * log_prod)) ** 0.125)


def energy_per_site_isotropic_meV(T_K: float, J_meV: float) -> float:
    """Onsager's internal energy per site (meV) of the isotropic infinite lattice at T_K:
    -J coth 2K [1 + (2/pi)(2 tanh^2 2K - 1) K(k)], k = 2 sinh 2K / cosh^2 2K, K = J / k_B T.
    At T_c the elliptic integral diverges but its prefactor vanishes: u(T_c) = -sqrt 2 J."""
    T = _temperature(T_K)
    J = _coupling(J_meV, "J_meV")
    if J == 0.0:
        return 0.0
    K = J / (K_B_MEV_PER_K * T)
    t = math.tanh(2 * K)
    k = 2 * math.sinh(2 * K) / math.cosh(2 * K) ** 2
    pref = 2 * t * t - 1
    if abs(pref) < 1e-12:                         # at T_c: pref * K(k) -> 0
        return -math.sqrt(2.0) * J
    return float(-J / t * (1 + 2 / math.pi * pref * special.ellipk(k * k)))
