"""The DFT+U verdicts on the AFO claims, with the reasons a claim stays open and the threshold each rests on."""
from __future__ import annotations

import re

from helpers.dft.branch_steps import RESIDUAL_OK_LOG10, RESIDUAL_STRICT_LOG10
from helpers.models import natural as nat
from helpers.rungs.robustness import robust_to_threshold
from .plans import MAIN_READING, MIRROR_IMAGES, NON_MAGNETIC_MUB, ORDERED_STARTS, PROTOCOL_DIRECT, RELEASE_LAST_MAX, comparable_key
from .states import NON_POLAR_EA, ORDERED, _a_ordered, survival_line


def verdicts(rows: list, gain_meV: float, a_lowest: dict | None = None) -> list:
    """The paper's sub-eV energy claims judged on the DFT+U states, per (spin treatment, U):
    per protocol (biased at that U, or annealed from a larger U):
    (i) 'polarization gain': a state ordered on every W (ORDERED: FO, AFO or mixed, not one W alone) filling b or
    c (b + c > 0.5 in each W's filled orbital) lies at least `gain_meV` (the paper's gain, meV/f.u.) below
    the unpolarized one; (ii) 'AFO lowest': of the ordered states the lowest is AFO, a claim that
    needs both an FO and an AFO state to survive (otherwise it is undetermined, not failed).
    In a reading whose unpolarized reference already fills b and c (b + c > 0.5 in its filled orbital,
    read from a start of that reading that fell back into it), (i) is undetermined: there is no a^2 state.
    A start that fell back to the unpolarized state counts against the paper only when its release
    was a controlled one (every intermediate step converged, and the bias went to zero from at most
    RELEASE_LAST_MAX); otherwise the fall-back may be the protocol's and the claim stays undetermined. A
    decisive start that ended unconverged and still ordered leaves both claims undetermined, and nothing is
    reproduced against a reference that did not converge. The decisive starts are b2b2, c2c2
    and b2c2 (c2b2 is b2c2's inversion image, a check of the code, not a further test), less the
    mirror images of the reading (MIRROR_IMAGES).
    `a_lowest` ({reading: whether a is its lowest on-site level}): in a reading where a is not, the gain is
    undetermined too (the a^2 -> b^2 comparison is that reading's crystal-field order, not a gain).
    Rows {spin, U, protocol, reading, claim, outcome, by continuation, evidence}."""
    out = []
    rows = [r for r in rows if not r.get("convergence check")]       # numerics checks: numerics_convergence
    proto = lambda r: r.get("protocol", PROTOCOL_DIRECT)
    groups = {comparable_key(r) + (proto(r),) for r in rows
              if r["start"] != "unbiased" or proto(r) == PROTOCOL_DIRECT}
    for spin, U, numerics, protocol in sorted(groups, key=lambda k: (k[0], -k[1], k[3])):
        # the group's reading: its biased starts' (an annealed protocol has one; the direct one, the main reading)
        reading = next((r["reading"] for r in rows if comparable_key(r) == (spin, U, numerics) and proto(r) == protocol
                        and r["start"] != "unbiased" and protocol != PROTOCOL_DIRECT), MAIN_READING)
        # the protocol's own branches, and the unbiased reference at this spin treatment, U and numerics by any protocol
        # (also as read in the group's reading, reference_rereads: there it may be an order of that reading's b and c)
        sub = [r for r in rows if comparable_key(r) == (spin, U, numerics)
               and (proto(r) == protocol or ((r["start"] == "unbiased" or r.get("re-read")) and protocol != PROTOCOL_DIRECT))
               and (not r.get("re-read") or r["reading"] == reading)]
        tried = {r["start"] for r in sub if r["reading"] == MAIN_READING or protocol != PROTOCOL_DIRECT}
        decisive = {"b2b2", "c2c2", "b2c2"} - set(MIRROR_IMAGES.get(reading, {}))
        # the reference read in this reading's a, b, c (a start of the reading that fell back into it): where its
        # filled orbital is already mostly b and c, the paper's a^2 -> b^2 comparison has no a^2 state to start from
        ref_bc = [r["b + c in filled orbitals"] for r in sub if r["reading"] == reading and r["start"] != "unbiased"
                  and r.get("= unbiased state") and r["converged"]]
        # states that count: converged and polarized toward b or c on every W (ORDERED; an ordered state of a is not the
        # paper's, nor one that orders a single W, the other W unlike it)
        # (a start that fell back into an unbiased state counts through that state's own row, once)
        polarized = [r for r in sub if r["state"] in ORDERED and r["converged"] and r["b + c in filled orbitals"] > 0.5
                     and (r["start"] == "unbiased" or r.get("re-read") or not r["= unbiased state"])]
        ordered_ = [r for r in polarized if r["state"] in ("FO", "AFO")]
        # a converged reference that fills neither b nor c: the unbiased state, or an ordered start that fell back
        # into the unpolarized state (where the unbiased SCF itself stalls)
        ref_ok = any((r["start"] == "unbiased" or r["state"] == "unpolarized" or _a_ordered(r)) and r["converged"]
                     and r["b + c in filled orbitals"] <= 0.5 for r in sub)
        fell = [r for r in sub if r["start"] in decisive | {"c2b2"} and not r.get("re-read")
                and (r["state"] == "unpolarized" or r["= unbiased state"])]
        # ended converged but ordered on one W only: not the paper's state; like a fall-back, it counts against the
        # paper only after a controlled release
        partly = [r for r in sub if r["start"] in decisive | {"c2b2"} and r["converged"] and r not in fell
                  and r["state"] not in ORDERED and r["state"] != "unpolarized"]
        stalled = [r["start"] for r in fell + partly if not r["release controlled"]]
        # ended ordered after a release that was not controlled: what it ended in may be the solver's path, and the
        # state it stepped over (an FO that turned AFO as the bias weakened) is not known to be unstable
        loose = [r["start"] for r in sub if r["start"] in decisive | {"c2b2"} and r["converged"] and r not in fell
                 and r["state"] in ORDERED and r["release controlled"] is False]
        # a decisive start that ended neither converged nor back in the unpolarized state: its final state is
        # unknown, so it can neither count for the paper nor against it
        unsettled = [r["start"] for r in sub if r["start"] in decisive | {"c2b2"} and not r["converged"]
                     and r["state"] != "unpolarized"]
        note = f"starts tried: {', '.join(sorted(tried))}"
        U0 = re.match(r"annealed from ([0-9.]+) eV", protocol)
        if U0 and U < float(U0.group(1)):
            note = (f"biased and released at {float(U0.group(1)):g} eV only, here by continuation of the released "
                    f"states; " + note)
        if [r for r in fell if r["state"] == "unpolarized"]:
            note += f"; fell back to the unpolarized state: {', '.join(r['start'] for r in fell if r['state'] == 'unpolarized')}"
        if [r for r in fell if r["state"] != "unpolarized"]:
            note += ("; fell back to the unbiased state, ordered itself: "
                     + ", ".join(f"{r['start']} ({r['state']})" for r in fell if r["state"] != "unpolarized"))
        if partly:
            note += f"; ended ordered on one W only: {', '.join(r['start'] for r in partly)}"
        if stalled:
            note += (f" (release not controlled, a step short of convergence, the bias dropped from above "
                     f"{RELEASE_LAST_MAX:g} eV, or the order held until the last bias was removed: {', '.join(stalled)})")
        if loose:
            note += f"; ended ordered after a release that was not controlled: {', '.join(loose)}"
        if unsettled:
            note += f"; ended unconverged and still ordered: {', '.join(unsettled)}"
        if not ref_ok:
            note += "; no converged reference that fills neither b nor c"
        best = min(polarized, key=lambda r: r["ΔE (meV/f.u.)"]) if polarized else None
        best_ord = min(ordered_, key=lambda r: r["ΔE (meV/f.u.)"]) if ordered_ else None
        controlled = not decisive & set(stalled + loose) and not decisive & set(unsettled)
        all_tried = decisive <= tried and ref_ok
        if ref_bc and min(ref_bc) > 0.5:
            gain = ("undetermined", f"in this reading the unbiased reference already fills b and c (b + c = {min(ref_bc):.2f} "
                    "in its filled orbital): there is no a² state to measure the gain from")
        elif a_lowest is not None and a_lowest.get(reading) is False:
            gain = ("undetermined", f"in this reading a is not the lowest on-site level: filling b or c instead of a is its "
                    "crystal-field order, not the paper's gain")
        elif best is not None and -best["ΔE (meV/f.u.)"] >= gain_meV and ref_ok:
            gain = ("reproduced", f"{best['state']} state from {best['start']} at {best['ΔE (meV/f.u.)']:+.0f} meV/f.u.")
        elif all_tried and controlled:
            gain = ("not reproduced", "no polarized state below the unpolarized one by the paper's gain"
                    + (f" (lowest: {best['state']} from {best['start']}, {best['ΔE (meV/f.u.)']:+.0f} meV/f.u.)" if best else ""))
        elif all_tried:
            gain = ("undetermined", "every decisive start computed, but a release was not controlled or a start ended "
                    "unconverged: the outcome may be the solver's")
        elif best is not None and -best["ΔE (meV/f.u.)"] >= gain_meV:
            gain = ("undetermined", f"{best['state']} state from {best['start']} at {best['ΔE (meV/f.u.)']:+.0f} meV/f.u., "
                    "but against no converged reference that fills neither b nor c")
        else:
            gain = ("undetermined", "not every b/c pattern started"
                    + (f" (lowest so far: {best['state']} from {best['start']}, {best['ΔE (meV/f.u.)']:+.0f} meV/f.u.)" if best else ""))
        kinds = {r["state"] for r in ordered_}
        # the ranking of the ordered states needs every pattern, not a reference that fills neither b nor c (in a
        # reading where every state fills b and c there is none, and FO and AFO can still be ranked)
        ranked = decisive <= tried
        if ranked and not controlled:
            afo = ("undetermined", "a release was not controlled or a start ended unconverged: the states to rank are "
                   "not all known")
        elif best_ord is not None and ranked and kinds == {"FO", "AFO"}:
            afo = ("reproduced" if best_ord["state"] == "AFO" else "not reproduced",
                   f"lowest ordered state: {best_ord['state']} from {best_ord['start']} "
                   f"({best_ord['ΔE (meV/f.u.)']:+.0f} meV/f.u. from the unpolarized state; p_z {best_ord['p_z (e·Å)']:+.4f} e·Å"
                   + (", non-polar: not the paper's ferroelectric AFO" if best_ord["state"] == "AFO"
                      and abs(best_ord["p_z (e·Å)"]) < NON_POLAR_EA else "") + ")")
        elif best_ord is not None and ranked:
            mixed = [r for r in polarized if r["state"] == "mixed"]
            afo = ("undetermined", f"only {best_ord['state']} states of b or c survive the release: nothing to rank them against"
                   + (f" (besides mixed states, W1–W2 overlap {min(r['overlap W1-W2'] for r in mixed):.2f}, from "
                      f"{', '.join(r['start'] for r in mixed)}, at {min(r['ΔE (meV/f.u.)'] for r in mixed):+.1f} meV/f.u. "
                      f"against the {best_ord['state']}'s {best_ord['ΔE (meV/f.u.)']:+.1f}: another AFO threshold may rank them)"
                      if mixed else ""))
        elif best_ord is None and ranked:
            afo = ("undetermined", "no ordered state of b or c survives the release: nothing to compare")
        else:
            afo = ("undetermined", "FO and AFO patterns not all started")
        # continued from a larger U: whether anything ordered was left to carry (else these rows repeat the reference)
        carried = None
        if U0 and U < float(U0.group(1)):
            # what counts as carried is what counts as polarized here: a b/c start that left the reference
            at0 = [r for r in rows if proto(r) == protocol and r["start"] in ORDERED_STARTS
                   and comparable_key(r) == (spin, float(U0.group(1)), numerics)]
            carried = any(r["state"] != "unpolarized" and r["b + c in filled orbitals"] > 0.5
                          and not r.get("= unbiased state") for r in at0)
        # spin-polarized against a non-magnetic reference equal to the restricted one: a repeat of the restricted result
        moments = [r["|m| (μB)"] for r in sub if r["start"] == "unbiased" and r["converged"]]
        non_magnetic = spin == "polarized" and bool(moments) and max(moments) < NON_MAGNETIC_MUB and not any(
            r["|m| (μB)"] >= NON_MAGNETIC_MUB for r in sub if r["converged"])
        for claim, (outcome, why) in (("polarization gain", gain), ("AFO lowest", afo)):
            out.append({"spin": spin, "U (eV)": U, "protocol": protocol, "reading": reading, "claim": claim, "outcome": outcome,
                        "by continuation": bool(U0 and U < float(U0.group(1))), "carried ordered": carried,
                        "non-magnetic": non_magnetic, "evidence": f"{why}; {note}; reading of a, b, c: {reading}"})
    return out


