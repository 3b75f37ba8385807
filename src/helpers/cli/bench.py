"""`python -m helpers bench`: time the main commands; medians go to data/benchmark.json and a
Markdown table to book/_benchmark.md (shown on the methods page).

Measurements (names for --only):
    tests          the test command (scripts/run_tests.sh; its smoke DFT starts from an empty cache)
    fresh_clone    scripts/build_book.sh on a fresh `git clone` with the committed results
                   (it reuses this checkout's .venv through a symlink; the clone's src is used)
    rebuild        scripts/build_book.sh again with nothing changed
    smoke          each notebook at the smoke profile, in order, from one empty cache (when `tests`
                   is measured and `smoke` is not, these times are taken from the test command's
                   own smoke run, which is exactly that)
    paper          each notebook from the paper cache (COMPENDIUM_REQUIRE_CACHE=1, forced)
    scf_ranks      one SCF of the monolayer 1T' cell (paper settings) on 1 and on 2 MPI ranks
    recompute      `compute --profile smoke` from an empty cache on the local Dask cluster with 1 and
                   with 2 workers (helpers.cli.workflow), and the ratio of the two wall times
Cheap measurements run `repeat` times, the two that redo the smoke DFT (`tests`, `smoke`, about
40 min each on 2 cores) `repeat_costly` times (default 1). The whole set with the defaults takes
about 75 minutes on 2 cores. Each row of the table says how many runs its median is of.
"""
from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import notebooks as cli_notebooks
from ..dft import jobs as dft_jobs
from ..dft import structures
from ..store import params
from ..store.paths import ROOT


ALL = ("tests", "fresh_clone", "rebuild", "smoke", "paper", "scf_ranks", "recompute")

#: The issue's targets on the 2-core machine: measurement -> (comparison, limit, what it says).
TARGETS = {"tests": ("<", 30 * 60, "under 30 min"),
           "fresh_clone": ("<", 3 * 60, "under 3 min after set-up"),
           "rebuild": ("<", 60, "under 60 s"),
           "scf_speedup": (">=", 1.7, "at least 1.7")}


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def median_of(fn, repeat: int) -> dict:
    runs = [round(timed(fn), 2) for _ in range(repeat)]
    return {"median_s": round(statistics.median(runs), 2), "runs_s": runs}


def _sh(cmd, cwd=ROOT, env=None):
    subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})}, check=True,
                   stdout=subprocess.DEVNULL)


def _per_notebook(runs: dict) -> dict:
    """{notebook: [seconds, ...]} -> {notebook: {median_s, runs_s}}."""
    return {k: {"median_s": round(statistics.median(v), 2), "runs_s": v} for k, v in runs.items()}


def _tests(repeat: int) -> dict:
    """The test command, `repeat` times; also the per-notebook seconds of its smoke run (the
    smoke fixture writes them to $COMPENDIUM_SMOKE_TIMES)."""
    runs, smoke = [], {}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            times = Path(tmp) / "smoke_times.json"
            runs.append(round(timed(lambda: _sh(["bash", "scripts/run_tests.sh", "-q"],
                                                env={"COMPENDIUM_SMOKE_TIMES": str(times)})), 2))
            if times.exists():
                for k, v in json.loads(times.read_text()).items():
                    smoke.setdefault(k, []).append(v)
    return {"median_s": round(statistics.median(runs), 2), "runs_s": runs,
            "smoke_notebooks": _per_notebook(smoke)}


def _notebook_times(profile: str, env: dict, repeat: int) -> dict:
    """Median seconds of each notebook executed (forced) in order at `profile`."""
    out = {}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            env_tmp = {k: (v.replace("{tmp}", tmp) if isinstance(v, str) else v) for k, v in env.items()}
            old = {k: os.environ.get(k) for k in env_tmp}
            os.environ.update(env_tmp)
            try:
                for nb in cli_notebooks.notebooks():
                    t = timed(lambda: cli_notebooks.execute(profile, [nb.stem], out=Path(tmp) / "executed", force=True))
                    out.setdefault(nb.stem, []).append(round(t, 2))
            finally:
                for k, v in old.items():
                    os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    return _per_notebook(out)


