"""Sub-eV scale: crystal-field orbitals of W-5d, orbital-ordered mean-field states, the hoppings
behind the antiferro-orbital (AFO) preference, and the dipoles the orbitals carry.

Built on helpers.wannier (p-d model of projected Wannier functions from GPAW LCAO) and
helpers.hartree_fock. Orbital names follow the paper: on each W, `a` is the lowest crystal-field
level of the effective W-5d model and `b`, `c` the next two (the pair the paper finds degenerate).
Energies in eV, lengths in Angstrom.
"""
from __future__ import annotations

import numpy as np

from . import hartree_fock as hf
from . import wannier as W

PD = {"W": 2, "Te": 1}
N_SEMICORE = {"W": 8, "Te": 2, "Mo": 8}   # electrons below the p-d manifold (W 5s5p, Te 5s)


#: Energy window (eV from E_F) of the bands a p-d model may use: it keeps the W-5d/Te-5p manifold
#: (about -6 to +4 eV in WTe2) and excludes the Te-5s bands near -11 eV, which an unbounded
#: window lets in where their projectability happens to be large. Models built with -7..5 or
#: -9..8 eV are identical for the WTe2 layers (checked on the AFO page).
PD_WINDOW = (-8.0, 6.0)
#: What a model must satisfy before a page uses it (helpers.orbital_order.check_model), per
#: profile: 'smoke' runs on k grids too coarse for a faithful model and only tests the plumbing.
QUALITY_LIMITS = {"electrons": 0.05, "band deviation (eV)": 0.10, "hermiticity (eV)": 1e-6,
                  "symmetry (eV)": 0.02}
SMOKE_LIMITS = {"electrons": 1.0, "band deviation (eV)": 2.0, "hermiticity (eV)": 1e-6, "symmetry (eV)": 0.5}


def pd_model(lcao_result: dict, window=PD_WINDOW) -> W.TBModel:
    """The W-5d + Te-5p projected-Wannier model of a cached LCAO result, from the bands inside
    `window` (eV relative to E_F)."""
    lo, hi = window
    if not lo < 0 < hi:
        raise ValueError(f"window={window!r}: must be (low, high) eV with low < 0 < high (E_F inside)")
    return W.model_from_lcao(lcao_result, PD, tuple(window))


class ModelQualityError(ValueError):
    """A tight-binding model failed a check it must pass before it is used."""


def check_model(model: W.TBModel, lcao_result: dict, atoms, limits: dict | None = None, name: str = "") -> dict:
    """model_quality, enforced: raises ModelQualityError naming every check that exceeds `limits`
    (default QUALITY_LIMITS, or SMOKE_LIMITS for a smoke-profile LCAO result: electron count against
    DFT, band deviation within 1 eV of E_F, Hermiticity, symmetry). Returns the quality dict when
    the model passes."""
    from pathlib import Path
    from .cache import _profile_of
    smoke = "cache_entry" in lcao_result and _profile_of(Path(lcao_result["cache_entry"]).name) == "smoke"
    limits = dict(SMOKE_LIMITS if smoke else QUALITY_LIMITS, **(limits or {}))
    q = model_quality(model, lcao_result, atoms)
    measured = {"electrons": abs(q["electrons (model, at E_F)"] - q["electrons (DFT p-d manifold)"]),
                "band deviation (eV)": q["max band deviation in (-1.0, 1.0) eV (eV)"],
                "hermiticity (eV)": q["max |H(R) - H(-R)^H| (eV)"],
                "symmetry (eV)": q["max symmetry violation (eV)"]}
    if q["symmetry operations checked"] == 0:       # a structure without diagonal operations: nothing to check
        measured.pop("symmetry (eV)")
    bad = [f"{k} = {v:.4g} > {limits[k]:g}" for k, v in measured.items() if not v <= limits[k]]
    if bad:
        raise ModelQualityError(f"model {name or model.labels[0]} fails its checks: {'; '.join(bad)} "
                                f"(window {model.info.get('window')} eV). Change the window or the basis.")
    return q


