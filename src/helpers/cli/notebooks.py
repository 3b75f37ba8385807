"""Executing the pages with papermill, each after those it reads, skipped when up to date; their read logs and checks."""
from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from ..book import schema
from ..store import cache
from ..store import keys as cache_keys
from ..store import manifest
from ..store.params import PROFILES
from ..store.paths import DATA, ROOT, cache_dir


NOTEBOOKS = Path(os.environ.get("COMPENDIUM_NOTEBOOKS", ROOT / "notebooks"))
EXECUTED = ROOT / "build" / "executed"
HELPERS = Path(__file__).resolve().parents[1]

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
    h = hashlib.sha256()
    _digest_files(h, [nb])
    _digest_files(h, sorted(p for p in HELPERS.rglob("*") if p.is_file() and p.suffix in (".py", ".json")))
    _digest_files(h, sorted(p for d in ("structures", "reference") for p in (DATA / d).rglob("*") if p.is_file()))
    h.update(cache_keys.canonical({"profile": profile, "parameters": parameters, "schema": cache_keys.SCHEMA,
                                   "reads": {r: manifest.manifest_hash(r) for r in sorted(set(reads))}}).encode())
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
    if profile not in PROFILES:
        raise SystemExit(f"--profile {profile!r} is not defined; allowed: {sorted(PROFILES)}")


def check_parameters(books: list[Path], params: dict) -> None:
    """Validate `params` against the schema of every notebook in `books` (helpers.book.schema), before
    anything runs; notebooks without a schema (not the compendium's pages) are not checked."""
    for nb in books:
        if nb.stem in schema.NOTEBOOKS.values():
            schema.validate(nb.stem, params)


def verify_reads(nb: Path, state: dict) -> None:
    """Raise CacheCorrupt if an entry the notebook read at its last run is now damaged (sizes
    first, hashes when the sizes match; helpers.store.manifest.problems)."""
    for r in state.get("reads", []):
        entry = cache_dir() / r["entry"]
        if entry.exists():
            bad = manifest.problems(entry)
            if bad:
                raise manifest.CacheCorrupt(r["entry"], bad)


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
#: that ends unconverged is shown as such (helpers.dft.branch_steps.step_converged marks every step; an unconverged step
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
