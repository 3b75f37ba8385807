"""The two-W cluster: atomic Hamiltonian, exact second-order virtual-hopping energies and exact diagonalization (eV)."""
from __future__ import annotations

import numpy as np

from . import ed
from . import interaction as inter
from .bonds import CONFIGS, ORBITALS, _M, _MASK_I, _check_T, _check_UJ, _check_config, _check_levels


# --- the atom and the two-site cluster --------------------------------------------------------------
def atomic_hamiltonian(levels, U: float, J: float) -> dict:
    """One W with three orbitals a, b, c: levels (eV) and the Kanamori interaction (U, U' = U - 2J,
    Hund J, pair hopping J, eV). Returns h (3x3), the tensor (helpers.manybody.interaction) and
    spectra {1: ..., 2: ..., 3: ...}, the ascending eigenvalues (eV) of the 1-, 2- and 3-electron
    sectors (all spin states)."""
    _check_UJ(U, J)
    lv = _check_levels(levels, "levels")
    h = np.diag(lv)
    T = inter.kanamori_tensor(U, J, 3)
    spectra = {}
    for n in (1, 2, 3):
        states = ed.basis(3, n)
        spectra[n] = np.linalg.eigvalsh(ed.hamiltonian(h, [np.arange(3)], [T], states))
    return {"h": h, "tensor": T, "spectra": spectra}


class _Cluster:
    """The two-site cluster at 4 electrons: basis states, atomic part H_at (levels + Kanamori on
    each site) and hopping part H_T, dense (eV)."""

    def __init__(self, levels_i, levels_j, T, U, J, n_up=None):
        _check_UJ(U, J)
        li, lj = _check_levels(levels_i, "levels_i"), _check_levels(levels_j, "levels_j")
        T = _check_T(T)
        h_at = np.diag(np.concatenate([li, lj])).astype(complex if np.iscomplexobj(T) else float)
        h_T = np.zeros_like(h_at)
        h_T[:3, 3:] = T
        h_T[3:, :3] = T.conj().T
        K = inter.kanamori_tensor(U, J, 3)
        self.states = ed.basis(_M, 4, n_up)
        self.H_at = ed.hamiltonian(h_at, [np.arange(3), np.arange(3, 6)], [K, K], self.states)
        self.H_T = ed.hamiltonian(h_T, [], [], self.states)
        self.n_i = np.bitwise_count(self.states & _MASK_I)
        self.occ = np.array([[(s >> p) & 1 for p in range(2 * _M)] for s in self.states]).reshape(-1, 2, _M).sum(1)

    def index(self, oi: int, oj: int) -> int:
        """Basis index of the product state: orbital oi doubly occupied on i, oj on j."""
        bits = (1 << oi) | (1 << (oi + _M)) | (1 << (3 + oj)) | (1 << (3 + oj + _M))
        k = int(np.searchsorted(self.states, bits))
        if k >= len(self.states) or self.states[k] != bits:
            raise ValueError("the product state is not in this cluster's basis (wrong Sz sector)")
        return k


def _second_order(cl: _Cluster, oi: int, oj: int) -> tuple[float, float, float]:
    """(E2, E_phi, smallest E_v - E_phi over virtual states v that T reaches), eV."""
    k = cl.index(oi, oj)
    E_phi = float(np.real(cl.H_at[k, k]))
    chi = cl.H_T[:, k]
    norm2 = float(np.vdot(chi, chi).real)
    E2, gap = 0.0, np.inf
    for n in (1, 3):                                   # d1-d3 and d3-d1
        sel = cl.n_i == n
        w, V = np.linalg.eigh(cl.H_at[np.ix_(sel, sel)])
        amp2 = np.abs(V.conj().T @ chi[sel]) ** 2
        reached = amp2 > 1e-12 * max(norm2, 1e-300)          # the others are zero up to rounding
        if reached.any():
            d = w[reached] - E_phi
            gap = min(gap, float(d.min()))
            if np.abs(d).min() < 1e-12:
                return np.nan, E_phi, gap                     # a reached state degenerate with phi
            E2 -= float(np.sum(amp2[reached] / d))
    return E2, E_phi, gap