def pd_electrons(lcao_result: dict) -> float:
    """Electrons in the p-d manifold: the DFT valence count minus the semicore shells."""
    from .dft import atoms_from
    symbols = atoms_from(lcao_result["inputs"]["atoms"]).get_chemical_symbols()
    return lcao_result["n_electrons"] - sum(N_SEMICORE.get(s, 0) for s in symbols)


def metal_atoms(model: W.TBModel) -> list:
    """Indices of the atoms that carry d orbitals in the model (the metals), ascending."""
    return sorted(set(model.atom_of[model.l_of == 2].tolist()))


def d_shells(model: W.TBModel) -> list:
    """Index arrays of the five d orbitals of each metal atom of the model."""
    return [np.where((model.atom_of == a) & (model.l_of == 2))[0] for a in metal_atoms(model)]


def downfold_d(model: W.TBModel, grid, e_low: float = -1.5, width: float = 0.5) -> tuple:
    """Effective W-5d model (5 orbitals per W with Te-5p tails), its coefficients and lattice
    vectors: helpers.wannier.effective_orbitals with a smooth window rising at `e_low` eV."""
    keep = np.concatenate(d_shells(model))
    return W.effective_orbitals(model, keep, grid, e_low, width)


def local_orbitals(eff: W.TBModel) -> list:
    """Per metal atom of the effective d model: (levels eV ascending, orbitals as columns)."""
    return [W.crystal_field(eff, a) for a in metal_atoms(eff)]


def match_to(reference: np.ndarray, orbitals: np.ndarray) -> np.ndarray:
    """Reorder and re-sign the columns of `orbitals` to follow the columns of `reference`
    (greedy by overlap), so that 'b' on one W corresponds to 'b' on the other."""
    out = np.zeros_like(orbitals)
    free = list(range(orbitals.shape[1]))
    for i in range(reference.shape[1]):
        ov = [abs(reference[:, i].conj() @ orbitals[:, j]) for j in free]
        j = free.pop(int(np.argmax(ov)))
        v = orbitals[:, j]
        out[:, i] = v * np.sign((reference[:, i].conj() @ v).real or 1.0)
    return out


def site_orbitals(eff: W.TBModel) -> list:
    """Crystal-field orbitals (columns a, b, c, ...) of each W, the second W's matched to the first."""
    (e1, v1), (e2, v2) = local_orbitals(eff)[:2]
    return [v1, match_to(v1, v2)]


def patterns(eff: W.TBModel) -> dict:
    """Starting orbitals of each W for the ordered states, in the effective d basis of each W:
    'a-a' (both doubly occupy the lowest level), 'FO b-b', 'FO c-c', 'AFO b-c', 'AFO c-b'."""
    v1, v2 = site_orbitals(eff)
    a, b, c = 0, 1, 2
    return {"a-a": [v1[:, a], v2[:, a]], "FO b-b": [v1[:, b], v2[:, b]], "FO c-c": [v1[:, c], v2[:, c]],
            "AFO b-c": [v1[:, b], v2[:, c]], "AFO c-b": [v1[:, c], v2[:, b]]}


#: k grid of the downfolding and the Hartree-Fock calculations, per profile.
HF_GRID = {"smoke": [4, 2, 1], "paper": [12, 6, 1]}


def ordered_states(model: W.TBModel, eff_patterns: dict, n_electrons: float, U: float, J: float,
                   grid, width: float = 0.02, mixing: float = 0.15, max_iter: int = 1500) -> dict:
    """Hartree-Fock on `model` (the p-d model or the effective d model) from each pattern's start:
    the chosen orbital doubly occupied on each W (a 5-vector in that W's d orbitals), the other d
    orbitals at their non-interacting filling. Returns per state the energy per formula unit
    relative to 'a-a' (meV), convergence, natural occupations and the survival overlap (1: the
    requested orbital is still the most occupied one)."""
    shells = d_shells(model)
    hk = model.hk(W.kgrid_points(grid))
    n_fu = len(shells)
    base = d_occupations(model, n_electrons, grid, width)     # the U = 0 filling of each shell
    out = {}
    for name, vecs in eff_patterns.items():
        # start: the requested orbital doubly occupied, other d orbitals at their U=0 filling
        start = []
        for n0, v in zip(base, vecs):
            P = hf.projector(np.real(v))
            rest = np.eye(len(v)) - P
            start.append(P + rest @ n0 @ rest)
        r = hf.solve(hk, shells, n_electrons, U, J, n_init=start, width=width, mixing=mixing,
                     max_iter=max_iter)
        out[name] = {"result": r, "energy_eV": r.energy, "converged": r.converged,
                     "survival": hf.dominant_overlap(r, [np.real(v) for v in vecs]),
                     "natural_occupations": [o.tolist() for o in r.natural_occupations()]}
    ref = out["a-a"]["energy_eV"]
    for v in out.values():
        v["dE_meV_per_fu"] = 1000 * (v["energy_eV"] - ref) / n_fu
    return out


