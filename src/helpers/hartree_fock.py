"""Spin-restricted Hartree-Fock for a tight-binding model with an on-site interaction on chosen shells.

Interaction on each correlated shell (the five W-5d orbitals of a W atom), rotationally invariant:
    V = (U/2) sum_{a != b} n_a n_b - (J/2) sum_{a != b, same spin} n_a n_b   (a, b spin-orbitals),
with the fully-localized-limit double counting
    E_dc = (U/2) N (N - 1) - (J/2) sum_s N_s (N_s - 1).
In Hartree-Fock, E_int - E_dc = ((U - J)/2) sum_s Tr[n_s (1 - n_s)]: the interaction-minus-double-
counting energy is Dudarev's DFT+U form with U_eff = U - J, and the mean-field potential is
    V_s = (U - J) (1/2 - n_s)      (matrix in the shell's orbitals).
It vanishes for integer occupations and favours them: it drives orbital polarization.
All states here are non-magnetic (n_up = n_down = n), as for the d2, spin-0 W of the paper.
Energies in eV.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class HFResult:
    energy: float                 # mean-field total energy per cell, eV (band + interaction - dc)
    occupations: list             # per shell: (norb, norb) occupation matrix per spin
    converged: bool
    iterations: int
    mu: float                     # chemical potential, eV
    history: list

    def natural_occupations(self) -> list:
        """Eigenvalues (per spin) of each shell's occupation matrix, descending."""
        return [np.sort(np.linalg.eigvalsh(n))[::-1] for n in self.occupations]

    def natural_orbitals(self) -> list:
        """Eigenvectors of each shell's occupation matrix, columns ordered by descending occupation."""
        out = []
        for n in self.occupations:
            w, v = np.linalg.eigh(n)
            out.append(v[:, np.argsort(w)[::-1]])
        return out


def fermi(e, mu, width):
    x = np.clip((e - mu) / width, -60, 60)
    return 1.0 / (np.exp(x) + 1.0)


def find_mu(eps, n_electrons, width, weight):
    """Chemical potential giving `n_electrons` (both spins) for eigenvalues eps (nk, nb), k weight."""
    lo, hi = eps.min() - 10 * width - 1, eps.max() + 10 * width + 1
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if 2 * weight * fermi(eps, mid, width).sum() > n_electrons:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def solve(hk: np.ndarray, shells: list, n_electrons: float, U: float, J: float = 0.0,
          n_init: list | None = None, width: float = 0.02, mixing: float = 0.3,
          tol: float = 1e-6, max_iter: int = 500) -> HFResult:
    """Self-consistent spin-restricted HF.

    hk: (nk, norb, norb) non-interacting Hamiltonian on a uniform k grid (eV).
    shells: list of index arrays, the orbitals of each correlated shell.
    n_init: per shell, the starting occupation matrix per spin (default: non-interacting one).
    Returns an HFResult; energy = 2 sum f e / nk - 2 sum_shells Tr(V n) + E_U, with
    E_U = (U - J) sum_shells Tr[n (1 - n)] (both spins).
    """
    if U < 0 or J < 0 or J > U:
        raise ValueError(f"U={U}, J={J}: need 0 <= J <= U (eV)")
    nk = len(hk)
    weight = 1.0 / nk
    ueff = U - J

    def density(V_shells):
        h = hk.copy()
        for idx, V in zip(shells, V_shells):
            h[:, idx[:, None], idx[None, :]] += V
        e, c = np.linalg.eigh(h)
        mu = find_mu(e, n_electrons, width, weight)
        f = fermi(e, mu, width)
        occ = [np.einsum("kin,kn,kjn->ij", c[:, idx, :], f, c[:, idx, :].conj()).real * weight
               for idx in shells]
        band = 2 * weight * (f * e).sum()
        return occ, mu, band

    if n_init is None:
        n, _, _ = density([np.zeros((len(i), len(i))) for i in shells])
    else:
        n = [np.array(x, float) for x in n_init]
    history = []
    converged = False
    for it in range(1, max_iter + 1):
        V = [ueff * (0.5 * np.eye(len(x)) - x) for x in n]
        n_out, mu, band = density(V)
        diff = max(float(np.abs(a - b).max()) for a, b in zip(n_out, n))
        e_u = sum(ueff * np.trace(x @ (np.eye(len(x)) - x)) for x in n_out)
        energy = band - 2 * sum(np.trace(v @ x) for v, x in zip(V, n_out)) + e_u
        history.append((float(energy), diff))
        n = [(1 - mixing) * a + mixing * b for a, b in zip(n, n_out)]
        if diff < tol:
            converged = True
            n = n_out
            break
    # final energy at the converged density
    V = [ueff * (0.5 * np.eye(len(x)) - x) for x in n]
    n_f, mu, band = density(V)
    e_u = sum(ueff * np.trace(x @ (np.eye(len(x)) - x)) for x in n_f)
    energy = band - 2 * sum(np.trace(v @ x) for v, x in zip(V, n_f)) + e_u
    return HFResult(float(energy), n_f, converged, it, float(mu), history)


def projector(vec) -> np.ndarray:
    """|v><v| for a normalized real vector: the per-spin occupation of one doubly occupied orbital."""
    v = np.asarray(vec, float)
    v = v / np.linalg.norm(v)
    return np.outer(v, v)


def dominant_overlap(result: HFResult, wanted: list) -> list:
    """Per shell, |<most occupied natural orbital|wanted orbital>|^2: 1 when the requested
    orbital pattern survived, small when the state collapsed into another pattern."""
    return [float(abs(nat[:, 0] @ (np.asarray(w) / np.linalg.norm(w))) ** 2)
            for nat, w in zip(result.natural_orbitals(), wanted)]