def claim_summary(verdict_rows: list, claim: str) -> str:
    """One line for the scorecard's DFT+U column (energy-order reading of a, b, c): per spin treatment and
    protocol, the U_eff values (eV) of each outcome where the bias was released, and those it was carried
    to by continuation, e.g. 'restricted, annealed from 6 eV: not reproduced at U = 6 (carried by
    continuation to 5, 4, 3)'."""
    sel = [r for r in verdict_rows if r["claim"] == claim]
    parts = []
    for spin, protocol in dict.fromkeys((r["spin"], r.get("protocol", PROTOCOL_DIRECT)) for r in sel):
        sub = [r for r in sel if (r["spin"], r.get("protocol", PROTOCOL_DIRECT)) == (spin, protocol)]
        by = {}
        for r in sub:
            by.setdefault(r["outcome"], ([], []))[bool(r.get("by continuation"))].append(f"{r['U (eV)']:g}")
        said = [f"{o} at U = {', '.join(at)}" + (f" (carried by continuation to {', '.join(cont)})" if cont else "")
                if at else f"{o} at U = {', '.join(cont)} (by continuation)" for o, (at, cont) in by.items()]
        parts.append(f"{spin}, {protocol}: " + "; ".join(said))
    return ("energy-order reading of a, b, c unless named — " + " | ".join(parts)) if parts else "not computed"


