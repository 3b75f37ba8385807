"""The W-5d models of a layer: the checked p-d model of projected Wannier functions (helpers.models.wannier),
its downfolding onto effective W-5d orbitals, their crystal-field levels and occupation measures.

What the sub-eV rung does with them (orbital identity, bonds, ordered states, dipoles) lives in
helpers.models. Energies in eV, lengths in Angstrom.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import wannier as W
from ..dft.materials import SEMICORE as N_SEMICORE, pd_projections
from ..dft.process import atoms_from
from ..store.manifest import profile_of


PD = {"W": 2, "Te": 1}   # the p-d model of WTe2; other materials: helpers.dft.materials.pd_projections


#: Energy window (eV from E_F) of the bands a p-d model may use: it keeps the W-5d/Te-5p manifold
#: (about -6 to +4 eV in WTe2) and excludes the Te-5s bands near -11 eV, which an unbounded
#: window lets in where their projectability happens to be large. Models built with -7..5 or
#: -9..8 eV are identical for the WTe2 layers (checked on the AFO page).
PD_WINDOW = (-8.0, 6.0)
#: What a model must satisfy before a page uses it (helpers.models.pd.check_model), per
#: profile: 'smoke' runs on k grids too coarse for a faithful model and only tests the plumbing.
QUALITY_LIMITS = {"electrons": 0.05, "band deviation (eV)": 0.10, "hermiticity (eV)": 1e-6,
                  "symmetry (eV)": 0.02}
SMOKE_LIMITS = {"electrons": 1.0, "band deviation (eV)": 2.0, "hermiticity (eV)": 1e-6, "symmetry (eV)": 0.5}


def pd_model(lcao_result: dict, window=PD_WINDOW) -> W.TBModel:
    """The metal-d + chalcogen-p projected-Wannier model of a cached LCAO result (W-5d + Te-5p for
    WTe2; helpers.dft.materials.pd_projections), from the bands inside `window` (eV relative to E_F)."""
    lo, hi = window
    if not lo < 0 < hi:
        raise ValueError(f"window={window!r}: must be (low, high) eV with low < 0 < high (E_F inside)")
    wanted = pd_projections(atoms_from(lcao_result["inputs"]["atoms"]).get_chemical_symbols())
    return W.model_from_lcao(lcao_result, wanted, tuple(window))


class ModelQualityError(ValueError):
    """A tight-binding model failed a check it must pass before it is used."""


def check_model(model: W.TBModel, lcao_result: dict, atoms, limits: dict | None = None, name: str = "") -> dict:
    """model_quality, enforced: raises ModelQualityError naming every check that exceeds `limits`
    (default QUALITY_LIMITS, or SMOKE_LIMITS for a smoke-profile LCAO result: electron count against
    DFT, band deviation within 1 eV of E_F, Hermiticity, symmetry). Returns the quality dict when
    the model passes."""
    smoke = "cache_entry" in lcao_result and profile_of(Path(lcao_result["cache_entry"]).name) == "smoke"
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
    vectors: helpers.models.wannier.effective_orbitals with a smooth window rising at `e_low` eV."""
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


#: k grid of the downfolding and the Hartree-Fock calculations, per profile.
HF_GRID = {"smoke": [4, 2, 1], "paper": [12, 6, 1]}


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


def d_occupations(model: W.TBModel, n_electrons: float, grid, width: float = 0.02) -> list:
    """Occupation matrices (per spin) of each W-5d shell of a model at its own filling, without
    interaction: the measure shared by the PBE, Hartree-Fock and DFT+U comparisons."""
    hk = model.hk(W.kgrid_points(grid))
    return band_occupations(hk, d_shells(model), n_electrons, width)


def _fermi(e, mu, width):
    x = np.clip((e - mu) / width, -60, 60)
    return 1.0 / (np.exp(x) + 1.0)


def band_occupations(hk: np.ndarray, shells: list, n_electrons: float, width: float = 0.02) -> list:
    """Per shell, the occupation matrix per spin (real) of the bands of `hk` (nk, norb, norb; eV) filled with
    `n_electrons` (both spins) at a Fermi-Dirac width `width` (eV), the chemical potential found by bisection."""
    weight = 1.0 / len(hk)
    e, c = np.linalg.eigh(hk + 0.0)
    lo, hi = e.min() - 10 * width - 1, e.max() + 10 * width + 1
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if 2 * weight * _fermi(e, mid, width).sum() > n_electrons:
            hi = mid
        else:
            lo = mid
    f = _fermi(e, 0.5 * (lo + hi), width)
    return [np.einsum("kin,kn,kjn->ij", c[:, idx, :], f, c[:, idx, :].conj()).real * weight for idx in shells]


#: A measure of the response enters u_scale's range only where the model's Hartree-Fock moves it by at least
#: this (electrons per spin): smaller changes give ratios of noise.
U_SCALE_MIN_RESPONSE = 0.03


