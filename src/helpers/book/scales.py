"""The energy scales of the ladder, read from the cached `paper` results of each page.

One small function per scale reads the cached results of its rung through the same helpers the
rung's page calls, and returns a `Scale`: name, value (eV, a positive magnitude, per formula unit
unless stated), the page (Sphinx docname) and how it was obtained. A scale whose results are not in
the cache, or that the results do not define (no ordered state, say), raises; `collect` gathers the
scales that exist and states the reason for each one it skips, so the introduction's figure grows as
pages add results. `collect` never computes a cached result: it runs with COMPENDIUM_REQUIRE_CACHE=1
(no DFT, no annealing); what it computes itself is seconds of model algebra (downfolding, z
matrices of the orbitals). The sub-eV scales read the AFO and FE pages' results (helpers.models).
"""
from __future__ import annotations

import numpy as np
from typing import NamedTuple

from ..dft import layers as dft_layers
from ..manybody import bond_table
from ..models import pd as pd_models
from ..rungs.afe import structure as afe_structure
from ..rungs.afo import claims as afo_claims
from ..rungs.afo import dipoles as afo_dipoles
from ..rungs.afo import layers as afo_layers
from ..rungs.transition import findings as transition_findings
from ..rungs.transition import sliding
from ..rungs.transition import states as transition_states
from ..rungs.valence import page as valence_page
from ..store import cache
from ..store import params
from ..store import reference
from ..store.cache import CacheMiss
from .badges import format_energy
from .captions import cache_entries


#: Boltzmann constant, eV/K (CODATA 2018, exact).
K_B_EV_PER_K = 8.617333262e-5

#: The pages (Sphinx docnames: helpers.book.pages.DOC_DIR/<name of helpers.book.pages.PAGES>) of the rungs.
PAGES = {name: f"book/{name}" for name in ("valence", "lattice", "orbitals", "dipole", "generalization", "transition")}


class Scale(NamedTuple):
    """One energy scale: `value_eV` > 0; `computed` is False for an input of a calculation (shown
    for orientation, not a result); `entries` are the cache entries it was read from."""
    name: str
    value_eV: float
    page: str
    how: str
    entries: tuple = ()
    computed: bool = True


class NotAvailable(RuntimeError):
    """The cached results exist but do not define this scale (the message says why)."""


def _check(profile: str, U: float, field_V_per_nm: float) -> None:
    params.settings(profile)                     # ValueError naming the profile if it is unknown
    if not (isinstance(U, (int, float)) and 0 < U <= 20):
        raise ValueError(f"U={U!r}: must be a number of eV in (0, 20]")
    if not (isinstance(field_V_per_nm, (int, float)) and 0 < field_V_per_nm <= 10):
        raise ValueError(f"field_V_per_nm={field_V_per_nm!r}: must be a field in V/nm in (0, 10]")


# --- valence (Rydberg scale) ------------------------------------------------------------------------

def charging_energy(profile: str, material: str = "WTe2") -> Scale:
    """The on-site interaction U (eV) at which the valence page's annealing ends: the charging
    energy of a W-5d shell that the valence is judged at (an input of the mean field, read from the
    cached annealing of the page's default interaction)."""
    page = valence_page.page_results(material, profile)
    run = page["runs"][page["main"]]
    U = float(run["U_grid"][-1])
    return Scale("on-site charging energy U (W-5d)", U, PAGES["valence"],
                 f"the interaction at which the annealing from U = {run['U_grid'][0]:g} eV ends and the valence "
                 f"is judged ({page['main'].replace(' (main)', '')}); an input of the mean field, not a result",
                 tuple(cache_entries(run)), computed=False)


# --- antiferroelectric lattice (eV scale) -----------------------------------------------------------

def distortion_energy(profile: str, material: str = "WTe2") -> Scale:
    """E(1T) - E(distorted) per formula unit (eV) of the d2 layer, both relaxed with PBE."""
    lattice = dft_layers.relax_layer(material, "d2", params.settings(profile))
    de = afe_structure.energy_gain_per_fu(lattice)
    if de >= 0:
        raise NotAvailable(f"the d2 layer relaxed from a rattled start is not below the 1T layer "
                           f"(ΔE = {1000 * de:+.0f} meV/f.u.): no distortion energy")
    return Scale(f"AFE distortion energy, 1T′-{material}", -de, PAGES["lattice"],
                 "E(1T) − E(relaxed from a rattled 1T start) of the neutral d2 layer, PBE, per formula unit",
                 tuple(cache_entries(lattice)))