def _U_range(values) -> str:
    """U_eff values (eV) as '3' or '3–6 eV' (the range they span)."""
    v = sorted({float(x) for x in values})
    return f"{v[0]:g} eV" if len(v) == 1 else f"{v[0]:g}–{v[-1]:g} eV"


def claim_verdict(verdict_rows: list, claim: str) -> str:
    """The DFT+U verdict on `claim` ('polarization gain' or 'AFO lowest') over every spin treatment,
    U_eff and protocol computed (the rows of `verdicts`), as a short scorecard verdict string:
    'undetermined (flips: …)' where rows that decide disagree (the verdict changes with a choice of
    ours), 'undetermined (why)' where none decides; otherwise the outcome the deciding rows share, with
    per spin treatment and reading the U_eff range where it was decided by a release and where only by
    continuation of states released at a larger U_eff, and how many protocols are still undecided and
    why (claim_summary gives every protocol); 'not computed here' without rows."""
    sel = [r for r in verdict_rows if r["claim"] == claim]
    if not sel:
        return "not computed here"
    proto = lambda r: r.get("protocol", PROTOCOL_DIRECT)

    def where(rows) -> str:
        """Per spin treatment and reading: the U_eff where the bias was released, and those the released states
        were carried to by continuation (not released there)."""
        parts = []
        for spin, reading in dict.fromkeys((r["spin"], r.get("reading", MAIN_READING)) for r in rows):
            mine = [r for r in rows if (r["spin"], r.get("reading", MAIN_READING)) == (spin, reading)]
            rel = [r["U (eV)"] for r in mine if not r.get("by continuation")]
            cont = [r["U (eV)"] for r in mine if r.get("by continuation") and r.get("carried ordered") is not False]
            empty = [r["U (eV)"] for r in mine if r.get("by continuation") and r.get("carried ordered") is False]
            said = (f"released at U_eff {', '.join(f'{U:g}' for U in sorted(set(rel)))} eV"
                    + (f", carried by continuation to {_U_range(cont)}" if cont else "")
                    if rel else f"at U_eff {_U_range(cont)} by continuation only" if cont else "")
            if empty:   # every start already unpolarized where released: the rows below repeat the reference
                said += (", " if said else "") + f"nothing ordered left to carry to {_U_range(empty)}"
            if all(r.get("non-magnetic") for r in mine) and spin == "polarized":
                said += " (non-magnetic there: a repeat of the restricted result)"
            parts.append(f"{spin}, {reading} reading: {said}")
        return "; ".join(parts)

    decided = {o: [r for r in sel if r["outcome"] == o] for o in ("reproduced", "not reproduced")}
    open_ = [r for r in sel if r["outcome"] not in decided]
    why = open_reasons(open_)
    if decided["reproduced"] and decided["not reproduced"]:
        return (f"undetermined (flips: reproduced for {where(decided['reproduced'])}; "
                f"not reproduced for {where(decided['not reproduced'])})")
    if not (decided["reproduced"] or decided["not reproduced"]):
        return f"undetermined ({why}; {where(open_)})"
    outcome = "reproduced" if decided["reproduced"] else "not reproduced"
    n_open = len({(r["spin"], proto(r)) for r in open_} - {(r["spin"], proto(r)) for r in decided[outcome]})
    tail = f"; {n_open} more protocol{'s' if n_open != 1 else ''} undecided: {why}" if n_open else ""
    # the reading of a, b, c is a choice of ours: a verdict that only some readings decide says which
    read_in = {r.get("reading", MAIN_READING) for r in decided[outcome]}
    if read_in != {r.get("reading", MAIN_READING) for r in sel}:
        tail += f"; decided in the {', '.join(sorted(read_in))} reading only"
    return f"{outcome} ({where(decided[outcome])}{tail})"