def _scf(ranks: int) -> None:
    settings = params.settings("paper")
    atoms = structures.monolayer_1Tprime("WTe2", vacuum=settings["vacuum"])
    with tempfile.TemporaryDirectory() as tmp:
        old = {k: os.environ.get(k) for k in ("COMPENDIUM_CACHE", "COMPENDIUM_RANKS", "COMPENDIUM_REQUIRE_CACHE")}
        os.environ.update(COMPENDIUM_CACHE=tmp, COMPENDIUM_RANKS=str(ranks))
        os.environ.pop("COMPENDIUM_REQUIRE_CACHE", None)
        try:
            dft_jobs.single_point(atoms, settings, "bench-WTe2-1Tprime", force=True)
        finally:
            for k, v in old.items():
                os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def _smoke_compute(workers: int) -> None:
    """`python -m helpers compute --profile smoke --workers N` from an empty cache (a new process)."""
    with tempfile.TemporaryDirectory() as tmp:
        _sh([sys.executable, "-m", "helpers", "compute", "--profile", "smoke", "--workers", str(workers),
             "--out", f"{tmp}/executed"],
            env={"COMPENDIUM_CACHE": f"{tmp}/cache", "COMPENDIUM_REQUIRE_CACHE": "0"})


def measurements(repeat: int, repeat_costly: int = 1) -> dict:
    """name -> function returning that measurement's record (`repeat_costly` runs for the two that
    redo the smoke DFT, `tests` and `smoke`; `repeat` for the others)."""
    def fresh_clone():
        import hashlib
        stamp = ROOT / ".venv" / ".setup-complete"
        files = [ROOT / "pyproject.toml", ROOT / "scripts" / "setup.sh", ROOT / "scripts" / "gpaw-siteconfig.py"]
        want = hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:16]
        if not stamp.exists() or stamp.read_text().strip() != want:
            # the clone shares this .venv: setup.sh must not reinstall the project from the clone
            raise SystemExit("bench: run `bash scripts/setup.sh` first (the environment is not current)")

        def run():
            with tempfile.TemporaryDirectory() as tmp:
                clone = Path(tmp) / "clone"
                _sh(["git", "clone", "-q", "--local", str(ROOT), str(clone)])
                (clone / ".venv").symlink_to(ROOT / ".venv")
                _sh(["bash", "scripts/build_book.sh"], cwd=clone, env={"PYTHONPATH": str(clone / "src")})
        return median_of(run, repeat)

    def rebuild():
        _sh(["bash", "scripts/build_book.sh"])            # make sure everything is built once
        return median_of(lambda: _sh(["bash", "scripts/build_book.sh"]), repeat)

    return {
        "tests": lambda: _tests(repeat_costly),
        "fresh_clone": fresh_clone,
        "rebuild": rebuild,
        "smoke": lambda: _notebook_times("smoke", {"COMPENDIUM_CACHE": "{tmp}/cache",
                                                   "COMPENDIUM_REQUIRE_CACHE": "0"}, repeat_costly),
        "paper": lambda: _notebook_times("paper", {"COMPENDIUM_REQUIRE_CACHE": "1"}, repeat),
        "scf_ranks": lambda: {f"{n}_ranks": median_of(lambda n=n: _scf(n), repeat) for n in (1, 2)},
        "recompute": lambda: {f"{n}_workers": median_of(lambda n=n: _smoke_compute(n), repeat_costly) for n in (1, 2)},
    }


def speedup(results: dict, name: str = "scf_ranks", unit: str = "ranks") -> float | None:
    """Median time with 1 over median time with 2 (`unit`: MPI ranks of one SCF, or workers of the
    smoke recompute), if both were measured."""
    rec = results["measurements"].get(name, {})
    one, two = rec.get(f"1_{unit}"), rec.get(f"2_{unit}")
    if one and two and two["median_s"] > 0:
        return round(one["median_s"] / two["median_s"], 2)
    return None


def _verdict(name: str, value: float) -> str:
    if name not in TARGETS:
        return ""
    op, limit, text = TARGETS[name]
    met = value < limit if op == "<" else value >= limit
    return f"{text}: {'met' if met else 'missed'}"


