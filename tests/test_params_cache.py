"""Parameter validation and the result cache (keys, atomicity, no loss on failure)."""
import json

import pytest

from helpers.store import cache
from helpers.cli import recompute
from helpers.store import keys as cache_keys
from helpers.store import params


def test_profiles_validate():
    for p in params.PROFILES:
        assert params.settings(p)["profile"] == p


@pytest.mark.parametrize("name,value", [("ecut", 10.0), ("kpt_density", -1), ("fmax", 0.0),
                                        ("max_steps", 2.5), ("relax_cell", "yes"), ("vacuum", 1),
                                        ("grid_spacing", 0.5)])
def test_bad_settings_name_the_parameter(name, value):
    with pytest.raises(ValueError, match=name):
        params.settings("smoke", **{name: value})


def test_lcao_grid_spacing_reaches_gpaw_and_leaves_default_keys_alone(monkeypatch, tmp_path):
    """The profile's LCAO grid spacing is GPAW's `h` in every LCAO job (lcao, wannier90, dftu_branch); at GPAW's
    default 0.2 A it is absent from the job, so the results computed before it was a setting keep their keys."""
    from helpers.dft import jobs as dft_jobs
    from helpers.store import cache
    from helpers.dft.gpaw_job import common as gpaw_job_common
    from helpers.dft import structures
    jobs = []
    monkeypatch.setattr(dft_jobs, "_submit", lambda job, *a, **k: jobs.append(job))
    monkeypatch.setattr(cache, "cached", lambda name, profile, job, *a, **k: jobs.append(job))
    atoms = structures.monolayer_1Tprime("WTe2", vacuum=8.0)
    for profile in ("paper", "smoke"):
        s = params.settings(profile)
        dft_jobs.lcao(atoms, s, "t")
        dft_jobs.wannier90(atoms, s, "t")
        dft_jobs.dftu_branch(atoms, s, "t", [3.0])
    assert [j.get("h") for j in jobs] == [None] * 3 + [0.3] * 3
    assert gpaw_job_common.lcao_calc({**jobs[3], "smearing": 0.1}, tmp_path / "t.txt").parameters.h == 0.3
    assert gpaw_job_common.lcao_calc({**jobs[0], "smearing": 0.1}, tmp_path / "t.txt").parameters.h is None


def test_unknown_profile_and_setting():
    with pytest.raises(ValueError, match="profile"):
        params.settings("fast")
    with pytest.raises(ValueError, match="unknown setting"):
        params.settings("smoke", cutoff=300)
    with pytest.raises(ValueError, match="dcounts"):
        params.check_choice("dcounts", "d4", ["d2", "d3"])


def test_key_depends_on_every_input():
    base = {"a": 1.0, "b": [1, 2], "c": {"x": "y"}}
    keys = {cache_keys.key(base), cache_keys.key({**base, "a": 1.0000001}), cache_keys.key({**base, "b": [2, 1]}),
            cache_keys.key({**base, "c": {"x": "z"}})}
    assert len(keys) == 4
    assert cache_keys.key(dict(reversed(list(base.items())))) == cache_keys.key(base)


def test_cache_hit_miss_force_and_failure(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPENDIUM_CACHE", str(tmp_path))
    monkeypatch.delenv("COMPENDIUM_REQUIRE_CACHE", raising=False)
    calls = []

    def compute(work):
        calls.append(work)
        (work / "log.txt").write_text("ran")
        return {"value": len(calls)}

    r1 = cache.cached("toy", "smoke", {"x": 1}, compute)
    r2 = cache.cached("toy", "smoke", {"x": 1}, compute)
    assert r1["value"] == r2["value"] == 1 and len(calls) == 1
    entry = tmp_path / r1["key"]
    assert (entry / "log.txt").exists() and json.loads((entry / "result.json").read_text())["inputs"] == {"x": 1}

    def broken(work):
        raise RuntimeError("GPAW crashed")

    with pytest.raises(RuntimeError):
        cache.cached("toy", "smoke", {"x": 1}, broken, force=True)
    assert json.loads((entry / "result.json").read_text())["value"] == 1   # nothing lost

    r3 = cache.cached("toy", "smoke", {"x": 1}, compute, force=True)
    assert r3["value"] == 2 and json.loads((entry / "result.json").read_text())["value"] == 2

    monkeypatch.setenv("COMPENDIUM_REQUIRE_CACHE", "1")
    with pytest.raises(cache.CacheMiss, match="Compute it"):
        cache.cached("toy", "smoke", {"x": 2}, compute)


def test_recompute_restores_results_when_the_run_fails(tmp_path, monkeypatch):
    from helpers.cli import notebooks as cli_notebooks
    from helpers.cli import recompute
    monkeypatch.setenv("COMPENDIUM_CACHE", str(tmp_path))
    monkeypatch.delenv("COMPENDIUM_REQUIRE_CACHE", raising=False)
    kept = cache.cached("toy", "smoke", {"x": 1}, lambda w: {"value": 1})

    def failing_compute(profile, names=None, **kw):
        raise RuntimeError("notebook failed")

    monkeypatch.setattr(recompute, "compute", failing_compute)
    with pytest.raises(RuntimeError):
        recompute.recompute("smoke")
    assert cache.load(kept["key"])["value"] == 1


def test_concurrent_requests_compute_an_entry_once(tmp_path, monkeypatch):
    """Two workers asking for the same entry at once: one computes, the other waits and reads it
    (before the lock, both ran in the same work directory and one of them crashed)."""
    import threading
    import time
    monkeypatch.setenv("COMPENDIUM_CACHE", str(tmp_path))
    monkeypatch.delenv("COMPENDIUM_REQUIRE_CACHE", raising=False)
    calls, results = [], []

    def slow(work):
        calls.append(work)
        time.sleep(0.5)
        return {"value": 42}

    workers = [threading.Thread(target=lambda: results.append(cache.cached("toy", "smoke", {"x": 9}, slow)))
               for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(calls) == 1
    assert [r["value"] for r in results] == [42, 42]


def test_a_missing_result_is_logged_so_the_notebook_reruns_once_it_exists(tmp_path, monkeypatch):
    """A notebook that skipped a result missing from the cache (CacheMiss caught, as the
    introduction's scales do) is not 'up to date' once that result appears."""
    from helpers.cli import notebooks as cli_notebooks
    from helpers.cli import recompute
    monkeypatch.setenv("COMPENDIUM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("COMPENDIUM_READ_LOG", str(tmp_path / "reads.jsonl"))
    monkeypatch.setenv("COMPENDIUM_REQUIRE_CACHE", "1")
    with pytest.raises(cache.CacheMiss) as miss:
        cache.cached("toy", "smoke", {"x": 1}, lambda w: {"value": 1})
    name = miss.value.entry
    assert name == cache_keys.entry_name("toy", "smoke", {"x": 1})
    reads = [r["entry"] for r in cli_notebooks._reads(tmp_path / "reads.jsonl")]
    assert reads == [name]
    nb = tmp_path / "00_x.ipynb"
    nb.write_text("{}")
    before = cli_notebooks.fingerprint(nb, "smoke", {}, reads)
    monkeypatch.delenv("COMPENDIUM_REQUIRE_CACHE")
    cache.cached("toy", "smoke", {"x": 1}, lambda w: {"value": 1})
    assert cli_notebooks.fingerprint(nb, "smoke", {}, reads) != before
