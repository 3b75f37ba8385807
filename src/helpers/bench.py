"""`python -m helpers bench`: time the main commands; medians go to data/benchmark.json and a
Markdown table to book/_benchmark.md (shown on the methods page).

Measurements (names for --only):
    tests          the test command (scripts/run_tests.sh; its smoke DFT starts from an empty cache)
    fresh_clone    scripts/build_book.sh on a fresh `git clone` with the committed results
                   (it reuses this checkout's .venv through a symlink; the clone's src is used)
    rebuild        scripts/build_book.sh again with nothing changed
    smoke          each notebook at the smoke profile, in order, from one empty cache
    paper          each notebook from the paper cache (COMPENDIUM_REQUIRE_CACHE=1, forced)
    scf_ranks      one SCF of the monolayer 1T' cell (paper settings) on 1 and on 2 MPI ranks
The whole set takes about an hour on 2 cores; each measurement runs `repeat` times.
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

from .paths import ROOT

ALL = ("tests", "fresh_clone", "rebuild", "smoke", "paper", "scf_ranks")


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


def _notebook_times(profile: str, env: dict, repeat: int) -> dict:
    """Median seconds of each notebook executed (forced) in order at `profile`."""
    from . import cli
    out = {}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            env_tmp = {k: (v.replace("{tmp}", tmp) if isinstance(v, str) else v) for k, v in env.items()}
            old = {k: os.environ.get(k) for k in env_tmp}
            os.environ.update(env_tmp)
            try:
                for nb in cli.notebooks():
                    t = timed(lambda: cli.execute(profile, [nb.stem], out=Path(tmp) / "executed", force=True))
                    out.setdefault(nb.stem, []).append(round(t, 2))
            finally:
                for k, v in old.items():
                    os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
    return {k: {"median_s": round(statistics.median(v), 2), "runs_s": v} for k, v in out.items()}


def _scf(ranks: int) -> None:
    from . import dft, params, structures
    settings = params.settings("paper")
    atoms = structures.monolayer_1Tprime("WTe2", vacuum=settings["vacuum"])
    with tempfile.TemporaryDirectory() as tmp:
        old = {k: os.environ.get(k) for k in ("COMPENDIUM_CACHE", "COMPENDIUM_RANKS", "COMPENDIUM_REQUIRE_CACHE")}
        os.environ.update(COMPENDIUM_CACHE=tmp, COMPENDIUM_RANKS=str(ranks))
        os.environ.pop("COMPENDIUM_REQUIRE_CACHE", None)
        try:
            dft.single_point(atoms, settings, "bench-WTe2-1Tprime", force=True)
        finally:
            for k, v in old.items():
                os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)


def measurements(repeat: int) -> dict:
    """name -> function returning that measurement's record."""
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
        "tests": lambda: median_of(lambda: _sh(["bash", "scripts/run_tests.sh", "-q"]), repeat),
        "fresh_clone": fresh_clone,
        "rebuild": rebuild,
        "smoke": lambda: _notebook_times("smoke", {"COMPENDIUM_CACHE": "{tmp}/cache",
                                                   "COMPENDIUM_REQUIRE_CACHE": "0"}, repeat),
        "paper": lambda: _notebook_times("paper", {"COMPENDIUM_REQUIRE_CACHE": "1"}, repeat),
        "scf_ranks": lambda: {f"{n}_ranks": median_of(lambda n=n: _scf(n), repeat) for n in (1, 2)},
    }


def table(results: dict) -> str:
    """Markdown table of the measured medians."""
    labels = {"tests": "test command (smoke DFT, empty cache)",
              "fresh_clone": "main job on a fresh clone (committed results)",
              "rebuild": "unchanged rebuild (`scripts/build_book.sh`)"}
    rows = []
    for name, rec in results["measurements"].items():
        if "median_s" in rec:
            rows.append((labels.get(name, name), rec["median_s"]))
        else:
            prefix = {"smoke": "notebook at smoke: ", "paper": "notebook from the paper cache: ",
                      "scf_ranks": "one SCF of the 1T′ monolayer, "}.get(name, f"{name}: ")
            rows += [(f"{prefix}{k.replace('_', ' ')}", v["median_s"]) for k, v in rec.items()]
    m = results["machine"]
    head = (f"Measured {results['date']} on {m['cpus']} cores ({m['platform']}), "
            f"commit {results['commit'][:10]}, median of {results['repeat']} run(s):\n\n"
            "| measurement | median (s) |\n|---|---|\n")
    return head + "".join(f"| {a} | {b:.1f} |\n" for a, b in rows)


def bench(repeat: int = 3, only=None, output: Path = ROOT / "data" / "benchmark.json",
          table_path: Path = ROOT / "book" / "_benchmark.md") -> dict:
    chosen = list(only or ALL)
    unknown = set(chosen) - set(ALL)
    if unknown:
        raise SystemExit(f"bench: unknown measurements {sorted(unknown)}; choose from {ALL}")
    funcs = measurements(repeat)
    prev = json.loads(output.read_text()) if output.exists() else {"measurements": {}}
    results = {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S"), "repeat": repeat,
        "commit": subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                                 text=True).stdout.strip(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                    "python": sys.version.split()[0]},
        "measurements": dict(prev.get("measurements", {})),
    }
    for name in chosen:
        print(f"bench: {name} ...", flush=True)
        results["measurements"][name] = funcs[name]()
        print(f"bench: {name}: {json.dumps(results['measurements'][name])}", flush=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=1))
    table_path.write_text(table(results))
    print(f"bench: wrote {output} and {table_path}")
    return results
