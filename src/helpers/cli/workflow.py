"""A profile's calculations as a task graph on Dask (`distributed`), then the pages that read them.

A task is one call of a page's own helper with the page's default parameters: it computes the
cache entries that call asks for (helpers.store: each entry once, under a lock, written atomically,
GPAW work directories resumed) and returns when they are in the cache. Independent tasks (the
relaxations, each DFT+U start, the bilayer, the sliding path) run at once, one per worker, each with
its share of the MPI ranks; a page runs as a task after the calculations and pages it reads
(helpers.cli.notebooks.DEPENDS) and then only reads the cache and computes what is cheap. A rerun computes only
what is missing, because every task first asks the cache.

The default is a local cluster on this machine; `cluster_from_file` reads one configuration file for
a batch system (dask-jobqueue: SLURM, PBS). Dask over Parsl or Snakemake: its futures carry the
dependencies of plain Python calls, so the content-addressed cache stays the only record of what
exists, and an MPI job is an ordinary subprocess of the worker that runs it.
"""
from __future__ import annotations

import importlib
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
import numpy as np
import yaml
from distributed import Client, LocalCluster, as_completed

from ..dft import layers as dft_layers
from ..dft import process as dft_process
from ..models import pd as pd_models
from ..rungs.afo import layers as rungs_afo_layers
from ..rungs.afo.dftu import plans as afo_dftu_plans
from ..rungs.afo.dftu import structure as afo_dftu_structure
from ..rungs.afo.dftu import supercell as afo_dftu_supercell
from ..rungs.fe import bilayer as fe_bilayer
from ..rungs.transition import sliding
from ..rungs.valence.dftu import plans as valence_dftu_plans
from ..store import params
from ..store.paths import ROOT


#: Keys a cluster configuration file may have (see cluster_from_file and scripts/cluster.yaml).
CLUSTER_KEYS = {"scheduler", "workers", "ranks_per_task", "mpi_launcher", "jobqueue"}
#: Batch systems a configuration file may name: dask-jobqueue's cluster classes.
SCHEDULERS = {"local": None, "slurm": "SLURMCluster", "pbs": "PBSCluster", "sge": "SGECluster",
              "lsf": "LSFCluster"}


@dataclass(frozen=True)
class Task:
    """One call `func(*args)` (func: 'module:function') named `name`, after the tasks in `deps`."""
    name: str
    func: str
    args: tuple = ()
    deps: tuple = ()


def call(func: str, args: tuple, ranks: int) -> dict:
    """Run `func(*args)` with $COMPENDIUM_RANKS = `ranks` (each GPAW job it starts uses that many MPI
    ranks); returns the start and end times (s since the epoch) and the worker's process id."""
    os.environ["COMPENDIUM_RANKS"] = str(ranks)
    mod, name = func.split(":")
    t0 = time.time()
    getattr(importlib.import_module(mod), name)(*args)
    return {"start": t0, "end": time.time(), "pid": os.getpid()}


# ---- the tasks: each the same call as its page makes, with the page's default parameters ----

def relax(profile: str, material: str, dcount: str) -> None:
    """The AFE page's relaxations of `material` at `dcount` (1T and distorted)."""
    dft_layers.relax_layer(material, dcount, params.settings(profile))


def relax_w3(profile: str, material: str, order: str) -> None:
    """The AFE page's t2g3 DFT+U layer at U_eff = 3 eV in moment order `order`."""
    dft_layers.relax_w3_layer(material, params.settings(profile), order, 3.0, 0.05, 1, False)


def valence_start(profile: str, material: str, start: str) -> None:
    """One start of the valence page's DFT+U annealing on the 1T layer."""
    s = params.settings(profile)
    one_t = dft_process.atoms_from(dft_layers.relax_layer(material, "d2", s)["1T"]["final"])
    _one(valence_dftu_plans.run(one_t, s, material, select=lambda j: j["start"] == start), start)


def _one(jobs: list, key: str) -> None:
    """ValueError unless `jobs` (what a task's selection matched) is exactly one job."""
    if len(jobs) != 1:
        raise ValueError(f"task {key!r} matched {len(jobs)} jobs of its page's plan, not one")


def afo_models(profile: str, material: str) -> tuple:
    """The AFO page's layer models (1T, relaxed d2, experiment), its path models and the relaxed d2
    layer's readings: (models, readings)."""
    s = params.settings(profile)
    grid = tuple(pd_models.HF_GRID[profile])
    layers = afo_layers(profile, material)
    path = rungs_afo_layers.path_models(material, s, "dzp", grid, -1.5, 0.5, rungs_afo_layers.scan_defaults(profile)["path_lambdas"], [-8.0, 6.0])
    _, names_from_1T = rungs_afo_layers.path_levels(path)
    m = layers["relaxed d2"]
    return m, rungs_afo_layers.readings(m, names_from_1T)