def candidate_distortion_energy(profile: str, material: str = "MoTe2") -> Scale:
    """E(1T) - E(1T') per formula unit (eV) of a computed candidate of the generalization page
    (helpers.dft.layers.relax_computed: both layers relaxed with PBE)."""
    r = dft_layers.relax_computed(material, params.settings(profile))
    de = afe_structure.energy_gain_per_fu({"1T": r["1T"], "distorted": r["1Tprime"]})
    if de >= 0:
        raise NotAvailable(f"the relaxed 1T′ {material} layer is not below its 1T layer "
                           f"(ΔE = {1000 * de:+.0f} meV/f.u.): no distortion energy")
    return Scale(f"AFE distortion energy, 1T′-{material}", -de, PAGES["generalization"],
                 f"E(1T) − E(1T′) of the {material} layer, both relaxed with PBE, per formula unit; the 1T′ layer "
                 "relaxed from WTe2's experimental layer with the metal substituted (the WTe2 number: from a rattled 1T "
                 "start), the 1T reference built as for WTe2 (generalization page)", tuple(cache_entries(r)))


# --- orbital order and its dipole (sub-eV): helpers.models ----------------------------------------

#: The AFO page's defaults, which the scales read back from the cache.
SUB_EV = {"e_low": -1.5, "width": 0.5, "reading": "energy order", "Us": [2.0, 3.0, 4.0, 6.0],
          "Js": [0.0, 0.3, 0.5, 0.8]}


def _relaxed_d2_models(profile: str, material: str = "WTe2") -> dict:
    """The AFO page's checked model of the relaxed d2 layer (helpers.rungs.afo.layers.layer_models,
    the LCAO run with z matrices), and its cache entries."""
    settings = params.settings(profile)
    grid = tuple(pd_models.HF_GRID[profile])
    m = afo_layers.layer_models(material, settings, "dzp", grid, SUB_EV["e_low"], SUB_EV["width"], moments=True,
                                names=("relaxed d2",))["relaxed d2"]
    m["entries"] = tuple(cache_entries(m["lcao"]))
    return m


def orbital_polarization(profile: str, material: str = "WTe2", U: float = 3.0, models: dict | None = None) -> Scale:
    """The crystal-field scale of the orbitals a, b, c (the AFO page's main reading): the spread of
    their levels (eV) on W1 of the relaxed d2 layer, which orbital polarization has to overcome."""
    m = models or _relaxed_d2_models(profile, material)
    x = afo_layers.readings(m)[SUB_EV["reading"]]
    spread = float(np.ptp(x["energies_eV"]))
    return Scale("crystal-field spread of a, b, c", spread, PAGES["orbitals"],
                 f"max − min of the levels of a, b, c (reading: {SUB_EV['reading']}) of the effective W-5d model of "
                 f"the relaxed d2 layer", m["entries"])


def afo_fo_difference(profile: str, material: str = "WTe2", U: float = 3.0, models: dict | None = None) -> Scale:
    """The virtual-hopping part of E(AFO) - E(FO) per formula unit (eV): exact second order in the W-W
    hoppings summed over all bonds up to 5 Angstrom (helpers.manybody, the AFO page's cached
    scan), lower AFO minus lower FO pattern, at U and J = 0 eV, main reading (no crystal-field cost)."""
    m = models or _relaxed_d2_models(profile, material)
    orbs = afo_layers.orbitals_for(m, SUB_EV["reading"])
    res = bond_table.cached_scan(f"{material}-relaxed-d2", profile, m["eff"], orbs, SUB_EV["Us"], SUB_EV["Js"], h=afo_claims.PIN_FIELD)
    t = [t for t in res["tables"] if abs(t["U_eV"] - U) < 1e-9 and t["J_eV"] == 0.0]
    if not t:
        raise NotAvailable(f"U = {U:g} eV is not in the AFO page's bond scan {SUB_EV['Us']}")
    e2 = bond_table.per_formula_unit(t[0]["rows"])["E2 (meV/f.u.)"]         # virtual-hopping part only
    diff = (min(e2["AFO b-c"], e2["AFO c-b"]) - min(e2["FO b-b"], e2["FO c-c"])) / 1000
    return Scale(f"AFO − FO difference (second order, {'AFO' if diff < 0 else 'FO'} lower)", abs(diff),
                 PAGES["orbitals"],
                 f"exact second-order virtual-hopping energy summed over the W–W bonds of a cell (lower AFO minus lower FO, "
                 f"crystal-field cost not included), U = {U:g} eV, J = 0, "
                 f"per formula unit (reading: {SUB_EV['reading']})", m["entries"] + tuple(cache_entries(res)))


