"""DFT+U ordered states on the experimental layer: is the layer's structure a choice the verdicts rest on?

Every DFT+U release of the AFO page runs on the d2 layer relaxed by PBE (helpers.rungs.afe). The paper
calls its structure "consistent with the experiment" without saying on which one the orbital
energies were computed, so the same test is repeated on the experimental 1T' layer
(helpers.dft.structures.monolayer_1Tprime, the "experiment" layer of helpers.rungs.afo):
spin-restricted, the bias within that layer's own a, b, c (the energy-order reading of its own
W-5d model), released at one U_eff with the fine schedule, from the a2a2 control, b2b2, c2c2 and
the unbiased reference. The comparison is the verdict box's: each configuration's constrained energy
against the a2a2 control held as strongly, at equal occupation (helpers.rungs.afo.dftu.findings.control_margins), and
whether any release ends in an ordered state, on this layer beside the relaxed one at the same U_eff.
A check of a choice of ours, kept out of the verdicts: a layer on which the paper's gain is reached
where the relaxed layer's is not says so in its line, and the verdict box shows it.
"""
from __future__ import annotations

import numpy as np

from helpers.store import cache
from . import findings as afo_dftu_findings
from . import plans as afo_dftu_plans
from . import states as afo_dftu_states


#: The layer (helpers.dft.layers.layer_structures, helpers.rungs.afo.dftu.plans.LAYERS) the protocols run on.
LAYER = "experiment"
#: The protocols per profile (helpers.rungs.afo.dftu.plans.annealed_jobs' form, every one with 'layer'); [] computes nothing.
#: 6 eV: the relaxed layer's restricted a2a2 control, b2b2 and c2c2 have their releases there (annealed from
#: 6 eV, bias on a, b, c), so the two layers compare at one U_eff.
SETTINGS = {
    "smoke": [],
    "paper": [{"U_grid": [6.0], **afo_dftu_plans.FINE_RELEASE, "subspace": True, "layer": LAYER,
               "starts": ["unbiased", "a2a2", "b2b2", "c2c2"]}],
}


def protocols(profile: str) -> list:
    """SETTINGS[profile], checked: a known profile, every protocol on LAYER."""
    if profile not in SETTINGS:
        raise ValueError(f"profile={profile!r}: choose from {sorted(SETTINGS)}")
    out = SETTINGS[profile]
    for P in out:
        if P.get("layer") != LAYER:
            raise ValueError(f"layer={P.get('layer')!r} in a protocol of dftu_structure.SETTINGS[{profile!r}]: "
                             f"must be {LAYER!r}")
    return out


def jobs(profile: str, orbitals, metals: list) -> list:
    """The DFT+U jobs of the experimental layer at `profile` (helpers.rungs.afo.dftu.plans.annealed_jobs of `protocols`):
    their 'protocol' labels name the layer, so they never share a row or a control with the relaxed layer's."""
    return afo_dftu_plans.annealed_jobs(profile, orbitals, metals, protocols(profile))


def run(atoms, settings: dict, material: str, orbitals, only_cached: bool = False, select=None) -> list:
    """The jobs on the experimental layer `atoms` through helpers.rungs.afo.dftu.plans.run_annealed (cached under
    '<material>-experiment-anneal<U>-NM'; `only_cached`: skip those not in the cache)."""
    return afo_dftu_plans.run_annealed(atoms, settings, material, orbitals, only_cached=only_cached, select=select,
                                       protocols=protocols(settings["profile"]), layer=LAYER)


def relaxed_protocol(U_eV: float) -> str:
    """The label of the relaxed layer's restricted protocol with the a2a2 control released at `U_eV`."""
    return afo_dftu_plans.annealed_protocol(U_eV, True, "a2a2")


def margins(release: list, protocol: str) -> dict:
    """{start: {n1: E_start - E_a2a2 (meV/f.u.)}} of one protocol's release rows (helpers.rungs.afo.dftu.states.release_rows)
    against its a2a2 control at equal occupation (helpers.rungs.afo.dftu.findings.control_margins), for the starts biased toward b
    or c; a start without a common occupation maps to {}."""
    return {c["start"]: c["margins"] for c in afo_dftu_findings.control_margins(release)
            if c["protocol"] == protocol and c["start"] in afo_dftu_plans.ORDERED_STARTS}


