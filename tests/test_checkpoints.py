"""Committed checkpoints of unfinished work (helpers.store.checkpoints): a job resumes from one only when it is
the same calculation, intact, and further along than its own work directory."""
import json

import numpy as np
import pytest

from helpers.dft import jobs as dft_jobs
from helpers.store import cache
from helpers.store import checkpoints
from helpers.store import keys as cache_keys
from helpers.store.paths import DATA


def _work(root, name, n_steps, gpw=b"state", inputs=None):
    w = root / ".work" / name
    w.mkdir(parents=True)
    (w / "inputs.json").write_text(cache_keys.canonical(inputs or {"entry": name}))
    (w / "steps.json").write_text(json.dumps([{"U_eV": 8.0 - i, "lambda_eV": 0.0} for i in range(n_steps)]))
    (w / "step.json").write_text(json.dumps({"steps": n_steps}))
    (w / "step.gpw").write_bytes(gpw)
    (w / "gpaw.txt").write_text("log")
    (w / "step-new.gpw").write_bytes(b"half written")
    return w


def _fresh(path, name, inputs=None):
    path.mkdir(parents=True)
    (path / "inputs.json").write_text(cache_keys.canonical(inputs or {"entry": name}))
    return path


def test_save_restore_round_trip_and_prune(tmp_path):
    root, dest = tmp_path / "cache", tmp_path / "cp"
    _work(root, "dftu_branch-x-paper-1", 3)
    (root / ".work" / "not-resumable").mkdir()
    assert checkpoints.save(root, dest) == ["saved    dftu_branch-x-paper-1 (3 steps)"]
    assert not (dest / "dftu_branch-x-paper-1" / "step-new.gpw").exists()      # partial writes stay behind
    assert checkpoints.save(root, dest)[0].startswith("kept")                  # nothing newer to save
    fresh = _fresh(tmp_path / "clone" / ".work" / "dftu_branch-x-paper-1", "dftu_branch-x-paper-1")
    assert checkpoints.restore("dftu_branch-x-paper-1", fresh, dest)
    assert (fresh / "step.gpw").read_bytes() == b"state" and checkpoints.resumable(fresh)
    assert not checkpoints.restore("dftu_branch-x-paper-1", fresh, dest)       # as far along: left alone
    assert not checkpoints.restore("dftu_branch-other-paper-2", _fresh(tmp_path / "w2", "o"), dest)
    (root / "dftu_branch-x-paper-1").mkdir()
    (root / "dftu_branch-x-paper-1" / "result.json").write_text("{}")
    assert checkpoints.save(root, dest)[-1].startswith("removed")              # finished: the checkpoint goes
    assert not (dest / "dftu_branch-x-paper-1").exists()


def test_a_checkpoint_further_along_replaces_a_shorter_work_directory(tmp_path):
    dest = tmp_path / "cp"
    _work(tmp_path / "a", "e-paper-1", 6, gpw=b"after six")
    checkpoints.save(tmp_path / "a", dest)
    local = _work(tmp_path / "b", "e-paper-1", 2, gpw=b"after two")
    assert checkpoints.restore("e-paper-1", local, dest)
    assert (local / "step.gpw").read_bytes() == b"after six" and checkpoints._steps(local) == 6
    ahead = _work(tmp_path / "c", "e-paper-1", 8, gpw=b"after eight")
    assert not checkpoints.restore("e-paper-1", ahead, dest)
    assert (ahead / "step.gpw").read_bytes() == b"after eight"


def test_a_damaged_or_foreign_checkpoint_is_refused_before_anything_runs(tmp_path):
    root, dest = tmp_path / "cache", tmp_path / "cp"
    _work(root, "e-paper-1", 2)
    checkpoints.save(root, dest)
    (dest / "e-paper-1" / "step.gpw").write_bytes(b"stat")                      # truncated
    with pytest.raises(ValueError, match="checkpoint .*e-paper-1 is damaged: file step.gpw is truncated"):
        checkpoints.restore("e-paper-1", _fresh(tmp_path / "w", "e-paper-1"), dest)
    assert not (tmp_path / "w" / "step.gpw").exists()
    (dest / "e-paper-1" / "step.gpw").write_bytes(b"state")
    (dest / "e-paper-1" / "job_result.json").write_text("{}")                   # a stray file is a problem too
    assert any("job_result.json" in p for p in checkpoints.problems(dest / "e-paper-1"))
    (dest / "e-paper-1" / "job_result.json").unlink()
    with pytest.raises(ValueError, match="not this job's"):                    # renamed from another entry
        checkpoints.restore("e-paper-1", _fresh(tmp_path / "w3", "f-paper-2"), dest)


