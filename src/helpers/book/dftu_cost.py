"""What the DFT+U branches cost: wall times of one SCF step, one bias release and every branch of a
profile, read from the cached `dftu_branch` entries (each step records its seconds and SCF
iterations). Written as a Markdown table the methods page includes (book/_dftu_cost.md).
"""
from __future__ import annotations

import json
from pathlib import Path
import numpy as np

from ..store.paths import cache_dir


#: Where the methods page includes the table from (written when the book is built).
TABLE = Path(__file__).resolve().parents[3] / "book" / "_dftu_cost.md"


def branch_records(cache: Path, profile: str = "paper") -> list[dict]:
    """One record per cached DFT+U branch of `profile` in `cache`: the cell it runs on (the 1T
    layer of the valence page, the relaxed d2 layer, or that layer doubled along the chains), spin
    treatment, k grid, whether it was biased, its first U_eff (eV), and per step (seconds, SCF
    iterations, U_eff)."""
    out = []
    for result in sorted(cache.glob(f"dftu_branch-*-{profile}-*/result.json")):
        r = json.loads(result.read_text())
        name = r.get("kind", result.parent.name)
        inputs = r.get("inputs", {})
        steps = [s for s in r.get("steps", []) if "seconds" in s]
        if not steps:
            continue
        cell = ("1T layer (6 atoms)" if "-1T-" in name else
                "relaxed d2 layer doubled (12 atoms)" if len(inputs.get("atoms", {}).get("symbols", [])) > 6
                else "relaxed d2 layer (6 atoms)")
        out.append({"entry": result.parent.name, "cell": cell, "page": "valence" if "-1T-" in name else "AFO and FE",
                    "spin": "polarized" if inputs.get("spinpol") else "restricted",
                    "kpts": "×".join(str(k) for k in inputs.get("kpts", [])[:2]),
                    "biased": bool(inputs.get("targets")), "U0": steps[0]["U_eV"], "ranks": r.get("ranks"),
                    "steps": [(float(s["seconds"]), int(s.get("iterations") or 0), float(s["U_eV"])) for s in steps]})
    return out


def cost_rows(records: list[dict]) -> list[dict]:
    """Per cell and spin treatment: the median wall time (s) of one SCF step and of one SCF
    iteration, the median SCF iterations per step, the median wall time (min) of one bias release
    (every step at the branch's first U_eff, biased branches only) and of one whole branch; then per
    page the sum over its branches (h). Steps that resumed in a later run count their own seconds."""
    rows = []
    for cell, spin in sorted({(r["cell"], r["spin"]) for r in records}):
        sub = [r for r in records if (r["cell"], r["spin"]) == (cell, spin)]
        steps = [s for r in sub for s in r["steps"]]
        per_it = [sec / it for sec, it, _ in steps if it > 0]
        releases = [sum(sec for sec, _, U in r["steps"] if U == r["U0"]) for r in sub if r["biased"]]
        rows.append({"what": f"{cell}, spin-{spin}", "branches": len(sub), "SCF steps": len(steps),
                     "one SCF step (s)": float(np.median([s[0] for s in steps])),
                     "iterations per step": float(np.median([s[1] for s in steps])),
                     "one iteration (s)": float(np.median(per_it)) if per_it else float("nan"),
                     "one release (min)": float(np.median(releases)) / 60 if releases else float("nan"),
                     "one branch (min)": float(np.median([sum(s[0] for s in r["steps"]) for r in sub])) / 60})
    for page in sorted({r["page"] for r in records}):
        sub = [r for r in records if r["page"] == page]
        rows.append({"what": f"all branches of the {page} page{'s' if ' and ' in page else ''}", "branches": len(sub),
                     "SCF steps": sum(len(r["steps"]) for r in sub),
                     "total (h)": sum(s[0] for r in sub for s in r["steps"]) / 3600})
    return rows


def markdown(rows: list[dict], ranks: str = "2 MPI ranks") -> str:
    """The rows of cost_rows as a Markdown table (blank where a column does not apply)."""
    if not rows:
        return "No DFT+U branch is in the cache, so no wall times can be given.\n"
    cols = ["what", "branches", "SCF steps", "one SCF step (s)", "iterations per step", "one iteration (s)",
            "one release (min)", "one branch (min)", "total (h)"]

    def cell(v, col):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return ""
        return (f"{v:.2f}" if col == "total (h)" else f"{v:.1f}") if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(cell(r.get(c), c) for c in cols) + " |" for r in rows]
    return (f"Wall times of the cached `paper` DFT+U branches ({ranks}, medians; read from each step's record):\n\n"
            + "\n".join(lines) + "\n")


def write_table(cache: Path | None = None, path: Path = TABLE, profile: str = "paper") -> Path:
    """Write the cost table of the branches of `profile` in `cache` (default: the project's cache) to
    `path`, the file the methods page includes."""
    records = branch_records(cache or cache_dir(), profile)
    ranks = sorted({r["ranks"] for r in records if r["ranks"]})
    path.write_text(markdown(cost_rows(records), f"{' or '.join(map(str, ranks)) or 'unrecorded'} MPI ranks"))
    return path