#: An undecided protocol's reason (the first clause of its evidence) by kind, the first whose phrase it contains: what
#: the solver left open, a reading without the paper's a^2, a protocol that does not start every pattern (by its plan, or
#: because a planned start is not computed yet: the page lists those apart), what the computed states say.
REASON_KINDS = {"the solver": ("a release was not controlled", "no converged reference"),
                "the reading": ("in this reading the unpolarized reference", "in this reading a is not the lowest"),
                "the protocol's starts": ("not every b/c pattern started", "not all started"),
                "the computed states": ("survive",)}


def open_reasons(open_rows: list) -> str:
    """The reasons of undecided verdict rows (the first clause of each evidence), grouped by REASON_KINDS and
    named by kind, so that what the states show, what is missing and what the solver left open are not blended."""
    reasons = list(dict.fromkeys(r["evidence"].split(";")[0].split(":")[0].split(" (")[0] for r in open_rows))
    groups = {}
    for x in reasons:
        kind = next((k for k, keys in REASON_KINDS.items() if any(key in x for key in keys)), "")
        groups.setdefault(kind, []).append(x)
    return "; ".join(f"{k}: {', '.join(v)}" if k else ", ".join(v) for k, v in groups.items())


#: The paper's two energy claims of the sub-eV rung as the verdict lines of the DFT+U section name them.
CLAIM_WORDS = {"polarization gain": "doubly occupying $b$ or $c$ instead of $a$ lowers the energy by more than the paper's gain",
               "AFO lowest": "of the ordered states, the antiferro-orbital one is the lowest"}