def test_a_checkpoint_of_the_same_job_written_differently_is_found(tmp_path):
    e = np.eye(5)
    job = {"task": "dftu_branch", "targets": {"0": {"both": [e[1].tolist()]}}}
    flipped = {"task": "dftu_branch", "targets": {"0": {"both": [(-e[1]).tolist()]}}}
    a, b = cache_keys.entry_name("dftu_branch-x", "paper", job), cache_keys.entry_name("dftu_branch-x", "paper", flipped)
    assert a != b
    _work(tmp_path / "m1", a, 4, inputs=job)
    checkpoints.save(tmp_path / "m1", tmp_path / "cp")
    w = _fresh(tmp_path / "m2" / ".work" / b, b, inputs=flipped)
    assert not checkpoints.restore(b, w, tmp_path / "cp")                       # by name alone: not found
    assert checkpoints.restore(b, w, tmp_path / "cp", same=dft_jobs.same_dftu_job) and checkpoints._steps(w) == 4


def test_compute_entry_resumes_from_a_committed_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPENDIUM_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("COMPENDIUM_REQUIRE_CACHE", raising=False)
    monkeypatch.setattr(checkpoints, "CHECKPOINTS", tmp_path / "cp")
    inputs = {"x": 1}
    name = cache_keys.entry_name("toy", "paper", inputs)
    _work(tmp_path / "elsewhere", name, 2, inputs=inputs)
    checkpoints.save(tmp_path / "elsewhere", tmp_path / "cp")
    seen = {}

    def compute(wd):
        seen["steps"] = len(json.loads((wd / "steps.json").read_text()))
        return {"value": 1}

    cache.cached("toy", "paper", inputs, compute)
    assert seen["steps"] == 2


def test_committed_checkpoints_verify_and_belong_to_unfinished_entries():
    for cp in sorted(checkpoints.CHECKPOINTS.glob("*")) if checkpoints.CHECKPOINTS.is_dir() else []:
        assert checkpoints.problems(cp) == [], cp.name
        inputs = json.loads((cp / "inputs.json").read_text())
        kind, profile = cp.name.rsplit("-", 2)[0], cp.name.rsplit("-", 2)[1]
        assert cache_keys.entry_name(kind, profile, inputs) == cp.name, f"{cp.name}: its inputs give another entry"
        assert not (DATA / "cache" / cp.name).exists(), f"{cp.name} is finished: `python -m helpers checkpoint` prunes it"


def test_target_sign_does_not_change_the_entry(monkeypatch):
    """An eigensolver may return a target orbital with either sign; the bias (v v^T) and the entry are the same."""
    from ase.build import mx2
    names = []
    monkeypatch.setattr(dft_jobs, "_submit", lambda job, label, profile, force: names.append(
        cache_keys.entry_name(f"{job['task']}-{label}", profile, job)) or {})
    atoms = mx2("WTe2", kind="1T", vacuum=7.5)
    s = {"profile": "smoke", "ecut": 300, "kpt_density": 2.0, "smearing": 0.05, "fmax": 0.05, "max_steps": 10,
         "relax_cell": False, "vacuum": 15.0}
    v = np.array([0.81559, 0.0, 0.0, -0.57863, 0.0])
    v /= np.linalg.norm(v)
    for sign in (1, -1):
        dft_jobs.dftu_branch(atoms, s, "toy", [4.0, 3.0], targets={0: {"both": [(sign * v).tolist()]}}, release=[1.0, 0.0])
    assert len(names) == 2 and names[0] == names[1]
    # two largest components equal but for rounding: the first decides, whichever rounding wins (argmax would flip)
    below, above = (np.array([[0.6, 0.0, -(0.6 + d), 0.0, 0.529150262]]).T for d in (-1e-12, 1e-12))
    assert np.allclose(dft_jobs.signed(below), dft_jobs.signed(above), atol=1e-9) and dft_jobs.signed(above)[0, 0] > 0
