"""Loading a cached result, or computing and storing it: one folder per entry under data/cache, keyed by its inputs."""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import time
from pathlib import Path
from typing import Callable

from .checkpoints import restore
from .keys import canonical, entry_name, normalize
from .manifest import manifest_hash, verify, write_manifest
from .paths import cache_dir


class CacheMiss(RuntimeError):
    """Raised when a result is required to be cached (COMPENDIUM_REQUIRE_CACHE=1) but is not;
    `entry` names the missing entry."""

    def __init__(self, message: str, entry: str | None = None):
        super().__init__(message)
        self.entry = entry


def load(name: str) -> dict | None:
    """The stored result of entry `name` (verified against its manifest), or None if absent.

    Raises CacheCorrupt if the entry exists but is incomplete or altered; it is then not used
    and left as it is.
    """
    entry = cache_dir() / name
    if not entry.exists():
        return None
    verify(name)
    return json.loads((entry / "result.json").read_text())


def _log_read(name: str, result: dict) -> None:
    """Append the entry read to $COMPENDIUM_READ_LOG (one JSON line), if set."""
    log = os.environ.get("COMPENDIUM_READ_LOG")
    if not log:
        return
    rec = {"entry": name, "profile": result.get("profile"), "converged": result.get("converged"),
           "manifest": manifest_hash(name)}
    with open(log, "a") as f:
        f.write(json.dumps(rec) + "\n")


#: The command that computes what the running page asked for: set by the page's parameter check
#: (helpers.book.schema.check), read by missing_message.
REQUEST = {"command": None}


def record_request(command: str | None) -> None:
    """Remember the command that executes the page being run with its parameters (for missing_message)."""
    REQUEST["command"] = command


def missing_message(name: str, profile: str, root: Path) -> str:
    """One line: entry `name` is missing, and the command that computes it: the notebook that
    asked for it with the parameters it was given (recorded by helpers.book.schema.check)."""
    cmd = REQUEST["command"]
    how = (f"Compute it with `{cmd}`" if cmd else
           f"Compute it by running the notebook that asked for it (profile {profile}) without "
           f"COMPENDIUM_REQUIRE_CACHE")
    return (f"cache entry {name} is not in the cache {root} and COMPENDIUM_REQUIRE_CACHE=1 forbids "
            f"computing it here. {how}.")


def _compute_entry(root: Path, name: str, kind: str, profile: str, inputs: dict,
                   compute: Callable[[Path], dict], same=None) -> dict:
    """Run `compute` in the entry's work directory and move the finished entry into place."""
    final = root / name
    work = root / ".work" / name
    work.mkdir(parents=True, exist_ok=True)
    (work / "inputs.json").write_text(canonical(inputs))
    if restore(name, work, same=same):    # a committed checkpoint of this calculation (helpers.store.checkpoints)
        print(f"{name}: resuming from its committed checkpoint", flush=True)
    t0 = time.time()
    result = compute(work)
    result = {
        "kind": kind, "profile": profile, "key": name, "inputs": inputs,
        "wall_time_s": round(time.time() - t0, 3),   # ms: a quick model job is not 0
        "finished": time.strftime("%Y-%m-%dT%H:%M:%S"),
        **result,
    }
    (work / "result.json").write_text(json.dumps(result, indent=1, sort_keys=True))
    staged = root / f".staged-{name}-{os.getpid()}"
    if staged.exists():
        shutil.rmtree(staged)
    shutil.copytree(work, staged)
    write_manifest(staged)
    if final.exists():
        old = root / f".old-{name}-{os.getpid()}"
        os.replace(final, old)
        os.replace(staged, final)
        shutil.rmtree(old)
    else:
        os.replace(staged, final)
    shutil.rmtree(work, ignore_errors=True)
    return result


@contextlib.contextmanager
def environ(name: str, value: str):
    """Inside: the environment variable `name` set to `value`; restored (or removed) after."""
    old = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if old is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = old


def cache_only():
    """Inside: COMPENDIUM_REQUIRE_CACHE=1 (a missing result raises CacheMiss instead of being computed)."""
    return environ("COMPENDIUM_REQUIRE_CACHE", "1")


def equivalent_entry(kind: str, profile: str, inputs: dict, same: Callable[[dict, dict], bool]) -> str | None:
    """The name of an entry of `kind` and `profile` whose stored inputs describe the same calculation as
    `inputs` by `same(stored, inputs)` (both normalized), though written differently, so its key differs;
    None if there is none. For inputs whose numbers an eigensolver fixes only up to a sign or a rotation
    within a degenerate pair (helpers.dft.jobs.same_dftu_job)."""
    ours = normalize(inputs)
    for path in sorted(cache_dir().glob(f"{kind}-{profile}-*/result.json")):
        try:
            stored = json.loads(path.read_text()).get("inputs")
        except ValueError:
            continue
        # the stored inputs must still give the entry's own name (same schema, not renamed), then be the same job
        if (isinstance(stored, dict) and entry_name(kind, profile, stored) == path.parent.name
                and same(stored, ours)):
            return path.parent.name
    return None


def _load_or_twin(name: str, kind: str, profile: str, inputs: dict, same) -> dict | None:
    """Entry `name`, else (with `same`) an equivalent entry (equivalent_entry), loaded, verified and logged as
    read; None if neither is there. A twin is only read: a computation goes to the job's own name."""
    hit = load(name)
    if hit is None and same is not None and (twin := equivalent_entry(kind, profile, inputs, same)) is not None:
        name, hit = twin, load(twin)
    if hit is not None:
        hit["cache_entry"] = str(cache_dir() / name)
        _log_read(name, hit)
    return hit


def cached(kind: str, profile: str, inputs: dict, compute: Callable[[Path], dict],
           force: bool = False, same: Callable[[dict, dict], bool] | None = None) -> dict:
    """Return the result of `compute` for `inputs`, computing it only on a cache miss.

    `compute(workdir)` runs in a persistent work directory (restart files kept there) and
    returns a JSON-serialisable dict; files it leaves in workdir are kept with the entry.
    `same`: on a miss, an entry whose stored inputs `same` calls the same calculation is read instead
    (equivalent_entry).
    """
    name = entry_name(kind, profile, inputs)
    root = cache_dir()
    final = root / name
    if not force:
        hit = _load_or_twin(name, kind, profile, inputs, same)
        if hit is not None:
            return hit
        if os.environ.get("COMPENDIUM_REQUIRE_CACHE") == "1":
            # logged too: a notebook that skipped a missing result is re-executed once it exists
            _log_read(name, {"profile": profile})
            raise CacheMiss(missing_message(name, profile, root), entry=name)
    (root / ".work").mkdir(parents=True, exist_ok=True)
    with open(root / ".work" / f"{name}.lock", "w") as lock:
        # one process computes an entry at a time; another asking for it waits, then reads it
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not force and (hit := _load_or_twin(name, kind, profile, inputs, same)) is not None:
                return hit
            result = _compute_entry(root, name, kind, profile, inputs, compute, same)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    result["cache_entry"] = str(final)
    _log_read(name, result)
    return result
