"""The energy scales of the ladder, read from the cached `paper` results of each page.

One small function per scale reads the cached results of its rung through the same helpers the
rung's page calls, and returns a `Scale`: name, value (eV, a positive magnitude, per formula unit
unless stated), the page (Sphinx docname) and how it was obtained. A scale whose results are not in
the cache, or that the results do not define (no ordered state, say), raises; `collect` gathers the
scales that exist and states the reason for each one it skips, so the introduction's figure grows as
pages add results. `collect` never computes a cached result: it runs with COMPENDIUM_REQUIRE_CACHE=1
(no DFT, no annealing); what it computes itself is seconds of model algebra (downfolding, one
Hartree-Fock solution per ordered state).

The AFO and FE rungs are being rebuilt (helpers.orbitals); their scales are read here from the
current helpers.orbital_order through `_relaxed_d2_models`, `orbital_polarization`,
`afo_fo_difference` and `dipole_field_coupling`: point those at the new functions.
"""
from __future__ import annotations

import contextlib
import os
from typing import NamedTuple

from . import afe, dft, params, reference, valence
from . import orbital_order as oo
from .cache import CacheMiss
from .captions import cache_entries

#: Boltzmann constant, eV/K (CODATA 2018, exact).
K_B_EV_PER_K = 8.617333262e-5

#: The pages (Sphinx docnames) of the rungs.
PAGES = {"valence": "build/executed/01_valence", "lattice": "build/executed/02_afe_lattice",
         "orbitals": "build/executed/03_afo_order", "dipole": "build/executed/04_fe_dipole"}


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
    page = valence.page_results(material, profile)
    run = page["runs"][page["main"]]
    U = float(run["U_grid"][-1])
    return Scale("on-site charging energy U (W-5d)", U, PAGES["valence"],
                 f"the interaction at which the annealing from U = {run['U_grid'][0]:g} eV ends and the valence "
                 f"is judged ({page['main'].replace(' (main)', '')}); an input of the mean field, not a result",
                 tuple(cache_entries(run)), computed=False)


# --- antiferroelectric lattice (eV scale) -----------------------------------------------------------

def distortion_energy(profile: str, material: str = "WTe2") -> Scale:
    """E(1T) - E(distorted) per formula unit (eV) of the d2 layer, both relaxed with PBE."""
    lattice = afe.relax_layer(material, "d2", params.settings(profile))
    de = afe.energy_gain_per_fu(lattice)
    if de >= 0:
        raise NotAvailable(f"the d2 layer relaxed from a rattled start is not below the 1T layer "
                           f"(ΔE = {1000 * de:+.0f} meV/f.u.): no distortion energy")
    return Scale("AFE distortion energy", -de, PAGES["lattice"],
                 "E(1T) − E(relaxed from a rattled 1T start) of the neutral d2 layer, PBE, per formula unit",
                 tuple(cache_entries(lattice)))


# --- orbital order and its dipole (sub-eV): current helpers.orbital_order ----------------------------

def _relaxed_d2_models(profile: str, material: str = "WTe2", e_low: float = -1.5, width: float = 0.5) -> dict:
    """The AFO page's models of the relaxed d2 layer (current helpers.orbital_order): the cached LCAO,
    the p-d model, the effective W-5d model (`eff`, `coeff`, `R`), the k grid and the cache entries."""
    settings = params.settings(profile)
    lattice = afe.relax_layer(material, "d2", settings)
    lc = dft.lcao(dft.atoms_from(lattice["distorted"]["final"]), settings, f"{material}-relaxed-d2", basis="dzp")
    grid = tuple(oo.HF_GRID[profile])
    model = oo.pd_model(lc)
    eff, coeff, R = oo.downfold_d(model, grid, e_low, width)
    return {"lcao": lc, "model": model, "eff": eff, "coeff": coeff, "R": R, "grid": grid,
            "entries": tuple(cache_entries(lattice["distorted"], lc))}


def orbital_polarization(profile: str, material: str = "WTe2", U: float = 3.0, models: dict | None = None) -> Scale:
    """|E(lowest ordered state) - E(a-a)| per formula unit (eV) of the relaxed d2 layer in restricted
    Hartree-Fock on the p-d model at U (J = 0), if an ordered state distinct from a-a exists there.
    `models`: `_relaxed_d2_models`'s result, if already built."""
    m = models or _relaxed_d2_models(profile, material)
    rows = oo.state_scan(m["model"], oo.patterns(m["eff"]), oo.pd_electrons(m["lcao"]), [U], 0.0, m["grid"])
    if not oo.distinct(rows)[float(U)]:
        raise NotAvailable(f"at U = {U:g} eV every ordered start of the Hartree–Fock on the p–d model of the "
                           f"relaxed d2 layer returns to a-a: no orbital polarization to measure")
    kept = [r for r in rows if r["state"] != "a-a" and r["converged"] and r["survival"] > 0.5]
    best = min(kept, key=lambda r: r["dE_meV_per_fu"])
    sense = "gain" if best["dE_meV_per_fu"] < 0 else "cost (ordered states metastable)"
    return Scale(f"orbital polarization {sense}", abs(best["dE_meV_per_fu"]) / 1000, PAGES["orbitals"],
                 f"E({best['state']}) − E(a-a), the lowest ordered state, restricted Hartree–Fock on the p–d model "
                 f"of the relaxed d2 layer at U = {U:g} eV, J = 0, per formula unit", m["entries"])


