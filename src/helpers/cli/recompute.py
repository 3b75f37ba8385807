"""Computing what a profile's pages need, and recomputing from scratch with the old entries kept until replaced."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from . import workflow
from ..book.dftu_cost import write_table
from ..store.paths import ROOT, cache_dir
from .notebooks import DEPENDS, EXECUTED, check_profile, notebooks, read_state


def compute(profile: str, names=None, workers: int = 1, cluster: str | None = None,
            force_pages: bool = False, out: Path | None = None) -> dict:
    """Run the task graph of `profile` for the notebooks `names` (default: all) on Dask: each page's
    calculations (helpers.cli.workflow.graph), then the pages in DEPENDS order, executed into `out`
    (default build/executed). `workers` tasks at once on a local cluster, or the cluster of
    configuration file `cluster`; every input is checked first. Returns the tasks' records."""
    check_profile(profile)
    cfg = workflow.cluster_from_file(cluster) if cluster else None
    workflow.check_workers(workers)
    stems = [b.stem for b in notebooks(names)]
    tasks = workflow.graph(profile, stems, DEPENDS, force_pages=force_pages, out=None if out is None else str(out))
    return workflow.run(tasks, workers=workers, cfg=cfg)


def recompute(profile: str, names=None, entries=None, workers: int = 1, cluster: str | None = None) -> None:
    """Recompute cached results of `profile` from scratch by executing the notebooks.

    The profile's cache entries (or only `entries`) are first moved to a backup folder; results
    are recomputed as the notebooks ask for them (each once, shared results reused). With
    `entries`, only the notebooks that read them last time run (all if unknown). On success the
    backup is deleted; if the run fails, every entry that was not recomputed is restored from it.
    The work runs as compute() does: `workers` independent tasks at once, or on `cluster`.
    """
    import shutil

    check_profile(profile)
    workflow.check_workers(workers)
    if cluster:
        workflow.cluster_from_file(cluster)   # a bad file is refused before anything moves
    books = notebooks(names)                  # an unknown notebook is refused before anything moves
    root = cache_dir()
    if entries:
        missing = [e for e in entries if not (root / e).is_dir()]
        if missing:
            raise SystemExit(f"recompute: no such cache entries: {missing} (a missing entry's message "
                             f"gives the command that computes it)")
        moved = [root / e for e in entries]
        readers = [nb.stem for nb in books
                   if any(r["entry"] in entries for r in (read_state(EXECUTED, nb) or {}).get("reads", []))]
        names = readers or names
    else:
        moved = [p for p in root.glob(f"*-{profile}-*") if (p / "result.json").exists()]
    backup = root / f".backup-{profile}-{time.strftime('%Y%m%d-%H%M%S')}"
    if moved:
        backup.mkdir(parents=True)
    for p in moved:
        p.rename(backup / p.name)
    print(f"recompute: moved {len(moved)} {profile} results to {backup}", flush=True)
    try:
        compute(profile, names, workers=workers, cluster=cluster, force_pages=True)
    except BaseException:
        if backup.exists():
            for p in backup.iterdir():
                if not (root / p.name).exists():
                    p.rename(root / p.name)
            print(f"recompute failed: results not recomputed were restored from {backup}", flush=True)
            if not any(backup.iterdir()):
                backup.rmdir()
        raise
    if backup.exists():
        shutil.rmtree(backup)


def build_book(strict: bool = True) -> Path:
    """Build the HTML book from the executed notebooks (Jupyter Book 1, execution off), after
    writing the methods page's table of DFT+U wall times (helpers.book.dftu_cost).

    `strict`: Sphinx warnings are errors and cross-references are checked (nitpicky)."""
    write_table()      # the methods page's DFT+U wall times, from the cache as it is now
    jb = Path(sys.executable).with_name("jupyter-book")
    flags = ["-W", "-n", "--keep-going"] if strict else []
    subprocess.run([str(jb), "build", str(ROOT), "--path-output", str(ROOT), *flags],
                   check=True, cwd=ROOT)
    index = ROOT / "_build" / "html" / "index.html"
    print(f"book: {index}")
    return index
