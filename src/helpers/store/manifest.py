"""Manifests of cache entries: the SHA-256 of every file, written when an entry is finished and checked on every read."""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from .keys import SCHEMA
from .params import PROFILES
from .paths import cache_dir


# 2: keys hash normalized inputs (-0.0 -> 0, integral floats -> int, numpy -> Python);
#    every entry carries manifest.json. `python -m helpers migrate` converts schema-1 entries.
MANIFEST = "manifest.json"


class CacheCorrupt(RuntimeError):
    """Raised when a cache entry fails verification; the entry is never used. The message is one
    line: the entry, what is wrong, and the command that repairs it (`command`): remove a stray
    file, or recompute the entry (or restore it from git if it is committed)."""

    def __init__(self, name: str, problems: list[str], profile: str | None = None):
        self.name, self.problems = name, list(problems)
        prof = profile or profile_of(name)
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


def profile_of(name: str) -> str:
    """The profile named in a cache entry's name (paper where it names none)."""
    parts = name.split("-")
    return next((p for p in reversed(parts[:-1]) if p in PROFILES), "paper")


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
