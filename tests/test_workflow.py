"""The task graph on Dask (helpers.cli.workflow) and the `compute`/`recompute` commands on it.

Without GPAW: the graph of each profile names every calculation of the pages' plans once, in an
order that respects the pages' dependencies; bad graphs, worker counts and cluster files are refused
with the parameter named; a failed task stops its dependents and nothing else. With GPAW (marker
`dft`): two independent smoke relaxations run at once on a local cluster of two workers and give the
entries (same keys, so the same inputs byte for byte; energies within SCF tolerance) that a serial
run gives."""
import subprocess
from pathlib import Path

import pytest

import numpy as np

from helpers.cli import main as cli_main
from helpers.cli import notebooks as cli_notebooks
from helpers.cli import recompute
from helpers.cli import workflow
from helpers.cli.workflow import Task
from helpers.dft import jobs as dft_jobs
from helpers.dft import layers as dft_layers
from helpers.rungs.afo.dftu import plans as afo_dftu_plans
from helpers.rungs.afo.dftu import supercell as afo_dftu_supercell
from helpers.rungs.valence.dftu import plans as valence_dftu_plans
from helpers.store import cache
from helpers.store import params
from helpers.store import paths


def _graph(profile):
    return workflow.graph(profile, [b.stem for b in cli_notebooks.notebooks()], cli_notebooks.DEPENDS)


@pytest.mark.parametrize("profile", ["smoke", "paper"])
def test_graph_has_every_planned_calculation_once_in_dependency_order(profile):
    tasks = _graph(profile)
    workflow.check_graph(tasks)
    names = [t.name for t in tasks]
    # one task per start of the valence page's plan, per DFT+U job of the AFO page, per supercell start
    n_val = len(valence_dftu_plans.jobs(profile, workflow._dummy_layer()))
    assert sum(n.startswith("valence DFT+U: ") for n in names) == n_val
    n_afo = len(workflow._afo_jobs(profile))
    assert sum(n.startswith("AFO DFT+U ") for n in names) == n_afo
    sc = afo_dftu_supercell.SETTINGS.get(profile)
    second = (sc.get("second_release") or {}).get("starts", []) if sc else []
    assert sum(n.startswith("AFO DFT+U supercell: ") for n in names) == (len(sc["starts"]) + len(second) if sc else 0)
    if second:        # the starts run again with the second release are named by its label
        assert f"AFO DFT+U supercell: {second[0]}, {sc['second_release']['label']}" in names
    # each page after every page it reads and after its own calculations
    order = {n: i for i, n in enumerate(names)}
    by = {t.name: t for t in tasks}
    for stem, deps in cli_notebooks.DEPENDS.items():
        page = by[f"page {stem}"]
        assert {f"page {d}" for d in deps} <= set(page.deps)
    for t in tasks:
        for d in t.deps:
            assert d in by
        if t.name.startswith("valence DFT+U"):
            assert t.deps == ("relax WTe2 d2",) and t.name in by["page 01_valence"].deps
        if t.name.startswith("AFO DFT+U"):
            assert t.deps == ("AFO models WTe2",) and t.name in by["page 03_afo_order"].deps
    assert order["relax WTe2 d2"] < order["AFO models WTe2"]


def test_afo_job_keys_name_one_job_each():
    """A task selects its job by job_key: two jobs with one key would run twice or not at all."""
    for profile in ("smoke", "paper"):
        keys = workflow._afo_jobs(profile)
        assert len(keys) == len(set(keys))
        ann = [workflow.job_key(j) for j in afo_dftu_plans.annealed_jobs(profile, {r: np.eye(5) for r in
               ("energy order", "local octahedral frame")}, [0, 1])]
        assert len(ann) == len(set(ann))


def test_graph_for_some_pages_only_and_bad_profile():
    tasks = workflow.graph("smoke", ["02_afe_lattice"], cli_notebooks.DEPENDS)
    assert [t.name for t in tasks] == ["relax WTe2 d2", "relax WTe2 d3", "relax WTe2 t2g3 FM", "page 02_afe_lattice"]
    with pytest.raises(ValueError, match="profile='fast'"):
        workflow.graph("fast", ["02_afe_lattice"], cli_notebooks.DEPENDS)


def test_check_graph_refuses_duplicates_unknown_dependencies_and_cycles():
    a, b = Task("a", "math:sqrt", (4,)), Task("b", "math:sqrt", (9,), ("a",))
    workflow.check_graph([a, b])
    with pytest.raises(ValueError, match="named twice"):
        workflow.check_graph([a, a])
    with pytest.raises(ValueError, match="unknown tasks"):
        workflow.check_graph([b])
    with pytest.raises(ValueError, match="circular"):
        workflow.check_graph([Task("a", "math:sqrt", (4,), ("b",)), b])


@pytest.mark.parametrize("bad", [0, -2, 1.5, True, "2"])
def test_workers_must_be_a_positive_integer(bad):
    with pytest.raises(ValueError, match="workers="):
        workflow.check_workers(bad)


@pytest.mark.parametrize("text, match", [
    ("queue: normal\n", "unknown keys"),
    ("scheduler: condor\n", "scheduler='condor'"),
    ("workers: 0\n", "workers=0"),
    ("ranks_per_task: -1\n", "ranks_per_task=-1"),
    ("mpi_launcher: srun\n", "mpi_launcher='srun'"),
    ("jobqueue: [1, 2]\n", "jobqueue must be a mapping"),
])
def test_cluster_file_is_checked_before_anything_runs(tmp_path, text, match):
    f = tmp_path / "cluster.yaml"
    f.write_text(text)
    with pytest.raises(ValueError, match=match):
        workflow.cluster_from_file(f)
    with pytest.raises(ValueError, match="no such file"):
        workflow.cluster_from_file(tmp_path / "none.yaml")


