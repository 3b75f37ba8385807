"""Bring a result cache to the current schema (`python -m helpers migrate`).

Only entries whose files verify against the manifest recorded when they were computed are
touched: an entry without a manifest, or with a file that does not match it, is refused (a
REFUSED line with the command that repairs it) and left alone; migration never writes a manifest
over files it cannot check. For every entry `<kind>-<profile>-<key>/` that verifies:

1. the key is recomputed from the entry's stored `inputs` with the current `helpers.store.keys.SCHEMA`
   (normalized numbers: -0.0 and 0.0, 400.0 and 400 give one key); an entry whose name is not
   the key of its inputs under the schema it was made with is reported and left alone;
2. the `key` field of result.json is set to the new name (nothing else in it changes);
3. manifest.json is rewritten (the hash of result.json changed with its key field; every other
   file keeps the hash it was verified against);
4. the entry takes the new name.

The migrated entry is built in a hidden staging folder beside the old one and renamed into
place only when complete, so an interruption loses nothing and a re-run finishes the work;
entries already current are left untouched (idempotent).
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from . import keys as cache_keys
from . import manifest
from .paths import cache_dir


def _entries(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
    os.replace(tmp, path)


def migrate_entry(entry: Path) -> str:
    """Migrate one entry; returns a one-line report."""
    bad = manifest.problems(entry)
    if bad:
        return f"REFUSED {manifest.CacheCorrupt(entry.name, bad)} (left alone)"
    result = json.loads((entry / "result.json").read_text())
    kind, profile, inputs = result["kind"], result["profile"], result["inputs"]
    new = f"{kind}-{profile}-{cache_keys.key(inputs)}"
    if entry.name == new and result.get("key") == new:
        return f"current {entry.name}"
    old_key = entry.name.rsplit("-", 1)[-1]
    if entry.name != new and not any(cache_keys.key(inputs, s) == old_key for s in range(1, cache_keys.SCHEMA)):
        return (f"SKIPPED {entry.name}: its name is not the key of its stored inputs under any "
                f"schema (left alone)")
    target = entry.parent / new
    if entry.name != new and target.exists():
        other = json.loads((target / "result.json").read_text()) if not manifest.problems(target) else None
        if other is not None and cache_keys.canonical(other["inputs"]) == cache_keys.canonical(inputs):
            shutil.rmtree(entry)           # a migration interrupted after its rename: finish it
            return f"migrated {entry.name} -> {new}"
        return f"SKIPPED {entry.name}: {new} already exists (left alone; remove one of them)"
    # the new entry is made beside the old one and takes its place only when complete
    staged = entry.parent / f".migrate-{new}"
    if staged.exists():
        shutil.rmtree(staged)
    shutil.copytree(entry, staged)
    result["key"] = new
    _write_json(staged / "result.json", result)
    manifest.write_manifest(staged)       # the files verified above; only result.json's key field changed
    if entry.name != new:
        os.rename(staged, target)
        shutil.rmtree(entry)
        return f"migrated {entry.name} -> {new}"
    old = entry.parent / f".migrate-old-{entry.name}"
    os.rename(entry, old)
    os.rename(staged, entry)
    shutil.rmtree(old)
    return f"key field updated {entry.name}"


def _recover(root: Path) -> None:
    """Put back an entry whose migration stopped between its two renames."""
    for old in root.glob(".migrate-old-*"):
        name = old.name[len(".migrate-old-"):]
        if not (root / name).exists():
            os.rename(old, root / name)
        else:
            shutil.rmtree(old)


def migrate(root: Path | None = None) -> list[str]:
    root = Path(root or cache_dir())
    _recover(root)
    return [migrate_entry(e) for e in _entries(root)]


def verify_all(root: Path | None = None) -> list[tuple[str, list[str]]]:
    """(entry name, problems) for every entry directory of the cache; [] problems: verified."""
    root = Path(root or cache_dir())
    out = []
    for entry in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        bad = manifest.problems(entry)
        if not bad:
            result = json.loads((entry / "result.json").read_text())
            name = f"{result['kind']}-{result['profile']}-{cache_keys.key(result['inputs'])}"
            if name != entry.name or result.get("key") != entry.name:
                bad = [f"its name is not the schema-{cache_keys.SCHEMA} key of its inputs ({name}): "
                       f"run `python -m helpers migrate`"]
        out.append((entry.name, bad))
    return out
