"""The states read again in other orbital frames: relabellings, identities of the ordered states, re-read references."""
from __future__ import annotations

import numpy as np

from helpers.dft.branch_steps import step_converged
from helpers.models import natural as nat
from .plans import MAIN_READING, PROTOCOL_DIRECT
from .states import ORDERED, at_equal_occupation, occupation_curve, step_state
from .verdicts import _U_range


def relabellings(readings_: dict, main: str = None, tol: float = 0.99) -> dict:
    """The readings of a, b, c whose three orbitals are the main reading's own, in another order (each column's
    overlap with one of the main reading's above `tol`): {reading: {'map': {letter there: letter in the main
    reading}, 'levels (eV)': its a, b, c levels}}. Such a reading needs no new state: its configurations are
    the main reading's, relabelled."""
    main = main or MAIN_READING
    O0 = np.asarray(readings_[main]["orbitals"])[:, :3]
    out = {}
    for r, x in readings_.items():
        if r == main:
            continue
        S = np.abs(O0.T @ np.asarray(x["orbitals"])[:, :3])
        idx = S.argmax(axis=0)
        if sorted(idx) == [0, 1, 2] and all(S[i, j] > tol for j, i in enumerate(idx)) and list(idx) != [0, 1, 2]:
            out[r] = {"map": {"abc"[j]: "abc"[i] for j, i in enumerate(idx)},
                      "levels (eV)": [float(e) for e in x.get("energies_eV", [])[:3]]}
    return out


def relabelled(release: list, relabel: dict) -> list:
    """Per reading of `relabel` (relabellings) and protocol of the main reading with the a2a2, b2b2 and c2c2
    releases: that reading's b^2 - a^2 and c^2 - a^2 at equal occupation (at_equal_occupation of the main reading's
    curves, relabelled; meV/f.u.), with its levels and its lowest level. [{'reading', 'protocol', 'map', 'n1',
    'b2 - a2', 'c2 - a2', 'levels (eV)', 'lowest'}]."""
    out = []
    for r, x in relabel.items():
        inv = {v: k for k, v in x["map"].items()}           # main-reading letter -> letter in reading r
        for protocol in dict.fromkeys(q["protocol"] for q in release if "reading" not in q["protocol"]):
            curves = {s: occupation_curve(release, s, protocol) for s in ("a2a2", "b2b2", "c2c2")}
            if any(len(c[0]) < 2 for c in curves.values()):
                continue
            grid = at_equal_occupation(curves)
            if not grid:
                continue
            E = {x_: {inv[k[0]]: v[k] for k in v} for x_, v in grid.items()}      # energies by reading r's letters
            lv = x["levels (eV)"]
            out.append({"reading": r, "protocol": protocol, "map": x["map"], "n1": list(E),
                        "b2 - a2": [E[x_]["b"] - E[x_]["a"] for x_ in E], "c2 - a2": [E[x_]["c"] - E[x_]["a"] for x_ in E],
                        "levels (eV)": lv, "lowest": "abc"[int(np.argmin(lv))] if len(lv) == 3 else None})
    return out


def relabelled_findings(release: list, relabel: dict, gain_meV: float) -> list:
    """Markdown lines of `relabelled`: per reading and protocol, b^2 - a^2 and c^2 - a^2 at equal occupation against
    the paper's gain, and, where that reading's lowest level is not a, why its b^2 < a^2 is no gain from polarizing."""
    out = []
    for x in relabelled(release, relabel):
        said = (f"- Read in the {x['reading']} reading (its a, b, c are the {', '.join(x['map'][k] for k in 'abc')} of energy "
                f"order: the same orbitals relabelled, so the same constrained configurations; {x['protocol']}), at equal "
                f"occupation: b² − a² = {', '.join(f'{v:+.0f}' for v in x['b2 - a2'])} and c² − a² = "
                f"{', '.join(f'{v:+.0f}' for v in x['c2 - a2'])} meV/f.u. at $n_1$ = {', '.join(f'{n:g}' for n in x['n1'])}.")
        hold = [k for k in "bc" if all(v <= -gain_meV for v in x[f"{k}2 - a2"])]
        said += (f" Below a² by the paper's gain ({gain_meV:g} meV/f.u.) at every occupation: "
                 + (", ".join(f"{k}²" for k in hold) if hold else "neither b² nor c²") + ".")
        if x["lowest"] and x["lowest"] != "a":
            lv = x["levels (eV)"]
            cf = 2000 * (lv["abc".index(x["lowest"])] - lv[0])       # two electrons moved from a (meV/f.u., one W per f.u.)
            said += (f" In that reading {x['lowest']} is the lowest level (a, b, c at "
                     f"{', '.join(f'{e:.3f}' for e in lv)} eV, without U), so {x['lowest']}² below a² is the crystal-field "
                     f"order: moving two electrons from a to {x['lowest']} gains {-cf:.0f} meV/f.u. from the levels alone, and "
                     f"the interaction adds {min(-v for v in x[x['lowest'] + '2 - a2']) + cf:.0f} to "
                     f"{max(-v for v in x[x['lowest'] + '2 - a2']) + cf:.0f} on top, reinforcing the crystal field instead of "
                     "overcoming it. The paper's claim has a as the lowest level and a gain that beats the crystal-field "
                     "cost of leaving it, which is the energy-order reading, where the verdict is decided.")
        out.append(said)
    return out