def second_order_terms(levels_i, levels_j, T, U: float, J: float, config_i: str, config_j: str) -> dict:
    """Second-order energy of the product state phi (orbital config_i doubly occupied on site i,
    config_j on site j) and what it rests on: E2 = sum_v |<v|T|phi>|^2 / (E_phi - E_v) over the
    eigenstates v of the two-site atomic Hamiltonian with one electron moved (d1-d3 and d3-d1),
    E_phi = <phi|H_atomic|phi>. Returns E2_eV, E_phi_eV and gap_eV, the smallest E_v - E_phi
    over the virtual states T reaches: perturbation theory needs gap_eV > 0 (and >> |T|); E2 is
    nan when a reached virtual state is degenerate with phi.

    For J > 0, phi is not an eigenstate of H_atomic (pair hopping J moves the doublon to the
    other orbitals, and Hund's triplets lie lower); E_phi is then its diagonal energy."""
    oi, oj = _check_config(config_i, "config_i"), _check_config(config_j, "config_j")
    cl = _Cluster(levels_i, levels_j, T, U, J, n_up=2)
    E2, E_phi, gap = _second_order(cl, oi, oj)
    return {"E2_eV": E2, "E_phi_eV": E_phi, "gap_eV": gap}


def second_order_energy(levels_i, levels_j, T, U: float, J: float, config_i: str, config_j: str) -> float:
    """Second-order virtual-hopping energy (eV) of the product state with orbital config_i
    ('a', 'b' or 'c') doubly occupied on site i and config_j on site j: the exact sum over the
    d1-d3 and d3-d1 eigenstates of the Kanamori atoms (see second_order_terms, which also gives
    the smallest excitation gap). levels_i, levels_j: levels of a, b, c (eV); T[m, n] =
    <i,m|H|j,n> (eV, 3x3); U, J in eV (U > 0, 0 <= J <= U/3)."""
    return second_order_terms(levels_i, levels_j, T, U, J, config_i, config_j)["E2_eV"]


# --- exact diagonalization of the two-W cluster -----------------------------------------------------

def _ground_manifold(w, tol=1e-8):
    return int(np.sum(w < w[0] + tol))


def _ed_observables(cl: _Cluster, w, V, tol=1e-8) -> dict:
    g = _ground_manifold(w, tol)
    p = (np.abs(V[:, :g]) ** 2).mean(axis=1)                  # ensemble over the ground manifold
    x = cl.occ[:, 1] - cl.occ[:, 2]                            # n_b - n_c on site i
    y = cl.occ[:, 4] - cl.occ[:, 5]                            # on site j
    corr = float(p @ (x * y) - (p @ x) * (p @ y))
    weights = {name: float(p[cl.index(ORBITALS.index(a), ORBITALS.index(b))]) for name, (a, b) in CONFIGS.items()}
    res = ed.EDResult(w[:g], V[:, :g], cl.states, _M)
    s_tot = np.mean([ed.spin_correlation(res, range(6), range(6), k) for k in range(g)])
    s_i = np.mean([ed.spin_correlation(res, range(3), range(3), k) for k in range(g)])
    s_j = np.mean([ed.spin_correlation(res, range(3, 6), range(3, 6), k) for k in range(g)])
    return {"ground_energy_eV": float(w[0]), "degeneracy": g, "orbital_correlation": corr,
            "occupations": (p @ cl.occ).tolist(), "weights": weights,
            "S_total(S+1)": float(s_tot), "S_site(S+1)": [float(s_i), float(s_j)]}


