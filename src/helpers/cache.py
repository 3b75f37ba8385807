"""A content-addressed cache for expensive calculations.

Every job is keyed by a hash of all of its inputs (structure, settings, code versions).
A finished entry is a directory `<cache>/<kind>-<profile>-<key>/` holding `result.json`
(the numbers, and the inputs and metadata that produced them) and whatever files the job
wrote (final structure, GPAW log). Entries appear atomically: a job works in
`<cache>/.work/<name>/` (which also holds its restart data, so an interrupted job resumes),
then the finished directory is renamed into place. A forced recomputation (`force=True`) replaces an old
entry only after the new one is complete, so a failed run loses nothing.

Integrity: every entry holds `manifest.json`, the SHA-256 and size of every other file in it.
Loading an entry verifies them (sizes first, hashes when the sizes match); a truncated, altered,
missing or unexpected file, or a missing manifest, makes the load raise `CacheCorrupt` (one line:
the entry, the problem, the command that repairs it), and nothing in the cache is changed.
`python -m helpers verify` checks every entry; `python -m helpers execute` verifies the entries a
notebook read before calling it up to date, so a damaged entry is never "up to date".

A missing entry under COMPENDIUM_REQUIRE_CACHE=1 raises `CacheMiss`, whose message gives the
command that computes it: the notebook that asked for it, with its parameters (helpers.schema).

Read log: when $COMPENDIUM_READ_LOG names a file, every entry returned by `cached` is appended
to it as one JSON line (entry name, profile, `converged` when the job reports it, manifest
hash). `python -m helpers execute` sets it per notebook, to skip unchanged notebooks and to
refuse a `paper` page built on a calculation that did not converge.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import time
from pathlib import Path
from typing import Callable

from .paths import cache_dir

SCHEMA = 2  # bump when the meaning of cached results or of their keys changes
# 2: keys hash normalized inputs (-0.0 -> 0, integral floats -> int, numpy -> Python);
#    every entry carries manifest.json. `python -m helpers migrate` converts schema-1 entries.
MANIFEST = "manifest.json"


class CacheMiss(RuntimeError):
    """Raised when a result is required to be cached (COMPENDIUM_REQUIRE_CACHE=1) but is not;
    `entry` names the missing entry."""

    def __init__(self, message: str, entry: str | None = None):
        super().__init__(message)
        self.entry = entry


class CacheCorrupt(RuntimeError):
    """Raised when a cache entry fails verification; the entry is never used. The message is one
    line: the entry, what is wrong, and the command that repairs it (`command`): remove a stray
    file, or recompute the entry (or restore it from git if it is committed)."""

    def __init__(self, name: str, problems: list[str], profile: str | None = None):
        self.name, self.problems = name, list(problems)
        prof = profile or _profile_of(name)
        stray = [p.split()[1] for p in self.problems if p.endswith(STRAY)]
        if stray and len(stray) == len(self.problems):
            where = cache_dir() / name
            self.command = "rm " + " ".join(str(where / s) for s in stray)
            advice = (f"Remove {'it' if len(stray) == 1 else 'them'} with `{self.command}` "
                      f"(the entry's own files verify)")
        else:
            self.command = f"python -m helpers recompute --profile {prof} --entry {name}"
            advice = f"Recompute it with `{self.command}` (or restore it from git if it is committed)"
        super().__init__(f"cache entry {name} is damaged and was not used: {'; '.join(self.problems)}. "
                         f"{advice}.")


#: how `problems` ends the line of a file that is not in the manifest
STRAY = "is not in the manifest (a stray file: remove it)"


def _profile_of(name: str) -> str:
    from .params import PROFILES
    parts = name.split("-")
    return next((p for p in reversed(parts[:-1]) if p in PROFILES), "paper")


def normalize(o, schema: int = SCHEMA):
    """`o` as plain JSON data in the form keys are hashed from.

    Floats are rounded to 10 significant digits. From schema 2 on, -0.0 becomes 0, a float with
    an integral value becomes an int (400.0 and 400 give one key), and numpy scalars and arrays
    become Python numbers and lists (with schema 1 they were already turned into lists).
    """
    if isinstance(o, bool) or o is None or isinstance(o, str):
        return o
    if isinstance(o, float):
        r = float(f"{o:.10g}")
        if schema >= 2 and r.is_integer() and abs(r) < 1e15:
            return int(r)          # also turns -0.0 into 0
        return r
    if isinstance(o, int):
        return int(o)
    if isinstance(o, dict):
        return {str(k): normalize(v, schema) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [normalize(v, schema) for v in o]
    if hasattr(o, "tolist"):
        return normalize(o.tolist(), schema)
    return o


def canonical(obj, schema: int = SCHEMA) -> str:
    """Deterministic JSON text of `obj` (sorted keys, normalized numbers, see `normalize`)."""
    return json.dumps(normalize(obj, schema), sort_keys=True, separators=(",", ":"))


def key(inputs: dict, schema: int = SCHEMA) -> str:
    """16-hex-digit hash of the canonical JSON of `inputs` (with the cache schema)."""
    return hashlib.sha256(canonical({"schema": schema, **inputs}, schema).encode()).hexdigest()[:16]


def entry_name(kind: str, profile: str, inputs: dict) -> str:
    return f"{kind}-{profile}-{key(inputs)}"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _files(entry: Path) -> list[str]:
    """Relative paths of the files of an entry (hidden files and the manifest left out)."""
    return sorted(p.relative_to(entry).as_posix() for p in entry.rglob("*")
                  if p.is_file() and p.name != MANIFEST
                  and not any(part.startswith(".") for part in p.relative_to(entry).parts))


def write_manifest(entry: Path) -> dict:
    """Record SHA-256 and size of every file of `entry` in its manifest.json."""
    files = {rel: {"sha256": _sha256(entry / rel), "bytes": (entry / rel).stat().st_size}
             for rel in _files(entry)}
    manifest = {"schema": SCHEMA, "files": files}
    tmp = entry / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(tmp, entry / MANIFEST)
    return manifest


def manifest_hash(name: str) -> str | None:
    """SHA-256 of entry `name`'s manifest (changes whenever any file of the entry changes)."""
    path = cache_dir() / name / MANIFEST
    return _sha256(path) if path.exists() else None


