"""Committed checkpoints of unfinished calculations: a DFT+U branch longer than a working session resumes
in the next one, from a fresh clone.

A job that records its steps (helpers.dft.gpaw_job: steps.json, step.json and the state to continue from,
step.gpw) works in `<cache>/.work/<entry>/`, which is not committed and does not outlive the machine.
`save` copies each such work directory into `data/checkpoints/<entry>/` with a manifest of its files
(helpers.store.manifest.write_manifest); `restore` copies one back into the work directory before the job starts
(helpers.store.cache._compute_entry calls it), after checking the manifest and that the checkpoint's stored inputs
are this job's (or, with `same`, the same calculation written differently: helpers.dft.jobs.same_dftu_job). A
checkpoint is used only when it is further along than the work directory. One whose entry has since been
finished is never read, and `save` removes it.

    python -m helpers checkpoint          # save every resumable work directory, prune the finished ones
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from .keys import canonical, normalize
from .manifest import problems as entry_problems, write_manifest
from .paths import DATA, cache_dir


CHECKPOINTS = DATA / "checkpoints"
#: Files of a work directory that a resumed job does not read (locks, partial writes).
SKIP_SUFFIXES = (".lock", "-new.gpw", "-partial.gpw", ".tmp")
#: The files that describe where a branch stands; replaced together when a checkpoint is restored.
STATE_FILES = ("steps.json", "step.json", "step.gpw", "gpaw.txt")


def resumable(work: Path) -> bool:
    """Whether work directory `work` holds recorded steps and the state written after the last of them."""
    try:
        mark = json.loads((work / "step.json").read_text())
        steps = json.loads((work / "steps.json").read_text())
    except (OSError, ValueError):
        return False
    return mark.get("steps") == len(steps) > 0 and (work / "step.gpw").is_file()


def _steps(path: Path) -> int:
    return len(json.loads((path / "steps.json").read_text())) if resumable(path) else 0


def _stamp(work: Path) -> tuple:
    """What changes whenever a running job records a step: step.json's text and step.gpw's size and time."""
    try:
        st = (work / "step.gpw").stat()
        return (work / "step.json").read_text(), st.st_size, st.st_mtime_ns
    except OSError:
        return ()


def _copy(work: Path, staged: Path) -> bool:
    """Copy the files of `work` into `staged`; False if the job recorded a step meanwhile (the copy would mix two)."""
    before = _stamp(work)
    shutil.rmtree(staged, ignore_errors=True)
    staged.mkdir(parents=True)
    for f in work.iterdir():
        if f.is_file() and not f.name.endswith(SKIP_SUFFIXES):
            shutil.copy2(f, staged / f.name)
    return bool(before) and _stamp(work) == before and resumable(staged)


def save(root: Path | None = None, dest: Path | None = None) -> list[str]:
    """Copy every resumable work directory of the cache `root` (default helpers.store.paths.cache_dir) into
    `dest/<entry>/` with a manifest, unless `dest` already holds as many steps of it; remove the
    checkpoints of entries now in the cache. A directory whose job records a step while it is copied is
    copied again (three tries). Returns one line per checkpoint saved, kept, skipped or removed."""
    root, dest = Path(root or cache_dir()), Path(dest or CHECKPOINTS)
    lines = []
    for work in sorted((root / ".work").glob("*")):
        if not work.is_dir() or not resumable(work):
            continue
        n, old = _steps(work), _steps(dest / work.name) if (dest / work.name).is_dir() else 0
        if old >= n:
            lines.append(f"kept     {work.name} ({old} steps; the work directory has {n})")
            continue
        staged = dest / f".staged-{work.name}"
        if not any(_copy(work, staged) for _ in range(3)):
            shutil.rmtree(staged, ignore_errors=True)
            lines.append(f"skipped  {work.name} (its job recorded steps while it was copied; stop it first)")
            continue
        write_manifest(staged)
        if (dest / work.name).exists():
            shutil.rmtree(dest / work.name)
        staged.rename(dest / work.name)
        lines.append(f"saved    {work.name} ({_steps(dest / work.name)} steps)")
    for cp in sorted(dest.glob("*")) if dest.is_dir() else []:
        if cp.is_dir() and not cp.name.startswith(".") and (root / cp.name / "result.json").exists():
            shutil.rmtree(cp)
            lines.append(f"removed  {cp.name} (the entry is finished)")
    return lines


def problems(checkpoint: Path) -> list[str]:
    """What is wrong with a checkpoint directory (empty: its files match its manifest and it is resumable)."""
    found = [p for p in entry_problems(checkpoint) if p != "the manifest lists no result.json"]
    if not found and not resumable(checkpoint):
        found.append("its step records do not name a state to resume from")
    return found


def find(name: str, inputs: dict | None, src: Path | None = None, same=None) -> Path | None:
    """The checkpoint of entry `name` in `src` (default CHECKPOINTS), else, with `same` and `inputs`, one of the
    same kind and profile whose stored inputs `same` calls this calculation; None if there is none."""
    src = Path(src or CHECKPOINTS)
    if (src / name).is_dir():
        return src / name
    if same is None or inputs is None or not src.is_dir():
        return None
    ours = normalize(inputs)
    for cp in sorted(src.glob(f"{name.rsplit('-', 1)[0]}-*")):
        try:
            stored = json.loads((cp / "inputs.json").read_text())
        except (OSError, ValueError):
            continue
        if same(stored, ours):
            return cp
    return None


def restore(name: str, work: Path, src: Path | None = None, same=None) -> bool:
    """Copy the checkpoint of entry `name` (find; the job's inputs are read from `work`/inputs.json) into the work
    directory `work` when it is further along than what `work` holds (steps.json, step.json, step.gpw and the log
    replaced together). Raises ValueError naming the checkpoint and the problem, before any calculation, when its
    files do not match its manifest or its stored inputs are neither this job's nor, by `same`, equivalent."""
    try:
        ours = json.loads((work / "inputs.json").read_text())
    except (OSError, ValueError):
        ours = None
    cp = find(name, ours, src, same)
    if cp is None:
        return False
    bad = problems(cp)
    try:
        stored = json.loads((cp / "inputs.json").read_text())
    except (OSError, ValueError):
        stored = None
    if ours is not None and stored is not None and canonical(stored) != canonical(ours) and not (same and same(stored, ours)):
        bad.append("its inputs.json is not this job's (a checkpoint of another calculation under this name)")
    if bad:
        raise ValueError(f"checkpoint {cp} is damaged: {'; '.join(bad)}. Remove it (`rm -r {cp}`) to start "
                         f"the calculation from the beginning, or restore it from git")
    if _steps(work) >= _steps(cp):
        return False
    work.mkdir(parents=True, exist_ok=True)
    for f in STATE_FILES:
        (work / f).unlink(missing_ok=True)
    for f in cp.iterdir():
        if f.is_file() and f.name not in ("manifest.json", "inputs.json"):
            shutil.copy2(f, work / f.name)
    return True
