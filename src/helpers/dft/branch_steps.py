"""Convergence of the steps of a DFT+U branch, read from GPAW's SCF log (log10 residuals of density and eigenstates)."""
from __future__ import annotations

import re

from ..store.paths import cache_dir


#: An intermediate step that stopped at its iteration cap still counts as converged when GPAW's energy
#: criterion was met and the density residual (GPAW's 'dens' column, log10 of the density change per
#: valence electron) was at most this: 10^-4 against the 10^-5 asked for.
RESIDUAL_OK_LOG10 = -4.0
#: The verdicts are read again with that rule replaced by GPAW's own flag (10^-5, the criterion asked for): a
#: claim whose outcome changes with the rule is undetermined (robust_claim_verdict).
RESIDUAL_STRICT_LOG10 = -5.0


def step_residuals(result: dict) -> list:
    """Per step of a branch, from the GPAW log kept with its cache entry (gpaw.txt: one SCF table per
    step), the last iteration's (log10 density residual, energy criterion met); [] when the log is not
    there (a made-up result, or an entry without its log)."""
    log = cache_dir() / str(result.get("key", "")) / "gpaw.txt"
    if not result.get("key") or not log.is_file():
        return []
    out, last = [], None
    # a GPAW run started from a terminal-like stream colours its log: the escape codes are not part of a number
    for line in re.sub(r"\x1b\[[0-9;]*m", "", log.read_text()).splitlines():
        if not line.startswith("|iter:"):
            continue
        cols = line.split("|")
        if int(cols[1].split(":")[1]) == 1 and last is not None:
            out.append(last)
        dens = cols[5].strip().rstrip("c")          # a trailing 'c': that criterion is met
        last = (float(dens) if dens else float("nan"), cols[3].strip().endswith("c"))
    if last is not None:
        out.append(last)
    # one SCF table per recorded step, or nothing can be paired (a step is then judged by GPAW's own flag)
    return out if len(out) == len(result.get("steps", out)) else []


def step_converged(step: dict, residual=None) -> bool:
    """Whether a step of a branch counts as converged: GPAW converged it, or it stopped at its cap with the
    energy criterion met and the density residual at most 10^RESIDUAL_OK_LOG10 (`residual` from
    step_residuals)."""
    if step.get("converged", True):
        return True
    return residual is not None and residual[1] and residual[0] <= RESIDUAL_OK_LOG10
