"""The scorecard's verdict words, criteria against the paper and experiment, tallies and reading tables."""
from __future__ import annotations

from ..store import reference


VERDICTS = ("reproduced", "not reproduced", "not computed here", "undetermined", "consistency check",
            "calibration", "beyond the paper", "closer to experiment")
#: Verdicts listed apart and not counted for or against the paper: what symmetry forces or makes
#: generic, a measure chosen to match the paper's own value, and questions the paper does not claim.
NOT_COUNTED = ("consistency check", "calibration", "beyond the paper")
#: Verdicts that count as support of the paper's claim in a group's tally: a number of ours closer to
#: experiment than the paper's own is a finding, not a failure.
SUPPORTS = ("reproduced", "closer to experiment")
#: The method columns of the scorecard, beside each other: 'ours' is the number of the calculation the
#: page uses (model or plain DFT); 'DFT+U' is filled for energy claims once DFT+U results exist.
METHODS = ("ours", "DFT+U")
#: What the DFT+U column shows for an energy claim without a DFT+U result, and for other claims.
DFTU_PENDING, NOT_AN_ENERGY = "not yet computed", "—"


def verdict(ok) -> str:
    """'reproduced' (True), 'not reproduced' (False), 'not computed here' (None), or a verdict
    string: 'undetermined' (the verdict flips across choices of ours, so no verdict is given),
    'consistency check ...' (what symmetry forces: a test of the code, not of the paper),
    'calibration ...' (a measure picked to match the paper's value), 'beyond the paper ...' (a
    question the paper leaves open) or 'closer to experiment ...' (a number nearer experiment than the
    paper's own); NOT_COUNTED are listed apart."""
    if isinstance(ok, str):
        if not ok.startswith(VERDICTS):
            raise ValueError(f"verdict {ok!r}: must start with one of {VERDICTS}")
        return ok
    return {True: "reproduced", False: "not reproduced", None: "not computed here"}[ok]


def row(rung: str, claim: str, paper, ours, criterion: str, ok, group: str | None = None,
        energy: bool = False, dftu=None, dftu_ok=None) -> dict:
    """One scorecard row. `group`: the calculation the row is computed from (rows of one group count
    once; None: the claim itself); `energy`: an energy claim, whose DFT+U column shows `dftu` or
    DFTU_PENDING, and whose 'DFT+U verdict' is `dftu_ok` (as `ok`; None: 'not computed here'), the
    verdict of the paper's own method that the verdict boxes show first."""
    if dftu_ok is not None and not energy:
        raise ValueError(f"dftu_ok={dftu_ok!r} given for {claim!r}, which is not an energy claim (energy=False)")
    return {"rung": rung, "claim": claim, "paper": paper, "ours": ours,
            "DFT+U": (DFTU_PENDING if dftu is None else dftu) if energy else NOT_AN_ENERGY,
            "criterion": criterion, "verdict": verdict(ok),
            "DFT+U verdict": verdict(dftu_ok) if energy else NOT_AN_ENERGY, "counts as": group or claim}


def methods_note(dftu_ok, ours_ok) -> str:
    """' — the two methods disagree' when DFT+U (the paper's method) and our other method both decide
    (True: reproduced, False: not reproduced) and differ; '' otherwise (either undecided: None or a
    verdict string such as 'undetermined'; a verdict string that starts with 'reproduced' or 'not
    reproduced' counts as True or False)."""
    def decided(ok):
        if isinstance(ok, str):
            return False if ok.startswith("not reproduced") else True if ok.startswith("reproduced") else None
        return ok
    dftu_ok, ours_ok = decided(dftu_ok), decided(ours_ok)
    if isinstance(dftu_ok, bool) and isinstance(ours_ok, bool) and dftu_ok != ours_ok:
        return " — the two methods disagree"
    return ""


def within(ours: float, ref: float, rel: float) -> bool:
    return abs(ours - ref) <= rel * abs(ref)


def against_paper_and_experiment(ours: float, ours_exp: float, paper: float, paper_exp: float, rel: float) -> str:
    """Verdict on a computed number the paper also computed, each set against the experimental structure
    in its own definition (`ours_exp`: our measure of the experimental structure; `paper_exp`: the
    paper's): 'reproduced' within `rel` of the paper's; otherwise 'closer to experiment than the paper'
    when ours is relatively nearer its experiment than the paper's is to its own (a finding, not a
    failure); else 'not reproduced'. The distances are stated in the verdict."""
    d_ours, d_paper = abs(ours - ours_exp) / abs(ours_exp), abs(paper - paper_exp) / abs(paper_exp)
    where = f"ours {100 * d_ours:.1f} % from experiment, the paper's {100 * d_paper:.1f} %"
    if within(ours, paper, rel):
        return f"reproduced ({where})"
    if d_ours < d_paper:
        return f"closer to experiment than the paper ({where})"
    return f"not reproduced ({where})"


def criterion(name: str) -> dict:
    """A scorecard criterion fixed in data/reference (`scorecard_criteria`): {'value', 'form',
    'previous': [{'form', 'reason'}] (empty if it never changed)}."""
    crit = reference.get("scorecard_criteria")
    if name not in crit or name in ("source", "where", "citation"):
        raise KeyError(f"no scorecard criterion {name!r}; available: "
                       f"{sorted(k for k in crit if k not in ('source', 'where', 'citation'))}")
    return {"previous": [], **crit[name]}


def criteria_rows() -> list:
    """Every scorecard criterion with its value and form, and each earlier form with the reason it changed."""
    crit = reference.get("scorecard_criteria")
    rows = []
    for name in (k for k in crit if k not in ("source", "where", "citation")):
        c = criterion(name)
        rows.append({"criterion": name, "value": c["value"], "form": c["form"],
                     "earlier form": "; ".join(p["form"] for p in c["previous"]) or "—",
                     "why it changed": "; ".join(p["reason"] for p in c["previous"]) or "—"})
    return rows


