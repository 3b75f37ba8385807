"""A content-addressed cache for expensive calculations.

Every job is keyed by a hash of all of its inputs (structure, settings, code versions).
A finished entry is a directory `<cache>/<kind>-<profile>-<key>/` holding `result.json`
(the numbers, and the inputs and metadata that produced them) and whatever files the job
wrote (final structure, GPAW log). Entries appear atomically: a job works in
`<cache>/.work/<name>/` (which also holds its restart data, so an interrupted job resumes),
then the finished directory is renamed into place. A forced recomputation (`force=True`) replaces an old
entry only after the new one is complete, so a failed run loses nothing.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Callable

from .paths import cache_dir

SCHEMA = 1  # bump when the meaning of cached results changes


class CacheMiss(RuntimeError):
    """Raised when a result is required to be cached (COMPENDIUM_REQUIRE_CACHE=1) but is not."""


def canonical(obj) -> str:
    """Deterministic JSON text of `obj` (sorted keys, floats rounded to 10 significant digits)."""
    def norm(o):
        if isinstance(o, float):
            return float(f"{o:.10g}")
        if isinstance(o, dict):
            return {str(k): norm(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return [norm(v) for v in o]
        if hasattr(o, "tolist"):
            return norm(o.tolist())
        return o
    return json.dumps(norm(obj), sort_keys=True, separators=(",", ":"))


def key(inputs: dict) -> str:
    """16-hex-digit hash of the canonical JSON of `inputs` (with the cache schema)."""
    return hashlib.sha256(canonical({"schema": SCHEMA, **inputs}).encode()).hexdigest()[:16]


def entry_name(kind: str, profile: str, inputs: dict) -> str:
    return f"{kind}-{profile}-{key(inputs)}"


def load(name: str) -> dict | None:
    """The stored result of entry `name`, or None."""
    path = cache_dir() / name / "result.json"
    if path.exists():
        return json.loads(path.read_text())
    return None


def _compute_entry(root: Path, name: str, kind: str, profile: str, inputs: dict,
                   compute: Callable[[Path], dict]) -> dict:
    """Run `compute` in the entry's work directory and move the finished entry into place."""
    final = root / name
    work = root / ".work" / name
    work.mkdir(parents=True, exist_ok=True)
    (work / "inputs.json").write_text(canonical(inputs))
    t0 = time.time()
    result = compute(work)
    result = {
        "kind": kind, "profile": profile, "key": name, "inputs": inputs,
        "wall_time_s": round(time.time() - t0, 1),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
        **result,
    }
    (work / "result.json").write_text(json.dumps(result, indent=1, sort_keys=True))
    staged = root / f".staged-{name}-{os.getpid()}"
    if staged.exists():
        shutil.rmtree(staged)
    shutil.copytree(work, staged)
    if final.exists():
        old = root / f".old-{name}-{os.getpid()}"
        os.replace(final, old)
        os.replace(staged, final)
        shutil.rmtree(old)
    else:
        os.replace(staged, final)
    shutil.rmtree(work, ignore_errors=True)
    return result


def cached(kind: str, profile: str, inputs: dict, compute: Callable[[Path], dict],
           force: bool = False) -> dict:
    """Return the result of `compute` for `inputs`, computing it only on a cache miss.

    `compute(workdir)` runs in a persistent work directory (restart files kept there) and
    returns a JSON-serialisable dict; files it leaves in workdir are kept with the entry.
    """
    name = entry_name(kind, profile, inputs)
    root = cache_dir()
    final = root / name
    if not force:
        hit = load(name)
        if hit is not None:
            hit["cache_entry"] = str(final)
            return hit
        if os.environ.get("COMPENDIUM_REQUIRE_CACHE") == "1":
            raise CacheMiss(
                f"{name} is not in the cache {root} and COMPENDIUM_REQUIRE_CACHE=1. "
                f"Compute it with `python -m helpers recompute --profile {profile}` "
                f"(or run the notebook without COMPENDIUM_REQUIRE_CACHE)."
            )
    (root / ".work").mkdir(parents=True, exist_ok=True)
    with open(root / ".work" / f"{name}.lock", "w") as lock:
        # one process computes an entry at a time; another asking for it waits, then reads it
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not force and (hit := load(name)) is not None:
                hit["cache_entry"] = str(final)
                return hit
            result = _compute_entry(root, name, kind, profile, inputs, compute)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    result["cache_entry"] = str(final)
    return result
