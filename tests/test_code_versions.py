"""The code behind each DFT task is recorded (helpers.store.codeversions): a change to it cannot pass
unnoticed (before, changing the SCF convergence criterion in gpaw_job.py changed no cache key and
the old results were reused), and a new task or a comment invalidates nothing."""
import json

import pytest

from helpers.store import codeversions as cv
from helpers.store.paths import DATA

GPAW_JOB = cv.source("gpaw_job")
DFT = cv.source("dft")


def test_the_recorded_fingerprints_match_the_source():
    stale = cv.stale()
    assert not stale, (
        f"the source that computes {stale} changed since it was recorded in {cv.RECORD.name}. If the change "
        f"alters their results: `python -m helpers code-versions --bump TASK` (they are recomputed); "
        f"if not: `python -m helpers code-versions --record TASK`.")


def test_changing_the_scf_convergence_criterion_is_caught():
    old = 'convergence={"energy": 1e-5, "density": 1e-5},\n        txt=str(txt),\n        **optional_parameters(job),'
    assert GPAW_JOB.count(old) == 1                                   # make_calc's calculator settings
    changed = GPAW_JOB.replace(old, old.replace("1e-5", "1e-6"))
    assert sorted(cv.stale({"gpaw_job": changed, "dft": DFT})) == ["relax", "scf"]


def test_a_relaxation_change_is_caught_for_relax_only():
    old = "maxstep=0.1"
    assert GPAW_JOB.count(old) == 1
    assert cv.stale({"gpaw_job": GPAW_JOB.replace(old, "maxstep=0.2"), "dft": DFT}) == ["relax"]


def test_a_new_task_a_docstring_and_a_comment_change_nothing():
    new_task = '''
def occupation_controlled(atoms, job, wd):
    """A new task."""
    return {"energy_eV": 0.0}
'''
    changed = GPAW_JOB.replace("def main(workdir: str, stage: str | None = None) -> None:\n",
                               new_task + "\n\ndef main(workdir: str, stage: str | None = None) -> None:\n"
                               "    # a comment\n", 1)
    changed = changed.replace('    if job["task"] == "lcao":\n',
                              '    if job["task"] == "dftu_occupations":\n'
                              '        out = occupation_controlled(atoms, job, wd)\n        return\n'
                              '    if job["task"] == "lcao":\n', 1)
    changed = changed.replace('"""GPAW plane-wave PBE calculator from the settings in `job`."""', '"""Reworded."""')
    assert changed.count("dftu_occupations") == 1 and "Reworded" in changed
    assert cv.stale({"gpaw_job": changed, "dft": DFT}) == []
    assert "dftu_occupations" in cv.task_literals(changed)          # ... but the new task must be recorded:
    assert not cv.task_literals(changed) <= set(cv.TASKS)


def test_every_function_and_task_of_the_job_module_is_accounted_for():
    import ast
    funcs = {n.name for n in ast.parse(GPAW_JOB).body if isinstance(n, ast.FunctionDef)}
    covered = {f for t in cv.TASKS.values() for f in t["gpaw_job"]} | cv.NO_RESULT
    assert funcs <= covered, f"gpaw_job functions not in helpers.store.codeversions.TASKS: {sorted(funcs - covered)}"
    assert cv.task_literals(GPAW_JOB) <= set(cv.TASKS)
    assert set(cv.TASKS) == set(cv.recorded())


def test_bumping_a_task_changes_its_keys_only(monkeypatch):
    from ase.build import bulk
    from helpers.store import keys as cache_keys
    from helpers.dft import jobs as dft_jobs
    settings = {"ecut": 300, "kpt_density": 2.0, "smearing": 0.1, "fmax": 0.05, "max_steps": 5,
                "relax_cell": False, "profile": "smoke"}
    atoms = bulk("Si")
    jobs = {t: dft_jobs._job(t, atoms, settings, 0.0, None) for t in ("relax", "scf")}
    assert all(j["calc_version"] == 1 for j in jobs.values())         # the value the committed keys hold
    rec = {**cv.recorded(), "relax": {**cv.recorded()["relax"], "version": 2}}
    monkeypatch.setattr(cv, "recorded", lambda: rec)
    bumped = {t: dft_jobs._job(t, atoms, settings, 0.0, None) for t in ("relax", "scf")}
    assert cache_keys.key(bumped["relax"]) != cache_keys.key(jobs["relax"])
    assert cache_keys.key(bumped["scf"]) == cache_keys.key(jobs["scf"])


def test_the_committed_results_keep_their_keys():
    """Every committed GPAW result was made by its task's current code version (a bump without
    recomputing, or a stale entry left behind, fails here); the tasks of the first results are at 1."""
    for e in (DATA / "cache").iterdir():
        task = e.name.split("-")[0]
        if task in cv.TASKS:
            made = json.loads((e / "result.json").read_text())["inputs"].get("calc_version")
            assert made == cv.version(task), f"{e.name}: made by version {made} of {task}, now {cv.version(task)}"
    assert all(cv.version(t) == 1 for t in ("scf", "relax", "lcao", "wannier90"))


def test_an_unrecorded_task_is_refused():
    with pytest.raises(KeyError, match="code-versions --record dftu_occupations"):
        cv.version("dftu_occupations")


def test_a_label_may_span_files_in_any_order_but_defines_each_function_once():
    """Fingerprints hash labels and function names, not files: the GPAW program's files read in another order give
    the same fingerprints, and a function defined twice across them is refused."""
    texts = [path.read_text() for path in cv.MODULES["gpaw_job"]]
    assert len(texts) > 1
    reordered = {"gpaw_job": "\n".join(reversed(texts)), "dft": DFT}
    assert all(cv.fingerprint(t, reordered) == cv.fingerprint(t) for t in cv.TASKS)
    twice = {"gpaw_job": GPAW_JOB + "\n\ndef say(msg):\n    pass\n", "dft": DFT}
    with pytest.raises(ValueError, match="say"):
        cv.fingerprint("scf", twice)