def group_verdict(verdicts) -> str:
    """The one verdict a group of rows (one calculation, several claims) counts with: the common verdict of
    the rows that decide (a 'closer to experiment' row supports, as 'reproduced'); 'undetermined' when they
    disagree; without a deciding row, the common verdict of the others ('undetermined' if they differ). A
    claim left undetermined does not weaken another claim the same calculation decides."""
    base = {"reproduced" if v.startswith(SUPPORTS) else next(x for x in VERDICTS if v.startswith(x))
            for v in verdicts if not v.startswith(NOT_COUNTED)}
    if not base:
        raise ValueError("verdicts: every row of the group is not counted")
    decided = base & {"reproduced", "not reproduced"}
    pick = decided or base
    return pick.pop() if len(pick) == 1 else "undetermined"


def counted(card):
    """One row per group of the counted rows of a scorecard (DataFrame with `verdict`, optionally
    `counts as`): the group, how many rows it holds and its verdict (group_verdict)."""
    import pandas as pd
    card = card[~card["verdict"].str.startswith(NOT_COUNTED)]
    key = card["counts as"] if "counts as" in card else pd.Series(range(len(card)), index=card.index)
    rows = [{"counts as": g, "rows": len(sub), "verdict": group_verdict(sub["verdict"])}
            for g, sub in card.groupby(key, sort=False)]
    return pd.DataFrame(rows, columns=["counts as", "rows", "verdict"])


def tally(card) -> str:
    """Markdown line counting the verdicts of the scorecard, each group of rows once (counted)."""
    counts = counted(card)["verdict"].value_counts()
    return ", ".join(f"**{n}** {v}" for v, n in counts.items()) + "."


def deciding(text: str) -> tuple[int, int] | None:
    """(variants that decide, variants tried), summed over every 'holds in k of n variants that decide
    (u undecided)' in `text` (helpers.rungs.robustness.robust_verdict's range), or None if it has none."""
    import re
    found = re.findall(r"holds in \d+ of (\d+) variants that decide(?: \((\d+) undecided\))?", text)
    if not found:
        return None
    n = sum(int(a) for a, _ in found)
    return n, n + sum(int(b or 0) for _, b in found)


def thin_evidence(verdict_: str, text: str, fraction: float = 0.25) -> str:
    """`verdict_` with ', resting on n deciding variants of N tried' added when at most `fraction` of
    the variants named in `text` decide (a verdict from few of many variants says so)."""
    d = deciding(text)
    if d is None or d[1] == 0 or d[0] > fraction * d[1]:
        return verdict_
    return f"{verdict_} (resting on {d[0]} deciding variant{'s' if d[0] != 1 else ''} of {d[1]} tried)"


def readings_table(verdict_rows: list, claims: dict, forced: dict | None = None):
    """DataFrame claim x reading of the verdicts of `verdict_rows` (rows with 'claim', 'reading',
    'verdict'), for the claims {short name: claim text}; a cell is the verdict's first words. A
    consistency-check cell (what the site symmetry forces) reads 'holds (forced by symmetry)' or 'fails
    (forced by symmetry)' as `forced` {short name: 'holds' | 'fails'} says for that claim."""
    import pandas as pd
    out = {}
    for short, claim in claims.items():
        mine = {x["reading"]: x["verdict"] for x in verdict_rows if x["claim"] == claim}
        ranges = {x["reading"]: x.get("range", "") for x in verdict_rows if x["claim"] == claim}
        out[short] = {r: (f"{(forced or {}).get(short, 'consistency check')} (forced by symmetry)"
                          if v.startswith("consistency") else thin_evidence(v.split(" (")[0], ranges[r]))
                      for r, v in mine.items()}
    return pd.DataFrame(out).T


def _holds(cell) -> bool:
    return isinstance(cell, str) and cell.startswith(("reproduced", "holds"))


def joint_reading_row(table, rung: str, claim: str, paper: str, group: str | None = None) -> dict:
    """The counted row of a readings_table: whether one reading makes every claim hold ('reproduced',
    or held by symmetry, in every cell of that reading's column). Reports once that the claims need
    incompatible readings, naming the readings each claim holds in (those where symmetry forces it, so marked)."""
    holds = {r: all(_holds(c) for c in table[r]) for r in table.columns}
    # a cell held by the site symmetry is a consistency check, not evidence: named as such
    where = {c: [r + (" (forced by symmetry)" if "forced by symmetry" in table.loc[c, r] else "")
                 for r in table.columns if _holds(table.loc[c, r])] for c in table.index}
    ours = "; ".join(f"{c}: {', '.join(w) if w else 'no reading'}" for c, w in where.items())
    ok = any(holds.values())
    return row(rung, claim, paper, ("they hold together in " + ", ".join(r for r, h in holds.items() if h)) if ok
               else "the claims need incompatible readings; each holds in: " + ours,
               "one reading of a, b, c in which every claim of the readings table holds", ok, group)


def source_note(profile: str, reads: dict) -> str:
    """Markdown naming, per group of rows, the cache entries (data/cache) they were recomputed from;
    `reads` maps a group name to the entry names read while its rows were built."""
    if not reads:
        raise ValueError("reads: no group of rows recorded any cache entry")
    parts = [f"Profile **{profile}**; no new DFT, every row recomputed from cached results."]
    for group, entries in reads.items():
        entries = sorted(set(entries))
        names = ", ".join(f"`{e}`" for e in entries) if entries else "none read while these rows were built"
        parts.append(f"*{group}* ({len(entries)} entries): {names}.")
    return "\n\n".join(parts)
