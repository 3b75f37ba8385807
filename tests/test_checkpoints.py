"""Committed checkpoints of unfinished work (helpers.checkpoints): a job resumes from one only when it is
the same entry, intact, and its own work directory has nothing further."""
import json

import numpy as np
import pytest

from helpers import cache, checkpoints, dft
from helpers.paths import DATA


def _work(root, name, n_steps, gpw=b"state"):
    w = root / ".work" / name
    w.mkdir(parents=True)
    (w / "steps.json").write_text(json.dumps([{"U_eV": 8.0 - i, "lambda_eV": 0.0} for i in range(n_steps)]))
    (w / "step.json").write_text(json.dumps({"steps": n_steps}))
    (w / "step.gpw").write_bytes(gpw)
    (w / "gpaw.txt").write_text("log")
    (w / "step-new.gpw").write_bytes(b"half written")
    return w


def test_save_restore_round_trip_and_prune(tmp_path):
    root, dest = tmp_path / "cache", tmp_path / "cp"
    _work(root, "dftu_branch-x-paper-1", 3)
    (root / ".work" / "not-resumable").mkdir()
    assert checkpoints.save(root, dest) == ["saved    dftu_branch-x-paper-1 (3 steps)"]
    assert not (dest / "dftu_branch-x-paper-1" / "step-new.gpw").exists()      # partial writes stay behind
    assert checkpoints.save(root, dest)[0].startswith("kept")                  # nothing newer to save
    fresh = tmp_path / "clone" / ".work" / "dftu_branch-x-paper-1"
    assert checkpoints.restore("dftu_branch-x-paper-1", fresh, dest)
    assert (fresh / "step.gpw").read_bytes() == b"state" and checkpoints.resumable(fresh)
    assert not checkpoints.restore("dftu_branch-x-paper-1", fresh, dest)       # its own steps win
    assert not checkpoints.restore("dftu_branch-other-paper-2", tmp_path / "w2", dest)   # another entry
    (root / "dftu_branch-x-paper-1").mkdir()
    (root / "dftu_branch-x-paper-1" / "result.json").write_text("{}")
    assert checkpoints.save(root, dest)[-1].startswith("removed")              # finished: the checkpoint goes
    assert not (dest / "dftu_branch-x-paper-1").exists()


def test_a_damaged_checkpoint_is_refused_before_anything_runs(tmp_path):
    root, dest = tmp_path / "cache", tmp_path / "cp"
    _work(root, "e-paper-1", 2)
    checkpoints.save(root, dest)
    (dest / "e-paper-1" / "step.gpw").write_bytes(b"stat")                      # truncated
    with pytest.raises(ValueError, match="checkpoint .*e-paper-1 is damaged: file step.gpw is truncated"):
        checkpoints.restore("e-paper-1", tmp_path / "w", dest)
    assert not (tmp_path / "w").exists()


def test_compute_entry_resumes_from_a_committed_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPENDIUM_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("COMPENDIUM_REQUIRE_CACHE", raising=False)
    monkeypatch.setattr(checkpoints, "CHECKPOINTS", tmp_path / "cp")
    inputs = {"x": 1}
    name = cache.entry_name("toy", "paper", inputs)
    _work(tmp_path / "elsewhere", name, 2)
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
        assert not (DATA / "cache" / cp.name).exists(), f"{cp.name} is finished: `python -m helpers checkpoint` prunes it"


def test_target_sign_does_not_change_the_key(monkeypatch):
    """An eigensolver may return a target orbital with either sign; the bias (v v^T) and the entry are the same."""
    v = np.array([[0.81559, 0.0, 0.0, -0.57863, 0.0]]).T
    assert np.allclose(dft.signed(v), v) and np.allclose(dft.signed(-v), v)
    two = np.array([[0.6, 0.8, 0, 0, 0], [0, 0, -1.0, 0, 0]]).T
    assert np.allclose(dft.signed(two)[:, 1], [0, 0, 1, 0, 0]) and np.allclose(dft.signed(two)[:, 0], two[:, 0])