def dipole_field_coupling(profile: str, material: str = "WTe2", field_V_per_nm: float = 0.1,
                          models: dict | None = None) -> Scale:
    """Splitting (eV per formula unit) of the two AFO switching partners (b2c2, c2b2) in an out-of-plane
    field: |p_z(b2c2) - p_z(c2b2)| E_z, with the orbital dipoles from the z matrices (helpers.models.moments)."""
    m = models or _relaxed_d2_models(profile, material)
    rows = [r for r in afo_dipoles.orbital_dipole_rows(m, 1.0) if r["W"] == 1 and r["reading"] == SUB_EV["reading"]]
    p = {r["orbital"]: r["p_z (e·Å)"] for r in rows}
    dp = 2 * abs(p["b"] - p["c"])                                       # e*Angstrom per cell
    n_fu = len(pd_models.metal_atoms(m["eff"]))
    split = dp * field_V_per_nm / 10 / n_fu                            # 1 V/nm = 0.1 V/Angstrom
    if split == 0:
        raise NotAvailable("the two AFO partners carry the same out-of-plane dipole: no coupling to E_z")
    return Scale(f"dipole coupling to E_z = {field_V_per_nm:g} V/nm", split, PAGES["dipole"],
                 f"|p_z(b2c2) − p_z(c2b2)| E_z per formula unit, |Δp_z| = {dp:.4f} e·Å per cell from the z matrices of "
                 f"the Bloch states (reading: {SUB_EV['reading']}); E_z = {field_V_per_nm:g} V/nm is a chosen field",
                 m["entries"])


# --- temperatures: the orbital order's T_c and the sliding barrier -------------------------------------

def ordering_temperature(profile: str, material: str = "WTe2", U: float = 3.0) -> Scale:
    """k_B T_c (eV) of the orbital order: Onsager's T_c of the pseudo-spin couplings fitted to the
    annealed mean-field states (helpers.rungs.transition), at U if ordered states exist there, else
    at the smallest U where they do (said in `how`)."""
    lr = transition_findings.layer_runs(material, profile, "local octahedral frame")
    _, fits = transition_states.fits(lr)
    Us = transition_findings.U_range(fits)
    if not Us:
        raise NotAvailable("no b/c-ordered state survives in the annealed runs: no coupling to fit")
    at = U if any(abs(u - U) < 1e-9 for u in Us) else min(Us)
    T = next(r["T_c Onsager (K)"] for r in fits if abs(r["U (eV)"] - at) < 1e-9)
    where = f"at U = {at:g} eV" + ("" if at == U else f", the smallest U with ordered states (none at {U:g} eV)")
    return Scale("orbital-order scale of the mean field (k_B T_c)", K_B_EV_PER_K * T, PAGES["transition"],
                 f"Onsager's T_c = {T:.0f} K of the pseudo-spin couplings fitted to the mean field {where}; the "
                 "couplings hold the whole AFO–FO difference of the model, so this is the scale on which its order "
                 "would disorder by flipping orbitals, not a prediction of the transition temperature",
                 tuple(cache_entries([r for r, _ in lr["runs"].values()])))


def sliding_barrier(profile: str, material: str = "WTe2") -> Scale:
    """The barrier (eV per bilayer cell) of the rigid slide between the two polar stackings of the Td
    bilayer, PBE + D3(BJ) (helpers.rungs.transition.sliding)."""
    sl = sliding.page_results(material, params.settings(profile))
    b = sl["barrier"]["barrier (meV/cell)"]
    return Scale("interlayer sliding barrier", b / 1000, PAGES["transition"],
                 f"PBE + D3(BJ), rigid slide of the Td bilayer, per cell of four formula units "
                 f"({b / 4:.2f} meV per formula unit)", tuple(cache_entries(*sl["results"])))


