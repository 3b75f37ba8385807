"""Command line of the compendium: `python -m helpers <command>`.

    execute    run the notebooks with papermill into build/executed (the book's pages); a
               notebook whose inputs did not change since its last run and whose cache entries
               verify is skipped ("up to date"); -p NAME VALUE sets a parameter (helpers.schema)
    book       execute, then build the HTML book with Jupyter Book into _build/html
               (Sphinx warnings are errors); fails if a `paper` page read a non-converged result
    compute    compute what the profile's pages need and the cache lacks, as tasks on Dask
               (helpers.workflow): independent calculations at once (--workers N on this
               machine, or --cluster FILE for a batch system), then the pages; a rerun computes
               only what is still missing
    recompute  the same from scratch: the profile's entries (or --entry NAME) are moved aside first
               (hours for `paper`), and restored where a failed run did not recompute them
    status     list the cache entries present
    verify     check every cache entry against its manifest (exit 1 on any bad entry)
    migrate    bring the cache to the current schema (normalized keys); only entries whose files
               verify against their recorded manifest; idempotent
    checkpoint copy unfinished DFT+U work (the steps done and the state to resume from) into
               data/checkpoints, to be committed; a later run from any clone resumes from it
    code-versions  the recorded fingerprint and version of the code behind each DFT task
               (--record TASK after a change that keeps its results, --bump TASK otherwise)
    bench      time the main commands and write data/benchmark.json (long: see README)
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from .paths import DATA, ROOT, cache_dir

NOTEBOOKS = Path(os.environ.get("COMPENDIUM_NOTEBOOKS", ROOT / "notebooks"))
EXECUTED = ROOT / "build" / "executed"
HELPERS = Path(__file__).resolve().parent

# The order the notebooks impose on the results they compute: a notebook reads results that the
# notebooks it depends on compute (the AFO and FE pages start from the relaxed layers of the
# AFE-lattice page; the scorecard reads them all). A notebook not listed depends on every
# notebook before it.
DEPENDS = {
    "00_intro": ["01_valence", "02_afe_lattice", "03_afo_order", "04_fe_dipole", "05_generalization",
                 "06_transition"],   # reads their results
    "01_valence": ["02_afe_lattice"],          # its 1T layer is the AFE page's relaxed 1T reference
    "02_afe_lattice": [],
    "03_afo_order": ["02_afe_lattice"],
    "04_fe_dipole": ["02_afe_lattice", "03_afo_order"],   # reads the AFO page's ordered states
    "05_generalization": ["02_afe_lattice", "03_afo_order"],   # WTe2's relaxed d2 layer and its LCAO
    "06_transition": ["02_afe_lattice", "03_afo_order"],   # the AFO page's layer models and ordered states
    "07_scorecard": ["01_valence", "02_afe_lattice", "03_afo_order", "04_fe_dipole", "05_generalization",
                     "06_transition"],
}


def notebooks(names=None) -> list[Path]:
    """The notebooks in notebooks/ in reading order, or those whose stem contains one of `names`."""
    found = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    if names:
        found = [p for p in found if any(n in p.stem for n in names)]
        if not found:
            raise SystemExit(f"no notebook matches {names}; available: "
                             f"{[p.stem for p in sorted(NOTEBOOKS.glob('*.ipynb'))]}")
    return found


def _digest_files(h, paths) -> None:
    for p in paths:
        h.update(str(p.relative_to(ROOT) if p.is_relative_to(ROOT) else p).encode())
        h.update(hashlib.sha256(p.read_bytes()).digest())


def fingerprint(nb: Path, profile: str, parameters: dict, reads: list[str]) -> str:
    """Hash of everything an executed notebook depends on: the notebook, every helpers source
    file, the structures and reference data, the profile and parameters, and the manifests of
    the cache entries `reads` it read."""
    from . import cache
    h = hashlib.sha256()
    _digest_files(h, [nb])
    _digest_files(h, sorted(p for p in HELPERS.rglob("*") if p.is_file() and p.suffix in (".py", ".json")))
    _digest_files(h, sorted(p for d in ("structures", "reference") for p in (DATA / d).rglob("*") if p.is_file()))
    h.update(cache.canonical({"profile": profile, "parameters": parameters, "schema": cache.SCHEMA,
                              "reads": {r: cache.manifest_hash(r) for r in sorted(set(reads))}}).encode())
    return h.hexdigest()


def _state_path(out: Path, nb: Path) -> Path:
    return out / f"{nb.stem}.hash.json"


def read_state(out: Path, nb: Path) -> dict | None:
    p = _state_path(out, nb)
    try:
        return json.loads(p.read_text()) if p.exists() else None
    except ValueError:
        return None


def unread_entries(profile: str = "paper", out: Path = EXECUTED) -> list[str]:
    """The cache entries of `profile` that no page executed into `out` read at its last run (their read logs in
    the state files): a committed result no page shows, most often one whose key the pages no longer reproduce
    (a changed input, an eigenvector returned with the other sign), so the page silently lacks it."""
    read = {r["entry"] for nb in notebooks(None) for r in (read_state(out, nb) or {}).get("reads", [])}
    return sorted(p.parent.name for p in cache_dir().glob(f"*-{profile}-*/result.json") if p.parent.name not in read)


def _reads(log: Path) -> list[dict]:
    """The distinct entries of a read log (last record of each), in first-read order."""
    recs: dict[str, dict] = {}
    if log.exists():
        for line in log.read_text().splitlines():
            if line.strip():
                r = json.loads(line)
                recs[r["entry"]] = {**recs.get(r["entry"], {}), **r}
    return list(recs.values())


def execute(profile: str, names=None, out: Path = EXECUTED, require_cache: bool = False,
            parameters: dict | None = None, force: bool = False) -> list[Path]:
    """Run notebooks with papermill (parameter `profile`) into `out`, each after the notebooks whose
    results it reads (DEPENDS); returns the executed copies.

    With `require_cache`, a calculation missing from the cache stops the run with a message
    naming it, instead of starting hours of DFT. A notebook is skipped ("up to date") when its
    executed copy exists and its `fingerprint` equals the one stored in
    `out/<name>.hash.json` at its last successful run (unless `force`).
    """
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError
    from . import cache
    check_profile(profile)
    params = {"profile": profile, **(parameters or {})}
    books = [nb for wave in waves(notebooks(names)) for nb in wave]     # a notebook after those it reads
    check_parameters(books, params)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    if require_cache:
        os.environ["COMPENDIUM_REQUIRE_CACHE"] = "1"
    done = []
    for i, nb in enumerate(books, 1):
        target = out / nb.name
        state = read_state(out, nb)
        if (not force and state and target.exists()
                and state.get("hash") == fingerprint(nb, profile, params, [r["entry"] for r in state["reads"]])):
            verify_reads(nb, state)          # a damaged entry is never "up to date"
            print(f"[{i}/{len(books)}] {nb.name} up to date (profile={profile})", flush=True)
            done.append(target)
            continue
        _state_path(out, nb).unlink(missing_ok=True)
        log = out / f"{nb.stem}.reads.jsonl"
        log.unlink(missing_ok=True)
        t0 = time.time()
        print(f"[{i}/{len(books)}] executing {nb.name} (profile={profile})", flush=True)
        try:
            with cache.environ("COMPENDIUM_READ_LOG", str(log)):
                pm.execute_notebook(str(nb), str(target), parameters=params,
                                    cwd=str(NOTEBOOKS), progress_bar=False, log_output=False,
                                    kernel_name="python3")
        except PapermillExecutionError as err:
            if err.ename in REFUSALS:        # one line: what was refused and the command that fixes it
                raise SystemExit(f"{nb.stem}: {err.evalue}") from None
            raise
        _hide_injected_parameters(target)
        reads = _reads(log)
        state = {"notebook": nb.name, "profile": profile, "parameters": params,
                 "hash": fingerprint(nb, profile, params, [r["entry"] for r in reads]),
                 "reads": reads, "executed": time.strftime("%Y-%m-%dT%H:%M:%S"),
                 "seconds": round(time.time() - t0, 1)}
        _state_path(out, nb).write_text(json.dumps(state, indent=1))
        print(f"[{i}/{len(books)}] {nb.name} done in {time.time() - t0:.0f} s", flush=True)
        done.append(target)
    return done


#: Exceptions a notebook raises to refuse a request; the command line shows their one-line message.
REFUSALS = ("CacheCorrupt", "CacheMiss", "ParameterError")


def check_profile(profile: str) -> None:
    from .params import PROFILES
    if profile not in PROFILES:
        raise SystemExit(f"--profile {profile!r} is not defined; allowed: {sorted(PROFILES)}")


def check_parameters(books: list[Path], params: dict) -> None:
    """Validate `params` against the schema of every notebook in `books` (helpers.schema), before
    anything runs; notebooks without a schema (not the compendium's pages) are not checked."""
    from . import schema
    for nb in books:
        if nb.stem in schema.NOTEBOOKS.values():
            schema.validate(nb.stem, params)


def verify_reads(nb: Path, state: dict) -> None:
    """Raise CacheCorrupt if an entry the notebook read at its last run is now damaged (sizes
    first, hashes when the sizes match; helpers.cache.problems)."""
    from . import cache
    for r in state.get("reads", []):
        entry = cache_dir() / r["entry"]
        if entry.exists():
            bad = cache.problems(entry)
            if bad:
                raise cache.CacheCorrupt(r["entry"], bad)


def _hide_injected_parameters(path: Path) -> None:
    """Tag the cell papermill injects (the run's parameters) `remove-input`: plumbing, not a result."""
    import nbformat
    nb = nbformat.read(path, as_version=4)
    changed = False
    for c in nb.cells:
        tags = c.metadata.get("tags", [])
        if "injected-parameters" in tags and "remove-input" not in tags:
            c.metadata["tags"] = [*tags, "remove-input"]
            changed = True
    if changed:
        nbformat.write(nb, path)


#: Tasks whose entries record convergence step by step and whose pages read it that way: a DFT+U branch
#: that ends unconverged is shown as such (helpers.dftu.step_converged marks every step; an unconverged step
#: is never a state, a reference or evidence for a verdict), so it is a finding, not a result shown as one.
STEPWISE_CONVERGENCE = ("dftu_branch-",)


def unconverged(profile: str, names=None, out: Path = EXECUTED) -> list[str]:
    """One line per cache entry a notebook of `profile` read whose job reported converged=false (except the
    tasks of STEPWISE_CONVERGENCE, whose pages mark each unconverged step themselves)."""
    bad = []
    for nb in notebooks(names):
        state = read_state(Path(out), nb) or {}
        if state.get("profile") != profile:
            continue
        for r in state.get("reads", []):
            if r.get("converged") is False and not str(r.get("entry", "")).startswith(STEPWISE_CONVERGENCE):
                bad.append(f"{nb.name} read {r['entry']}, which did not converge (converged=false)")
    return bad


def check_converged(profile: str, names=None, out: Path = EXECUTED) -> None:
    """Stop with a message if a `paper` page was built on a result that did not converge."""
    if profile != "paper":
        return
    bad = unconverged(profile, names, out)
    if bad:
        raise SystemExit(
            "book: a paper result that did not converge is never shown as a result:\n  "
            + "\n  ".join(bad)
            + "\nFix the settings (e.g. more relaxation steps) and recompute it with "
              "`python -m helpers recompute --profile paper --entry <entry>`.")


def waves(books: list[Path]) -> list[list[Path]]:
    """`books` grouped into successive sets that may run at once (see DEPENDS)."""
    stems = [b.stem for b in books]
    deps = {b.stem: [d for d in DEPENDS.get(b.stem, stems[:stems.index(b.stem)]) if d in stems]
            for b in books}
    done, out = set(), []
    left = list(books)
    while left:
        wave = [b for b in left if all(d in done for d in deps[b.stem])]
        if not wave:
            raise RuntimeError(f"circular notebook dependencies among {[b.stem for b in left]}")
        out.append(wave)
        done |= {b.stem for b in wave}
        left = [b for b in left if b not in wave]
    return out


def compute(profile: str, names=None, workers: int = 1, cluster: str | None = None,
            force_pages: bool = False, out: Path | None = None) -> dict:
    """Run the task graph of `profile` for the notebooks `names` (default: all) on Dask: each page's
    calculations (helpers.workflow.graph), then the pages in DEPENDS order, executed into `out`
    (default build/executed). `workers` tasks at once on a local cluster, or the cluster of
    configuration file `cluster`; every input is checked first. Returns the tasks' records."""
    from . import workflow
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

    from . import workflow
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
    writing the methods page's table of DFT+U wall times (helpers.dftu_cost).

    `strict`: Sphinx warnings are errors and cross-references are checked (nitpicky)."""
    from .dftu_cost import write_table
    write_table()      # the methods page's DFT+U wall times, from the cache as it is now
    jb = Path(sys.executable).with_name("jupyter-book")
    flags = ["-W", "-n", "--keep-going"] if strict else []
    subprocess.run([str(jb), "build", str(ROOT), "--path-output", str(ROOT), *flags],
                   check=True, cwd=ROOT)
    index = ROOT / "_build" / "html" / "index.html"
    print(f"book: {index}")
    return index


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
                           help="a notebook parameter (JSON or Python literal; checked by helpers.schema)")
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
    sub.add_parser("checkpoint", help="commit-ready copies of unfinished DFT+U work (helpers.checkpoints)")
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
    from . import cache, schema
    try:
        _dispatch(args)
    except (cache.CacheCorrupt, cache.CacheMiss, schema.ParameterError) as err:
        raise SystemExit(f"{args.cmd}: {err}") from None


def _dispatch(args) -> None:
    if args.cmd == "execute":
        from .schema import parse_value
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
        from . import workflow
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
        from .cache import CacheCorrupt
        from .migrate import verify_all
        report = verify_all()
        for name, bad in report:
            print(f"ok   {name}" if not bad else f"BAD  {CacheCorrupt(name, bad)}")
        nbad = sum(bool(b) for _, b in report)
        print(f"verify: {len(report) - nbad} of {len(report)} entries verified in {cache_dir()}")
        if nbad:
            sys.exit(1)
    elif args.cmd == "migrate":
        from .migrate import migrate
        lines = migrate()
        for line in lines:
            print(line)
        if any(line.startswith(("REFUSED", "SKIPPED")) for line in lines):
            sys.exit(1)
    elif args.cmd == "checkpoint":
        from .checkpoints import save
        for line in save() or ["checkpoint: no resumable work directory"]:
            print(line)
    elif args.cmd == "code-versions":
        from . import codeversions
        for line in codeversions.command(record=args.record or [], bump=args.bump or []):
            print(line)
    elif args.cmd == "bench":
        from .bench import bench
        bench(repeat=args.repeat, only=args.only, output=Path(args.output),
              repeat_costly=args.repeat_costly)


if __name__ == "__main__":
    main()