def chain_hoppings(eff: W.TBModel, orbitals: np.ndarray, R=(1, 0, 0)) -> np.ndarray:
    """Hopping matrix (eV) between the local orbitals (columns, in one W's d basis) of a W and
    the same W one lattice vector R away (along the chain for R = a)."""
    shell = d_shells(eff)[0]
    idx = np.where((eff.R == np.asarray(R)).all(axis=1))[0][0]
    T = eff.H_R[idx][np.ix_(shell, shell)]
    return orbitals.conj().T @ T @ orbitals


def intra_inter(T: np.ndarray) -> tuple[float, float]:
    """From a chain hopping matrix in the local orbitals (a, b, c, ...): the intra-orbital hopping
    of the pair b, c (rms of t_bb and t_cc) and the inter-orbital one |t_bc|, eV."""
    T = np.real(T)
    return float(np.sqrt((T[1, 1] ** 2 + T[2, 2] ** 2) / 2)), float(abs(T[1, 2]))


def virtual_gain(t_intra: float, t_inter: float, U: float) -> dict:
    """Second-order (t^2/U) energy per W-W bond of doubly occupied orbitals b or c on two
    neighbours: FO (b-b) can only hop into the empty c (inter-orbital), AFO (b-c) hops
    intra-orbitally into the empty partner. Each of the two electrons of each site hops: -4 t^2/U."""
    return {"FO_meV": -1000 * 4 * t_inter**2 / U, "AFO_meV": -1000 * 4 * t_intra**2 / U,
            "ratio": (t_intra / t_inter) ** 2 if t_inter else np.inf}


def orbital_dipoles(model: W.TBModel, coeff, R, eff: W.TBModel, orbitals_per_site: list) -> list:
    """Per W: (3,) dipole (e*Angstrom) of one doubly occupied local orbital (each column), relative
    to the W nucleus: p = -2 e (<r> - r_W). Returns a list (per W) of arrays (norbitals, 3)."""
    X = W.position_matrix(model, coeff, R)
    out = []
    for atom, shell, orbs in zip(metal_atoms(eff), d_shells(eff), orbitals_per_site):
        r_W = model.positions[atom]
        Xs = X[:, shell][:, :, shell]
        cen = np.real(np.einsum("mi,xmn,ni->ix", orbs.conj(), Xs, orbs))
        out.append(-2.0 * (cen - r_W))
    return out


def model_quality(model: W.TBModel, lcao_result: dict, atoms, band_window=(-1.0, 1.0)) -> dict:
    """Checks of a p-d model: Hermiticity, symmetry (each diagonal operation of the structure),
    electron count against DFT, band deviation on the DFT path, projectability (eV, electrons)."""
    ops = W.diagonal_symmetry_operations(atoms)
    return {
        "orbitals": model.norb,
        "electrons (model, at E_F)": W.electron_count(model, model.info["kgrid"]),
        "electrons (DFT p-d manifold)": pd_electrons(lcao_result),
        "max |H(R) - H(-R)^H| (eV)": W.hermiticity_error(model),
        "max symmetry violation (eV)": max((W.symmetry_error(model, r, t) for r, t in ops), default=float("nan")),
        "symmetry operations checked": len(ops),
        f"max band deviation in {band_window} eV (eV)": W.band_deviation(model, lcao_result, band_window),
        "min projectability of used bands": model.info["min_projectability"],
    }