def afo_layers(profile: str, material: str, names=("1T", "relaxed d2", "experiment")) -> dict:
    """The AFO page's layer models `names` at its default parameters (helpers.rungs.afo.layers.layer_models)."""
    return rungs_afo_layers.layer_models(material, params.settings(profile), "dzp", tuple(pd_models.HF_GRID[profile]), -1.5, 0.5,
                                         [-8.0, 6.0], moments=True, names=names)


def job_key(j: dict) -> str:
    """The name of a DFT+U job of the AFO page: its protocol (or spin and U_eff) and its start."""
    if "protocol" in j:
        return f"{j['protocol']} / {j['state']}"
    return f"{j['spin']} U{j['U_eV']:g} {j['reading']} / {j['state']}"


#: The kinds of DFT+U job of the AFO page (afo_dftu).
AFO_KINDS = ("branch", "annealed", "check", "supercell", "structure")


def afo_dftu(profile: str, material: str, kind: str, key: str) -> None:
    """One DFT+U job of the AFO page: kind 'branch' (released at its U_eff), 'annealed', 'check'
    (a second release schedule), 'supercell' (the cell doubled along the chains) or 'structure' (on the
    experimental layer, helpers.rungs.afo.dftu.structure), named by job_key."""
    if kind not in AFO_KINDS:
        raise ValueError(f"kind={kind!r}: choose from {', '.join(map(repr, AFO_KINDS))}")
    s = params.settings(profile)
    if kind == "structure":
        layer = afo_layers(profile, material, (afo_dftu_structure.LAYER,))[afo_dftu_structure.LAYER]
        every = {r: np.asarray(x["orbitals"]) for r, x in rungs_afo_layers.readings(layer).items()}
        _one(afo_dftu_structure.run(layer["atoms"], s, material, every, select=lambda j: job_key(j) == key), key)
        return
    m, readings = afo_models(profile, material)
    if kind == "branch":
        orbs = {r: np.asarray(readings[r]["orbitals"]) for r in afo_dftu_plans.SETTINGS[profile]["readings"]}
        done = afo_dftu_plans.run_branches(m["atoms"], s, material, orbs, select=lambda j: job_key(j) == key)
    elif kind in ("annealed", "check"):
        every = {r: np.asarray(x["orbitals"]) for r, x in readings.items()}
        done = afo_dftu_plans.run_annealed(m["atoms"], s, material, every, checks=kind == "check",
                                           select=lambda j: job_key(j) == key)
    elif kind == "supercell":
        done = afo_dftu_supercell.run(m["atoms"], s, material, np.asarray(readings["energy order"]["orbitals"]),
                                      select=lambda j: j["name"] == key)
    _one(done, key)


def bilayer(profile: str, material: str) -> None:
    """The FE page's dipole-corrected Td bilayer at each vacuum."""
    fe_bilayer.bilayer_dipoles(material, params.settings(profile), dft_layers.layer_spacing(material))


def sliding_path(profile: str, material: str) -> None:
    """The transition page's sliding path of the Td bilayer and its convergence variants."""
    sliding.page_results(material, params.settings(profile), sliding.check_points(sliding.PATH_POINTS[profile]))


def relax_computed(profile: str, material: str) -> None:
    """The generalization page's relaxations of a material without an experimental structure."""
    dft_layers.relax_computed(material, params.settings(profile))


def notebook(profile: str, stem: str, force: bool = False, out: str | None = None) -> None:
    """Execute one page with papermill in its own process (helpers.cli.notebooks.execute), after its tasks;
    `force`: even if its executed copy is up to date; `out`: the folder of executed pages."""
    cmd = ([sys.executable, "-m", "helpers", "execute", "--profile", profile, stem] + (["--force"] if force else [])
           + (["--out", str(out)] if out else []))
    if subprocess.run(cmd, cwd=ROOT, preexec_fn=dft_process.die_with_parent).returncode != 0:
        raise RuntimeError(f"page {stem} failed at profile {profile}")


def _afo_jobs(profile: str) -> list[tuple[str, str]]:
    """(kind, key) of every DFT+U job of the AFO page at `profile`, from the plans alone (the orbitals
    only fill in targets; the names and the number of jobs do not depend on them)."""
    S = afo_dftu_plans.SETTINGS.get(profile)
    if S is None:
        return []
    eye = np.eye(5)
    metals = [0, 1]
    every = {r: eye for r in ("energy order", "local octahedral frame", "continuity from 1T")}
    out = [("branch", job_key(j)) for j in afo_dftu_plans.branch_jobs(profile, every, metals, 6)]
    out += [("annealed", job_key(j)) for j in afo_dftu_plans.annealed_jobs(profile, every, metals)]
    out += [("check", job_key(j)) for j in afo_dftu_plans.schedule_check_jobs(profile, every, metals)]
    out += [("supercell", j["name"]) for j in afo_dftu_supercell.jobs(profile, eye, [0, 1, 6, 7])]
    out += [("structure", job_key(j)) for j in afo_dftu_structure.jobs(profile, every, metals)]
    return out


