"""Command line of the compendium: `python -m helpers <command>`.

    execute    run every notebook with papermill into build/executed (the book's pages)
    book       execute, then build the HTML book with Jupyter Book into _build/html
    recompute  recompute every cached result of a profile from scratch (hours for `paper`)
    status     list the cache entries present
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from .paths import ROOT, cache_dir

NOTEBOOKS = ROOT / "notebooks"
EXECUTED = ROOT / "build" / "executed"


def notebooks(names=None) -> list[Path]:
    """The notebooks in notebooks/ in reading order, or those whose stem contains one of `names`."""
    found = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if names:
        found = [p for p in found if any(n in p.stem for n in names)]
        if not found:
            raise SystemExit(f"no notebook matches {names}; available: "
                             f"{[p.stem for p in sorted(NOTEBOOKS.glob('*.ipynb'))]}")
    return found


def execute(profile: str, names=None, out: Path = EXECUTED, require_cache: bool = False) -> list[Path]:
    """Run notebooks with papermill (parameter `profile`) into `out`; returns the executed copies.

    With `require_cache`, a calculation missing from the cache stops the run with a message
    naming it, instead of starting hours of DFT.
    """
    import papermill as pm
    from .params import PROFILES
    if profile not in PROFILES:
        raise SystemExit(f"--profile {profile!r} is not defined; allowed: {sorted(PROFILES)}")
    out.mkdir(parents=True, exist_ok=True)
    if require_cache:
        os.environ["COMPENDIUM_REQUIRE_CACHE"] = "1"
    done = []
    books = notebooks(names)
    for i, nb in enumerate(books, 1):
        t0 = time.time()
        print(f"[{i}/{len(books)}] executing {nb.name} (profile={profile})", flush=True)
        target = out / nb.name
        pm.execute_notebook(str(nb), str(target), parameters={"profile": profile},
                            cwd=str(NOTEBOOKS), progress_bar=False, log_output=False,
                            kernel_name="python3")
        print(f"[{i}/{len(books)}] {nb.name} done in {time.time() - t0:.0f} s", flush=True)
        done.append(target)
    return done


def recompute(profile: str, names=None) -> None:
    """Recompute every cached result of `profile` from scratch by executing the notebooks.

    The profile's cache entries are first moved to a backup folder; results are recomputed as
    the notebooks ask for them (each once, shared results reused). On success the backup is
    deleted; if the run fails, every entry that was not recomputed is restored from it.
    """
    import shutil
    root = cache_dir()
    backup = root / f".backup-{profile}-{time.strftime('%Y%m%d-%H%M%S')}"
    entries = [p for p in root.glob(f"*-{profile}-*") if (p / "result.json").exists()]
    backup.mkdir(parents=True)
    for p in entries:
        p.rename(backup / p.name)
    print(f"recompute: moved {len(entries)} {profile} results to {backup}", flush=True)
    try:
        execute(profile, names)
    except BaseException:
        for p in backup.iterdir():
            if not (root / p.name).exists():
                p.rename(root / p.name)
        print(f"recompute failed: results not recomputed were restored from {backup}", flush=True)
        raise
    shutil.rmtree(backup)


def build_book() -> Path:
    """Build the HTML book from the executed notebooks (Jupyter Book 1, execution off)."""
    jb = Path(sys.executable).with_name("jupyter-book")
    subprocess.run([str(jb), "build", str(ROOT), "--path-output", str(ROOT)], check=True, cwd=ROOT)
    index = ROOT / "_build" / "html" / "index.html"
    print(f"book: {index}")
    return index


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m helpers", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("execute", "book", "recompute"):
        p = sub.add_parser(name)
        p.add_argument("--profile", default="paper")
        p.add_argument("notebooks", nargs="*", help="substrings of notebook names (default: all)")
    sub.add_parser("status")
    args = ap.parse_args(argv)
    if args.cmd == "execute":
        execute(args.profile, args.notebooks)
    elif args.cmd == "book":
        execute(args.profile, args.notebooks, require_cache=os.environ.get("COMPENDIUM_ALLOW_DFT") != "1")
        build_book()
    elif args.cmd == "recompute":
        recompute(args.profile, args.notebooks)
    elif args.cmd == "status":
        for p in sorted(cache_dir().glob("*/result.json")):
            print(p.parent.name)


if __name__ == "__main__":
    main()