def state_scan(model, pats, n_electrons, Us, J, grid) -> list:
    """ordered_states at each U (eV) in `Us`: rows of (U, state, dE meV/f.u., survival min, converged)."""
    rows = []
    for U in Us:
        for name, v in ordered_states(model, pats, n_electrons, U, J, grid).items():
            rows.append({"U_eV": float(U), "state": name, "dE_meV_per_fu": v["dE_meV_per_fu"],
                         "survival": float(min(v["survival"])), "converged": v["converged"]})
    return rows


def distinct(rows: list, tol_meV: float = 1.0, min_survival: float = 0.5) -> dict:
    """For each U of a state_scan: whether a converged ordered state kept its pattern (survival
    above `min_survival`) and differs in energy from a converged 'a-a' by more than `tol_meV`."""
    out = {}
    ref_ok = {r["U_eV"]: r["converged"] for r in rows if r["state"] == "a-a"}
    for r in rows:
        out.setdefault(r["U_eV"], False)
        if (r["state"] != "a-a" and r["converged"] and ref_ok.get(r["U_eV"]) and
                r["survival"] > min_survival and abs(r["dE_meV_per_fu"]) > tol_meV):
            out[r["U_eV"]] = True
    return out


def orbital_weights_by_atom(model: W.TBModel, coeff, R, vec, shell) -> tuple[np.ndarray, np.ndarray]:
    """Weight of the local orbital `vec` (5-vector on the effective orbitals `shell`) on every atom
    image: returns (positions (n, 3) Angstrom, weights (n,)), weights summing to 1."""
    c = np.einsum("rjm,m->rj", coeff[:, :, shell], vec)             # (nR, norb)
    w = np.abs(c) ** 2
    pos, wt = [], []
    for r_i, r in enumerate(R):
        shift = r @ np.asarray(model.cell)
        for a in sorted(set(model.atom_of.tolist())):
            s = w[r_i, model.atom_of == a].sum()
            if s > 1e-4:
                pos.append(model.positions[a] + shift)
                wt.append(s)
    return np.array(pos), np.array(wt)


def state_dipoles(dipoles: list) -> dict:
    """Net dipole (e*Angstrom, 3-vector) of one monolayer cell in each ordered state, from the
    dipoles of the doubly occupied local orbitals (`dipoles[site][orbital]`, orbitals a, b, c =
    0, 1, 2), relative to the a-a state."""
    a, b, c = 0, 1, 2
    occ = {"a-a": (a, a), "FO b-b": (b, b), "FO c-c": (c, c), "AFO b-c": (b, c), "AFO c-b": (c, b)}
    ref = dipoles[0][a] + dipoles[1][a]
    return {name: dipoles[0][i] + dipoles[1][j] - ref for name, (i, j) in occ.items()}


def td_bilayer(p_layer: np.ndarray) -> np.ndarray:
    """Dipole of a Td bilayer whose two layers carry the same orbital state. In Pmn2_1 the second
    layer is the image of the first under the 2_1 screw along z, a 180-degree rotation
    (x, y) -> (-x, -y): in-plane parts cancel, out-of-plane parts add."""
    return p_layer + np.array([-1.0, -1.0, 1.0]) * p_layer


def d_occupations(model: W.TBModel, n_electrons: float, grid, width: float = 0.02) -> list:
    """Occupation matrices (per spin) of each W-5d shell of a model at its own filling, without
    interaction: the measure shared by the PBE, Hartree-Fock and DFT+U comparisons."""
    hk = model.hk(W.kgrid_points(grid))
    return hf.solve(hk, d_shells(model), n_electrons, 0.0, width=width, max_iter=1).occupations


def occupation_summary(occ: list) -> dict:
    """Natural occupations (per spin, descending) of the first W and its Tr[n(1 - n)] (both spins),
    the quantity Dudarev's U penalizes (0 for integer occupations)."""
    n = occ[0]
    nat = np.sort(np.linalg.eigvalsh(n))[::-1]
    return {**{f"n{i + 1}": float(v) for i, v in enumerate(nat)},
            "total d (both spins)": float(2 * nat.sum()),
            "Tr n(1-n) (both spins)": float(2 * np.trace(n @ (np.eye(len(n)) - n)))}
