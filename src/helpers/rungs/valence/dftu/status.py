"""The valence DFT+U verdict: open causes, the variants read, the verdict per claim and the scorecard line."""
from __future__ import annotations

from helpers.rungs.robustness import robust_to_threshold
from .. import verdicts as valence_verdicts
from .readings import _silent, judge_parts, numerics_reading, origin_readings, projector_reading, projector_said
from .steps import FILLED_MIN
from .treatments import treatment_overall, treatment_parts, treatment_said, word


def open_causes(page: dict, part: str) -> list:
    """Why `part` is undetermined by judge_parts, one phrase per cause: a U_eff read with no converged state,
    one where an unconverged step lies below the lowest state, one where the lowest state itself leaves it open
    (part (a) without an integer t2g count), one where converged states within the k_BT margin disagree, and decided readings (U_eff, or all against spin-restricted states) that disagree.
    Empty when the part is decided."""
    judged, read, read_r = judge_parts(page)
    if judged[part] is not None:
        return []
    readings = [("", read)] + ([] if part == valence_verdicts.VALENCE_PARTS[1] else [(" (restricted)", read_r)])
    out, decided, silent = [], {}, []
    for tag, rows in readings:
        for U, y in zip(page["read_at"], rows):
            if y is None:
                out.append(f"no converged state at {U:g} eV{tag}")
            elif _silent(y, part):
                silent.append(f"{U:g} eV{tag}")
            elif y[part] is None and y["unconverged below"]:
                out.append(f"an unconverged step ({', '.join(y['unconverged below'])}) lies below the lowest state "
                           f"at {U:g} eV{tag}")
            elif y[part] is None and y.get("lowest alone", {}).get(part, True) is None:
                out.append(f"the lowest state has no integer t2g count at {U:g} eV{tag}")
            elif y[part] is None:
                out.append(f"states within k_BT disagree at {U:g} eV{tag}")
            else:
                decided.setdefault(y[part], []).append(f"at {U:g} eV{tag}")
    for tag, (o, why) in origin_readings(page).items():
        if part not in o:
            continue
        if o[part] is None:
            out.append(f"the annealing's own reading at {page['U_last']:g} eV{tag}: {why}")
        else:
            decided.setdefault(o[part], []).append(f"in the annealing's own reading{tag}")
    if part == valence_verdicts.VALENCE_PARTS[1] and page.get("projector read_at"):
        v, per_U = projector_reading(page)
        if v is None:
            out.append(f"with GPAW's unscaled d projectors: {projector_said(per_U)}")
        else:
            decided.setdefault(v, []).append("with GPAW's unscaled d projectors")
    if part == valence_verdicts.VALENCE_PARTS[1] and page.get("numerics branches"):
        v, per = numerics_reading(page)
        if v is None:
            out.append("with another k grid or smearing: " + "; ".join(
                f"{x['numerics']} at {x['U']:g} eV " + ("not computed" if x["missing"] else "not both converged"
                                                         if x["dE"] is None else f"{x['dE']:+.0f} meV/f.u.")
                for x in per if x["numerics"] != "profile" and not x["fails"]))
        else:
            decided.setdefault(v, []).append("with another k grid and smearing")
    if len(decided) > 1 or (decided and out):
        out.append("; ".join(f"{word(v)} {', '.join(w)}" for v, w in decided.items()))
    if silent and not decided:
        out.append(f"no integer t2g count in the lowest states at {', '.join(silent)}, and no other reading decides it")
    return out


def variant(page: dict) -> dict | None:
    """The DFT+U annealing's verdict on the three valence parts (helpers.rungs.valence.verdicts.valence_verdict_rows):
    each part judged (lowest_states) at every U_eff of the profile's 'read_at', over all states and, where
    spin-polarized states exist, over the spin-restricted ones alone (the spin treatment is a choice of
    ours; part (b), spin 0, is imposed by the restricted treatment and read among all states only): True or
    False where every reading agrees and None (undetermined) where they differ or one has no
    converged state; the lowest state at the last U_eff described. None unless every planned start is computed and some state converged at
    the last U_eff."""
    low = {x["U (eV)"]: x for x in page["lowest"]}
    if not page["complete"] or page["U_last"] not in low:
        return None
    x = low[page["U_last"]]
    judged, read, read_r = judge_parts(page)
    tp = treatment_parts(page)
    where = ", ".join(f"{U:g}" for U in page["read_at"])
    spins = " and among spin-restricted states alone" if read_r else ""
    return {"variant": f"DFT+U annealed, read at U_eff = {where} eV{spins} (lowest at {x['U (eV)']:g} eV: {x['lowest']})",
            "state": x["lowest"], "d counts": x["d counts"], "|m| (μB)": x["|m| (μB)"],
            "largest natural occ.": [a for a, _ in x["n1, n2"]], "up–down overlap": None,
            "by U_eff": {U: (None if y is None else {p: y[p] for p in valence_verdicts.VALENCE_PARTS}) for U, y in zip(page["read_at"], read)},
            "by spin treatment": {p: "; ".join(f"{t}: " + ("imposed" if t == "spin-restricted" and p == valence_verdicts.VALENCE_PARTS[1]
                                                           else word(x[p])) for t, x in tp.items())
                                  for p in valence_verdicts.VALENCE_PARTS} if tp else {},
            **judged}


