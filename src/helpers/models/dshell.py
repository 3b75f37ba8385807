"""The real d harmonics in the order dz2, dxz, dyz, dx2-y2, dxy, a quadrature on the sphere, and the 5x5 rotation of the d shell."""
from __future__ import annotations

import numpy as np
from numpy.polynomial.legendre import leggauss


D_ORDER = ("xy", "yz", "z2", "xz", "x2-y2")


# --- real d harmonics and quadrature ----------------------------------------------------------
def real_d_harmonics(xyz: np.ndarray) -> np.ndarray:
    """The five normalized real d harmonics (xy, yz, z2, xz, x2-y2) at unit vectors xyz (..., 3);
    returns (..., 5)."""
    x, y, z = np.moveaxis(np.asarray(xyz, float), -1, 0)
    c = np.sqrt(15 / (4 * np.pi))
    return np.stack([c * x * y, c * y * z, np.sqrt(5 / (16 * np.pi)) * (3 * z**2 - 1),
                     c * x * z, np.sqrt(15 / (16 * np.pi)) * (x**2 - y**2)], axis=-1)


def sphere_quadrature(n_theta: int = 8, n_phi: int = 18) -> tuple[np.ndarray, np.ndarray]:
    """Points (n, 3) and weights (n,) on the unit sphere: Gauss-Legendre in cos(theta) times a
    uniform phi grid; exact for polynomials of degree < min(2 n_theta, n_phi)."""
    ct, wt = leggauss(n_theta)
    phi = 2 * np.pi * np.arange(n_phi) / n_phi
    st = np.sqrt(1 - ct**2)
    pts = np.stack([np.outer(st, np.cos(phi)), np.outer(st, np.sin(phi)),
                    np.outer(ct, np.ones(n_phi))], axis=-1).reshape(-1, 3)
    w = np.outer(wt, np.full(n_phi, 2 * np.pi / n_phi)).ravel()
    return pts, w


def d_rotation_matrix(R: np.ndarray) -> np.ndarray:
    """5x5 real orthogonal D with Y_m(R^T r) = sum_n Y_n(r) D[n, m]: the real d harmonics rotated by
    the proper rotation R (3x3), phi'_m = sum_n phi_n D[n, m]. Found by evaluating the harmonics at
    rotated quadrature points and projecting (exact)."""
    pts, w = sphere_quadrature()
    Y = real_d_harmonics(pts)
    Yrot = real_d_harmonics(pts @ np.asarray(R))            # row i: Y(R^T r_i)
    return np.einsum("in,i,im->nm", Y, w, Yrot)