def afo_fo_difference(profile: str, material: str = "WTe2", U: float = 3.0, models: dict | None = None) -> Scale:
    """The paper's second-order estimate of AFO against FO per W-W bond along the chain (one bond per
    formula unit): 4 (t_intra^2 - t_inter^2) / U (eV) from the chain hoppings of the effective W-5d
    model of the relaxed d2 layer (helpers.orbital_order.virtual_gain)."""
    m = models or _relaxed_d2_models(profile, material)
    t_intra, t_inter = oo.intra_inter(oo.chain_hoppings(m["eff"], oo.site_orbitals(m["eff"])[0]))
    gain = oo.virtual_gain(t_intra, t_inter, U)
    diff = (gain["AFO_meV"] - gain["FO_meV"]) / 1000
    if diff == 0:
        raise NotAvailable("intra- and inter-orbital hoppings are equal: AFO and FO are degenerate at second order")
    return Scale(f"AFO − FO difference (second order, {'AFO' if diff < 0 else 'FO'} lower)", abs(diff),
                 PAGES["orbitals"],
                 f"4(t_intra² − t_inter²)/U per W–W bond along the chain (one per formula unit), |t_intra| = "
                 f"{t_intra:.3f} eV, |t_inter| = {t_inter:.3f} eV, U = {U:g} eV, effective W-5d model of the relaxed "
                 f"d2 layer: the paper's virtual-hopping argument, not a self-consistent energy", m["entries"])


def dipole_field_coupling(profile: str, material: str = "WTe2", field_V_per_nm: float = 0.1,
                          models: dict | None = None) -> Scale:
    """Splitting (eV per formula unit) of the two AFO switching partners (b-c, c-b) in an out-of-plane
    field: |p_z(b-c) - p_z(c-b)| E_z, from the orbital dipoles of the effective W-5d model."""
    m = models or _relaxed_d2_models(profile, material)
    dip = oo.orbital_dipoles(m["model"], m["coeff"], m["R"], m["eff"], oo.site_orbitals(m["eff"]))
    states = oo.state_dipoles(dip)
    dp = float(states["AFO b-c"][2] - states["AFO c-b"][2])            # e*Angstrom per cell
    n_fu = len(oo.metal_atoms(m["eff"]))
    split = abs(dp) * field_V_per_nm / 10 / n_fu                       # 1 V/nm = 0.1 V/Angstrom
    if split == 0:
        raise NotAvailable("the two AFO partners carry the same out-of-plane dipole: no coupling to E_z")
    return Scale(f"dipole coupling to E_z = {field_V_per_nm:g} V/nm", split, PAGES["dipole"],
                 f"|p_z(AFO b-c) − p_z(AFO c-b)| E_z per formula unit, |Δp_z| = {abs(dp):.4f} e·Å per cell from the "
                 f"orbital dipoles of the effective W-5d model of the relaxed d2 layer; E_z = {field_V_per_nm:g} V/nm "
                 f"is a chosen field (a parameter)", m["entries"])


# --- the ladder -------------------------------------------------------------------------------------

def thermal_energies() -> dict:
    """k_B T (eV) at the ferroelectric ordering temperature of bilayer WTe2 and at the Td-1T'
    transition, the temperatures from data/reference: {label: energy}."""
    out = {}
    for key, what in (("ferroelectric_Tc_K", "ferroelectric order"), ("Td_to_1Tprime_transition_K", "Td–1T′ transition")):
        T = reference.get(key)["value"]
        out[f"k_B T at {T:g} K ({what})"] = K_B_EV_PER_K * T
    return out


@contextlib.contextmanager
def _cache_only():
    """COMPENDIUM_REQUIRE_CACHE=1 inside (a missing result raises CacheMiss), restored after."""
    old = os.environ.get("COMPENDIUM_REQUIRE_CACHE")
    os.environ["COMPENDIUM_REQUIRE_CACHE"] = "1"
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("COMPENDIUM_REQUIRE_CACHE", None)
        else:
            os.environ["COMPENDIUM_REQUIRE_CACHE"] = old


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
        ("AFE distortion energy", PAGES["lattice"], lambda: distortion_energy(profile, material)),
        ("orbital polarization", PAGES["orbitals"], lambda: orbital_polarization(profile, material, U, d2())),
        ("AFO − FO difference", PAGES["orbitals"], lambda: afo_fo_difference(profile, material, U, d2())),
        ("dipole coupling to a field", PAGES["dipole"],
         lambda: dipole_field_coupling(profile, material, field_V_per_nm, d2())),
    ]
    found, skipped = [], []
    with _cache_only():
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


def format_energy(e_eV: float) -> str:
    """An energy for a label: '3.0 eV' from 1 eV up, '648 meV' from 0.1 eV, else two digits in meV."""
    if e_eV >= 1:
        return f"{e_eV:.1f} eV" if e_eV < 10 else f"{e_eV:.0f} eV"
    return f"{1000 * e_eV:.0f} meV" if e_eV >= 0.1 else f"{1000 * e_eV:.2g} meV"


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
