"""The DFT+U findings of the AFO page: the a2a2 control, references, planes of ordering, rankings, releases."""
from __future__ import annotations

import numpy as np

from .plans import MAIN_READING, NON_MAGNETIC_MUB, ORDERED_STARTS, PATTERNS, comparable_key
from .readings import identity_lines, reread_lines
from .states import _span, annealed_survival, at_equal_occupation, occupation_curve
from .verdicts import CLAIM_WORDS, threshold_findings


#: The largest W1-W2 overlap of the filled natural orbitals that reads AFO (natural.AFO_MAX, 0.4) is a choice too: the
#: verdicts are read again at these. At 8 eV the c2c2 start ends at 0.42 (the local frame's b on W1, c on W2).
AFO_CHECKS = (0.3, 0.5)


def window_line(verdict_rows: list, window_eV: tuple | None, U_paper: float) -> str:
    """One Markdown line: which decided verdicts (released at their U_eff, not carried by continuation) rest on a
    release inside `window_eV` (lo, hi), GPAW's U_eff equivalent of the paper's `U_paper` (eV) measured on the AFO
    page (helpers.models.pd.u_scale), and which outside it; '' without a window or a decided verdict."""
    if not window_eV:
        return ""
    lo, hi = window_eV
    decided = [r for r in verdict_rows if r["outcome"] in ("reproduced", "not reproduced") and not r.get("by continuation")]
    if not decided:
        return ""
    said = lambda rs: "; ".join(f"{c}: " + ", ".join(dict.fromkeys(f"{r['spin']} at {r['U (eV)']:g} eV ({r['outcome']})"  # noqa: E731
                                                                   for r in rs if r["claim"] == c))
                                 for c in CLAIM_WORDS if any(r["claim"] == c for r in rs))
    inside = [r for r in decided if lo <= r["U (eV)"] <= hi]
    outside = [r for r in decided if not lo <= r["U (eV)"] <= hi]
    return (f"- **Scope in $U_\\mathrm{{eff}}$**: the paper's {U_paper:g} eV corresponds to {lo:.1f}–{hi:.1f} eV of GPAW's "
            "$U_\\mathrm{eff}$ (the U scale measured below, a linear-response estimate). Decided inside that window: "
            + (said(inside) if inside else "nothing") + "; outside it: " + (said(outside) if outside else "nothing") + ".")


def reference_agreement(rows: list) -> list:
    """The unpolarized reference reached by different protocols at the same spin treatment and U_eff
    (biased-at-U branches with GPAW's MSR1 mixer and the annealing with Pulay's): the largest energy
    difference between them (meV/f.u.), a check that the reference does not depend on the path or the
    mixer. Rows {spin, U (eV), protocols, max |ΔE| (meV/f.u.)}."""
    out = []
    unb = [r for r in rows if r["start"] == "unbiased" and r["state"] == "unpolarized" and r["converged"]]
    for spin, U, numerics in sorted({comparable_key(r) for r in unb}):
        sub = [r for r in unb if comparable_key(r) == (spin, U, numerics)]
        if len({r["protocol"] for r in sub}) < 2:
            continue
        es = [r["ΔE (meV/f.u.)"] for r in sub]
        out.append({"spin": spin, "U (eV)": U, "protocols": ", ".join(r["protocol"] for r in sub),
                    "max |ΔE| (meV/f.u.)": float(max(es) - min(es))})
    return out


#: Two release schedules reach the same state when their unbiased energies differ by at most this
#: (meV/f.u.) and their W occupation matrices (n_up + n_dn) by at most SCHEDULE_DN per element.
SCHEDULE_DE_MEV = 1.0
SCHEDULE_DN = 0.02