# --- the ladder -------------------------------------------------------------------------------------

def thermal_energies() -> dict:
    """k_B T (eV) at the ferroelectric ordering temperature of bilayer WTe2 and at the Td-1T'
    transition, the temperatures from data/reference: {label: energy}."""
    out = {}
    for key, what in (("ferroelectric_Tc_K", "ferroelectric order"), ("Td_to_1Tprime_transition_K", "Td–1T′ transition")):
        T = reference.get(key)["value"]
        out[f"k_B T at {T:g} K ({what})"] = K_B_EV_PER_K * T
    return out


def collect(profile: str, material: str = "WTe2", U: float = 3.0, field_V_per_nm: float = 0.1) -> dict:
    """Every scale of the ladder whose results are in the cache, largest first. Returns {'scales':
    [Scale], 'skipped': [(name, page, reason)], 'thermal': thermal_energies()}. `U` (eV) is the
    interaction of the orbital rung, `field_V_per_nm` the field of the dipole coupling."""
    _check(profile, U, field_V_per_nm)
    built: dict = {}

    def d2() -> dict:                    # the relaxed d2 layer's models, built once for three scales
        if "models" not in built:
            built["models"] = _relaxed_d2_models(profile, material)
        return built["models"]

    ladder = [
        ("on-site charging energy U (W-5d)", PAGES["valence"], lambda: charging_energy(profile, material)),
        (f"AFE distortion energy, 1T′-{material}", PAGES["lattice"], lambda: distortion_energy(profile, material)),
    ]
    if material != "MoTe2":                # the generalization page's computed candidate, beside the material
        ladder.append(("AFE distortion energy, 1T′-MoTe2", PAGES["generalization"],
                       lambda: candidate_distortion_energy(profile)))
    ladder += [
        ("orbital polarization", PAGES["orbitals"], lambda: orbital_polarization(profile, material, U, d2())),
        ("AFO − FO difference", PAGES["orbitals"], lambda: afo_fo_difference(profile, material, U, d2())),
        ("dipole coupling to a field", PAGES["dipole"],
         lambda: dipole_field_coupling(profile, material, field_V_per_nm, d2())),
        ("orbital-order scale of the mean field", PAGES["transition"], lambda: ordering_temperature(profile, material, U)),
        ("interlayer sliding barrier", PAGES["transition"], lambda: sliding_barrier(profile, material)),
    ]
    found, skipped = [], []
    with cache.cache_only():
        for name, page, scale in ladder:
            try:
                found.append(scale())
            except CacheMiss as miss:
                entry = getattr(miss, "entry", None)
                skipped.append((name, page, "its results are not in the cache"
                                + (f" (missing: `{entry}`)" if entry else "") + "; its page computes them"))
            except NotAvailable as why:
                skipped.append((name, page, str(why)))
    return {"scales": sorted(found, key=lambda s: -s.value_eV), "skipped": skipped, "thermal": thermal_energies()}


def table_markdown(collected: dict) -> str:
    """MyST Markdown table of `collect`'s result: each scale with its value (meV), how it was
    obtained and a link to its page; skipped scales with the reason; the thermal energies."""
    lines = ["| scale | value | how it was obtained | page |", "|:---|---:|:---|:---|"]

    def esc(text: str) -> str:
        return text.replace("|", "\\|")

    for s in collected["scales"]:
        tag = "" if s.computed else " (input)"
        lines.append(f"| {esc(s.name)}{tag} | {format_energy(s.value_eV)} | {esc(s.how)} | {{doc}}`/{s.page}` |")
    for name, page, reason in collected["skipped"]:
        lines.append(f"| {esc(name)} | — | not shown: {esc(reason)} | {{doc}}`/{page}` |")
    for label, e in collected["thermal"].items():
        lines.append(f"| {esc(label)} | {format_energy(e)} | k_B times the measured temperature (data/reference) | — |")
    return "\n".join(lines)
