"""A scorecard of the paper's claims: each row states the claim, the paper's number, ours, the
tolerance used to judge, and the verdict. Numbers come from the same helpers and cached results
as the other pages; the paper's from data/reference/paper_values.json."""
from __future__ import annotations

import numpy as np


VERDICTS = ("reproduced", "not reproduced", "not computed here", "undetermined", "consistency check",
            "calibration", "beyond the paper")
#: Verdicts listed apart and not counted for or against the paper: what symmetry forces or makes
#: generic, a measure chosen to match the paper's own value, and questions the paper does not claim.
NOT_COUNTED = ("consistency check", "calibration", "beyond the paper")


def verdict(ok) -> str:
    """'reproduced' (True), 'not reproduced' (False), 'not computed here' (None), or a verdict
    string: 'undetermined' (the verdict flips across choices of ours, so no verdict is given),
    'consistency check ...' (what symmetry forces: a test of the code, not of the paper),
    'calibration ...' (a measure picked to match the paper's value) or 'beyond the paper ...' (a
    question the paper leaves open); the last three are NOT_COUNTED."""
    if isinstance(ok, str):
        if not ok.startswith(VERDICTS):
            raise ValueError(f"verdict {ok!r}: must start with one of {VERDICTS}")
        return ok
    return {True: "reproduced", False: "not reproduced", None: "not computed here"}[ok]


def row(rung: str, claim: str, paper, ours, criterion: str, ok: bool | None) -> dict:
    return {"rung": rung, "claim": claim, "paper": paper, "ours": ours, "criterion": criterion,
            "verdict": verdict(ok)}


def within(ours: float, ref: float, rel: float) -> bool:
    return abs(ours - ref) <= rel * abs(ref)


def tally(card) -> str:
    """Markdown line counting the verdicts of the scorecard's rows (a DataFrame with `verdict`)."""
    counts = card["verdict"].value_counts()
    return ", ".join(f"**{n}** {v}" for v, n in counts.items()) + "."


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
