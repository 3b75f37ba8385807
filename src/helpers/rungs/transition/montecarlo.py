"""Seeded Monte Carlo of the anisotropic 2D Ising model on an L x L periodic lattice.

Two updates, both vectorized over the lattice:
  metropolis     checkerboard Metropolis: all sites of one sublattice at once (their neighbours
                 are on the other one), then the other; local dynamics, used for hysteresis.
  cluster        Swendsen-Wang: bonds between equal neighbours kept with probability
                 1 - exp(-2 |J| / k_B T) per direction, clusters by scipy's connected components
                 (periodic), each cluster set to +-1 by heat bath in the field (a fair coin at
                 h = 0). Little critical slowing down: used for T_c. Swendsen-Wang rather than
                 Wolff because it decomposes the whole lattice at once, so it vectorizes (a Wolff
                 cluster grows site by site, a Python loop without a compiler).
Measurements once per sweep after thermalization: order parameter m = sum(s)/N (signed, per
site, of the pattern the coupling signs favour) and energy per site (meV). Statistics come from
block averages (default 20 blocks), errors by jackknife over blocks. Reproducible: each call draws
from numpy's Generator seeded with SeedSequence(seed, spawn_key=(L, index)), so the same call gives
the same numbers, whatever else has run before. A scan over temperatures updates one lattice per
temperature together, as a stack (b, L, L), so small lattices do not pay NumPy's per-call cost
once per temperature.
"""
from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from scipy import sparse
from scipy.sparse import csgraph

from . import lattice as lat
from .onsager import K_B_MEV_PER_K


ALGORITHMS = ("cluster", "metropolis")
#: Lattices: 'square' (J_x on every bond along x, J_y along y: the anisotropic square model) and
#: 'zigzag' (the metal network of a 1T' layer, helpers.rungs.transition.network: J_x on the zigzag-chain
#: bonds, J_y on the interchain ones; on the L x L array a bond to the right or down neighbour is a
#: zigzag bond when x + y is even, an interchain one otherwise, so every plaquette carries two of
#: each side by side). Both are bipartite with the checkerboard sublattices.
GEOMETRIES = ("square", "zigzag")


def bond_couplings(L: int, J_x_meV: float, J_y_meV: float, geometry: str = "square"):
    """(J_right, J_down): |J| (meV) of the bond from each site of the L x L array to its right (+x)
    and lower (+y) neighbour, for the given geometry (GEOMETRIES)."""
    if geometry not in GEOMETRIES:
        raise ValueError(f"geometry={geometry!r}: must be one of {GEOMETRIES}")
    if geometry == "square":
        return np.full((L, L), abs(J_x_meV)), np.full((L, L), abs(J_y_meV))
    y, x = np.indices((L, L))
    J = np.where((x + y) % 2 == 0, abs(J_x_meV), abs(J_y_meV))
    return J, J.copy()


