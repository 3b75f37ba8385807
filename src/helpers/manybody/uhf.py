"""Unrestricted (spin-polarized) Hartree-Fock on a tight-binding model with on-site interactions
on chosen shells.

Per spin s the mean-field Hamiltonian at each k is h^s(k) = h0(k) + sum_shells V^s (the shell
potential of helpers.manybody.interaction, placed on the shell's orbitals); both spins share one
chemical potential (Fermi-Dirac occupations of width `width`, eV). The shell occupation matrices
n^s[a,b] = <c^+_{a s} c_{b s}> = sum_k w_k sum_n f_nk psi_nk[a]* psi_nk[b] are iterated to self-
consistency with Anderson (DIIS) mixing or plain linear mixing.

Energies per cell of the model, eV:
    E = sum_{k n s} w_k f e  -  sum_s sum_ab V^s[a,b] n^s[a,b]  +  sum_shells (E_int - E_dc),
    F = E - width * S,  S = -sum_{k n s} w_k [f ln f + (1-f) ln(1-f)]  (both spins).
"""
from __future__ import annotations

from dataclasses import dataclass, field
import numpy as np

from . import interaction as I
from ..models import wannier as W


MIXERS = ("anderson", "linear")


# --- per-site summaries -------------------------------------------------------------------------

def site_summary(n_up: np.ndarray, n_dn: np.ndarray) -> dict:
    """d count N_up + N_dn, moment N_up - N_dn, natural occupations per spin (descending) and the
    orbital polarization (largest minus second-largest eigenvalue of n_up + n_dn) of one shell."""
    nat_up = np.sort(np.linalg.eigvalsh(n_up))[::-1]
    nat_dn = np.sort(np.linalg.eigvalsh(n_dn))[::-1]
    tot = np.sort(np.linalg.eigvalsh(n_up + n_dn))[::-1]
    N_up, N_dn = float(np.real(np.trace(n_up))), float(np.real(np.trace(n_dn)))
    return {"d_count": N_up + N_dn, "moment": N_up - N_dn,
            "natural_up": nat_up.tolist(), "natural_dn": nat_dn.tolist(),
            "orbital_polarization": float(tot[0] - tot[1]) if len(tot) > 1 else 0.0}


def cplx_to_json(a) -> dict:
    """A complex array as JSON data: {"re": real part, "im": imaginary part} (nested lists)."""
    a = np.asarray(a)
    return {"re": a.real.tolist(), "im": a.imag.tolist()}


def cplx_from_json(d) -> np.ndarray:
    """The complex array of cplx_to_json's data."""
    return np.array(d["re"]) + 1j * np.array(d["im"])


@dataclass
class UHFResult:
    """Self-consistent UHF state. Energies per cell in eV; occupations[i] = (n_up, n_dn) of shell i."""
    energy: float
    free_energy: float
    entropy: float                # dimensionless, both spins, per cell
    mu: float                     # eV
    occupations: list
    converged: bool
    iterations: int
    dF: float                     # change of F in the last iteration, eV
    dn: float                     # max |n_out - n_in| in the last iteration
    total_moment: float           # N_up - N_dn of the whole cell
    n_electrons: float
    width: float
    history: list = field(default_factory=list)    # (F, dn) per iteration
    bias_energy: float = 0.0      # sum_s Tr(V_bias^s n^s) of a biased solve (eV); energy and F exclude it

    def sites(self) -> list:
        """site_summary of every shell."""
        return [site_summary(u, d) for u, d in self.occupations]

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("energy", "free_energy", "entropy", "mu", "converged", "iterations",
                                            "dF", "dn", "total_moment", "n_electrons", "width")}
        d["occupations"] = [[cplx_to_json(u), cplx_to_json(v)] for u, v in self.occupations]
        d["history"] = [list(map(float, h)) for h in self.history]
        if self.bias_energy:
            d["bias_energy"] = float(self.bias_energy)
        d["sites"] = self.sites()
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "UHFResult":
        occ = [(cplx_from_json(u), cplx_from_json(v)) for u, v in d["occupations"]]
        keys = ("energy", "free_energy", "entropy", "mu", "converged", "iterations", "dF", "dn",
                "total_moment", "n_electrons", "width")
        return cls(**{k: d[k] for k in keys}, occupations=occ, history=[tuple(h) for h in d.get("history", [])],
                   bias_energy=d.get("bias_energy", 0.0))


# --- Fermi-Dirac ---------------------------------------------------------------------------------

def fermi(e, mu: float, width: float):
    """Fermi-Dirac occupation of levels e (eV) at chemical potential mu and width (eV)."""
    x = np.clip((e - mu) / width, -200, 200)
    return 0.5 * (1.0 - np.tanh(0.5 * x))


