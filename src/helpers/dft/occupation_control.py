"""Occupation control for GPAW DFT+U: a bias on the d block of each metal's PAW occupation matrix.

The paper's valence and orbital-order statements compare DFT+U energies of states with chosen
orbital occupations. GPAW's DFT+U (Dudarev, U_eff on the PAW projectors) has no occupation control;
this module adds it as a GPAW extension (the new code path's `extensions=[...]` hook on each atom's
PAW Hamiltonian), without patching GPAW.

The bias on atom a and spin s is the one-body term

    E_bias = lambda * sum_s tr[(1 - 2 P_as) N_as],

where N_as is GPAW's d-shell occupation matrix of that atom and spin (the same matrix the Hubbard
term uses: gpaw.hubbard.aoom, with the bounded-partial-wave scaling) and P_as the projector onto the
target orbitals (the orbitals to fill, columns of 5-vectors in GPAW's real-harmonic d order xy, yz,
z2, xz, x2-y2). Targets are lowered by lambda and the other d orbitals raised by lambda (eV). Its
derivative with respect to the PAW density matrix is added to dH_sii, and its energy to the total
energy, so the biased state is variational: dE/dlambda = tr[(1 - 2P) N] (Hellmann-Feynman).

Protocol (helpers.dft.gpaw_job task `dftu_branch`): converge with the bias, release lambda to zero in
steps, each step continuing from the current density and wave functions, and compare only the
unbiased energies (lambda = 0). Spin-restricted runs take one set of target orbitals per atom (both
spins); spin-polarized runs take one set per spin ('up', 'dn').
"""
from __future__ import annotations

import numpy as np
from gpaw.extensions import Extension


#: GPAW's real-harmonic order of the five d functions.
D_ORDER = ("xy", "yz", "z2", "xz", "x2-y2")
#: Strength of the bias (eV) above which a run is refused: far beyond any d bandwidth.
MAX_STRENGTH_EV = 20.0
#: Valence electrons of each metal that takes targets (neutral atom: W 5d4 6s2, Mo 4d5 5s1, Re 5d5 6s2):
#: no more can be put into the metals' d shells, whatever charge the ligands give up (the nominal
#: d counts of the layers computed here are lower: W4+ and Mo4+ d2, Re4+ d3).
VALENCE_ELECTRONS = {"W": 6, "Mo": 6, "Re": 7}


# --- targets --------------------------------------------------------------------------------------

def _orbitals(vectors, name: str) -> np.ndarray:
    """Columns (5 x k) of target orbitals, checked: length 5, orthonormal."""
    V = np.asarray(vectors, dtype=float)
    if V.ndim == 1:
        V = V[None, :]
    if V.size == 0:
        return np.zeros((5, 0))
    if V.ndim != 2 or V.shape[1] != 5:
        raise ValueError(f"{name}: each target orbital must be a 5-vector in GPAW's d order {D_ORDER}, "
                         f"got an array of shape {np.shape(vectors)}")
    if not np.all(np.isfinite(V)):
        raise ValueError(f"{name}: target orbitals must be finite")
    if not np.allclose(V @ V.T, np.eye(len(V)), atol=1e-6):
        raise ValueError(f"{name}: target orbitals must be orthonormal (V V^T = 1 to 1e-6); "
                         f"got V V^T =\n{np.round(V @ V.T, 4)}")
    return V.T