def calculations(profile: str) -> dict[str, list[Task]]:
    """Per page, the tasks of the calculations it reads at `profile` (its default parameters)."""
    if profile not in params.PROFILES:
        raise ValueError(f"profile={profile!r}: choose from {sorted(params.PROFILES)}")
    mat = "WTe2"
    d2 = Task(f"relax {mat} d2", "helpers.cli.workflow:relax", (profile, mat, "d2"))
    models = Task(f"AFO models {mat}", "helpers.cli.workflow:afo_models", (profile, mat), (d2.name,))
    return {
        "01_valence": [d2] + [Task(f"valence DFT+U: {j['start']}", "helpers.cli.workflow:valence_start",
                                   (profile, mat, j["start"]), (d2.name,))
                              for j in valence_dftu_plans.jobs(profile, _dummy_layer())],
        "02_afe_lattice": [d2, Task(f"relax {mat} d3", "helpers.cli.workflow:relax", (profile, mat, "d3")),
                           Task(f"relax {mat} t2g3 FM", "helpers.cli.workflow:relax_w3", (profile, mat, "FM"))],
        "03_afo_order": [d2, models] + [Task(f"AFO DFT+U {kind}: {key}", "helpers.cli.workflow:afo_dftu",
                                             (profile, mat, kind, key), (models.name,))
                                        for kind, key in _afo_jobs(profile)],
        "04_fe_dipole": [Task(f"bilayer {mat}", "helpers.cli.workflow:bilayer", (profile, mat))],
        "05_generalization": [Task("relax MoTe2 1T'", "helpers.cli.workflow:relax_computed", (profile, "MoTe2"))],
        "06_transition": [Task(f"sliding path {mat}", "helpers.cli.workflow:sliding_path", (profile, mat))],
    }


def page_tasks(profile: str, stems: list[str], depends: dict, force: bool = False, out: str | None = None,
               calcs: dict | None = None) -> list[Task]:
    """One task per page of `stems` (reading order), after the pages it reads (`depends`:
    helpers.cli.notebooks.DEPENDS; a page not listed reads every page before it) and after its calculations
    (`calcs`: calculations(); none when not given). `force`: executed even where up to date."""
    out_tasks = []
    for i, stem in enumerate(stems):
        pages = [d for d in depends.get(stem, stems[:i]) if d in stems]
        deps = [t.name for t in (calcs or {}).get(stem, [])] + [f"page {d}" for d in pages]
        out_tasks.append(Task(f"page {stem}", "helpers.cli.workflow:notebook", (profile, stem, force, out), tuple(deps)))
    return out_tasks


def graph(profile: str, stems: list[str], depends: dict, force_pages: bool = False,
          out: str | None = None) -> list[Task]:
    """The tasks of `profile` for the pages `stems` (in reading order): the calculations each page
    reads (calculations), then the pages (page_tasks, executed into `out`)."""
    calcs = calculations(profile)
    tasks: dict[str, Task] = {}
    for stem in stems:
        for t in calcs.get(stem, []):
            tasks.setdefault(t.name, t)
    return list(tasks.values()) + page_tasks(profile, stems, depends, force_pages, out, calcs=calcs)


def _dummy_layer():
    """The 1T layer's atoms, as far as helpers.rungs.valence.dftu.plans.jobs needs them for names (the metal sites)."""
    return dft_layers.start_structures("WTe2", 15.0, 0.0, 1)["1T"]


def check_graph(tasks: list[Task]) -> None:
    """ValueError if two tasks share a name, a dependency is not a task, or the dependencies cycle."""
    names = [t.name for t in tasks]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"tasks named twice: {dup}")
    known = set(names)
    for t in tasks:
        bad = [d for d in t.deps if d not in known]
        if bad:
            raise ValueError(f"task {t.name!r} depends on unknown tasks {bad}")
    done: set = set()
    left = list(tasks)
    while left:
        ready = [t for t in left if all(d in done for d in t.deps)]
        if not ready:
            raise ValueError(f"circular dependencies among {[t.name for t in left]}")
        done |= {t.name for t in ready}
        left = [t for t in left if t not in ready]