def overall(v: dict | None) -> bool | None:
    """The whole valence claim from a variant: True when every part holds, False when one fails,
    None when none fails but one is undetermined (or without a variant)."""
    if v is None:
        return None
    vals = [v[p] for p in valence_verdicts.VALENCE_PARTS]
    return False if False in vals else (True if all(x is True for x in vals) else None)


def so_far(page: dict, part: str) -> str | None:
    """While starts are missing, what the lowest computed states at every U_eff read say of `part` (one of
    helpers.rungs.valence.verdicts.VALENCE_PARTS): 'holds', 'fails' or 'undetermined' (judge_parts, as provisional_findings
    reads it); None when some U_eff read has no state yet."""
    judged, read, _ = judge_parts(page)
    return word(judged[part]) if read and all(x is not None for x in read) else None


def status(page: dict, part: str | None = None) -> str:
    """Why the DFT+U annealing decides nothing yet: how many starts are computed, or that no state
    converged at the last U_eff; 'decided' once variant(page) exists. With `part` and starts missing,
    what the computed states say of it so far (so_far)."""
    if variant(page) is not None:
        return "decided"
    done = len(page.get("all branches", page["branches"])) - len(page["missing"])
    if done < len(page.get("all branches", page["branches"])) or not page["branches"]:
        out = f"not decided: {done} of {len(page.get('all branches', page['branches']))} branches computed, starts and checks together"
        now = so_far(page, part) if part is not None and page["branches"] else None
        # (b) failing here is a statement about the method: spin-polarized PBE with Dudarev's U_eff (no J of its own)
        method = (" (a magnet lies lowest in spin-polarized DFT+U with Dudarev's U_eff: the method's disagreement with "
                  "diamagnetic WTe₂, not a magnetic WTe₂)" if part == valence_verdicts.VALENCE_PARTS[1] and now == "fails" else "")
        return out + ("" if not now else "; so far undetermined (the readings computed so far differ on it or leave it open)"
                      if now == "undetermined" else f"; so far {now} in the lowest computed state at every U_eff read{method}")
    return f"not decided: no converged state at U_eff = {page['U_last']:g} eV"


def claim_verdict(page: dict) -> str:
    """The DFT+U verdict on the valence claim as a scorecard verdict string: 'reproduced' or 'not
    reproduced' when every part is decided (overall(variant)), 'undetermined (…)' with the parts left
    open, with why nothing is decided yet (status), or where the claim fails in the spin-polarized treatment
    but not in the spin-restricted one (treatment_parts), with each treatment's verdict."""
    v = variant(page)
    if v is None:
        return f"undetermined ({status(page)})"
    ok = overall(v)
    if ok is None:
        open_ = [f"{p.split(')')[0]}): {'; '.join(open_causes(page, p))}" for p in valence_verdicts.VALENCE_PARTS if v[p] is None]
        return f"undetermined ({' / '.join(open_)})"
    tp = treatment_parts(page)
    if ok is False and tp and treatment_overall("spin-restricted", tp["spin-restricted"]) is not False:
        # the spin treatment is a choice of ours (the paper's labels read as spin-restricted): a failure in one
        # treatment alone is no verdict
        read_r = judge_parts(page)[2]
        why = ("flips with the spin treatment" if read_r and any(y is not None for y in read_r)
               else "the spin-restricted treatment has no converged state at the U_eff read")
        return f"undetermined ({why}: {treatment_said(page)})"
    # the threshold of a filled t2g spin-orbital is a choice of ours: an outcome that changes with it is undetermined
    return robust_to_threshold("reproduced" if ok else "not reproduced", FILLED_MIN, page.get("threshold checks"),
                               "the threshold of a filled t2g spin-orbital")


def scorecard_line(page: dict) -> str:
    """One line for the scorecard's DFT+U column of the valence row."""
    v = variant(page)
    # the unscaled projectors confirm (b) at their own window only: the U_eff calibration behind it is an assumption
    assumed = ""
    if page.get("projector read_at") and projector_reading(page)[0] is False:
        assumed = (f" ((b) with the unscaled projectors read at U_eff {_U_span(page['projector read_at'])}, their window by "
                   "the calibration on the unpolarized distorted layer, assumed to carry over to the 1T layer's magnets)")
    if v is None:
        now = {p: so_far(page, p) for p in valence_verdicts.VALENCE_PARTS} if page["missing"] else {}
        return status(page) + ("; so far " + "; ".join(f"{p.split(')')[0]}) {w}" for p, w in now.items())
                               if now and None not in now.values() else "") + assumed
    by_spin = f"; by spin treatment: {treatment_said(page)}" if v.get("by spin treatment") else ""
    over = "over both spin treatments, " if by_spin else ""
    return (f"{v['variant']}: {over}" + "; ".join(f"{p.split(')')[0]}) {word(v[p])}" for p in valence_verdicts.VALENCE_PARTS) + by_spin
            + assumed)


def _U_span(values) -> str:
    """U_eff values (eV) as '5–12 eV' (or '3 eV' for one)."""
    v = sorted(float(x) for x in values)
    return f"{v[0]:g} eV" if len(v) == 1 else f"{v[0]:g}–{v[-1]:g} eV"
