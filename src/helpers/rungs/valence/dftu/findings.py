"""The valence DFT+U findings as the page states them."""
from __future__ import annotations

from .. import verdicts as valence_verdicts
from .readings import ORIGIN_PARTS, judge_parts, numerics_line, origin_readings, projector_findings, projector_line, tolerance_findings
from .status import claim_verdict, open_causes, variant
from .steps import CONTINUITY_TOL_MEV_PER_FU, FILLED_MIN, continuity, continuous_origins, full_bias, melting, protocol_checks
from .treatments import count, margin_said, next_other_state, overfill_line, treatment_parts, treatment_said, word


def findings(page: dict) -> str:
    """Markdown lines: where the verdict is read; which start is lowest at each U_eff, what it holds and
    which states lie within the margin; whether each branch anneals continuously (continuity_mismatch);
    what each start held at full bias; the starts not computed."""
    lines = []
    done = len(page.get("all branches", page["branches"])) - len(page["missing"])
    lowest = "lowest" if page["complete"] else f"lowest of the {done} branches computed"
    if page["read_at"]:
        lines.append(f"- The verdict is read at U_eff = {', '.join(f'{U:g}' for U in page['read_at'])} eV and decided where "
                     f"these agree; at each, a part is undetermined when a converged state within "
                     f"{valence_verdicts.DEGENERATE_MEV_PER_FU:g} meV/f.u. (k_B T at 300 K) of the lowest disagrees on it, or a "
                     "step that did not converge lies below the lowest. Part (a), the valence, "
                     "is also read the paper's way, by the configuration at the top of the annealing from which the "
                     f"lowest state at {page['U_last']:g} eV is reached without a jump (the annealing's own reading), and "
                     "decided only where that agrees.")
    for x in page["lowest"]:
        parts = "; ".join(f"{p.split(')')[0]}) {word(x[p])}" for p in valence_verdicts.VALENCE_PARTS)
        nxt = next_other_state(page["rows"], x)
        extra = margin_said(page["rows"], x)
        extra += (f"; not converged and lower: {', '.join(x['unconverged below'])}" if x["unconverged below"] else "")
        lines.append(f"- U_eff = {x['U (eV)']:g} eV: {lowest}, {x['lowest']} (d counts "
                     f"{', '.join(f'{d:.2f}' for d in x['d counts'])}, |m| {max(x['|m| (μB)']):.2f} μB, largest t2g natural "
                     f"occupations {', '.join(f'{a:.2f}' for a, _ in x['n1, n2'])}"
                     + (f"; next state {nxt:.0f} meV/f.u. above" if nxt is not None else "") + extra + f"): {parts}.")
    read = set(page["read_at"]) or {x["U (eV)"] for x in page["lowest restricted"]}
    restricted = [x for x in page.get("lowest restricted", []) if x["U (eV)"] in read]
    if restricted and any(r["spin"] == "polarized" for r in page["rows"]):
        lines.append("- Among the spin-restricted states alone (every state spin 0, as the paper labels its configurations): "
                     + "; ".join(f"at {x['U (eV)']:g} eV {x['lowest']} (largest t2g natural occupations "
                                 f"{', '.join(f'{a:.2f}' for a, _ in x['n1, n2'])}: "
                                 + ", ".join(f"{p.split(')')[0]}) " + ("imposed" if p == valence_verdicts.VALENCE_PARTS[1] else word(x[p]))
                                             for p in valence_verdicts.VALENCE_PARTS) + ")"
                                 for x in restricted) + ".")
    for tag, (_, why) in origin_readings(page).items():
        rows_ = page["rows"] if not tag else [r for r in page["rows"] if r["spin"] == "restricted"]
        origins = continuous_origins(rows_, page["U_last"])
        who = ("the lowest state" + (" among the spin-restricted ones" if tag else "")
               + ("" if page["complete"] else f" of the {done} branches computed"))
        if not origins:
            lines.append(f"- In the annealing's own reading (the paper's), {who} at U_eff = {page['U_last']:g} eV: {why}; "
                         "it names no configuration.")
        for o in origins:
            lines.append(f"- In the annealing's own reading (the paper's), {who} at U_eff = {page['U_last']:g} eV (or one "
                         f"within the margin) is reached without a jump from the {o['of'] or o['start']} configuration at "
                         f"{o['top U (eV)']:g} eV (" + (f"the run {o['start']}; " if o["of"] else "") + "largest t2g natural occupations "
                         f"{', '.join(f'{a:.2f}' for a, _ in o['n1, n2'])}, t2g spin-orbitals filled "
                         f"{count(o['filled t2g'])}): there " + "; ".join(
                             f"{p.split(')')[0]}) {word(o[p])}" for p in [valence_verdicts.VALENCE_PARTS[i] for i in ORIGIN_PARTS])
                         + "." + melting(rows_, o["start"], page["U_last"]))
        lines += tolerance_findings(rows_, page["U_last"], origins, tag)
    for start in dict.fromkeys(r["start"] for r in page["rows"]):
        sub = [r for r in page["rows"] if r["start"] == start and r["jump (meV/f.u.)"] is not None]
        if not sub:
            continue
        worst = max(sub, key=lambda r: abs(r["jump (meV/f.u.)"]))
        conv = {r["U (eV)"]: r["converged"] for r in page["rows"] if r["start"] == start}
        across = lambda r: "" if conv[r["U (eV)"]] and conv[r["previous U (eV)"]] else ", an unconverged step"  # noqa: E731
        jumps = [f"{r['previous U (eV)']:g} → {r['U (eV)']:g} eV ({r['jump (meV/f.u.)']:+.0f}{across(r)})" for r in sub
                 if abs(r["jump (meV/f.u.)"]) > CONTINUITY_TOL_MEV_PER_FU]
        kind = continuity([r for r in page["rows"] if r["start"] == start])
        n_open = sum(not c for c in conv.values())
        jumps = jumps or ["the unconverged steps, their mismatches summed"]
        lines.append(f"- {start}: " + (f"jumps to another state at {', '.join(jumps)} meV/f.u. against the "
                                       "Hellmann–Feynman integral of dF/dU_eff" if kind == "jumps" else
                                       f"free-energy changes match the Hellmann–Feynman integral of dF/dU_eff within "
                                       f"{abs(worst['jump (meV/f.u.)']):.0f} meV/f.u." + (
                                           " (anneals continuously)" if kind == "continuous" else
                                           f", but {n_open} step(s) did not converge, so continuity through them is not "
                                           "established")) + ".")
    for b in full_bias(page):
        lines.append(f"- {b['start']} at full bias (λ = {b['λ (eV)']:g} eV, U_eff = {b['U (eV)']:g} eV): d counts "
                     f"{', '.join(f'{d:.2f}' for d in b['d counts'])}, |m| {', '.join(f'{m:.2f}' for m in b['|m| (μB)'])} μB, "
                     f"t2g natural occupations {'; '.join(', '.join(f'{x:.2f}' for x in w) for w in b['t2g'])}; filled t2g "
                     f"spin-orbitals {count(b['filled t2g'])} at full bias, {count(b['filled t2g released'])} after the release.")
    lines += projector_findings(page)
    if projector_line(page):
        lines.append(projector_line(page))
    if numerics_line(page):
        lines.append(numerics_line(page))
    if overfill_line(page):
        lines.append(overfill_line(page))
    for c in protocol_checks(page):
        same = "the same state" if c["same state"] else "not the same state (filled t2g spin-orbitals differ)"
        lines.append(f"- {c['check']}: at U_eff = {', '.join(f'{U:g}' for U in c['U (eV)'])} eV against {c['of']}, "
                     f"energies apart by at most {c['max |ΔE| (meV/f.u.)']:.2f} meV/f.u., {same}"
                     + (f"; {c['unconverged']} step(s) not converged, not compared" if c["unconverged"] else "") + ".")
    if treatment_parts(page):
        lines.append(f"- Each spin treatment read apart (a choice of ours; a claim that fails in one and not in the other "
                     f"is undetermined): {treatment_said(page)}.")
    if page["missing"]:
        lines.append(f"- Not computed yet, so no verdict from this method: {'; '.join(page['missing'])}.")
        lines += provisional_findings(page)
    elif page.get("threshold checks") and variant(page) is not None:
        verdict = claim_verdict(page)
        lines.append(f"- With a filled t2g spin-orbital counted above {' or '.join(f'{f:g}' for f in page['threshold checks'])} "
                     f"instead of {FILLED_MIN:g}: " + ("the verdict changes, so it is undetermined." if verdict.startswith(
                         "undetermined (flips with the threshold") else "the verdict is the same."))
    return "\n".join(lines)


