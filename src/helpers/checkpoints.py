"""Committed checkpoints of unfinished calculations: a DFT+U branch longer than a working session resumes
in the next one, from a fresh clone.

A job that records its steps (helpers.gpaw_job: steps.json, step.json and the state to continue from,
step.gpw) works in `<cache>/.work/<entry>/`, which is not committed and does not outlive the machine.
`save` copies each such work directory into `data/checkpoints/<entry>/` with a manifest of its files
(helpers.cache.write_manifest); `restore` copies one back into an empty work directory before the job
starts (helpers.cache._compute_entry calls it), after checking the manifest. The entry's name is the hash
of all of its inputs and code versions, so a checkpoint can only resume the calculation it was made by;
one whose entry has since been finished is stale, is never read, and `save` removes it.

    python -m helpers checkpoint          # save every resumable work directory, prune the finished ones
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from .paths import DATA, cache_dir

CHECKPOINTS = DATA / "checkpoints"
#: A work directory is resumable when it holds these (the step records and which state they end at).
MARKERS = ("steps.json", "step.json")
#: Files of a work directory that a resumed job does not read (locks, partial writes).
SKIP_SUFFIXES = (".lock", "-new.gpw", "-partial.gpw", ".tmp")


def resumable(work: Path) -> bool:
    """Whether work directory `work` holds recorded steps and the state written after the last of them."""
    try:
        mark = json.loads((work / "step.json").read_text())
        steps = json.loads((work / "steps.json").read_text())
    except (OSError, ValueError):
        return False
    return mark.get("steps") == len(steps) > 0 and (work / "step.gpw").is_file()


def _steps(path: Path) -> int:
    try:
        return len(json.loads((path / "steps.json").read_text()))
    except (OSError, ValueError):
        return 0


def save(root: Path | None = None, dest: Path | None = None) -> list[str]:
    """Copy every resumable work directory of the cache `root` (default helpers.paths.cache_dir) into
    `dest/<entry>/` with a manifest, unless `dest` already holds as many steps of it; remove the
    checkpoints of entries now in the cache. Returns one line per checkpoint saved, kept or removed."""
    from .cache import write_manifest
    root, dest = Path(root or cache_dir()), Path(dest or CHECKPOINTS)
    lines = []
    for work in sorted((root / ".work").glob("*")):
        if not work.is_dir() or not resumable(work):
            continue
        n, old = _steps(work), _steps(dest / work.name)
        if old >= n:
            lines.append(f"kept     {work.name} ({old} steps; the work directory has {n})")
            continue
        staged = dest / f".staged-{work.name}"
        shutil.rmtree(staged, ignore_errors=True)
        staged.mkdir(parents=True)
        for f in work.iterdir():
            if f.is_file() and not f.name.endswith(SKIP_SUFFIXES):
                shutil.copy2(f, staged / f.name)
        write_manifest(staged)
        if (dest / work.name).exists():
            shutil.rmtree(dest / work.name)
        staged.rename(dest / work.name)
        lines.append(f"saved    {work.name} ({n} steps)")
    for cp in sorted(dest.glob("*")) if dest.is_dir() else []:
        if cp.is_dir() and not cp.name.startswith(".") and (root / cp.name / "result.json").exists():
            shutil.rmtree(cp)
            lines.append(f"removed  {cp.name} (the entry is finished)")
    return lines


def problems(checkpoint: Path) -> list[str]:
    """What is wrong with a checkpoint directory (empty: its files match its manifest and it is resumable)."""
    from .cache import problems as entry_problems
    found = [p for p in entry_problems(checkpoint) if "result.json" not in p]
    if not found and not resumable(checkpoint):
        found.append("its step records do not name a state to resume from")
    return found


def restore(name: str, work: Path, src: Path | None = None) -> bool:
    """Copy checkpoint `src/<name>` into the work directory `work` when `work` holds no recorded steps of its
    own (a work directory that has them is further along or the same, and is left alone). A checkpoint whose
    files do not match its manifest raises ValueError naming it and the problem, before any calculation."""
    cp = Path(src or CHECKPOINTS) / name
    if not cp.is_dir() or _steps(work) > 0:
        return False
    bad = problems(cp)
    if bad:
        raise ValueError(f"checkpoint {cp} is damaged: {'; '.join(bad)}. Remove it (`rm -r {cp}`) to start "
                         f"the calculation from the beginning, or restore it from git")
    work.mkdir(parents=True, exist_ok=True)
    for f in cp.iterdir():
        if f.is_file() and f.name != "manifest.json" and f.name != "inputs.json":
            shutil.copy2(f, work / f.name)
    return True