def reference_findings(rows: list, n_fu: int) -> list:
    """Markdown lines on what the reference is: an unbiased state whose filled orbital is mostly b and c
    (then it is not the paper's a^2 state, and energies measured from it are not the paper's comparison),
    and spin-polarized unbiased states that are non-magnetic and equal to the restricted state at the same
    U_eff and numerics (then the spin-polarized verdicts repeat the restricted ones)."""
    out = []
    unb = [r for r in rows if r["start"] == "unbiased"]
    for r in unb:
        if r["b + c in filled orbitals"] > 0.5 and not r["converged"]:
            # a stalled SCF is not a state: what its leading orbital leans to is said as that, and nothing more
            out.append(f"- The unbiased SCF at {r['U (eV)']:g} eV ({r['protocol']}) did not converge; it stopped with its "
                       f"leading orbital leaning to b and c (a, b, c weights of W1's: {r['W1 filled (a, b, c)']}; natural "
                       f"occupations {r['W1 n1, n2']}). It is not a state: energies measured from it are not counted.")
        elif r["b + c in filled orbitals"] > 0.5:
            out.append(f"- The unbiased state at {r['U (eV)']:g} eV ({r['protocol']}) fills mostly b and c (a, b, c weights "
                       f"of W1's filled orbital: {r['W1 filled (a, b, c)']}): there the reference is not the paper's a² "
                       "state, and energies from it are not the paper's comparison.")
    # in another reading of a, b, c the reference may fill b and c: a start of that reading that ends in it says so
    seen = set()
    for r in rows:
        if r["reading"] != MAIN_READING and r.get("= unbiased state") and r["reading"] not in seen:
            seen.add(r["reading"])
            out.append(f"- In the {r['reading']} reading the unpolarized state's filled orbital is, in a, b, c, "
                       f"{r['W1 filled (a, b, c)']} (W1; {r['U (eV)']:g} eV): there the reference is not an a² state either.")
    for r in (x for x in unb if x["spin"] == "polarized"):
        same = [x for x in unb if x["spin"] == "restricted" and x["U (eV)"] == r["U (eV)"] and x["numerics"] == r["numerics"]
                and x["converged"]]
        if same and r["converged"] and r["|m| (μB)"] < NON_MAGNETIC_MUB:
            d = min(abs(1000 * (r["E_eV"] - x["E_eV"])) for x in same) / n_fu
            # a magnetic start of the same spin treatment, U and numerics that converged below it: the ground state there
            magnets = [x for x in rows if x["spin"] == "polarized" and comparable_key(x) == comparable_key(r)
                       and x["converged"] and x["|m| (μB)"] >= NON_MAGNETIC_MUB and x["E_eV"] < r["E_eV"]]
            line = (f"- Spin-polarized at {r['U (eV)']:g} eV: the unbiased state is non-magnetic (|m| ≤ {r['|m| (μB)']:.4f} μB) "
                    f"and its energy equals the restricted state's to {d:.2f} meV/f.u.; ")
            if magnets:
                low = min(magnets, key=lambda x: x["E_eV"])
                fell = [x["start"] for x in rows if comparable_key(x) == comparable_key(r) and x.get("= unbiased state")
                        and x["start"] in PATTERNS]
                line += (f"but the {low['start']} start ends magnetic (|m| {low['|m| (μB)']:.2f} μB; orbitally "
                         f"{low['state']}) {1000 * (r['E_eV'] - low['E_eV']) / n_fu:.1f} meV/f.u. below it: the "
                         "spin-polarized energies there are measured from that magnetic state"
                         + (f", and {', '.join(fell)} fall into the non-magnetic one above it" if fell else "")
                         + ". WTe₂ is non-magnetic (diamagnetic): at this $U_\\mathrm{eff}$ the functional already disagrees "
                         "with the material, a bound from above on the interactions at which its energies are read as WTe₂'s.")
            else:
                line += "the spin-polarized verdicts there repeat the restricted ones unless a magnetic start ends lower."
            out.append(line)
    return out


