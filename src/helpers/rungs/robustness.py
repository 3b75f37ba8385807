"""Whether a verdict survives the choices that are ours: the verdict over variants, and a threshold's margin."""
from __future__ import annotations

# --- verdicts over the choices of ours -----------------------------------------------------------
def robust_verdict(outcomes: dict) -> dict:
    """Verdict on a claim from its outcome under every variant {variant: True/False/None}:
    'reproduced' if it holds in every variant that decides, 'not reproduced' if it fails in every
    one, 'undetermined' if it flips (with the variants on each side) or if no variant decides; None
    outcomes (the variant cannot decide, e.g. a state does not survive) are listed apart; 'not
    computed here' without variants."""
    yes = [k for k, v in outcomes.items() if v is True]
    no = [k for k, v in outcomes.items() if v is False]
    none = [k for k, v in outcomes.items() if v is None]
    verdict = ("not computed here" if not outcomes else "undetermined" if not (yes or no) else
               "reproduced" if not no else "not reproduced" if not yes else "undetermined")
    return {"verdict": verdict, "holds in": yes, "fails in": no, "undecided in": none,
            "range": f"holds in {len(yes)} of {len(yes) + len(no)} variants that decide"
                     + (f" ({len(none)} undecided)" if none else "")}


def robust_to_threshold(verdict_: str, threshold: float, checks: dict | None, what: str, symbol: str = "") -> str:
    """`verdict_` (a verdict string, its outcome the words before ' (') read at `threshold`, made
    'undetermined (flips with <what>: <outcome> at <symbol><threshold>, …)' when the outcome read at any
    other threshold of `checks` ({threshold: verdict string}) differs: a threshold is a choice of ours,
    not the physics'."""
    key = verdict_.partition(" (")[0]
    other = {t: v.partition(" (")[0] for t, v in (checks or {}).items()}
    if any(k != key for k in other.values()):
        said = ", ".join(f"{k} at {symbol}{t:g}" for t, k in sorted({**other, threshold: key}.items()))
        return f"undetermined (flips with {what}: {said})"
    return verdict_
