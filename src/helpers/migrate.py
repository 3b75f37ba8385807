"""Bring a result cache to the current schema (`python -m helpers migrate`).

For every entry `<kind>-<profile>-<key>/` with a result.json:

1. the key is recomputed from the entry's stored `inputs` with the current `cache.SCHEMA`
   (normalized numbers: -0.0 and 0.0, 400.0 and 400 give one key); an entry whose name is not
   the key of its inputs under the schema it was made with is reported and left alone;
2. the `key` field of result.json is set to the new name (nothing else in it changes);
3. manifest.json (SHA-256 of every file) is written;
4. the directory is renamed to the new name.

Each step is atomic and the sequence can be re-run after an interruption; entries already
current are left untouched (idempotent). An entry whose manifest exists but does not match
its files is never migrated (it is reported as corrupt).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from . import cache
from .paths import cache_dir


def _entries(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and (p / "result.json").exists())


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)


def migrate_entry(entry: Path) -> str:
    """Migrate one entry; returns a one-line report."""
    result = json.loads((entry / "result.json").read_text())
    kind, profile, inputs = result["kind"], result["profile"], result["inputs"]
    new = f"{kind}-{profile}-{cache.key(inputs)}"
    has_manifest = (entry / cache.MANIFEST).exists()
    if has_manifest:
        bad = cache.problems(entry)
        if bad:
            return f"CORRUPT {entry.name}: {'; '.join(bad)} (left alone)"
    if entry.name == new and result.get("key") == new and has_manifest:
        return f"current {entry.name}"
    old_key = entry.name.rsplit("-", 1)[-1]
    if entry.name != new and not any(cache.key(inputs, s) == old_key for s in range(1, cache.SCHEMA)):
        return (f"SKIPPED {entry.name}: its name is not the key of its stored inputs under any "
                f"schema (left alone)")
    target = entry.parent / new
    if entry.name != new and target.exists():
        return f"SKIPPED {entry.name}: {new} already exists (left alone; remove one of them)"
    if result.get("key") != new:
        result["key"] = new
        _write_json(entry / "result.json", result)
    cache.write_manifest(entry)
    if entry.name != new:
        os.rename(entry, target)
        return f"migrated {entry.name} -> {new}"
    return f"manifest added {entry.name}"


def migrate(root: Path | None = None) -> list[str]:
    root = Path(root or cache_dir())
    return [migrate_entry(e) for e in _entries(root)]


def verify_all(root: Path | None = None) -> list[tuple[str, list[str]]]:
    """(entry name, problems) for every entry directory of the cache; [] problems: verified."""
    root = Path(root or cache_dir())
    out = []
    for entry in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        bad = cache.problems(entry)
        if not bad:
            result = json.loads((entry / "result.json").read_text())
            name = f"{result['kind']}-{result['profile']}-{cache.key(result['inputs'])}"
            if name != entry.name or result.get("key") != entry.name:
                bad = [f"its name is not the schema-{cache.SCHEMA} key of its inputs ({name}): "
                       f"run `python -m helpers migrate`"]
        out.append((entry.name, bad))
    return out