def find_mu(eps: np.ndarray, n_electrons: float, width: float, weight: float) -> float:
    """Chemical potential (eV) at which sum weight * f(eps) = n_electrons; eps holds the levels of
    both spins (any shape)."""
    lo, hi = eps.min() - 40 * width - 1, eps.max() + 40 * width + 1
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if weight * fermi(eps, mid, width).sum() > n_electrons:
            hi = mid
        else:
            lo = mid
        if hi - lo < 1e-13:
            break
    return 0.5 * (lo + hi)


def entropy(f: np.ndarray, weight: float) -> float:
    """-sum weight [f ln f + (1-f) ln(1-f)] (dimensionless)."""
    g = np.clip(f, 1e-300, 1.0)
    h = np.clip(1 - f, 1e-300, 1.0)
    return float(-weight * np.sum(f * np.log(g) + (1 - f) * np.log(h)))


# --- mixing ---------------------------------------------------------------------------------------

class Anderson:
    """Anderson (Pulay/DIIS) mixing of a real vector x towards a fixed point x = g(x): the new input
    is the combination of the last `history` inputs that minimizes the linearized residual, plus
    `beta` times that residual. Falls back to linear mixing (and forgets its history) when the
    residual grows by more than `restart` times the best one seen."""

    def __init__(self, beta: float = 0.3, history: int = 6, restart: float = 10.0):
        self.beta, self.m, self.restart = beta, history, restart
        self.xs, self.rs, self.best = [], [], np.inf

    def __call__(self, x: np.ndarray, gx: np.ndarray) -> np.ndarray:
        r = gx - x
        norm = float(np.linalg.norm(r))
        if norm > self.restart * self.best:
            self.xs, self.rs = [], []
        self.best = min(self.best, norm)
        self.xs.append(x.copy())
        self.rs.append(r.copy())
        self.xs, self.rs = self.xs[-(self.m + 1):], self.rs[-(self.m + 1):]
        if len(self.xs) == 1:
            return x + self.beta * r
        dX = np.array([a - b for a, b in zip(self.xs[1:], self.xs[:-1])]).T
        dR = np.array([a - b for a, b in zip(self.rs[1:], self.rs[:-1])]).T
        gamma = np.linalg.lstsq(dR, r, rcond=1e-10)[0]
        return x - dX @ gamma + self.beta * (r - dR @ gamma)


class Linear:
    """Linear mixing x_new = x + beta (g(x) - x)."""

    def __init__(self, beta: float = 0.3, **_):
        self.beta = beta

    def __call__(self, x, gx):
        return x + self.beta * (gx - x)


def _pack(occ: list) -> np.ndarray:
    flat = np.concatenate([np.ravel(n) for pair in occ for n in pair])
    return np.concatenate([flat.real, flat.imag])


def _unpack(x: np.ndarray, sizes: list) -> list:
    half = len(x) // 2
    z = x[:half] + 1j * x[half:]
    out, i = [], 0
    for M in sizes:
        pair = []
        for _ in range(2):
            n = z[i:i + M * M].reshape(M, M)
            pair.append(0.5 * (n + n.conj().T))
            i += M * M
        out.append(tuple(pair))
    return out


# --- the solver -----------------------------------------------------------------------------------

def validate(hk, shells, interactions, n_electrons, start=None, mixer="anderson", width=0.02):
    """Raise ValueError naming the offending parameter before any iteration."""
    hk = np.asarray(hk)
    if hk.ndim != 3 or hk.shape[1] != hk.shape[2]:
        raise ValueError(f"hk: need shape (nk, norb, norb), got {hk.shape}")
    norb = hk.shape[1]
    if not 0 <= n_electrons <= 2 * norb:
        raise ValueError(f"n_electrons={n_electrons}: must lie in [0, {2 * norb}] for {norb} orbitals")
    if mixer not in MIXERS:
        raise ValueError(f"mixer={mixer!r}: choose one of {MIXERS}")
    if width <= 0:
        raise ValueError(f"width={width}: the Fermi-Dirac width must be > 0 eV")
    if len(shells) != len(interactions):
        raise ValueError(f"interactions: {len(interactions)} given for {len(shells)} shells")
    for i, (idx, inter) in enumerate(zip(shells, interactions)):
        idx = np.asarray(idx)
        if idx.min() < 0 or idx.max() >= norb or len(set(idx.tolist())) != len(idx):
            raise ValueError(f"shells[{i}]: indices must be distinct and within 0..{norb - 1}")
        if not isinstance(inter, I.Interaction):
            raise ValueError(f"interactions[{i}]: need an interaction.Interaction, got {type(inter).__name__}")
        if inter.tensor is not None and inter.tensor.shape[0] != len(idx):
            raise ValueError(f"tensor: interactions[{i}] has shape {inter.tensor.shape}, shell {i} has "
                             f"{len(idx)} orbitals")
    if start is not None:
        if len(start) != len(shells):
            raise ValueError(f"start: {len(start)} entries for {len(shells)} shells")
        for i, (pair, idx) in enumerate(zip(start, shells)):
            if len(pair) != 2 or any(np.shape(n) != (len(idx), len(idx)) for n in pair):
                raise ValueError(f"start[{i}]: need a pair (n_up, n_dn) of {len(idx)}x{len(idx)} matrices")