def test_shipped_cluster_file_is_valid():
    cfg = workflow.cluster_from_file(paths.ROOT / "scripts" / "cluster.yaml")
    assert cfg["scheduler"] == "slurm" and "{n}" in cfg["mpi_launcher"]


def test_bad_worker_count_is_refused_before_the_cache_moves(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPENDIUM_CACHE", str(tmp_path))
    (tmp_path / "relax-x-smoke-0").mkdir()
    (tmp_path / "relax-x-smoke-0" / "result.json").write_text("{}")
    with pytest.raises(ValueError, match="workers=0"):
        recompute.recompute("smoke", ["02_afe"], workers=0)
    assert (tmp_path / "relax-x-smoke-0" / "result.json").exists()


def test_the_command_line_refuses_bad_options_in_one_line(tmp_path):
    for argv, match in ((["compute", "--profile", "smoke", "--workers", "0"], "compute: workers=0"),
                        (["recompute", "--profile", "smoke", "--cluster", str(tmp_path / "x.yaml")], "recompute: cluster=")):
        with pytest.raises(SystemExit) as err:
            cli_main.main(argv)
        assert str(err.value.code).startswith(match) and "\n" not in str(err.value.code)


def test_mpi_launcher_from_the_environment(monkeypatch, tmp_path):
    from helpers.dft import jobs as dft_jobs
    seen = []

    class FakePopen:
        def __init__(self, cmd, **kw):
            seen.append(cmd)
            self.stdout, self.returncode = iter(()), 0

        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def wait(self):
            return 0

    monkeypatch.setattr(subprocess, "Popen", FakePopen)
    monkeypatch.setenv("COMPENDIUM_MPIEXEC", "srun --mpi=pmix -n {n}")
    dft_jobs._launch(tmp_path, "x", n=4)
    assert seen[-1][:4] == ["srun", "--mpi=pmix", "-n", "4"] and "helpers.dft.gpaw_job" in seen[-1]
    dft_jobs._launch(tmp_path, "x", n=1)                 # one rank: no launcher at all
    assert seen[-1][1:3] == ["python", "-m"]


def test_failed_task_stops_its_dependents_only():
    tasks = [Task("bad", "math:sqrt", (-1.0,)), Task("after bad", "math:sqrt", (4.0,), ("bad",)),
             Task("independent", "math:sqrt", (9.0,))]
    lines = []
    with pytest.raises(RuntimeError) as err:
        workflow.run(tasks, workers=1, log=lines.append)
    msg = str(err.value)
    assert "bad: ValueError: math domain error" in msg and "after bad: not run" in msg
    assert "independent" not in msg and any("finished independent" in x for x in lines)


@pytest.mark.dft
def test_two_smoke_relaxations_run_at_once_and_match_a_serial_run(tmp_path, monkeypatch):
    s = params.settings("smoke", max_steps=1)      # one ionic step each: the test is about running at once
    start = dft_layers.start_structures("WTe2", s["vacuum"], 0.05, 1)["1T"]
    tasks = []
    for d in ("d2", "d3"):
        q = dft_layers.cell_charge(start, "WTe2", d)
        tasks.append(Task(f"1T {d}", "helpers.dft.jobs:relax", (start, dft_layers.layer_settings(s, q), f"WTe2-{d}-1T", q)))
    monkeypatch.delenv("COMPENDIUM_REQUIRE_CACHE", raising=False)
    monkeypatch.setenv("COMPENDIUM_CACHE", str(tmp_path / "engine"))
    rec = workflow.run(tasks, workers=2)
    a, b = rec["1T d2"], rec["1T d3"]
    assert a["pid"] != b["pid"] and a["start"] < b["end"] and b["start"] < a["end"]     # at once
    # the serial run, in its own cache: the same entries (keys from the inputs) and energies
    monkeypatch.setenv("COMPENDIUM_CACHE", str(tmp_path / "serial"))
    monkeypatch.setenv("COMPENDIUM_RANKS", "1")
    serial = {t.name: dft_jobs.relax(*t.args) for t in tasks}
    monkeypatch.setenv("COMPENDIUM_CACHE", str(tmp_path / "engine"))
    for t in tasks:
        name = Path(serial[t.name]["cache_entry"]).name
        engine = cache.load(name)
        assert engine is not None, f"the engine did not write {name}"
        assert engine["inputs"] == serial[t.name]["inputs"]
        assert abs(engine["energy_eV"] - serial[t.name]["energy_eV"]) < 1e-3


def test_a_killed_worker_leaves_no_child_running():
    """helpers.dft.process.die_with_parent: the GPAW run (here `sleep`) of a process that is killed ends with it, so a
    rerun never meets a leftover run writing into the same work directory."""
    import os
    import sys
    import time
    code = ("import subprocess, time\nfrom helpers.dft import process as dft_process\n"
            "p = subprocess.Popen(['sleep', '60'], preexec_fn=dft_process.die_with_parent)\n"
            "print(p.pid, flush=True)\ntime.sleep(60)\n")
    parent = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                              env=dict(os.environ, PYTHONPATH=str(cli_notebooks.HELPERS.parent)))
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()

    def running(pid):
        try:
            state = Path(f"/proc/{pid}/status").read_text()
        except FileNotFoundError:
            return False
        return "State:\tZ" not in state

    t0 = time.time()
    while running(child) and time.time() - t0 < 10:
        time.sleep(0.1)
    assert not running(child)
