"""The command line: arguments and dispatch to the commands."""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import workflow
from ..book import schema_fields
from ..book.schema_fields import parse_value
from ..store import cache
from ..store import codeversions
from ..store import manifest
from ..store.checkpoints import save
from ..store.manifest import CacheCorrupt
from ..store.migrate import migrate, verify_all
from ..store.paths import DATA, cache_dir
from .bench import bench
from .notebooks import EXECUTED, check_converged, execute
from .recompute import build_book, compute, recompute


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(prog="python -m helpers", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("execute", "book", "compute", "recompute"):
        p = sub.add_parser(name)
        p.add_argument("--profile", default="paper")
        p.add_argument("notebooks", nargs="*", help="substrings of notebook names (default: all)")
        if name in ("execute", "book"):
            p.add_argument("--force", action="store_true", help="execute even if up to date")
        if name == "execute":
            p.add_argument("--out", default=str(EXECUTED), help="folder of the executed notebooks")
            p.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                           help="a notebook parameter (JSON or Python literal; checked by helpers.book.schema)")
        if name == "recompute":
            p.add_argument("--entry", action="append", default=[],
                           help="recompute only this cache entry (repeatable)")
        if name in ("compute", "recompute"):
            p.add_argument("--workers", "--jobs", type=int, default=1,
                           help="tasks at once on this machine, each with an equal share of the MPI ranks")
            p.add_argument("--cluster", default=None,
                           help="cluster configuration file (see scripts/cluster.yaml) instead of this machine")
        if name == "compute":
            p.add_argument("--out", default=str(EXECUTED), help="folder of the executed notebooks")
    sub.add_parser("status")
    sub.add_parser("verify")
    sub.add_parser("migrate")
    sub.add_parser("checkpoint", help="commit-ready copies of unfinished DFT+U work (helpers.store.checkpoints)")
    cv = sub.add_parser("code-versions", help="the recorded fingerprints of the code behind each DFT task")
    cv.add_argument("--record", nargs="+", metavar="TASK",
                    help="record the current source of TASK (a change that does not alter its results)")
    cv.add_argument("--bump", nargs="+", metavar="TASK",
                    help="bump TASK's version and record its source (its entries are recomputed)")
    b = sub.add_parser("bench")
    b.add_argument("--repeat", type=int, default=3, help="runs per cheap measurement (median)")
    b.add_argument("--repeat-costly", type=int, default=1,
                   help="runs of the measurements that redo the smoke DFT (tests, smoke)")
    b.add_argument("--only", nargs="*", help="measurements to run (default: all)")
    b.add_argument("--output", default=str(DATA / "benchmark.json"))
    args = ap.parse_args(argv)
    try:
        _dispatch(args)
    except (manifest.CacheCorrupt, cache.CacheMiss, schema_fields.ParameterError) as err:
        raise SystemExit(f"{args.cmd}: {err}") from None


def _dispatch(args) -> None:
    if args.cmd == "execute":
        params = {k: parse_value(v) for k, v in args.parameter}
        if "profile" in params:
            raise SystemExit("execute: give the profile with --profile, not -p profile")
        execute(args.profile, args.notebooks, out=Path(args.out), force=args.force, parameters=params)
    elif args.cmd == "book":
        execute(args.profile, args.notebooks, force=args.force,
                require_cache=os.environ.get("COMPENDIUM_ALLOW_DFT") != "1")
        check_converged(args.profile, args.notebooks)
        build_book()
    elif args.cmd in ("compute", "recompute"):
        try:                                   # bad options in one line, before anything runs or moves
            workflow.check_workers(args.workers)
            if args.cluster:
                workflow.cluster_from_file(args.cluster)
        except ValueError as err:
            raise SystemExit(f"{args.cmd}: {err}") from None
        if args.cmd == "recompute":
            recompute(args.profile, args.notebooks, entries=args.entry, workers=args.workers, cluster=args.cluster)
        else:
            compute(args.profile, args.notebooks, workers=args.workers, cluster=args.cluster, out=Path(args.out))
    elif args.cmd == "status":
        for p in sorted(cache_dir().glob("*/result.json")):
            print(p.parent.name)
    elif args.cmd == "verify":
        report = verify_all()
        for name, bad in report:
            print(f"ok   {name}" if not bad else f"BAD  {CacheCorrupt(name, bad)}")
        nbad = sum(bool(b) for _, b in report)
        print(f"verify: {len(report) - nbad} of {len(report)} entries verified in {cache_dir()}")
        if nbad:
            sys.exit(1)
    elif args.cmd == "migrate":
        lines = migrate()
        for line in lines:
            print(line)
        if any(line.startswith(("REFUSED", "SKIPPED")) for line in lines):
            sys.exit(1)
    elif args.cmd == "checkpoint":
        for line in save() or ["checkpoint: no resumable work directory"]:
            print(line)
    elif args.cmd == "code-versions":
        for line in codeversions.command(record=args.record or [], bump=args.bump or []):
            print(line)
    elif args.cmd == "bench":
        bench(repeat=args.repeat, only=args.only, output=Path(args.output),
              repeat_costly=args.repeat_costly)
