"""Exact diagonalization of a small cluster in Fock space, plain NumPy.

Spin-orbital p = a + s M (orbital a = 0..M-1, spin s = 0 up, 1 down) is bit p of an integer
occupation string; fermionic operators act in the order of the bits (c^+_p carries the sign
(-1)^(number of occupied spin-orbitals below p)). The Hamiltonian
    H = sum_{ab,s} h[a,b] c^+_{a s} c_{b s}
        + sum_shells 1/2 sum U[a,b,c,d] c^+_{a s} c^+_{b s'} c_{d s'} c_{c s}
(one-body part spin-independent, eV; tensors as in helpers.manybody.interaction, indices local to
each shell) is built as a dense matrix at fixed particle number (optionally fixed Sz) and
diagonalized with numpy.linalg.eigh. At most C(12,6) = 924 states for six orbitals.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
import numpy as np


def basis(M: int, n_electrons: int, n_up: int | None = None) -> np.ndarray:
    """Sorted occupation strings (int64) of 2M spin-orbitals with n_electrons electrons (and n_up
    spin-up ones when given)."""
    if not 0 <= n_electrons <= 2 * M:
        raise ValueError(f"n_electrons={n_electrons}: must lie in [0, {2 * M}] for {M} orbitals")
    if n_up is not None and not (0 <= n_up <= min(M, n_electrons) and n_electrons - n_up <= M):
        raise ValueError(f"n_up={n_up}: impossible with {n_electrons} electrons in {M} orbitals")
    states = []
    for occ in combinations(range(2 * M), n_electrons):
        if n_up is None or sum(p < M for p in occ) == n_up:
            states.append(sum(1 << p for p in occ))
    return np.array(sorted(states), dtype=np.int64)


def _annihilate(states, p):
    """c_p on each state: (new states, sign; 0 where p is empty)."""
    bit = np.int64(1) << np.int64(p)
    occ = (states & bit) != 0
    below = np.bitwise_count(states & (bit - 1)).astype(np.int64)
    sign = np.where(occ, 1 - 2 * (below % 2), 0)
    return states ^ bit, sign


def _create(states, p):
    bit = np.int64(1) << np.int64(p)
    empty = (states & bit) == 0
    below = np.bitwise_count(states & (bit - 1)).astype(np.int64)
    sign = np.where(empty, 1 - 2 * (below % 2), 0)
    return states | bit, sign


def apply_string(states, ops):
    """Apply a product of operators, ops = [(p, dagger), ...] applied right to left (the last one
    first), to each basis state: returns (new states, sign)."""
    s = states.copy()
    sign = np.ones(len(states), dtype=np.int64)
    for p, dag in reversed(ops):
        s, sg = (_create if dag else _annihilate)(s, p)
        sign *= sg
    return s, sign


def _add_term(H, states, ops, amp):
    if amp == 0:
        return
    new, sign = apply_string(states, ops)
    ok = sign != 0
    j = np.nonzero(ok)[0]
    i = np.searchsorted(states, new[ok])
    good = (i < len(states))
    good[good] = states[i[good]] == new[ok][good]
    H[i[good], j[good]] += amp * sign[ok][good]


def hamiltonian(h: np.ndarray, shells: list, tensors: list, states: np.ndarray) -> np.ndarray:
    """Dense many-body Hamiltonian (eV) on `states` from the one-body matrix h (M x M, eV) and one
    interaction tensor per shell (shells: index arrays into the M orbitals)."""
    h = np.asarray(h)
    M = h.shape[0]
    cplx = np.iscomplexobj(h) or any(np.iscomplexobj(T) for T in tensors)
    H = np.zeros((len(states), len(states)), complex if cplx else float)
    for s in range(2):
        for a in range(M):
            for b in range(M):
                _add_term(H, states, [(a + s * M, True), (b + s * M, False)], h[a, b])
    for idx, T in zip(shells, tensors):
        idx = np.asarray(idx)
        if T.shape != (len(idx),) * 4:
            raise ValueError(f"tensor: shape {T.shape} does not match a shell of {len(idx)} orbitals")
        for a, b, c, d in zip(*np.nonzero(np.abs(T) > 1e-14)):
            for s in range(2):
                for t in range(2):
                    pa, pb = idx[a] + s * M, idx[b] + t * M
                    pc, pd = idx[c] + s * M, idx[d] + t * M
                    _add_term(H, states, [(pa, True), (pb, True), (pd, False), (pc, False)], 0.5 * T[a, b, c, d])
    return H


@dataclass
class EDResult:
    """Lowest eigenstates: energies (eV, ascending), vectors (columns), the basis and M."""
    energies: np.ndarray
    vectors: np.ndarray
    states: np.ndarray
    M: int

    @property
    def ground_energy(self) -> float:
        return float(self.energies[0])

    @property
    def ground_state(self) -> np.ndarray:
        return self.vectors[:, 0]


def solve(h: np.ndarray, shells: list, tensors: list, n_electrons: int, n_up: int | None = None,
          n_states: int = 6) -> EDResult:
    """Ground state and the `n_states` lowest levels (eV) of the cluster with n_electrons (and
    n_up up electrons when given). h: one-body matrix (M x M, eV); tensors: one per shell (or
    interaction.Interaction objects with a tensor)."""
    tensors = [getattr(T, "tensor", T) for T in tensors]
    if any(T is None for T in tensors):
        raise ValueError("tensors: ED needs an explicit tensor per shell (not the Dudarev form)")
    h = np.asarray(h)
    if h.ndim == 3:
        if h.shape[0] != 1:
            raise ValueError(f"h: ED takes one k point (a cluster), got {h.shape[0]}")
        h = h[0]
    states = basis(h.shape[0], n_electrons, n_up)
    H = hamiltonian(h, shells, [np.asarray(T) for T in tensors], states)
    if np.abs(H - H.conj().T).max() > 1e-9:
        raise ValueError("h / tensors: the many-body Hamiltonian is not Hermitian")
    w, v = np.linalg.eigh(H)
    return EDResult(w[:n_states], v[:, :n_states], states, h.shape[0])


# --- observables ---------------------------------------------------------------------------------

def _op(res: EDResult, psi: np.ndarray, ops) -> np.ndarray:
    """The operator string applied to the vector psi (same particle number sector)."""
    new, sign = apply_string(res.states, ops)
    out = np.zeros_like(psi, dtype=complex)
    ok = sign != 0
    i = np.searchsorted(res.states, new[ok])
    inside = i < len(res.states)
    inside[inside] = res.states[i[inside]] == new[ok][inside]
    np.add.at(out, i[inside], (sign[ok] * psi[ok])[inside])
    return out


def expectation(res: EDResult, ops, k: int = 0) -> complex:
    """<psi_k| ops |psi_k> for the k-th state; ops as in apply_string."""
    psi = res.vectors[:, k]
    return complex(np.vdot(psi, _op(res, psi, ops)))


def density_matrix(res: EDResult, k: int = 0) -> np.ndarray:
    """n[s, a, b] = <c^+_{a s} c_{b s}> (2, M, M) of the k-th state."""
    M = res.M
    n = np.zeros((2, M, M), complex)
    for s in range(2):
        for a in range(M):
            for b in range(M):
                n[s, a, b] = expectation(res, [(a + s * M, True), (b + s * M, False)], k)
    return n


def occupations(res: EDResult, k: int = 0) -> np.ndarray:
    """<n_a> (both spins) of every orbital."""
    n = density_matrix(res, k)
    return np.real(np.einsum("saa->a", n))


def double_occupancy(res: EDResult, a: int, k: int = 0) -> float:
    """<n_{a up} n_{a dn}> of orbital a."""
    M = res.M
    return float(np.real(expectation(res, [(a, True), (a, False), (a + M, True), (a + M, False)], k)))


def spin_correlation(res: EDResult, A, B, k: int = 0) -> float:
    """<S_A . S_B> with S_A the total spin of the orbitals A (and S_B of B), in units of hbar^2:
    sum_{a in A, b in B} <Sz_a Sz_b + (S+_a S-_b + S-_a S+_b)/2>."""
    M = res.M
    psi = res.vectors[:, k]
    total = 0.0
    for a in np.atleast_1d(A):
        for b in np.atleast_1d(B):
            zz = 0.0
            for s in range(2):
                for t in range(2):
                    sg = (0.5 - s) * (0.5 - t)
                    zz += sg * expectation(res, [(a + s * M, True), (a + s * M, False),
                                                 (b + t * M, True), (b + t * M, False)], k)
            pm = np.vdot(psi, _op(res, psi, [(a, True), (a + M, False), (b + M, True), (b, False)]))
            mp = np.vdot(psi, _op(res, psi, [(a + M, True), (a, False), (b, True), (b + M, False)]))
            total += float(np.real(zz + 0.5 * (pm + mp)))
    return total