def control_margins(release: list, control: str = "a2a2") -> list:
    """Each biased start's constrained energy against the control's (`control`, the bias toward the reference's own
    leading orbital) at equal occupation (at_equal_occupation), in the same spin treatment, first U_eff and numerics:
    [{'start', 'protocol', 'reading', 'margins' {n1: E_start - E_control (meV/f.u.)}, 'spans' (n1 ranges of both
    curves, for a pair without a common occupation)}], for the starts whose protocol has a control curve. A bias
    costs energy whatever its target, so the polarized configurations are measured against an a^2 configuration
    held as strongly rather than against the unbiased state."""
    out = []
    for start, protocol in dict.fromkeys((r["start"], r["protocol"]) for r in release if r["start"] != control):
        mine = [r for r in release if (r["start"], r["protocol"]) == (start, protocol)]
        # the same protocol label: same spin treatment, first U_eff, bias form and numerics; a protocol of another
        # reading of a, b, c takes the control of the same protocol in the main reading (the control's target, the
        # reference's own leading orbital, is the same state whatever the reading)
        base = mine[0].get("main-reading protocol", protocol)
        ctrl_protocol = protocol if any((r["start"], r["protocol"]) == (control, protocol) for r in release) else base
        curves = {start: occupation_curve(release, start, protocol), control: occupation_curve(release, control, ctrl_protocol)}
        if not len(curves[control][0]):
            continue
        grid = at_equal_occupation(curves)
        out.append({"start": start, "protocol": protocol, "reading": mine[0].get("reading", MAIN_READING),
                    "margins": {x: v[start] - v[control] for x, v in grid.items()},
                    "spans": (_span(curves[start]), _span(curves[control]))})
    return out


def control_findings(release: list, control: str = "a2a2") -> list:
    """Markdown lines of control_margins: per biased start, its constrained energy less the control's at each
    common occupation n1 (meV/f.u.), or the occupations each covers where they share none."""
    out = []
    for c in control_margins(release, control):
        head = (f"- Start {c['start']} ({c['protocol']}) against the {control} control at equal occupation, while both "
                "hold their order: ")
        if c["margins"]:
            out.append(head + ", ".join(f"{v:+.0f} at $n_1$ = {x:g}" for x, v in c["margins"].items()) + " meV/f.u.")
        else:
            out.append(head + f"no common occupation ($n_1$ {c['spans'][0]} against {c['spans'][1]}).")
    return out


def control_line(release: list, gain_meV: float, control: str = "a2a2") -> str:
    """One Markdown line for the verdict box: in the main reading, the range of control_margins over every start
    biased toward b or c (ORDERED_STARTS) and protocol with a common occupation (meV/f.u.), the comparisons that reach
    the paper's gain (`gain_meV`, its size: a margin of -|gain_meV| or lower) if any, and the starts that share no
    occupation with the control; '' without any."""
    cs = [c for c in control_margins(release, control) if c["reading"] == MAIN_READING and c["start"] in ORDERED_STARTS]
    with_grid = [c for c in cs if c["margins"]]
    if not with_grid:
        return ""
    vals = [v for c in with_grid for v in c["margins"].values()]
    beats = [f"{c['start']} ({c['protocol']}, {min(c['margins'].values()):+.0f})" for c in with_grid
             if min(c["margins"].values()) <= -abs(gain_meV)]
    protocols = list(dict.fromkeys(c["protocol"] for c in with_grid))
    none = [f"{c['start']} ({c['protocol']})" for c in cs if not c["margins"]]
    return (f"- **Constrained configurations at equal occupation** (while the bias holds them, against the {control} "
            f"control held as strongly): filling b, c or a b–c combination instead of a changes the energy by {min(vals):+.0f} to "
            f"{max(vals):+.0f} meV/f.u. over {len(with_grid)} starts in {len(protocols)} protocols "
            f"({'; '.join(protocols)}); the paper's gain needs {-abs(gain_meV):+.0f} or lower: "
            + (f"reached by {', '.join(beats)}" if beats else "reached by none")
            + (f". No common occupation with the control: {', '.join(none)}" if none else "") + ".")