def provisional_findings(page: dict) -> list:
    """Markdown lines, while starts are missing: each part of the valence claim that already fails (or
    holds) in the lowest computed state at every U_eff the verdict is read at. Provisional: a missing start
    could reach a lower state that differs on it, so this is not the verdict."""
    judged, read, read_r = judge_parts(page)
    if not read or any(x is None for x in read):
        return []
    spins = " and among spin-restricted states alone" if read_r else ""
    prow = page.get("projector rows") or []
    no_count_unscaled = bool(prow) and all(n is None for r in prow for n in r["filled t2g spin-orbitals"])
    out = []
    for p in valence_verdicts.VALENCE_PARTS:
        at = f"U_eff read ({', '.join(f'{U:g}' for U in page['read_at'])} eV{spins if p != valence_verdicts.VALENCE_PARTS[1] else ''})"
        if judged[p] is not None:
            spin = (" (a test only where spins may polarize: the restricted treatment imposes spin 0)"
                    if p == valence_verdicts.VALENCE_PARTS[1] else
                    # the count of filled t2g spin-orbitals is read in GPAW's d projectors, whose occupations carry
                    # covalent W-Te weight (d counts near 4.6 per W): bound to the projector, not a measured valence
                    " (a count of filled t2g spin-orbitals in GPAW's d projectors, which carry covalent W–Te weight: "
                    "bound to the projector" + ("; in the unscaled projectors no state computed has an integer count)"
                                                if no_count_unscaled else ")")
                    if p == valence_verdicts.VALENCE_PARTS[0] else "")
            out.append(f"- So far, part {p.split(')')[0]}) {word(judged[p])} in the lowest computed state at every {at}{spin}; "
                       "a missing start that reaches a lower state could still change it, and the threshold of a filled "
                       "t2g spin-orbital is varied only with the verdict, so this is not yet the verdict.")
        else:
            bound = (" (counts of filled t2g spin-orbitals in GPAW's d projectors, which carry covalent W–Te weight: bound "
                     "to the projector" + ("; in the unscaled projectors no state computed has an integer count)"
                                           if no_count_unscaled else ")")) if p == valence_verdicts.VALENCE_PARTS[0] else ""
            out.append(f"- So far, part {p.split(')')[0]}) is undetermined in the lowest computed states at the {at}: "
                       f"{'; '.join(open_causes(page, p))}{bound}.")
    return out