def reading_line(release: list, relabel: dict) -> str:
    """One Markdown line for the verdict box: the gain verdict's reading of a, b, c, and what the relabelled readings
    (relabelled) give, with the range over the occupations of every protocol; '' without one."""
    xs = relabelled(release, relabel)
    if not xs:
        return ""
    parts = []
    for r in dict.fromkeys(x["reading"] for x in xs):
        mine = [x for x in xs if x["reading"] == r]
        rng = lambda k: f"{min(min(x[k]) for x in mine):+.0f} to {max(max(x[k]) for x in mine):+.0f}"  # noqa: E731
        low = mine[0]["lowest"]
        parts.append(f"relabelled into the {r} reading, the same configurations give b² − a² = {rng('b2 - a2')} and c² − a² "
                     f"= {rng('c2 - a2')} meV/f.u. at equal occupation"
                     + (f", but there {low} is the lowest level, so that is the crystal-field order, not a gain from "
                        "polarizing" if low and low != "a" else ""))
    return ("- **The reading of a, b, c**: the gain is judged in energy order, the reading the claim itself fixes "
            "(a the lowest level, its gain beating the crystal-field cost of leaving it); " + "; ".join(parts) + ".")

#: A W's filled natural orbital "is" one of a, b, c of a reading when its weight there is at least this.
CLEAN_WEIGHT = 0.85


def reading_identities(records: list, metals: list, orbitals_by_reading: dict) -> list:
    """Each converged unbiased state ordered on every W but neither FO nor AFO ('mixed': filled orbitals that
    overlap between W1 and W2 by more than natural.AFO_MAX and less than FO_MIN), read in every reading of a, b, c:
    the readings in which each W's filled orbital is one of a, b, c by at least CLEAN_WEIGHT, and which letters.
    An order of rotated orbitals looks mixed in one frame and clean in another. Returns [{start, protocol, U (eV),
    overlap, E (eV, per cell), readings: {reading: (letter W1, weight, letter W2, weight)}}]."""
    out = []
    for rec in records:
        r = rec.get("result")
        if r is None or not r["steps"] or r["steps"][-1].get("lambda_eV", 0) != 0:
            continue
        st, res = r["steps"][-1], rec.get("residuals") or []
        if not step_converged(st, res[len(r["steps"]) - 1] if len(res) >= len(r["steps"]) else None):
            continue
        kind = step_state(st, metals)
        if kind["kind"] != "mixed":
            continue
        clean = {}
        for reading, O in orbitals_by_reading.items():
            w = step_state(st, metals, np.asarray(O))["abc_weights"]
            (i1, i2) = (int(np.argmax(w[0])), int(np.argmax(w[1])))
            if w[0][i1] >= CLEAN_WEIGHT and w[1][i2] >= CLEAN_WEIGHT:
                clean[reading] = ("abc"[i1], float(w[0][i1]), "abc"[i2], float(w[1][i2]))
        out.append({"start": rec["state"], "protocol": rec.get("protocol", PROTOCOL_DIRECT), "U (eV)": st["U_eV"],
                    "overlap": float(kind["overlaps"][0]), "E (eV)": st["energy_eV"], "readings": clean})
    return out


def identity_lines(found: list, rows: list, n_fu: int, control: str = "a2a2") -> list:
    """Markdown lines of reading_identities: per mixed state, the readings in which it is a clean order (AFO where
    the two W fill different letters, FO where the same), and its energy against the `control` start's state of the
    same protocol and U_eff (meV/f.u.) where that one is converged."""
    lines = []
    for f in found:
        ctrl = [r for r in rows if r["start"] == control and r["protocol"] == f["protocol"] and r["U (eV)"] == f["U (eV)"]
                and r["converged"]]
        versus = (f", {1000 * (f['E (eV)'] - ctrl[0]['E_eV']) / n_fu:+.1f} meV/f.u. from the {control} start's "
                  f"{ctrl[0]['state']} state" if ctrl else "")
        if f["readings"]:
            said = "; ".join(f"in the {rd} reading W1 fills {l1} ({w1:.2f}) and W2 {l2} ({w2:.2f}): "
                             f"{'that reading' + chr(39) + 's AFO' if l1 != l2 else 'an FO'}"
                             for rd, (l1, w1, l2, w2) in f["readings"].items())
        else:
            said = f"in no reading is each W's filled orbital one of a, b, c by {CLEAN_WEIGHT:g} or more"
        lines.append(f"- The mixed state of {f['start']} at {f['U (eV)']:g} eV ({f['protocol']}; W1–W2 overlap of the filled "
                     f"orbitals {f['overlap']:.2f}, between the AFO and FO thresholds {nat.AFO_MAX:g} and {nat.FO_MIN:g}): "
                     f"{said}{versus}.")
    return lines


def reread_lines(rereads: list) -> list:
    """Markdown lines for the references re-read in another reading (reference_rereads) that are ordered there: per
    reading, the U_eff at which the unbiased state, an FO of a in the main reading, fills b and c of that reading."""
    lines = []
    ordered = [r for r in rereads if r["start"] == "unbiased" and r["converged"] and r["state"] in ORDERED
               and r["b + c in filled orbitals"] > 0.5]
    for reading in dict.fromkeys(r["reading"] for r in ordered):
        sub = [r for r in ordered if r["reading"] == reading]
        lines.append(f"- Read in the {reading}, the converged unbiased state at {_U_range(r['U (eV)'] for r in sub)} ({sub[0]['state']} in the energy order, "
                     f"with a filled) fills b + c = {min(r['b + c in filled orbitals'] for r in sub):.2f} or more on both W: "
                     f"there it is the {sub[0]['state']} of a combination of b and c, and that reading's protocols rank their "
                     "states against it.")
    return lines