def u_scale(occupations: dict, U_eff: float) -> dict:
    """How strongly GPAW's U_eff (Dudarev, on PAW projectors) acts compared with the same Dudarev U_eff
    in Hartree-Fock on the p-d model (Wannier-like d orbitals, as the paper's LDA+U uses), from the
    three occupation sets of helpers.rungs.afo.claims.dftu_occupations (keys 'PBE (U = 0)', 'Hartree-Fock,
    U_eff = ... eV', 'GPAW DFT+U, U_eff = ... eV'), all measured in the model's d orbitals: the drop of
    Tr n(1 - n) from PBE in each, their ratio, and the GPAW U_eff (eV) that would give the model's drop at
    `U_eff` if the response were linear (U_eff / ratio); the same ratio from the other measures of the
    response ('ratio by measure': the spread n1 - n5 and each natural occupation the model moves by at least
    U_SCALE_MIN_RESPONSE), their range and the equivalent GPAW U_eff range (eV). A linear-response estimate
    in the unpolarized state, not a mapping of the ordered states."""
    pick = lambda prefix: next(k for k in occupations if k.startswith(prefix))          # noqa: E731
    s = {name: occupation_summary(occupations[key]) for name, key in
         (("pbe", "PBE (U = 0)"), ("gpaw", pick("GPAW DFT+U")), ("model", pick("Hartree-Fock")))}
    for x in s.values():
        x["n1 - n5"] = x["n1"] - x["n5"]
    d_gpaw = s["pbe"]["Tr n(1-n) (both spins)"] - s["gpaw"]["Tr n(1-n) (both spins)"]
    d_model = s["pbe"]["Tr n(1-n) (both spins)"] - s["model"]["Tr n(1-n) (both spins)"]
    ratio = d_gpaw / d_model if d_model > 0 else float("nan")
    # the same ratio from other measures of the response (the choice of measure is ours): the spread of the
    # natural occupations and each of them, where the model moves it by at least U_SCALE_MIN_RESPONSE
    ratios = {"Tr n(1-n)": ratio}
    for m in ("n1 - n5", "n1", "n2", "n3", "n4", "n5"):
        dm = s["model"][m] - s["pbe"][m]
        if abs(dm) >= U_SCALE_MIN_RESPONSE:
            ratios[m] = (s["gpaw"][m] - s["pbe"][m]) / dm
    good = [r for r in ratios.values() if r > 0]
    lo, hi = (min(good), max(good)) if good else (float("nan"), float("nan"))
    return {"drop, GPAW DFT+U": d_gpaw, "drop, model Hartree-Fock": d_model, "ratio": ratio,
            "GPAW U_eff equivalent (eV)": U_eff / ratio if ratio > 0 else float("nan"),
            "ratio by measure": ratios, "ratio range": (lo, hi), "GPAW U_eff equivalent range (eV)": (U_eff / hi, U_eff / lo)}


def u_scale_text(scale: dict, U_eff: float, unscaled: dict | None = None) -> str:
    """Markdown: what u_scale measured (`scale`, GPAW's default projectors; `unscaled`, the same with its unscaled
    d projectors, ':d,U,0') for the model's (and the paper's Wannier-orbital) U_eff `U_eff` (eV)."""
    lo, hi = scale["GPAW U_eff equivalent range (eV)"]
    out = (f"Measured by the drop of Tr n(1 − n) from PBE in the model's d orbitals, GPAW's $U_\\mathrm{{eff}}$ = {U_eff:g} eV "
           f"acts {scale['ratio']:.2f} times as strongly as the same $U$ in Hartree–Fock on the model: the model's (and the "
           f"paper's Wannier-orbital) {U_eff:g} eV corresponds to about {scale['GPAW U_eff equivalent (eV)']:.1f} eV of GPAW's, "
           "a linear-response estimate in the unpolarized state. The measure is ours: from the spread $n_1 - n_5$ and from "
           f"each natural occupation the model moves by at least {U_SCALE_MIN_RESPONSE:g} the ratio lies between "
           f"{scale['ratio range'][0]:.2f} and {scale['ratio range'][1]:.2f}, so the paper's {U_eff:g} eV corresponds to "
           f"{lo:.1f}–{hi:.1f} eV of GPAW's.")
    if unscaled is not None:
        lo0, hi0 = unscaled["GPAW U_eff equivalent range (eV)"]
        out += (f" With GPAW's unscaled $d$ projectors (':d,U,0', whose occupation matrix counts only the part of the $d$ "
                f"orbitals inside the PAW sphere) the same {U_eff:g} eV acts {unscaled['ratio']:.2f} times as strongly: the "
                f"paper's {U_eff:g} eV is about {unscaled['GPAW U_eff equivalent (eV)']:.1f} eV of that $U_\\mathrm{{eff}}$ "
                f"({lo0:.1f}–{hi0:.1f} eV over the same measures).")
    return out


def occupation_summary(occ: list) -> dict:
    """Natural occupations (per spin, descending) of the first W and its Tr[n(1 - n)] (both spins),
    the quantity Dudarev's U penalizes (0 for integer occupations)."""
    n = occ[0]
    nat = np.sort(np.linalg.eigvalsh(n))[::-1]
    return {**{f"n{i + 1}": float(v) for i, v in enumerate(nat)},
            "total d (both spins)": float(2 * nat.sum()),
            "Tr n(1-n) (both spins)": float(2 * np.trace(n @ (np.eye(len(n)) - n)))}
