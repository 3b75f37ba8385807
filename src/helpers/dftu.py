"""Orbitally ordered states of the relaxed d2 layer in DFT+U with occupation control.

The paper's sub-eV energy claims compare DFT(+U) energies of states with chosen orbital
occupations: b or c doubly occupied on every W instead of a (the polarization gain), and the
ferro-orbital (FO) against the antiferro-orbital (AFO) patterns. Each state here is one branch of
helpers.dft.dftu_branch: the bias toward the pattern's orbitals, released to zero, then the
unbiased state. A state is identified by what it is (helpers.orbitals.natural: natural orbitals of
each W, the overlap of the two W's filled orbitals mapped through the inversion that relates them,
d counts, moments), not by the pattern it started from.

Orbitals a, b, c come from a reading of the effective W-5d model's on-site block (helpers.orbitals
.identity); their coefficients on W1's five d functions are used as GPAW d-shell targets. The two W
of the 1T' cell are inversion partners and d functions are even, so W2's orbitals have W1's
coefficients. Energies in eV per cell or meV per formula unit (one W per formula unit).
"""
from __future__ import annotations

import numpy as np

from .orbitals import natural as nat

#: Ordered patterns of the primitive cell: orbital filled on W1 and on W2 (letters index a, b, c).
PATTERNS = {"a2a2": "aa", "b2b2": "bb", "c2c2": "cc", "b2c2": "bc", "c2b2": "cb"}
#: Settings per profile: U_eff values (eV) of the restricted and spin-polarized ordered states,
#: the release schedule (eV), the k densities of the convergence check, and its smearings (eV).
SETTINGS = {
    "smoke": {"U_restricted": [3.0], "U_polarized": [], "release": [1.0, 0.0], "patterns": ["b2c2"],
              "readings": ["energy order"], "conv_kpt_densities": [], "conv_smearings": []},
    "paper": {"U_restricted": [3.0, 4.5, 6.0], "U_polarized": [3.0, 6.0], "release": [1.0, 0.3, 0.0],
              "patterns": ["b2c2", "b2b2", "c2c2", "a2a2", "c2b2"], "readings": ["energy order", "local octahedral frame"],
              "conv_kpt_densities": [3.0, 5.0], "conv_smearings": [0.02, 0.1]},
}


def pattern_targets(pattern: str, orbitals: np.ndarray, metals: list, spinpol: bool = False) -> dict:
    """Occupation-control targets of a pattern: the named orbital (columns 0, 1, 2 of `orbitals`
    are a, b, c in GPAW's d order) doubly occupied on each metal of `metals` (W1, W2); for a
    spin-polarized run the same orbital in both spins."""
    if pattern not in PATTERNS:
        raise ValueError(f"pattern={pattern!r}: choose from {list(PATTERNS)}")
    O = np.asarray(orbitals, float)
    if O.shape != (5, 5):
        raise ValueError(f"orbitals: need the 5x5 matrix of a reading (columns a, b, c, ...), got {O.shape}")
    out = {}
    for a, letter in zip(metals, PATTERNS[pattern]):
        v = [O[:, "abc".index(letter)].tolist()]
        out[int(a)] = {"up": v, "dn": v} if spinpol else {"both": v}
    return out


def high_spin_targets(orbitals: np.ndarray, metals: list, antiferro: bool) -> tuple[dict, list]:
    """Targets and initial W moments of the high-spin d2 state (a and b singly occupied, one spin):
    ferromagnetic, or antiferromagnetic between W1 and W2."""
    O = np.asarray(orbitals, float)
    ab = [O[:, 0].tolist(), O[:, 1].tolist()]
    out, moments = {}, []
    for i, a in enumerate(metals):
        up = not (antiferro and i % 2)
        out[int(a)] = {"up": ab, "dn": []} if up else {"up": [], "dn": ab}
        moments.append(2.0 if up else -2.0)
    return out, moments


def step_state(step: dict, metals: list, orbitals: np.ndarray | None = None) -> dict:
    """What the state of one recorded step is: natural orbitals of each metal, the classification
    (helpers.orbitals.natural.classify, W1-W2 pair mapped through inversion: identity on d
    functions), and, with `orbitals`, the weight of a, b, c in each metal's filled orbital."""
    sites = [nat.natural_orbitals(*[np.asarray(n) for n in step["occupations"][str(a)]]) for a in metals]
    out = nat.classify(sites, gap_min=nat.GAP_MIN)
    out["natural_occupations"] = [s["occupations"].tolist() for s in sites]
    if orbitals is not None:
        out["abc_weights"] = [nat.filled_orbital_overlaps(s, np.asarray(orbitals)[:, :3]).tolist() for s in sites]
    return out


def final_step(result: dict) -> dict:
    """The last recorded step of a branch (unbiased, at the last U)."""
    return result["steps"][-1]


def state_rows(results: dict, metals: list, orbitals: np.ndarray, n_fu: int) -> list:
    """One row per branch {name: dftu_branch result} at its final (unbiased) step: energy relative to
    the lowest unpolarized state (meV per f.u.), what the state is (kind, largest natural occupation
    per W, overlap of the W's filled orbitals, weights of a, b, c in them), d counts, moments and the
    out-of-plane dipole (e*Angstrom per cell, dipole layer in the vacuum)."""
    rows = []
    for name, r in results.items():
        st = final_step(r)
        s = step_state(st, metals, orbitals)
        rows.append({"state": name, "U_eV": st["U_eV"], "E_eV": st["energy_eV"], "kind": s["kind"],
                     "largest": s["largest"], "overlap": s["overlaps"][0] if s["overlaps"] else np.nan,
                     "abc_weights": s["abc_weights"], "d_counts": s["d_counts"],
                     "moments_muB": st.get("magnetic_moments_muB", [0.0] * (max(metals) + 1)),
                     "dipole_z_eA": st["dipole_eA"][2]})
    ref = [x["E_eV"] for x in rows if x["kind"] == "unpolarized"]
    e0 = min(ref) if ref else np.nan
    for x in rows:
        x["E - E_unpolarized (meV/f.u.)"] = 1000 * (x["E_eV"] - e0) / n_fu
    return rows