def solve(hk: np.ndarray, shells: list, interactions: list, n_electrons: float, start: list,
          width: float = 0.02, mixer: str = "anderson", mixing: float = 0.3, history: int = 6,
          e_tol: float = 1e-8, n_tol: float = 1e-6, max_iter: int = 500, bias=None) -> UHFResult:
    """Self-consistent UHF.

    hk: (nk, norb, norb) spin-independent non-interacting Hamiltonian (eV) on a uniform k grid
    (equal weights 1/nk); shells: index arrays of the correlated shells; interactions: one
    interaction.Interaction per shell; n_electrons: electrons per cell (both spins); start: per
    shell a pair (n_up, n_dn) of starting occupation matrices; width: Fermi-Dirac width (eV);
    mixer: 'anderson' (Anderson/DIIS of the shell occupations, linear fallback) or 'linear';
    mixing: the linear mixing fraction (also Anderson's step). Converged when both |dF| < e_tol
    (eV) and max |n_out - n_in| < n_tol. bias: optional per shell a pair (V_up, V_dn) of fixed one-body
    potentials (eV, shell-sized matrices) added to the mean-field Hamiltonian, e.g. -lambda times a
    projector (helpers.manybody.bias); the result's energy and F exclude the bias term, which is kept
    as bias_energy = sum_s Tr(V^s n^s) (the biased, constrained F is F + bias_energy).
    """
    validate(hk, shells, interactions, n_electrons, start, mixer, width)
    if bias is not None:
        if len(bias) != len(shells) or any(len(b) != 2 or any(np.shape(v) != (len(i), len(i)) for v in b)
                                           for b, i in zip(bias, shells)):
            raise ValueError("bias: need per shell a pair (V_up, V_dn) of shell-sized matrices (eV)")
    hk = np.asarray(hk, complex)
    nk, norb = hk.shape[0], hk.shape[1]
    weight = 1.0 / nk
    shells = [np.asarray(s) for s in shells]
    sizes = [len(s) for s in shells]
    mix = (Anderson if mixer == "anderson" else Linear)(beta=mixing, history=history)
    n_in = [(np.array(u, complex), np.array(d, complex)) for u, d in start]
    x = _pack(n_in)
    F_prev, hist, converged = np.inf, [], False
    for it in range(1, max_iter + 1):
        n_in = _unpack(x, sizes)
        ev = _evaluate(hk, shells, interactions, n_in, n_electrons, width, weight, bias)
        dn = max(float(np.abs(a - b).max()) for po, pi in zip(ev["occ"], n_in) for a, b in zip(po, pi))
        dF = ev["F"] - F_prev
        F_prev = ev["F"]
        hist.append((ev["F"], dn))
        if dn < n_tol and abs(dF) < e_tol:
            converged = True
            break
        x = mix(x, _pack(ev["occ"]))
    eb = ev.get("bias_energy", 0.0)
    return UHFResult(ev["E"] - eb, ev["F"] - eb, ev["S"], ev["mu"], ev["occ"], converged, it, float(dF), dn,
                     ev["moment"], float(n_electrons), width, hist, bias_energy=eb)


