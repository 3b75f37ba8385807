"""W-W bonds of a layer and their hoppings in the local orbitals a, b, c; on-site levels (eV)."""
from __future__ import annotations

from itertools import product
import numpy as np

from ..models import pd as pd_models


ORBITALS = ("a", "b", "c")
#: long-range patterns: the orbital doubly occupied on (W1, W2)
PATTERNS = {"a-a": ("a", "a"), "FO b-b": ("b", "b"), "FO c-c": ("c", "c"),
            "AFO b-c": ("b", "c"), "AFO c-b": ("c", "b")}
#: bond configurations (orbital on site i, orbital on site j) reported per bond
CONFIGS = {"a2a2": ("a", "a"), "b2b2": ("b", "b"), "c2c2": ("c", "c"), "b2c2": ("b", "c"), "c2b2": ("c", "b")}
SITE_NAMES = ("W1", "W2")
_M = 6                                   # orbitals of the two-site cluster
_MASK_I = sum(1 << p for p in (0, 1, 2, 6, 7, 8))


# --- input checks ---------------------------------------------------------------------------------

def _check_UJ(U, J):
    if not np.isfinite(U) or U <= 0:
        raise ValueError(f"U={U}: the Hubbard U must be > 0 eV")
    if not np.isfinite(J) or J < 0:
        raise ValueError(f"J={J}: the Hund coupling J must be >= 0 eV")
    if J > U / 3 + 1e-12:
        raise ValueError(f"J={J}: need J <= U/3 = {U / 3:.4g} eV (so that U' - J = U - 3J >= 0)")


def _check_levels(levels, name):
    lv = np.asarray(levels, float)
    if lv.shape != (3,):
        raise ValueError(f"{name}: need three crystal-field levels (a, b, c) in eV, got shape {lv.shape}")
    return lv


def _check_T(T):
    T = np.asarray(T)
    if T.shape != (3, 3):
        raise ValueError(f"T: need the 3x3 hopping matrix <i,m|H|j,n> (eV) in orbitals a, b, c, got shape {T.shape}")
    return T


def _check_config(c, name):
    if c not in ORBITALS:
        raise ValueError(f"{name}={c!r}: the doubly occupied orbital must be one of {ORBITALS}")
    return ORBITALS.index(c)


# --- bonds and their hoppings ---------------------------------------------------------------------

def metal_bonds(eff, max_length: float = 5.0) -> list:
    """Every W-W pair of the model (site i in the home cell, site j in cell R) up to `max_length`
    Angstrom, once: (i, j, R) and its reverse (j, i, -R) are the same bond. Sites are indices
    into the metal atoms of `eff` (0 = W1, 1 = W2). Each bond: name, sites, i, j, R, length_A
    and vector_A (from i to j). Names: 'W1-W2 short (zigzag)' for W1-W2 bonds within 0.1 A of
    the shortest one, 'W1-W2 long' for the others, 'chain (same sublattice, along a)' for R along
    a, 'across chains (same sublattice)' otherwise. Sorted by length."""
    if not np.isfinite(max_length) or max_length <= 0:
        raise ValueError(f"max_length={max_length}: must be a positive length in Angstrom")
    atoms = pd_models.metal_atoms(eff)
    pos = np.asarray(eff.positions)[atoms]
    cell = np.asarray(eff.cell, float)
    nmax = [int(np.ceil(max_length * np.linalg.norm(np.linalg.inv(cell)[:, k]))) + 1 for k in range(3)]
    found = []
    for i in range(len(atoms)):
        for j in range(i, len(atoms)):
            for R in product(*[range(-n, n + 1) for n in nmax]):
                R = np.array(R)
                if i == j and (not R.any() or R[np.nonzero(R)[0][0]] < 0):
                    continue                           # on-site, or the reverse of a kept bond
                d = pos[j] + R @ cell - pos[i]
                L = float(np.linalg.norm(d))
                if L <= max_length:
                    found.append((L, i, j, R, d))
    found.sort(key=lambda x: (round(x[0], 6), x[1], x[2], tuple(x[3])))
    hetero = [L for L, i, j, _, _ in found if i != j]
    shortest = min(hetero) if hetero else np.inf
    bonds = []
    for L, i, j, R, d in found:
        if i != j:
            name = "W1-W2 short (zigzag)" if L < shortest + 0.1 else "W1-W2 long"
        else:
            name = "chain (same sublattice, along a)" if not R[1:].any() else "across chains (same sublattice)"
        label = lambda s: SITE_NAMES[s] if s < len(SITE_NAMES) else f"W{s + 1}"
        bonds.append({"name": name, "sites": f"{label(i)}-{label(j)}", "i": i, "j": j,
                      "R": [int(x) for x in R], "length_A": L, "vector_A": d.tolist()})
    return bonds


def bond_hopping(eff, bond: dict, orbitals_i, orbitals_j) -> np.ndarray:
    """Hopping matrix T[m, n] = <i, orb_m| H |j R, orb_n> (eV) between the local orbitals of the
    bond's two W: orbitals_i, orbitals_j are columns in each W's five d functions of the effective
    model (columns 0, 1, 2 = a, b, c). Real when the model is (|Im| < 1e-8 eV)."""
    shells = pd_models.d_shells(eff)
    i, j, R = bond["i"], bond["j"], np.asarray(bond["R"])
    Oi, Oj = np.asarray(orbitals_i), np.asarray(orbitals_j)
    for name, O, s in (("orbitals_i", Oi, i), ("orbitals_j", Oj, j)):
        if O.ndim != 2 or O.shape[0] != len(shells[s]):
            raise ValueError(f"{name}: need columns in the {len(shells[s])} d functions of site {s}, got shape {O.shape}")
    hit = np.where((eff.R == R).all(axis=1))[0]
    if len(hit):
        block = eff.H_R[hit[0]][np.ix_(shells[i], shells[j])]
    else:
        back = np.where((eff.R == -R).all(axis=1))[0]
        if not len(back):
            raise ValueError(f"bond: R={R.tolist()} is not among the model's lattice vectors (k grid too small)")
        block = eff.H_R[back[0]][np.ix_(shells[j], shells[i])].conj().T     # H(-R)^H
    T = Oi.conj().T @ block @ Oj
    return np.real(T) if np.abs(np.imag(T)).max() < 1e-8 else T


def site_levels(eff, site: int, orbitals) -> np.ndarray:
    """Diagonal of the on-site block of W `site` in its local orbitals (columns), eV: the
    crystal-field levels when the orbitals are its crystal-field eigenvectors."""
    shell = pd_models.d_shells(eff)[site]
    O = np.asarray(orbitals)
    return np.real(np.diag(O.conj().T @ eff.onsite()[np.ix_(shell, shell)] @ O))