#: Polarization thresholds (natural.GAP_MIN is the main one: n1 - n2 of a W's natural occupations) at which the
#: DFT+U verdicts are read again: at U_eff = 6 eV the unpolarized reference has n1 - n2 = 0.27-0.30, near 0.3.
GAP_CHECKS = (0.2, 0.4)


def robust_claim_verdict(verdict_rows: list, claim: str, threshold_checks: dict | None = None,
                         residual_checks: dict | None = None, overlap_checks: dict | None = None) -> str:
    """claim_verdict, made undetermined where the outcome (its first words) changes with the polarization
    threshold (`threshold_checks`: {gap_min: {claim: claim_verdict}}, page_results' 'threshold checks'), with the
    largest W1-W2 overlap that reads AFO (`overlap_checks`, {afo_max: ...}, 'overlap checks') or with
    the density residual a step stopped at its cap may end with and still count (`residual_checks`:
    {log10 residual: {claim: claim_verdict}}, page_results' 'residual checks')."""
    base = claim_verdict(verdict_rows, claim)
    # a flip keeps what the verdict at the page's own thresholds rests on
    kept = lambda v: f"{v[:-1]}; at the page's thresholds: {base})" if base.partition(" (")[2] else v   # noqa: E731
    v = robust_to_threshold(base, nat.GAP_MIN, {g: x[claim] for g, x in (threshold_checks or {}).items()},
                            "the polarization threshold of the natural occupations", "n1 − n2 ≥ ")
    if v.startswith("undetermined (flips with"):
        return kept(v)
    v = robust_to_threshold(v, nat.AFO_MAX, {a: x[claim] for a, x in (overlap_checks or {}).items()},
                            "the largest W1–W2 overlap read as AFO", "overlap ≤ ")
    if v.startswith("undetermined (flips with"):
        return kept(v)
    v = robust_to_threshold(v, RESIDUAL_OK_LOG10, {q: x[claim] for q, x in (residual_checks or {}).items()},
                            "the density residual a capped step may end with", "log10 residual ≤ ")
    return kept(v) if v.startswith("undetermined (flips with") else v