def two_site_ed(levels_i, levels_j, T, U: float, J: float, n_levels: int = 8) -> dict:
    """Exact ground state of the two-W cluster (3 orbitals per W, 12 spin-orbitals, 4 electrons:
    495 states) with Kanamori atoms (U, J, eV), levels (eV) and hopping T (3x3, eV). Returns the
    ground energy (eV), the lowest n_levels levels (eV, every spin state), the ground degeneracy,
    the orbital-orbital correlation <(n_bi - n_ci)(n_bj - n_cj)> - <n_bi - n_ci><n_bj - n_cj>
    (negative: AFO-like, positive: FO-like), orbital occupations (a, b, c of i, then of j), the
    weights of the product configurations a2a2, b2b2, c2c2, b2c2, c2b2, and <S^2> of the cluster
    and of each site. A degenerate ground level is averaged over (equal-weight ensemble)."""
    cl = _Cluster(levels_i, levels_j, T, U, J)
    w, V = np.linalg.eigh(cl.H_at + cl.H_T)
    out = _ed_observables(cl, w, V)
    out["levels_eV"] = w[:n_levels].tolist()
    return out


def pinned_energies(levels_i, levels_j, T, U: float, J: float, h: float = -0.3, configs=None) -> dict:
    """Second estimate of the pattern energies, to all orders in T: for each configuration
    (orbital on i, orbital on j; default CONFIGS) the cluster is diagonalized with a pinning field
    h < 0 (eV) added to the level of the requested orbital on each site. Per configuration:
    E_pinned (ED ground energy with the field), n_pinned (electrons in the pinned orbitals, 4 for
    a perfect pattern), E_var = E_pinned - h n_pinned = <psi_h|H|psi_h> (the energy of the bare
    cluster Hamiltonian in the pinned ground state, a variational energy of the pattern),
    E_nominal = E_pinned - 4h (the first-order pinning energy of the perfect pattern removed),
    and gain = E_var - E_phi (all-order energy gain relative to the unperturbed product state).
    'AFO - FO' entries: mean of b2c2, c2b2 minus mean of b2b2, c2c2 for E_var and E_nominal (eV).
    The estimate stands for the pattern only where n_pinned is near 4: against Hund's J (the d2
    triplet lies ~3J below a doublon) or a strongly covalent bond a field of a few tenths of an eV
    does not hold it. The field also shifts the virtual states, so gain differs from the
    second-order E2 already at order T^2 (by a relative O(h/U))."""
    if not np.isfinite(h) or h >= 0:
        raise ValueError(f"h={h}: the pinning field must be a negative energy (eV) to favour a pattern")
    configs = CONFIGS if configs is None else configs
    li, lj = _check_levels(levels_i, "levels_i"), _check_levels(levels_j, "levels_j")
    out = {}
    for name, (ci, cj) in configs.items():
        oi, oj = _check_config(ci, "config_i"), _check_config(cj, "config_j")
        si, sj = li.copy(), lj.copy()
        si[oi] += h
        sj[oj] += h
        cl = _Cluster(si, sj, T, U, J, n_up=2)      # Sz = 0 holds a member of every multiplet
        w, V = np.linalg.eigh(cl.H_at + cl.H_T)
        g = _ground_manifold(w)
        p = (np.abs(V[:, :g]) ** 2).mean(axis=1)
        n_pin = float(p @ (cl.occ[:, oi] + cl.occ[:, 3 + oj]))
        k = cl.index(oi, oj)
        E_phi = float(np.real(cl.H_at[k, k])) - 4 * h
        out[name] = {"E_pinned_eV": float(w[0]), "n_pinned": n_pin, "E_var_eV": float(w[0] - h * n_pin),
                     "E_nominal_eV": float(w[0] - 4 * h), "E_phi_eV": E_phi,
                     "gain_eV": float(w[0] - h * n_pin - E_phi)}
    if all(c in out for c in ("b2b2", "c2c2", "b2c2", "c2b2")):
        for key in ("E_var_eV", "E_nominal_eV"):
            out[f"AFO - FO ({key})"] = (0.5 * (out["b2c2"][key] + out["c2b2"][key])
                                        - 0.5 * (out["b2b2"][key] + out["c2c2"][key]))
    return out