def plane_findings(release: list, control: str = "a2a2") -> list:
    """Markdown lines, per protocol with b2b2, c2c2, d2d2 and the control: the ferro-orbital energy over the b-c
    plane at equal occupation (at_equal_occupation). E(t) = A + B cos 2t + C sin 2t for the orbital cos t b + sin t c
    is fixed by t = 0 (b2b2), 90 (c2c2) and 45 degrees (d2d2); its lowest value A - sqrt(B^2 + C^2), and the angle,
    against the control (meV/f.u.): the paper's gain needs it below -gain somewhere in the plane."""
    out = []
    for protocol in dict.fromkeys(r["protocol"] for r in release):
        curves = {s: occupation_curve(release, s, protocol) for s in ("b2b2", "c2c2", "d2d2", control)}
        if any(len(c[0]) < 2 for c in curves.values()):
            continue
        grid = at_equal_occupation(curves)
        if not grid:
            continue
        parts = []
        for x, v in grid.items():
            A = (v["b2b2"] + v["c2c2"]) / 2
            B, C = (v["b2b2"] - v["c2c2"]) / 2, v["d2d2"] - A
            angle = (np.degrees(np.arctan2(-C, -B)) / 2) % 180
            parts.append(f"{A - np.hypot(B, C) - v[control]:+.0f} at $n_1$ = {x:g} (θ = {angle:.0f}°)")
        out.append(f"- The ferro-orbital energy over the whole b–c plane ({protocol}), fixed by b2b2, c2c2 and d2d2 "
                   f"(A + B cos 2θ + C sin 2θ for the orbital cos θ b + sin θ c), at its lowest, against the {control} "
                   f"control at equal occupation: " + ", ".join(parts) + " meV/f.u.")
    return out


def ranking_findings(release: list) -> list:
    """Markdown lines ranking the ordered configurations while the bias holds them, at equal occupation
    (at_equal_occupation): per protocol, the polar AFO start b2c2 against the lowest FO start (b2b2, c2c2) and
    against the mean of the two, which fills b and c as often as b2c2 does and so cancels the b-c level
    splitting of the reading to first order (meV/f.u.). The paper's AFO-lowest claim concerns released
    states; this ranks biased configurations, which exist where the released ones do not."""
    out = []
    for protocol in dict.fromkeys(r["protocol"] for r in release):
        curves = {s: occupation_curve(release, s, protocol) for s in ("b2b2", "c2c2", "b2c2")}
        afo = curves.pop("b2c2")
        fo = {s: c for s, c in curves.items() if len(c[0]) > 1}
        if len(afo[0]) == 1 and fo:
            out.append(f"- Ranking of the biased configurations ({protocol}): the AFO b2c2 holds an order on both W at one "
                       f"bias strength only ($n_1$ {_span(afo)}; at the next one W has lost it): no ranking at equal occupation.")
        if len(afo[0]) < 2 or not fo:
            continue
        grid = at_equal_occupation({"b2c2": afo, **fo})
        if not grid and len(fo) == 2:        # the two FO may not overlap each other: rank against each alone
            grid = {x: v for s in fo for x, v in at_equal_occupation({"b2c2": afo, s: fo[s]}).items()}
        if not grid:
            out.append(f"- Ranking of the biased configurations ({protocol}): the AFO b2c2 ($n_1$ {_span(afo)}) and the FO "
                       + ", ".join(f"{s} ($n_1$ {_span(c)})" for s, c in fo.items()) + " reach no common occupation.")
            continue
        xs = list(grid)
        low = [min((v[s], s) for s in fo if s in v) for v in grid.values()]
        d = [grid[x]["b2c2"] - e for x, (e, _) in zip(xs, low)]
        who = ", ".join(dict.fromkeys(s for _, s in low))
        line = (f"- Ranking of the biased configurations ({protocol}), at equal occupation: E(b2c2) − E(lowest FO, {who}) "
                f"= {', '.join(f'{v:+.0f}' for v in d)} meV/f.u. at $n_1$ = {', '.join(f'{x:g}' for x in xs)}")
        both = [x for x in xs if {"b2b2", "c2c2"} <= set(grid[x])]
        signs = {np.sign(v) for v in d}
        if both:
            m = [grid[x]["b2c2"] - (grid[x]["b2b2"] + grid[x]["c2c2"]) / 2 for x in both]
            line += (f"; against the mean of b2b2 and c2c2, which fills b and c as often and so cancels the b–c level "
                     f"splitting to first order: {', '.join(f'{v:+.0f}' for v in m)} meV/f.u. at $n_1$ = "
                     f"{', '.join(f'{x:g}' for x in both)}")
            signs |= {np.sign(v) for v in m}
        # one order only where the lowest FO and the splitting-free mean agree on the sign at every occupation
        verdict = ("the FO is the lower order" if signs == {1.0} else "the AFO is the lower order" if signs == {-1.0}
                   else "which order is lower depends on the occupation or on the b–c level splitting")
        out.append(line + f". While the bias holds them, {verdict}; these are constrained configurations, not states.")
    return out


