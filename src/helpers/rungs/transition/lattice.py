"""Checked input of the Monte Carlo and the L x L periodic lattice it runs on.

Spins are an (L, L) int8 array s[y, x]: axis 1 runs along the chains (x, coupling J_x), axis 0
across them (y, coupling J_y), with periodic boundaries. The simulation uses |J_x|, |J_y|: a
negative coupling is mapped onto a positive one by the gauge s -> (-1)^x s (or (-1)^y s), which
needs an even L; the order parameter it measures is then that of the pattern the signs favour.
Every check raises ValueError naming the parameter and what is allowed, before any sweep.
"""
from __future__ import annotations

import math
import numbers
import numpy as np


#: Smallest lattice the simulation accepts (finite-size effects below it swamp the crossing).
MIN_SIZE = 8


def check_size(L) -> int:
    """L as an int: at least MIN_SIZE and even (checkerboard update, antiferro gauge)."""
    if isinstance(L, bool) or not isinstance(L, numbers.Integral) or L < MIN_SIZE or L % 2:
        raise ValueError(f"L={L!r}: lattice size must be an even integer >= {MIN_SIZE}")
    return int(L)


def check_sizes(sizes) -> list[int]:
    """Distinct lattice sizes, increasing, at least two (a crossing needs a pair)."""
    try:
        Ls = [check_size(L) for L in sizes]
    except TypeError:
        raise ValueError(f"sizes={sizes!r}: must be a list of even integers >= {MIN_SIZE}") from None
    if len(Ls) < 2 or any(b <= a for a, b in zip(Ls, Ls[1:])):
        raise ValueError(f"sizes={sizes!r}: need at least two distinct sizes in increasing order")
    return Ls


def check_temperature(T) -> float:
    """A single temperature in K, finite and > 0."""
    if isinstance(T, bool) or not isinstance(T, numbers.Real) or not math.isfinite(T) or T <= 0:
        raise ValueError(f"T_K={T!r}: temperature must be a finite number of K above 0")
    return float(T)


def check_temperatures(temperatures) -> np.ndarray:
    """A non-empty, strictly increasing 1D list of positive finite temperatures (K)."""
    try:
        T = None if isinstance(temperatures, (str, bytes)) else np.asarray(temperatures, dtype=float)
    except (TypeError, ValueError):
        T = None
    if T is None or T.ndim != 1 or T.size == 0:
        raise ValueError(f"temperatures_K={temperatures!r}: must be a non-empty 1D list of K")
    if not np.all(np.isfinite(T)) or np.any(T <= 0):
        raise ValueError(f"temperatures_K={temperatures!r}: every temperature must be finite and > 0 K")
    if np.any(np.diff(T) <= 0):
        raise ValueError(f"temperatures_K={temperatures!r}: must be strictly increasing (sorted, distinct)")
    return T


def check_coupling(J, name: str) -> float:
    """A coupling or field in meV: a finite real number."""
    if isinstance(J, bool) or not isinstance(J, numbers.Real) or not math.isfinite(J):
        raise ValueError(f"{name}={J!r}: must be a finite number of meV")
    return float(J)


def check_sweeps(n, name: str, minimum: int = 0) -> int:
    """A number of sweeps: an integer >= minimum."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < minimum:
        raise ValueError(f"{name}={n!r}: must be an integer number of sweeps >= {minimum}")
    return int(n)


def gauge(L: int, J_x_meV: float, J_y_meV: float) -> np.ndarray:
    """(L, L) array g of +-1 with g = (-1)^x where J_x < 0 and (-1)^y where J_y < 0: the physical
    pseudo-spins are g * s, s the spins of the ferro model with |J_x|, |J_y|."""
    y, x = np.indices((L, L))
    g = np.ones((L, L), dtype=np.int8)
    if J_x_meV < 0:
        g *= np.where(x % 2, -1, 1).astype(np.int8)
    if J_y_meV < 0:
        g *= np.where(y % 2, -1, 1).astype(np.int8)
    return g


def checkerboard_masks(L: int) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the two sublattices (x + y even, odd); no site neighbours its own kind."""
    y, x = np.indices((L, L))
    even = (x + y) % 2 == 0
    return even, ~even
