"""Ising couplings from DFT+U supercells of the ordered states (meV), and their findings."""
from __future__ import annotations

import numpy as np

from helpers.store import params
from helpers.store import reference
from ..afo import layers as afo_layers
from ..afo.dftu import page as afo_dftu_page
from ..afo.dftu import plans as afo_dftu_plans
from .states import _by_state


#: Patterns of the doubled cells (helpers.rungs.afo.ordered names): FO and AFO repeated (a check of the
#: cell: same energy per W as in the primitive cell) and the longer periods.
SUPERCELL_PATTERNS = {(2, 1, 1): ("b2b2", "c2c2", "b2c2", "c2b2", "b2b2|c2c2", "b2c2|c2b2"),
                      (1, 2, 1): ("b2b2", "c2c2", "b2c2", "c2b2", "b2c2|c2b2", "b2b2|c2c2")}


def dftu_couplings(lr: dict, material: str, profile: str) -> dict:
    """What DFT+U with occupation control (the AFO page's branches, read from the cache only) offers the
    pseudo-spin fit (dftu_coupling_groups), with the number of branches read ('computed')."""
    m = lr["m"]
    page = afo_dftu_page.page_results(material, params.settings(profile), m, afo_layers.readings(m, lr["names_from_1T"]),
                                      reference.paper_gain_meV(), only_cached=True)
    return dftu_coupling_groups(page["rows"]) | {"computed": len(page["results"])}


def dftu_coupling_groups(rows: list) -> dict:
    """dftu_couplings from DFT+U state-table rows (helpers.rungs.afo.dftu.states.state_table), without the cache. Per
    (spin treatment, U_eff): the orbitally ordered states (FO or AFO by natural orbitals, whatever
    reading the starts were written in; converged), the ordered starts whose release was controlled
    (their fall-back to the unpolarized state is the method's answer, not the solver's), those whose
    release was not, and E_FO - E_AFO where both kinds exist; and the largest U_eff computed."""
    groups = []
    for key in sorted({afo_dftu_plans.comparable_key(r) for r in rows}, key=lambda k: (k[0], -k[1], k[2])):
        sub = [r for r in rows if afo_dftu_plans.comparable_key(r) == key]
        ordered_ = [r for r in sub if r["state"] in ("FO", "AFO") and r["converged"]]
        best = {k: min((r["ΔE (meV/f.u.)"] for r in ordered_ if r["state"] == k), default=np.nan) for k in ("FO", "AFO")}
        starts = [r for r in sub if r["start"] in afo_dftu_plans.PATTERNS]
        loose = [r for r in sub if r["state"] != "unpolarized" and not r["converged"] and r["start"] in afo_dftu_plans.PATTERNS]
        # converged states ordered on every W whose filled orbitals are neither FO nor AFO at the overlap thresholds
        # (an order of rotated orbitals, helpers.rungs.afo.dftu.readings.reading_identities): named, not fitted
        mixed = [r for r in sub if r["state"] == "mixed" and r["converged"]]
        groups.append({"spin": key[0], "U (eV)": key[1], "numerics": key[2], "starts": sorted({r["start"] for r in sub}),
                       "ordered": [(r["start"], r["state"]) for r in ordered_],
                       "unconverged ordered": [(r["start"], r["state"]) for r in loose],
                       "mixed": [(r["start"], r["overlap W1-W2"], r["ΔE (meV/f.u.)"]) for r in mixed],
                       "controlled": sorted({r["start"] for r in starts if r.get("release controlled", True)}),
                       "not controlled": sorted({r["start"] for r in starts if not r.get("release controlled", True)}
                                                - {r["start"] for r in starts if r.get("release controlled", True)}),
                       "E_FO - E_AFO (meV/f.u.)": best["FO"] - best["AFO"]})
    return {"groups": groups, "U_max (eV)": max((g["U (eV)"] for g in groups), default=None)}