def page_results(material: str, settings: dict, m: dict, readings_: dict, relaxed_jobs: list, gain_meV: float,
                 only_cached: bool | None = None) -> dict:
    """The experimental layer's DFT+U check for the AFO page: its jobs (layer model `m`, targets from its
    `readings_`, helpers.rungs.afo.layers.readings), release rows and margins against the a2a2 control, the
    relaxed layer's margins at the same U_eff from `relaxed_jobs` (the AFO page's annealed jobs; the same starts),
    whether an ordered state survives each release (the released state's reading from its natural orbitals), the planned
    jobs not in the cache ('missing') and the cache entries read. `only_cached` as helpers.rungs.afo.dftu.page.page_results."""
    import contextlib
    import os
    if only_cached is None:
        only_cached = os.environ.get("COMPENDIUM_REQUIRE_CACHE") == "1"
    atoms = m["atoms"]
    metals = [i for i, s in enumerate(atoms.get_chemical_symbols()) if s in ("W", "Mo", "Re")]
    every = {r: np.asarray(x["orbitals"]) for r, x in readings_.items()}
    with cache.cache_only() if only_cached else contextlib.nullcontext():
        done = run(atoms, settings, material, every, only_cached=only_cached)
    n_fu = len(metals)
    release = afo_dftu_states.release_rows(done, n_fu)
    out = {"U (eV)": None, "layers": {}, "missing": [f"{j['state']} ({j['protocol']})" for j in done if j.get("result") is None],
           "gain_meV": gain_meV, "results": [j["result"] for j in done if j.get("result") is not None]}
    if not done:
        return out
    U0 = done[0]["U_grid"][0]
    out["U (eV)"] = U0
    mine = next(j["protocol"] for j in done if j["state"] != "unbiased")
    # the relaxed layer's protocol has more starts: both layers are read on the experimental plan's
    starts = {j["state"] for j in done if j["state"] in afo_dftu_plans.ORDERED_STARTS}
    for name, rel, protocol, js in (("experimental", release, mine, done),
                                    ("relaxed", afo_dftu_states.release_rows(relaxed_jobs, n_fu), relaxed_protocol(U0), relaxed_jobs)):
        ends = {}
        for j in js:
            if j["protocol"] == protocol and j["state"] in starts and j.get("result") is not None:
                st = [s for s in j["result"]["steps"] if s["U_eV"] == U0 and s["lambda_eV"] == 0]
                if st:
                    ends[j["state"]] = afo_dftu_states.step_state(st[0], metals, j.get("orbitals"))["kind"]
        out["layers"][name] = {"protocol": protocol, "released": ends,
                               "margins": {k: v for k, v in margins(rel, protocol).items() if k in starts}}
    return out


def _range(margins_: dict) -> tuple | None:
    """(lowest, highest) of every margin of {start: {n1: meV/f.u.}}; None without any."""
    vals = [v for m in margins_.values() for v in m.values()]
    return (min(vals), max(vals)) if vals else None


def reaches_gain(margins_: dict, gain_meV: float) -> list:
    """The starts of {start: {n1: margin (meV/f.u.)}} with a margin of -|gain_meV| or lower."""
    return [s for s, m in margins_.items() if m and min(m.values()) <= -abs(gain_meV)]


def layer_line(page: dict) -> str:
    """One Markdown line for the AFO page's verdict box: on each layer, the range of the b/c starts' margins
    over the a2a2 control at equal occupation (meV/f.u.), the starts that reach the paper's gain, and what
    the released b/c starts are; the planned starts not yet computed; '' where the profile plans none."""
    if page.get("U (eV)") is None:
        return ""
    gain = page["gain_meV"]
    parts, differ = [], []
    for name, x in page["layers"].items():
        r = _range(x["margins"])
        if not x["margins"]:
            parts.append(f"{name} layer: no b or c start computed with its control")
            continue
        if r is None:
            parts.append(f"{name} layer: no common occupation with the control")
            continue
        beats = reaches_gain(x["margins"], gain)
        differ.append(bool(beats))
        ends = ", ".join(f"{s} {k}" for s, k in x["released"].items())
        parts.append(f"{name} layer {r[0]:+.0f} to {r[1]:+.0f}" + (f", reached by {', '.join(beats)}" if beats else "")
                     + (f" (released: {ends})" if ends else ""))
    head = (f"- **The layer's structure** (a choice of ours: the relaxed d2 layer or the experimental 1T′ layer, "
            f"spin-restricted, $U_\\mathrm{{eff}}$ = {page['U (eV)']:g} eV): filling b or c instead of a at equal "
            f"occupation against the a2a2 control, in meV/f.u. — " + "; ".join(parts)
            + f"; the paper's gain needs {-abs(gain):+.0f} or lower")
    if len(set(differ)) > 1:
        head += ": **the two layers disagree**, so that comparison depends on the structure"
    if page["missing"]:
        head += f". Not computed yet on the experimental layer: {', '.join(page['missing'])}"
    return head + "."