def threshold_findings(verdict_rows: list, threshold_checks: dict, residual_checks: dict | None = None,
                       rows: list | None = None, overlap_checks: dict | None = None) -> str:
    """Markdown lines: whether the DFT+U verdicts hold with the polarization threshold at GAP_CHECKS, and with
    only GPAW's own convergence flag (RESIDUAL_STRICT_LOG10) instead of RESIDUAL_OK_LOG10. With the state table
    `rows`: how many b/c rows end in the unbiased state itself, which no threshold reads as ordered, so that
    the threshold check can move only the others."""
    lines = []
    if threshold_checks:
        flips = [c for c in CLAIM_WORDS if robust_claim_verdict(verdict_rows, c, threshold_checks).startswith(
            "undetermined (flips with the polarization")]
        gaps = ", ".join(f"{g:g}" for g in sorted(threshold_checks))
        bc = [r for r in rows or [] if r["start"] in ORDERED_STARTS and not r.get("convergence check")]
        same = sum(bool(r.get("= unbiased state")) for r in bc)
        scope = (f" ({same} of the {len(bc)} b/c rows are the unbiased state itself, which no threshold reads as "
                 f"ordered: the check can move only the other {len(bc) - same})" if bc else "")
        lines.append(f"- With the polarization threshold of the natural occupations (n1 − n2, {nat.GAP_MIN:g}) at {gaps} "
                     + (f"instead, the verdict changes for: {', '.join(flips)}; it is undetermined." if flips else
                        "instead, each claim's verdict is the same.").rstrip(".") + scope + ".")
    if overlap_checks:
        flips = [c for c in CLAIM_WORDS if robust_claim_verdict(verdict_rows, c, None, None, overlap_checks).startswith(
            "undetermined (flips with the largest")]
        near = [f"{r['start']} at {r['U (eV)']:g} eV ({r['protocol']}; {r['overlap W1-W2']:.2f})" for r in rows or []
                if r["state"] in ORDERED and min(overlap_checks) < r["overlap W1-W2"] <= max(overlap_checks)]
        lines.append(f"- With the largest W1–W2 overlap of the filled natural orbitals read as AFO ({nat.AFO_MAX:g}) at "
                     f"{', '.join(f'{a:g}' for a in sorted(overlap_checks))} instead, "
                     + (f"the verdict changes for: {', '.join(flips)}; it is undetermined" if flips else
                        "each claim's verdict is the same")
                     + (f" (states whose reading it changes: {'; '.join(near)})" if near else "") + ".")
        # the FO side of the same classification: where the ordered states' overlaps leave room for its threshold
        up = [r["overlap W1-W2"] for r in rows or [] if r["state"] in ORDERED and r["overlap W1-W2"] > nat.AFO_MAX]
        lo, hi = [o for o in up if o < nat.FO_MIN], [o for o in up if o >= nat.FO_MIN]
        if lo and hi:
            lines.append(f"- The FO threshold (overlap ≥ {nat.FO_MIN:g}): the ordered states above the AFO threshold overlap by "
                         f"at most {max(lo):.2f} (mixed) or at least {min(hi):.2f} (FO), so every FO threshold between the two "
                         "reads each state alike.")
    if residual_checks:
        flips = [c for c in CLAIM_WORDS if robust_claim_verdict(verdict_rows, c, None, residual_checks).startswith(
            "undetermined (flips with the density")]
        # the same outcome may rest on fewer protocols under the strict rule: what it then rests on is said
        fewer = [f"{c}: {x[c].partition(' (')[2].removesuffix(')')}" for x in residual_checks.values() for c in CLAIM_WORDS
                 if c not in flips and x[c] != claim_verdict(verdict_rows, c) and x[c].partition(" (")[2]
                 and x[c].startswith(("reproduced", "not reproduced"))]
        lines.append(f"- With a step stopped at its cap counted only when GPAW converged it (density residual 10^"
                     f"{RESIDUAL_STRICT_LOG10:g} instead of 10^{RESIDUAL_OK_LOG10:g}), "
                     + (f"the verdict changes for: {', '.join(flips)}; it is undetermined." if flips else
                        "each claim's outcome is the same.")
                     + (" Under that rule the evidence changes — " + "; ".join(fewer) + "." if fewer else ""))
    return "\n".join(lines)


def verdict_lines(verdict_rows: list, threshold_checks: dict | None = None, rows: list | None = None,
                  residual_checks: dict | None = None, extra: list | None = None, overlap_checks: dict | None = None) -> str:
    """MyST Markdown: the DFT+U verdict on each of the paper's two energy claims (robust_claim_verdict), one
    line each, for the opening of the page's DFT+U section; with the state table `rows`, a last line on
    whether any ordered state exists after the release at all (survival_line), the premise of both claims."""
    lines = []
    for c, words in CLAIM_WORDS.items():
        key, _, why = robust_claim_verdict(verdict_rows, c, threshold_checks, residual_checks, overlap_checks).partition(" (")
        why = why.removesuffix(")").replace("U_eff", "$U_\\mathrm{eff}$") or (
            "no DFT+U state computed at this profile" if key == "not computed here" else "every protocol decides alike")
        lines.append(f"- **{key}**: {words} — {why}.")
    survival = survival_line(rows or [])
    if survival:
        lines.append(survival)
    lines += [x for x in (extra or []) if x]
    return "\n".join(lines)