def dftu_findings(d: dict, ordered_U: tuple = ()) -> str:
    """One Markdown line of dftu_couplings: where DFT+U has orbitally ordered states (and their FO - AFO
    difference), or that none survives a controlled release in the range computed, set against the U
    range `ordered_U` (eV) where the mean field has its ordered states: outside the computed range DFT+U
    neither supplies nor excludes couplings."""
    if not d["groups"]:
        return "- DFT+U with occupation control: no branch computed at this profile, so no couplings from it."
    have = [g for g in d["groups"] if g["ordered"]]

    def fmt(gs):
        spins = dict.fromkeys(g["spin"] for g in gs)
        return "; ".join(s + " at U = " + ", ".join(f"{g['U (eV)']:g}" for g in gs if g["spin"] == s) + " eV" for s in spins)
    beyond = ""
    if ordered_U and d["U_max (eV)"] is not None and max(ordered_U) > d["U_max (eV)"]:
        beyond = (f" DFT+U was computed up to U = {d['U_max (eV)']:g} eV in the primitive cell only, while the mean field "
                  f"has its ordered states at {min(ordered_U):g}–{max(ordered_U):g} eV: above {d['U_max (eV)']:g} eV DFT+U "
                  "neither supplies nor excludes couplings.")
    loose = [g for g in d["groups"] if g.get("unconverged ordered")]
    if loose:
        beyond = (" Where the SCF does not converge, an ordered start can persist without being a state: "
                  + "; ".join(f"{g['spin']}, U = {g['U (eV)']:g} eV: "
                              + ", ".join(f"{k} from {s}" for s, k in g["unconverged ordered"]) for g in loose)
                  + " (the density residual stays above 10^-4 at the iteration cap), so none enters a fit." + beyond)
    if not have:
        ctrl = sorted({s for g in d["groups"] for s in g["controlled"]})
        loose = sorted({s for g in d["groups"] for s in g["not controlled"]} - set(ctrl))
        head = ("- DFT+U with occupation control, the paper's own method (AFO page): no converged orbitally ordered state "
                f"survives the release of the bias ({fmt(d['groups'])}; by natural orbitals, so in any reading of a, b, c). ")
        loose_text = f"released without control ({', '.join(loose)}), which decides nothing" if loose else ""
        if ctrl:
            body = (f"The ordered starts released under control ({', '.join(ctrl)}) fall back to the unpolarized state"
                    + (f", as do those {loose_text}" if loose else "")
                    + ": in this range there is no ordered state whose energies a pseudo-spin model could fit.")
        else:
            body = ("No ordered start was released under control" + (f"; those {loose_text}" if loose else "")
                    + ": this range is not decided.")
        return head + body + beyond
    parts = []
    for g in have:
        d_ = g["E_FO - E_AFO (meV/f.u.)"]
        states = ", ".join(f"{k} from {s}" for s, k in g["ordered"])
        parts.append(f"{g['spin']}, U = {g['U (eV)']:g} eV: {states}"
                     + (f" (E_FO − E_AFO = {d_:+.0f} meV/f.u., the one combination of couplings the primitive cell fixes)"
                        if np.isfinite(d_) else "")
                     + (" and mixed states, neither FO nor AFO at the overlap thresholds (" + "; ".join(
                         f"{', '.join(st)} at W1–W2 overlap {o:.2f}, {dE:+.1f} meV/f.u. from the reference"
                         for (o, dE), st in _by_state(g["mixed"]).items()) + "), not fitted" if g.get("mixed") else ""))
    return ("- DFT+U with occupation control, the paper's own method (AFO page), has orbitally ordered states at "
            + "; ".join(parts) + "." + beyond)


def dftu_scorecard_line(d: dict) -> str:
    """The scorecard's DFT+U cell of the ordering-temperature row, from dftu_couplings."""
    if not d["groups"]:
        return "not computed"
    have = [g for g in d["groups"] if g["ordered"]]
    if have:
        return "ordered states at " + "; ".join(f"{g['spin']} U = {g['U (eV)']:g} eV" for g in have) + " (primitive cell only)"
    spans = {}
    for g in d["groups"]:
        spans.setdefault(g["spin"], []).append(g["U (eV)"])
    return ("no converged orbitally ordered state after the bias is released ("
            + "; ".join(f"{s}, U = {max(u):g}–{min(u):g} eV" if len(u) > 1 else f"{s}, U = {u[0]:g} eV" for s, u in spans.items())
            + ", primitive cell): no couplings in that range")