def problems(entry: Path) -> list[str]:
    """What is wrong with cache entry directory `entry` (empty list: verified).

    Every file is compared with the manifest recorded when the entry was made: its size first
    (cheap), its SHA-256 only when the size matches. An entry without a manifest cannot be
    checked and is refused (never blessed by writing a new manifest over it)."""
    mpath = entry / MANIFEST
    if not mpath.exists():
        return [f"it has no {MANIFEST}, so its files cannot be checked against the hashes recorded "
                f"when it was computed"]
    try:
        listed = json.loads(mpath.read_text())["files"]
        sizes = {rel: int(rec["bytes"]) for rel, rec in listed.items()}
    except (ValueError, KeyError, TypeError) as err:
        return [f"its {MANIFEST} is unreadable ({err})"]
    found = []
    for rel, rec in sorted(listed.items()):
        path = entry / rel
        if not path.is_file():
            found.append(f"file {rel} is missing")
            continue
        size = path.stat().st_size
        if size < sizes[rel]:
            found.append(f"file {rel} is truncated ({size} of {sizes[rel]} bytes)")
        elif size > sizes[rel]:
            found.append(f"file {rel} has grown ({size} bytes, {sizes[rel]} recorded)")
        elif _sha256(path) != rec.get("sha256"):
            found.append(f"file {rel} was altered (its SHA-256 differs from the manifest)")
    for rel in _files(entry):
        if rel not in listed:
            found.append(f"file {rel} {STRAY}")
    if "result.json" not in listed:
        found.append("the manifest lists no result.json")
    return found


def verify(name: str) -> None:
    """Raise CacheCorrupt unless entry `name` matches its manifest."""
    bad = problems(cache_dir() / name)
    if bad:
        raise CacheCorrupt(name, bad)


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


def missing_message(name: str, profile: str, root: Path) -> str:
    """One line: entry `name` is missing, and the command that computes it: the notebook that
    asked for it with the parameters it was given (recorded by helpers.schema.check)."""
    from . import schema
    cmd = schema.command()
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
    from .checkpoints import restore
    if restore(name, work, same=same):    # a committed checkpoint of this calculation (helpers.checkpoints)
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
    within a degenerate pair (helpers.dft.same_dftu_job)."""
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
