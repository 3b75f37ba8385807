"""Toy models with known answers: the two-site Hubbard model and a two-site t2g cluster.

Both are "molecules": one k point, hk of shape (1, norb, norb); energies in eV.
"""
from __future__ import annotations

import numpy as np

from . import interaction as I


def hubbard_dimer(t: float = 1.0) -> tuple[np.ndarray, list]:
    """(hk, shells) of two one-orbital sites with hopping -t (eV): H0 = -t (c1^+ c2 + h.c.)."""
    return np.array([[[0.0, -t], [-t, 0.0]]], complex), [np.array([0]), np.array([1])]


def hubbard_interaction(U: float, dc: str = "none") -> I.Interaction:
    """The one-orbital Hubbard U (eV) as an interaction tensor U[0,0,0,0] = U: U n_up n_dn."""
    if U < 0:
        raise ValueError(f"U={U}: the interaction U must be >= 0 eV")
    return I.Interaction("tensor", U, 0.0, np.full((1, 1, 1, 1), float(U)), dc)


def dimer_exact(U: float, t: float = 1.0) -> dict:
    """Closed form of the half-filled two-site Hubbard ground state (a singlet):
    E0 = U/2 - sqrt(U^2/4 + 4 t^2) (eV); double occupancy per site d = (1/2) dE0/dU
    (Hellmann-Feynman, both sites equal); <S1.S2> = -(3/4)(1 - 2 d)."""
    root = np.sqrt(U**2 / 4 + 4 * t**2)
    E0 = U / 2 - root
    d = 0.5 * (0.5 - U / (4 * root))
    return {"E0": float(E0), "double_occupancy": float(d), "spin_correlation": float(-0.75 * (1 - 2 * d))}


DEFAULT_T2G_HOPPING = np.array([[-0.50, 0.10, 0.00],
                                [0.10, -0.30, 0.05],
                                [0.00, 0.05, -0.20]])


def t2g_dimer(hopping: np.ndarray | None = None, crystal_field=(0.0, 0.0, 0.0)) -> tuple[np.ndarray, list]:
    """(hk, shells) of two sites with three orbitals each: on-site levels `crystal_field` (eV, same
    on both sites) and inter-site hopping <1a|H|2b> = hopping[a, b] (eV, 3x3 real;
    DEFAULT_T2G_HOPPING unless given). Orbitals 0-2 on site 1, 3-5 on site 2."""
    T = DEFAULT_T2G_HOPPING if hopping is None else np.asarray(hopping, float)
    if T.shape != (3, 3):
        raise ValueError(f"hopping: need a 3x3 matrix, got shape {T.shape}")
    h = np.zeros((6, 6), complex)
    h[:3, :3] = h[3:, 3:] = np.diag(crystal_field)
    h[:3, 3:] = T
    h[3:, :3] = T.T
    return h[None], [np.arange(3), np.arange(3, 6)]


def t2g_interaction(U: float, J: float, dc: str = "none") -> I.Interaction:
    """Kanamori interaction of a t2g shell (U' = U - 2J), eV; no double counting by default, as in ED."""
    return I.kanamori(U, J, 3, dc=dc)