def findings(page: dict) -> str:
    """Markdown lines of what the DFT+U states say beyond the verdict table, from page_results: where
    each annealed ordered state ceases to be polarized, and the agreement of the unpolarized reference
    between protocols."""
    lines = []
    for reading, (ea, eb, ec) in (page.get("levels (eV)") or {}).items():
        if ea > min(eb, ec):
            lines.append(f"- In the {reading} reading, a lies {'above both b and c' if ea > max(eb, ec) else 'above b or c'} "
                         f"(on-site levels a, b, c: {ea:.3f}, {eb:.3f}, {ec:.3f} eV): the paper's premise, a doubly occupied "
                         "lowest a, does not hold there from the start.")
    for s in annealed_survival(page["rows"]):
        seq = ", ".join(f"{U:g} eV: {k}" for U, k in s["states"].items())
        tail = (f"orbitally polarized down to {s['lowest polarized U (eV)']:g} eV "
                f"({s['ΔE there (meV/f.u.)']:+.0f} meV/f.u. from the reference there, the lowest unpolarized or a² FO state)"
                if s["lowest polarized U (eV)"] is not None else
                "never a converged orbitally polarized state after the release"
                if any(k != "unpolarized" for k in s["states"].values()) else "never orbitally polarized after the release")
        lines.append(f"- Start {s['start']}, {s['protocol']}: {seq}; {tail}.")
    lines += identity_lines(page.get("identities") or [], page["rows"], page.get("n_fu", 2))
    lines += reread_lines(page.get("rereads") or [])
    lines += reference_findings(page["rows"], page.get("n_fu", 2))
    for a in reference_agreement(page["rows"]):
        lines.append(f"- The unpolarized state at {a['U (eV)']:g} eV ({a['spin']}) is the same by every protocol "
                     f"({a['protocols']}): energies within {a['max |ΔE| (meV/f.u.)']:.2f} meV/f.u. (a check of the "
                     "protocol, not of the paper).")
    for start, reading in dict.fromkeys((c.get("start", "b2b2"), c.get("reading", MAIN_READING)) for c in page.get("numerics") or []):
        conv = [c for c in page["numerics"] if (c.get("start", "b2b2"), c.get("reading", MAIN_READING)) == (start, reading)
                and c["every step converged"] is not None]
        if len(conv) < 2:
            continue
        at = lambda c: f"{c['k grid, width (eV)']} eV"          # noqa: E731
        shift = "E_unbiased − profile's (meV/f.u.)"
        where = "" if reading == MAIN_READING else f" ({reading} reading)"
        lines.append(f"- $k$ grid and Fermi width near the verdict's margin (a check of the numbers): {start}{where} released at "
                     f"{page['numerics U (eV)']:g} eV ends between λ = "
                     + "; ".join(f"{c['branch ends between λ (eV)']} eV ({at(c)})" for c in conv)
                     + "; its constrained energies " + "; ".join(f"{c['E − E_bias by λ (meV/f.u.)']} ({at(c)})" for c in conv)
                     + " meV/f.u.; after the release: " + ", ".join(f"{c['state after the release']} ({at(c)})" for c in conv)
                     + f"; the unbiased energy moves by at most {np.nanmax([abs(c[shift]) for c in conv]):.1f} meV/f.u"
                     + ("".join(f"; with {at(c)} a step did not converge, so where that release ends is read across an "
                                "unconverged step" for c in conv if c["every step converged"] is False))
                     + (f"; where a release is not controlled the verdict rests on the energy margin instead: on every grid and "
                        f"width the lowest constrained energy along the release is "
                        f"{np.nanmin([c['lowest E − E_bias (meV/f.u.)'] for c in conv]):+.0f} meV/f.u. from the unbiased state"
                        + (f", where the paper's gain needs −{page['gain_meV']:g}" if "gain_meV" in page else "")
                        if any(c["every step converged"] is False for c in conv) else "") + ".")
    checks = page.get("schedule checks") or []
    for start, protocol in dict.fromkeys((c["start"], c["protocol"]) for c in checks):
        sub = [c for c in checks if (c["start"], c["protocol"]) == (start, protocol)]
        Us = ", ".join(f"{c['U (eV)']:g}" for c in sub)
        dE, dn = max(abs(c["ΔE (meV/f.u.)"]) for c in sub), max(c["max |Δn|"] for c in sub)
        same = dE <= SCHEDULE_DE_MEV and dn <= SCHEDULE_DN
        ends = sub[0].get("ends between λ (eV)", "")
        lines.append(f"- Start {start} ({protocol}) released with {sub[0]['schedules']}, at U = {Us} eV: unbiased "
                     f"energies within {dE:.2f} meV/f.u., W occupations within {dn:.3f} of each other; "
                     + ("the state does not depend on the release schedule (a check of the protocol)" if same else
                        f"beyond {SCHEDULE_DE_MEV:g} meV/f.u. or {SCHEDULE_DN:g}: the state depends on the schedule")
                     + (f"; the biased minimum ends between λ = {ends.replace(' | ', ' eV with the one and ')} eV with the "
                        "other (where a fall-back happens, not only where it leads)." if ends else "."))
    thr = threshold_findings(page.get("verdicts", []), page.get("threshold checks") or {}, page.get("residual checks"),
                             page.get("rows"), page.get("overlap checks"))
    if thr:
        lines.append(thr)
    return "\n".join(lines)