def table(results: dict) -> str:
    """Markdown table of the measured medians, the number of runs behind each, and the targets."""
    labels = {"tests": "test command (smoke DFT, empty cache)",
              "fresh_clone": "main job on a fresh clone (committed results)",
              "rebuild": "unchanged rebuild (`scripts/build_book.sh`)"}
    rows = []
    meas = results["measurements"]
    for name, rec in meas.items():
        if "median_s" in rec:
            rows.append((labels.get(name, name), rec["median_s"], len(rec["runs_s"]), _verdict(name, rec["median_s"])))
        else:
            prefix = {"smoke": "notebook at smoke: ", "paper": "notebook from the paper cache: ",
                      "scf_ranks": "one SCF of the 1T′ monolayer, ",
                      "recompute": "smoke recompute from an empty cache (local Dask cluster), "}.get(name, f"{name}: ")
            rows += [(f"{prefix}{k.replace('1_ranks', '1 rank').replace('1_workers', '1 worker').replace('_', ' ')}",
                      v["median_s"], len(v["runs_s"]), "")
                     for k, v in rec.items() if isinstance(v, dict)]
    if "smoke" not in meas and "smoke_notebooks" in meas.get("tests", {}):
        rows += [(f"notebook at smoke (within the test command): {k.replace('_', ' ')}", v["median_s"],
                  len(v["runs_s"]), "") for k, v in meas["tests"]["smoke_notebooks"].items()]
    m = results["machine"]
    dates = sorted(r["date"][:10] for r in meas.values() if isinstance(r, dict) and "date" in r) or [results["date"][:10]]
    when = dates[0] if dates[0] == dates[-1] else f"between {dates[0]} and {dates[-1]}"
    head = (f"Measured {when} on {m['cpus']} cores ({m['platform']}), latest at "
            f"commit {results['commit'][:10]}:\n\n"
            "| measurement | median (s) | runs | target |\n|---|---|---|---|\n")
    body = "".join(f"| {a} | {b:.1f} | {n} | {t} |\n" for a, b, n, t in rows)
    x = speedup(results)
    if x is not None:
        body += f"| SCF speed-up, 2 ranks over 1 | {x:.2f}× | | {_verdict('scf_speedup', x)} |\n"
    y = speedup(results, "recompute", "workers")
    if y is not None:
        body += f"| smoke recompute speed-up, 2 workers over 1 | {y:.2f}× | | |\n"
    return head + body


def bench(repeat: int = 3, only=None, output: Path = ROOT / "data" / "benchmark.json",
          table_path: Path = ROOT / "book" / "_benchmark.md", repeat_costly: int = 1) -> dict:
    """Run the chosen measurements, merge them into `output` (earlier measurements of other names
    are kept, with their own dates) and rewrite the Markdown table."""
    chosen = list(only or ALL)
    unknown = set(chosen) - set(ALL)
    if unknown:
        raise SystemExit(f"bench: unknown measurements {sorted(unknown)}; choose from {ALL}")
    for name, value in (("--repeat", repeat), ("--repeat-costly", repeat_costly)):
        if not isinstance(value, int) or value < 1:
            raise SystemExit(f"bench: {name} must be a whole number of runs >= 1, got {value!r}")
    funcs = measurements(repeat, repeat_costly)
    prev = json.loads(output.read_text()) if output.exists() else {"measurements": {}}
    results = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"), "repeat": repeat, "repeat_costly": repeat_costly,
        "commit": subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                                 text=True).stdout.strip(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": sys.version.split()[0]},
        "measurements": dict(prev.get("measurements", {})),
    }
    for name in chosen:
        print(f"bench: {name} ...", flush=True)
        rec = funcs[name]()
        rec = {**rec, "date": time.strftime("%Y-%m-%dT%H:%M:%S")}
        results["measurements"][name] = rec
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(results, indent=1))      # each measurement kept as it finishes
        table_path.write_text(table(results))
        print(f"bench: {name}: {json.dumps(results['measurements'][name])}", flush=True)
    print(f"bench: wrote {output} and {table_path}")
    return results