def check_targets(targets: dict, symbols: list, spinpol: bool, magmoms=None) -> dict:
    """Validated targets {atom index: {'both': orbitals} (spin-restricted) or {'up': .., 'dn': ..}
    (spin-polarized)}, each a list of 5-vectors to fill, and optionally 'subspace': the orthonormal
    5-vectors the bias acts within (it must contain the targets); raises ValueError naming the problem before
    any SCF: vectors not of length 5 or not orthonormal, a target on an atom that is not a metal
    (VALENCE_ELECTRONS), more target spin-orbitals in the cell than its metals' valence electrons, a spin
    key that does not match the spin treatment, and initial moments inconsistent with the targets
    (spin-polarized: a metal's moment must have the sign of n_up - n_dn of its targets, and be 0 only
    where the targets are spin-balanced)."""
    if not isinstance(targets, dict) or not targets:
        raise ValueError("targets: need a non-empty dict {atom index: {spin: orbitals}}")
    out, n_target = {}, 0
    metals = [i for i, s in enumerate(symbols) if s in VALENCE_ELECTRONS]
    n_valence = sum(VALENCE_ELECTRONS[symbols[i]] for i in metals)
    allowed = ("up", "dn") if spinpol else ("both",)
    for a, per_spin in targets.items():
        per_spin = dict(per_spin) if isinstance(per_spin, dict) else per_spin
        subspace = per_spin.pop("subspace", None) if isinstance(per_spin, dict) else None
        if not isinstance(a, (int, np.integer)) or not 0 <= int(a) < len(symbols):
            raise ValueError(f"targets: atom index {a!r} is not an atom of the cell (0..{len(symbols) - 1})")
        a = int(a)
        if symbols[a] not in VALENCE_ELECTRONS:
            raise ValueError(f"targets[{a}]: atom {a} is {symbols[a]}, not a metal; targets go on "
                             f"{sorted(VALENCE_ELECTRONS)} atoms (here: {metals})")
        if not isinstance(per_spin, dict) or set(per_spin) - set(allowed) or not per_spin:
            raise ValueError(f"targets[{a}]: keys must be {list(allowed)} for a "
                             f"{'spin-polarized' if spinpol else 'spin-restricted'} run, got {per_spin!r}")
        out[a] = {s: _orbitals(per_spin.get(s, []), f"targets[{a}][{s!r}]") for s in allowed}
        n_target += sum(v.shape[1] for v in out[a].values()) * (1 if spinpol else 2)
        if subspace is not None:
            Q = _orbitals(subspace, f"targets[{a}]['subspace']")
            for s_, V in out[a].items():
                if V.shape[1] and np.abs(Q @ (Q.T @ V) - V).max() > 1e-6:
                    raise ValueError(f"targets[{a}]['subspace']: must contain the target orbitals of spin {s_!r} "
                                     "(the bias lowers the targets and raises the rest of the subspace)")
            if Q.shape[1] == 0:
                raise ValueError(f"targets[{a}]['subspace']: give at least the target orbitals")
            out[a]["subspace"] = Q
    if n_target > n_valence:
        raise ValueError(f"targets: {n_target} target spin-orbitals, more than the {n_valence} valence electrons "
                         f"of the cell's metals ({', '.join(f'{symbols[i]}: {VALENCE_ELECTRONS[symbols[i]]}' for i in metals)})")
    if spinpol:
        if magmoms is None or len(magmoms) != len(symbols):
            raise ValueError(f"magmoms: a spin-polarized run needs one initial moment per atom ({len(symbols)})")
        for a, t in out.items():
            imbalance = t["up"].shape[1] - t["dn"].shape[1]
            m = float(magmoms[a])
            if imbalance and np.sign(m) != np.sign(imbalance):
                raise ValueError(f"magmoms[{a}]={m:g}: the targets of atom {a} fill {t['up'].shape[1]} up and "
                                 f"{t['dn'].shape[1]} down orbitals, so its initial moment must have the sign "
                                 f"of {imbalance:+d}")
    elif magmoms is not None and any(abs(float(m)) > 0 for m in magmoms):
        raise ValueError("magmoms: a spin-restricted run takes no initial moments")
    return out


def check_schedule(strengths) -> list:
    """Bias strengths (eV) of a release: non-negative, finite, non-increasing, ending at 0."""
    s = [float(x) for x in strengths]
    if not s or any(not np.isfinite(x) or x < 0 or x > MAX_STRENGTH_EV for x in s):
        raise ValueError(f"release={list(strengths)!r}: need bias strengths lambda in [0, {MAX_STRENGTH_EV:g}] eV")
    if any(b > a for a, b in zip(s, s[1:])) or s[-1] != 0:
        raise ValueError(f"release={s!r}: lambda must not increase and must end at 0 (only unbiased "
                         "energies are compared)")
    return s


def check_U_grid(U_grid, upward: bool = False) -> list:
    """U_eff values (eV) of an annealing: finite, in [0, 20], strictly decreasing; strictly increasing with
    `upward` (a state found at small U_eff followed up, to find the configuration it comes from)."""
    U = [float(x) for x in U_grid]
    if not U or any(not np.isfinite(x) or not 0 <= x <= 20 for x in U):
        raise ValueError(f"U_grid={list(U_grid)!r}: need U_eff values in [0, 20] eV")
    if upward and any(b <= a for a, b in zip(U, U[1:])):
        raise ValueError(f"U_grid={U!r}: with upward=True U must increase strictly")
    if not upward and any(b >= a for a, b in zip(U, U[1:])):
        raise ValueError(f"U_grid={U!r}: U must decrease strictly (annealing goes from large to small U; "
                         "upward=True follows a state up)")
    return U


# --- the occupation matrix and the bias -----------------------------------------------------------