def release_findings(rows: list) -> str:
    """Markdown lines of release_rows: per release, the largest natural occupation of the metals at full bias
    and at its end, and the largest change of the occupation matrices between successive steps with the
    bias strengths (eV) between which it happened (where a biased minimum ended, if anywhere)."""
    lines = []
    for start, protocol in dict.fromkeys((r["start"], r["protocol"]) for r in rows):
        sub = [r for r in rows if (r["start"], r["protocol"]) == (start, protocol)]
        if len(sub) < 2:
            continue
        i = max(range(1, len(sub)), key=lambda k: sub[k]["max |Δn| from previous step"])
        occ = lambda r: "/".join(f"{x:.2f}" for x in r["largest natural occupations"])  # noqa: E731
        lines.append(f"- Release of {start} ({protocol}): largest natural occupation per W {occ(sub[0])} at "
                     f"λ = {sub[0]['lambda (eV)']:g} eV, {occ(sub[-1])} at λ = {sub[-1]['lambda (eV)']:g}; the largest "
                     f"change in one step, {sub[i]['max |Δn| from previous step']:.2f} per occupation-matrix element, "
                     f"between λ = {sub[i - 1]['lambda (eV)']:g} and {sub[i]['lambda (eV)']:g} eV.")
    return "\n".join(lines)