def generator(seed: int, L: int, index: int = 0) -> np.random.Generator:
    """The random generator of run `index` at size L for a given seed."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed={seed!r}: must be a non-negative integer")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(int(seed), spawn_key=(L, index))))


def energy_per_site_meV(s: np.ndarray, J_x, J_y, h: float = 0.0) -> np.ndarray:
    """Energy per site (meV) of each lattice in a stack s[..., y, x] of ferro-gauge spins with
    couplings |J| (meV; numbers, or per-bond arrays J_right, J_down of bond_couplings) and field h."""
    bx = np.mean(J_x * s * np.roll(s, -1, axis=-1), axis=(-2, -1), dtype=float)
    by = np.mean(J_y * s * np.roll(s, -1, axis=-2), axis=(-2, -1), dtype=float)
    return -bx - by - h * np.mean(s, axis=(-2, -1), dtype=float)


def metropolis_sweep(s, beta_Jx, beta_Jy, beta_h, rng, masks) -> None:
    """One checkerboard Metropolis sweep in place of a stack s[b, y, x] of lattices (one per
    inverse temperature): each sublattice in turn, a flip accepted with probability
    min(1, exp(-beta dE)), dE = 2 s (sum over the four bonds of J s_neighbour + h). beta_Jx, beta_Jy
    are beta |J| of the bond to the right and down neighbour, shape (b, 1, 1) or (b, L, L); beta_h
    broadcasts as (b, 1, 1)."""
    beta_Jx, beta_Jy = np.broadcast_to(beta_Jx, s.shape), np.broadcast_to(beta_Jy, s.shape)
    left, up = np.roll(beta_Jx, 1, axis=2), np.roll(beta_Jy, 1, axis=1)
    for mask in masks:
        local = (left * np.roll(s, 1, axis=2) + beta_Jx * np.roll(s, -1, axis=2)
                 + up * np.roll(s, 1, axis=1) + beta_Jy * np.roll(s, -1, axis=1) + beta_h)
        dE = 2.0 * s * local
        flip = mask & (rng.random(s.shape) < np.exp(-np.maximum(dE, 0.0)))
        s[flip] *= -1


def cluster_sweep(s, p_x, p_y, beta_h, rng, index) -> None:
    """One Swendsen-Wang update in place of a stack s[b, y, x] (p = 1 - exp(-2 beta |J|) of the bond
    to the right and down neighbour, shape (b, 1, 1) or (b, L, L), and beta h, (b, 1, 1); index = arange(s.size).reshape(s.shape)).

    The bond graph of all lattices together is a CSR matrix with exactly two entries per site (its
    right and down neighbour in its own lattice when the bond is kept, itself otherwise: a self-loop
    changes no connectivity), so it is built without sorting; clusters are its weakly connected
    components. Each cluster is set to +1 with probability exp(bh n)/(2 cosh(bh n)), n its size."""
    N = s.size
    right, down = np.roll(index, -1, axis=2), np.roll(index, -1, axis=1)
    bx = (s == np.roll(s, -1, axis=2)) & (rng.random(s.shape) < p_x)
    by = (s == np.roll(s, -1, axis=1)) & (rng.random(s.shape) < p_y)
    cols = np.stack((np.where(bx, right, index), np.where(by, down, index)), axis=-1).reshape(-1)
    graph = sparse.csr_matrix((np.ones(2 * N, dtype=np.int8), cols.astype(np.int32),
                               np.arange(0, 2 * N + 1, 2, dtype=np.int32)), shape=(N, N))
    n_c, labels = csgraph.connected_components(graph, directed=True, connection="weak")
    if not np.any(beta_h):
        new = np.where(rng.random(n_c) < 0.5, 1, -1).astype(np.int8)
    else:
        size = np.bincount(labels, minlength=n_c)
        bh = np.empty(n_c)
        bh[labels] = np.broadcast_to(beta_h, s.shape).reshape(-1)
        p_up = 0.5 * (1.0 + np.tanh(bh * size))             # exp(bh n) / (2 cosh(bh n))
        new = np.where(rng.random(n_c) < p_up, 1, -1).astype(np.int8)
    s[...] = new[labels].reshape(s.shape)


@dataclass
class Run:
    """One simulation at one temperature: the series of the order parameter m (signed, per site)
    and energy per site (meV) after thermalization, and what produced them."""
    L: int
    T_K: float
    J_x_meV: float
    J_y_meV: float
    h_meV: float
    algorithm: str
    m: np.ndarray
    e_meV: np.ndarray
    seed: int
    n_blocks: int = 20
    geometry: str = "square"

    def _blocks(self, x):
        n = len(x) // self.n_blocks * self.n_blocks
        return x[:n].reshape(self.n_blocks, -1).mean(axis=1)

    def block_moments(self) -> dict:
        """Block means of m, |m|, m^2, m^4, e, e^2 (arrays of n_blocks)."""
        m = self.m.astype(float)
        return {"m": self._blocks(m), "abs_m": self._blocks(np.abs(m)),
                "m2": self._blocks(m ** 2), "m4": self._blocks(m ** 4),
                "e": self._blocks(self.e_meV), "e2": self._blocks(self.e_meV ** 2)}

    def _jackknife(self, f) -> tuple[float, float]:
        b = self.block_moments()
        n = self.n_blocks
        full = f({k: v.mean() for k, v in b.items()})
        loo = np.array([f({k: (v.sum() - v[i]) / (n - 1) for k, v in b.items()}) for i in range(n)])
        return float(full), float(np.sqrt((n - 1) / n * np.sum((loo - loo.mean()) ** 2)))

    def magnetization(self):
        """<m> (signed order parameter per site; in a field) and its error."""
        return self._jackknife(lambda b: b["m"])

    def abs_magnetization(self):
        """<|m|> and its error."""
        return self._jackknife(lambda b: b["abs_m"])

    def energy_meV(self):
        """<e> (meV per site) and its error."""
        return self._jackknife(lambda b: b["e"])

    def binder(self):
        """Binder cumulant U_4 = 1 - <m^4> / (3 <m^2>^2) and its error."""
        return self._jackknife(lambda b: binder_cumulant(b["m2"], b["m4"]))

    def susceptibility_per_meV(self):
        """chi = N (<m^2> - <|m|>^2) / k_B T per site (1/meV), and its error."""
        N, kT = self.L ** 2, K_B_MEV_PER_K * self.T_K
        return self._jackknife(lambda b: N * (b["m2"] - b["abs_m"] ** 2) / kT)

    def specific_heat(self):
        """c = N (<e^2> - <e>^2) / (k_B T)^2 per site (in k_B), and its error."""
        N, kT = self.L ** 2, K_B_MEV_PER_K * self.T_K
        return self._jackknife(lambda b: N * (b["e2"] - b["e"] ** 2) / kT ** 2)


def binder_cumulant(m2, m4):
    """U_4 = 1 - <m^4> / (3 <m^2>^2): 2/3 in the ordered phase, 0 for Gaussian fluctuations."""
    return 1.0 - m4 / (3.0 * m2 ** 2)


def _check_run(L, J_x_meV, J_y_meV, h_meV, n_sweeps, n_thermalize, algorithm, n_blocks, geometry="square"):
    if geometry not in GEOMETRIES:
        raise ValueError(f"geometry={geometry!r}: must be one of {GEOMETRIES}")
    L = lat.check_size(L)
    Jx, Jy = lat.check_coupling(J_x_meV, "J_x_meV"), lat.check_coupling(J_y_meV, "J_y_meV")
    h = lat.check_coupling(h_meV, "h_meV")
    if algorithm not in ALGORITHMS:
        raise ValueError(f"algorithm={algorithm!r}: must be one of {ALGORITHMS}")
    if isinstance(n_blocks, bool) or not isinstance(n_blocks, (int, np.integer)) or n_blocks < 2:
        raise ValueError(f"n_blocks={n_blocks!r}: must be an integer >= 2")
    n_sweeps = lat.check_sweeps(n_sweeps, "n_sweeps", minimum=n_blocks)
    n_thermalize = lat.check_sweeps(n_thermalize, "n_thermalize")
    return L, Jx, Jy, h, n_sweeps, n_thermalize


def _simulate(L, Ts, Jx, Jy, h, n_sweeps, n_thermalize, algorithm, rng, n_blocks, seed, geometry="square"):
    """Simulate one L x L lattice per temperature in Ts together (one stack), from the ordered state."""
    Ts = np.asarray(Ts, float)
    beta = (1.0 / (K_B_MEV_PER_K * Ts))[:, None, None]
    aJx, aJy = bond_couplings(L, Jx, Jy, geometry)
    s = np.ones((len(Ts), L, L), dtype=np.int8)
    if algorithm == "metropolis":
        masks = lat.checkerboard_masks(L)
        step = lambda: metropolis_sweep(s, beta * aJx, beta * aJy, beta * h, rng, masks)   # noqa: E731
    else:
        index = np.arange(s.size).reshape(s.shape)
        p_x, p_y = -np.expm1(-2 * beta * aJx), -np.expm1(-2 * beta * aJy)
        step = lambda: cluster_sweep(s, p_x, p_y, beta * h, rng, index)                    # noqa: E731
    for _ in range(n_thermalize):
        step()
    m = np.empty((n_sweeps, len(Ts)))
    e = np.empty((n_sweeps, len(Ts)))
    N = L * L
    for i in range(n_sweeps):
        step()
        m[i] = s.sum(axis=(1, 2), dtype=np.int64) / N
        e[i] = energy_per_site_meV(s, aJx, aJy, h)
    return [Run(L, float(T), Jx, Jy, h, algorithm, m[:, j].copy(), e[:, j].copy(), seed, n_blocks, geometry)
            for j, T in enumerate(Ts)]


def simulate(L: int, T_K: float, J_x_meV: float, J_y_meV: float, *, n_sweeps: int = 2000,
             n_thermalize: int = 200, h_meV: float = 0.0, algorithm: str = "cluster", seed: int = 0,
             index: int = 0, n_blocks: int = 20, geometry: str = "square") -> Run:
    """Simulate an L x L lattice at T_K from the ordered state: `n_thermalize` sweeps discarded,
    then `n_sweeps` measured (one measurement per sweep). A cluster sweep is one Swendsen-Wang
    decomposition of the whole lattice; a Metropolis sweep offers every site one flip.
    Reproducible for a given (seed, L, index). `geometry`: GEOMETRIES."""
    L, Jx, Jy, h, n_sweeps, n_thermalize = _check_run(L, J_x_meV, J_y_meV, h_meV, n_sweeps,
                                                      n_thermalize, algorithm, n_blocks, geometry)
    T = lat.check_temperature(T_K)
    return _simulate(L, [T], Jx, Jy, h, n_sweeps, n_thermalize, algorithm, generator(seed, L, index),
                     n_blocks, seed, geometry)[0]


def scan(L: int, temperatures_K, J_x_meV: float, J_y_meV: float, *, n_sweeps: int = 2000,
         n_thermalize: int = 200, h_meV: float = 0.0, algorithm: str = "cluster", seed: int = 0,
         n_blocks: int = 20, geometry: str = "square") -> list[Run]:
    """`simulate` at each temperature (K, strictly increasing), all lattices updated together as one
    stack (the per-call cost of NumPy is shared), from the ordered state, one generator per (seed,
    L): the same call gives the same numbers. Input checked before any sweep."""
    L, Jx, Jy, h, n_sweeps, n_thermalize = _check_run(L, J_x_meV, J_y_meV, h_meV, n_sweeps,
                                                      n_thermalize, algorithm, n_blocks, geometry)
    Ts = lat.check_temperatures(temperatures_K)
    return _simulate(L, Ts, Jx, Jy, h, n_sweeps, n_thermalize, algorithm, generator(seed, L),
                     n_blocks, seed, geometry)