def _evaluate(hk, shells, interactions, n_in, n_electrons, width, weight, bias=None) -> dict:
    """One Hartree-Fock map: potentials from n_in, bands, occupations n_out, energies at n_out (with a
    `bias`, E and F include it and 'bias_energy' says how much)."""
    h = np.stack([hk, hk])                                      # (2, nk, norb, norb)
    if bias is not None:
        for idx, pair in zip(shells, bias):
            idx = np.asarray(idx)
            for s_, V in enumerate(pair):
                h[s_][:, idx[:, None], idx[None, :]] += np.asarray(V)
    Vs = []
    for idx, inter, (u, d) in zip(shells, interactions, n_in):
        _, Vu, Vd = I.energy_and_potential(inter, u, d)
        Vs.append((Vu, Vd))
        for s, V in enumerate((Vu, Vd)):
            h[s][:, idx[:, None], idx[None, :]] += V
    e, C = np.linalg.eigh(h)
    mu = find_mu(e, n_electrons, width, weight)
    f = fermi(e, mu, width)
    occ = []
    for idx in shells:
        c = C[:, :, idx, :]
        n = np.einsum("skan,skn,skbn->sab", c.conj(), f, c) * weight
        occ.append((n[0], n[1]))
    band = weight * float(np.sum(f * e))
    E = band
    for inter, (Vu, Vd), (u, d) in zip(interactions, Vs, occ):
        E += -float(np.real(np.sum(Vu * u) + np.sum(Vd * d))) + I.energy_and_potential(inter, u, d)[0]
    S = entropy(f, weight)
    moment = weight * float(np.sum(f[0]) - np.sum(f[1]))
    eb = 0.0 if bias is None else sum(float(np.real(np.sum(np.asarray(V) * n))) for pair, o in zip(bias, occ)
                                      for V, n in zip(pair, o))
    return {"E": E, "F": E - width * S, "S": S, "mu": float(mu), "occ": occ, "moment": moment, "bias_energy": eb}


# --- supercells -----------------------------------------------------------------------------------

def spin_restricted(hk: np.ndarray, shells: list, interactions: list, n_electrons: float, start: list,
                    width: float = 0.02, mixing: float = 0.15, n_tol: float = 1e-6, max_iter: int = 1500) -> UHFResult:
    """Spin-restricted mean field (n_up = n_dn): `solve` from the spin-symmetric start (`start`: one occupation
    matrix per shell, the same for both spins), linear mixing, converged on the occupations alone (n_tol), then
    one map further, the density at the converged potential. The result's `converged` is the loop's. Raises
    ValueError if the state comes back spin-polarized (a start or an interaction that breaks the symmetry)."""
    loop = solve(hk, shells, interactions, n_electrons, [(n, n) for n in start], width=width, mixer="linear",
                 mixing=mixing, e_tol=np.inf, n_tol=n_tol, max_iter=max_iter)
    out = solve(hk, shells, interactions, n_electrons, loop.occupations, width=width, max_iter=1)
    broken = max(float(np.abs(u - d).max()) for u, d in out.occupations)
    if broken > 1e-8:
        raise ValueError(f"spin_restricted: the state is spin-polarized (max |n_up - n_dn| = {broken:.2e})")
    out.converged = loop.converged
    return out


def supercell(model: W.TBModel, reps) -> W.TBModel:
    """TBModel of the diagonal supercell reps = (n1, n2, n3) of `model`: orbitals ordered by
    sub-cell t (C order over n1, n2, n3) then by the primitive orbital; atom a of sub-cell t becomes
    atom a + natoms * t. H'(R')[(t,i),(t',j)] = H(R)[i,j] for t + R = reps * R' + t'."""
    reps = np.asarray(reps, int)
    if reps.shape != (3,) or (reps < 1).any():
        raise ValueError(f"reps={reps.tolist()}: need three positive integers")
    subs = np.array(np.meshgrid(*[np.arange(n) for n in reps], indexing="ij")).reshape(3, -1).T
    ncell, norb = len(subs), model.norb
    natoms = len(model.positions)
    blocks = {}
    for ti, t in enumerate(subs):
        for R, H in zip(model.R, model.H_R):
            target = t + R
            Rp = np.floor_divide(target, reps)
            tp = target - Rp * reps
            tj = int(np.ravel_multi_index(tuple(tp), tuple(reps)))
            key = tuple(int(v) for v in Rp)
            if key not in blocks:
                blocks[key] = np.zeros((ncell * norb, ncell * norb), complex)
            blocks[key][ti * norb:(ti + 1) * norb, tj * norb:(tj + 1) * norb] += H
    keys = sorted(blocks)
    cell = np.asarray(model.cell)
    positions = np.concatenate([model.positions + t @ cell for t in subs])
    labels = [f"c{ti}:{lab}" for ti in range(ncell) for lab in model.labels]
    atom_of = np.concatenate([model.atom_of + natoms * ti for ti in range(ncell)])
    l_of = np.tile(model.l_of, ncell)
    info = dict(model.info, supercell=reps.tolist())
    if "provenance" in model.info:
        info["provenance"] = {"supercell of": model.info["provenance"], "repetitions": reps.tolist()}
    return W.TBModel(np.array(keys), np.array([blocks[k] for k in keys]), labels, atom_of, l_of,
                     positions, reps[:, None] * cell, info)