def check_workers(workers) -> int:
    """`workers` as a positive integer, or a ValueError naming it."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers={workers!r}: need a positive integer (tasks run at once)")
    return workers


def cluster_from_file(path) -> dict:
    """The cluster configuration in YAML file `path` (keys CLUSTER_KEYS; see scripts/cluster.yaml),
    checked before anything starts: scheduler in SCHEDULERS, workers and ranks_per_task positive."""
    p = Path(path)
    if not p.is_file():
        raise ValueError(f"cluster={str(path)!r}: no such file")
    cfg = yaml.safe_load(p.read_text()) or {}
    bad = sorted(set(cfg) - CLUSTER_KEYS)
    if bad:
        raise ValueError(f"cluster file {p}: unknown keys {bad}; allowed: {sorted(CLUSTER_KEYS)}")
    if cfg.get("scheduler", "local") not in SCHEDULERS:
        raise ValueError(f"cluster file {p}: scheduler={cfg.get('scheduler')!r}; choose from {sorted(SCHEDULERS)}")
    check_workers(cfg.get("workers", 1))
    r = cfg.get("ranks_per_task")
    if r is not None and (isinstance(r, bool) or not isinstance(r, int) or r < 1):
        raise ValueError(f"cluster file {p}: ranks_per_task={r!r}; need a positive integer")
    launcher = cfg.get("mpi_launcher")
    if launcher is not None and (not isinstance(launcher, str) or "{n}" not in launcher):
        raise ValueError(f"cluster file {p}: mpi_launcher={launcher!r}; need a command with {{n}} for the ranks, "
                         f"e.g. 'srun -n {{n}}'")
    if cfg.get("jobqueue") is not None and not isinstance(cfg["jobqueue"], dict):
        raise ValueError(f"cluster file {p}: jobqueue must be a mapping of the dask-jobqueue cluster's arguments")
    return cfg


def start_cluster(workers: int = 1, cfg: dict | None = None):
    """A Dask cluster: local (processes, one task per worker) or, from `cfg`, a dask-jobqueue cluster
    scaled to cfg['workers'] batch jobs. Returns (cluster, ranks per task)."""
    cfg = cfg or {}
    workers = check_workers(cfg.get("workers", workers))
    sched = cfg.get("scheduler", "local")
    if cfg.get("mpi_launcher"):
        os.environ["COMPENDIUM_MPIEXEC"] = cfg["mpi_launcher"]      # inherited by the workers
    if sched == "local":
        per = cfg.get("ranks_per_task") or max(1, dft_process.ranks() // workers)
        return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                            dashboard_address=None), per
    try:
        import dask_jobqueue
    except ImportError as e:
        raise SystemExit(f"scheduler {sched!r} needs dask-jobqueue: pip install dask-jobqueue") from e
    cluster = getattr(dask_jobqueue, SCHEDULERS[sched])(**(cfg.get("jobqueue") or {}))
    cluster.scale(jobs=workers)
    return cluster, cfg.get("ranks_per_task") or 1


def run(tasks: list[Task], workers: int = 1, cfg: dict | None = None, log=print) -> dict:
    """Run `tasks` on a Dask cluster (start_cluster), each after its dependencies, printing one line
    per task started and finished with the count left. A failed task stops its dependents, not the
    others; afterwards a RuntimeError names every failed task (the cache holds what finished).
    Returns {name: call's record} of the tasks that finished."""
    check_graph(tasks)
    cluster, per = start_cluster(workers, cfg)
    records, failed = {}, {}
    t0 = time.time()
    with cluster, Client(cluster) as client:
        log(f"workflow: {len(tasks)} tasks on {len(client.scheduler_info()['workers']) or workers} worker(s), "
            f"{per} MPI rank(s) each")
        futures, pending = {}, list(tasks)
        running = as_completed()
        while pending or futures:
            for t in [t for t in pending if all(d in records for d in t.deps)]:
                futures[t.name] = client.submit(call, t.func, t.args, per, key=t.name, pure=False)
                running.add(futures[t.name])
                pending.remove(t)
                log(f"[{time.time() - t0:7.0f} s] started  {t.name}")
            dead = [t for t in pending if any(d in failed for d in t.deps)]
            for t in dead:
                failed[t.name] = "not run: a task it needs failed"
                pending.remove(t)
            if not futures:
                break
            fut = next(running)
            name = next(n for n, f in futures.items() if f is fut)
            del futures[name]
            try:
                records[name] = fut.result()
                log(f"[{time.time() - t0:7.0f} s] finished {name} ({len(records)} done, "
                    f"{len(pending) + len(futures)} left)")
            except Exception as e:   # noqa: BLE001 - reported below, with every other failure
                failed[name] = f"{type(e).__name__}: {e}"
                log(f"[{time.time() - t0:7.0f} s] FAILED   {name}: {failed[name][:300]}")
    if failed:
        raise RuntimeError("workflow: tasks failed (finished results are in the cache; a rerun computes "
                           "only what is missing):\n" + "\n".join(f"  {n}: {m}" for n, m in failed.items()))
    return records