def occupation_matrix(D_ii: np.ndarray, setup, l: int = 2, scale: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """GPAW's l-shell occupation matrix N_mm from one spin component D_ii of an atom's PAW density
    matrix (gpaw.hubbard.aoom; `scale`: the bounded-partial-wave scaling of GPAW's default DFT+U, else the
    plain inner products within the PAW sphere, GPAW's ':d,U,0'), and the pattern dN_mm/dD_ii (the same
    factors on each block) as a D_ii-shaped array."""
    from gpaw.hubbard import aoom
    return aoom(np.real(D_ii), l, setup.l_j, setup.n_j, setup.N0_q, bool(scale))


def _blocks(setup, l: int = 2) -> list[slice]:
    nm_j = 2 * np.array(setup.l_j) + 1
    return [slice(int(nm_j[:j].sum()), int(nm_j[:j].sum()) + 2 * l + 1)
            for j in np.where(np.equal(setup.l_j, l))[0]]


def site_occupations(D_sii, setup, l: int = 2, scale: bool = True) -> list[np.ndarray]:
    """Per spin (up, dn) the d occupation matrix of one atom, electrons (occupation_matrix with `scale`); a
    spin-restricted D_sii (one component) is split equally between the spins."""
    if len(D_sii) == 1:
        N, _ = occupation_matrix(D_sii[0], setup, l, scale)
        return [0.5 * N, 0.5 * N]
    return [occupation_matrix(D, setup, l, scale)[0] for D in D_sii[:2]]


class OccupationBias(Extension):
    """GPAW extension: lambda * sum_s tr[(Q_a - 2 P_as) N_as] on the d shells of the target atoms
    (Q_a = 1 unless the atom's targets name a 'subspace': then only the orbitals of that subspace are
    moved, the targets down and the rest of the subspace up, and the other d orbitals, e.g. those
    that carry the covalent bonds to the ligands, are left alone).

    `targets` as returned by check_targets; `strength_eV` is lambda (eV), changed between SCF runs
    with `set_strength` (the run continues from its current density). `energy_eV` holds the bias
    energy of the last Hamiltonian update (summed over the atoms this rank handled)."""

    name = "occupation_bias"
    charge = 0.0

    def __init__(self, targets: dict, strength_eV: float, scale: bool = True):
        self.targets = {int(a): {s: np.asarray(v) for s, v in t.items()} for a, t in targets.items()}
        self.scale = bool(scale)          # the occupation matrix the bias acts on: that of the DFT+U term
        self.set_strength(strength_eV)
        self.energy_eV = {}

    def set_strength(self, strength_eV: float) -> None:
        check_schedule([strength_eV, 0.0])
        self.strength_eV = float(strength_eV)

    def todict(self) -> dict:
        return {"name": self.name, "strength_eV": self.strength_eV,
                "targets": {a: {s: v.T.tolist() for s, v in t.items()} for a, t in self.targets.items()}}

    def bias_matrices(self, atom_index: int, nspins: int) -> list[np.ndarray]:
        """Per spin component, the 5x5 bias operator (Q - 2 P) of an atom (zero if untargeted): P the
        projector onto its targets, Q onto its 'subspace' (the whole d shell, 1, when none is given)."""
        t = self.targets.get(atom_index)
        if t is None:
            return [np.zeros((5, 5))] * nspins
        keys = ["both"] if nspins == 1 else ["up", "dn"]
        Q = t["subspace"] @ t["subspace"].T if "subspace" in t else np.eye(5)
        return [Q - 2 * t[k] @ t[k].T for k in keys]

    def energy(self, D_asii, setups) -> float:
        """The bias energy (eV) of the whole cell for PAW density matrices D_asii (all atoms):
        lambda * sum_a,s tr[(1 - 2 P_as) N_as]; its derivative with respect to lambda is this
        divided by lambda (Hellmann-Feynman)."""
        e = 0.0
        for a in self.targets:
            D_sii = D_asii[a]
            for D_ii, B in zip(D_sii, self.bias_matrices(a, len(D_sii))):
                e += self.strength_eV * float(np.trace(B @ occupation_matrix(D_ii, setups[a], scale=self.scale)[0]).real)
        return e

    def update_non_local_hamiltonian(self, D_sii, setup, atom_index, dH_sii) -> float:
        """Add d(E_bias)/dD_sii to dH_sii (Hartree) and return E_bias (Hartree) of this atom."""
        from ase.units import Ha
        nspins = len(D_sii)
        if atom_index not in self.targets or self.strength_eV == 0 or nspins > 2:
            self.energy_eV[atom_index] = 0.0
            return 0.0
        lam = self.strength_eV / Ha
        e = 0.0
        for s, (D_ii, B) in enumerate(zip(D_sii, self.bias_matrices(atom_index, nspins))):
            N, pattern = occupation_matrix(D_ii, setup, scale=self.scale)
            # a spin-restricted D_ii holds both spins: N is the total, and tr[B N] counts both
            e += lam * float(np.trace(B @ N).real)
            dH = np.zeros_like(pattern)
            for i1 in _blocks(setup):
                for i2 in _blocks(setup):
                    dH[i1, i2] = lam * pattern[i1, i2] * B.T
            dH_sii[s] += dH
        self.energy_eV[atom_index] = e * Ha
        return e
