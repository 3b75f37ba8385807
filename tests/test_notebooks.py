"""Notebooks: committed without outputs, parameterized, and executed for real at `smoke`.

The smoke run uses an empty temporary cache, so it performs real GPAW calculations (20 to 40
minutes on two cores). The `paper` profile is executed by nbmake from the committed cache.
"""
import json
from pathlib import Path

import nbformat
import pytest

from helpers.cli.notebooks import NOTEBOOKS, execute, notebooks


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.stem)
def test_notebook_is_clean_and_parameterized(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not any(c.get("outputs") for c in code), "commit notebooks without outputs"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and code.index(tagged[0]) == 0
    assert "profile" in tagged[0].source


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """Every notebook executed at the smoke profile, in reading order, with one fresh empty cache."""
    import os
    root = tmp_path_factory.mktemp("smoke")
    old = {k: os.environ.get(k) for k in ("COMPENDIUM_CACHE", "COMPENDIUM_REQUIRE_CACHE")}
    os.environ["COMPENDIUM_CACHE"] = str(root / "cache")
    os.environ.pop("COMPENDIUM_REQUIRE_CACHE", None)
    try:
        executed = execute("smoke", out=root / "executed")
        times = os.environ.get("COMPENDIUM_SMOKE_TIMES")       # set by `python -m helpers bench`
        if times:
            from helpers.cli.notebooks import read_state
            json_times = {p.stem: read_state(root / "executed", p)["seconds"] for p in notebooks()}
            Path(times).write_text(json.dumps(json_times))
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return root, {p.stem: nbformat.read(p, as_version=4) for p in executed}


def outputs_text(nb):
    return json.dumps([c.get("outputs", []) for c in nb.cells])


@pytest.mark.dft
def test_every_notebook_runs_at_smoke_with_real_dft(smoke_run):
    root, nbs = smoke_run
    assert set(nbs) == {p.stem for p in notebooks()}
    for name, nb in nbs.items():
        text = outputs_text(nb)
        assert "Smoke profile" in text and "NOT meaningful" in text, name
        assert '"output_type": "error"' not in text, name


@pytest.mark.dft
def test_smoke_cache_holds_real_gpaw_results(smoke_run):
    root, _ = smoke_run
    entries = sorted(p.parent.name for p in (root / "cache").glob("*/result.json"))
    assert sum(e.startswith("relax-WTe2-d2") for e in entries) == 2
    assert sum(e.startswith(("relax-WTe2-d3-1T", "relax-WTe2-d3-distorted")) for e in entries) == 2
    assert sum(e.startswith("relax-WTe2-d3-t2g3-FM") for e in entries) == 1    # the W3+ (t2g3) layer, FM
    assert sum(e.startswith("anneal-WTe2-1T-") for e in entries) >= 2           # both bases of U
    assert any(e.startswith("scf-") for e in entries) and any(e.startswith("lcao-") for e in entries)
    for e in entries:
        r = json.loads((root / "cache" / e / "result.json").read_text())
        if e.startswith("anneal-"):         # mean-field annealing: model-level, no GPAW
            assert r["branches"] and r["U_grid"] and r["wall_time_s"] > 0
            continue
        if e.startswith("probe-"):          # stability probes of the annealing survivors
            assert "states" in r and r["inputs"]["anneal"].startswith("anneal-")
            continue
        if e.startswith("ordered-"):        # annealed orbital patterns: model-level, no GPAW
            assert r["branches"] and r["U_grid"] and r["wall_time_s"] > 0
            continue
        if e.startswith("bias-"):           # mean field under an orbital bias: model-level, no GPAW
            assert r["branches"] and r["lambdas"] and r["wall_time_s"] > 0
            continue
        if e.startswith("bonds-"):          # W-W bond scans of a Wannier model: no GPAW
            assert r["tables"] and r["wall_time_s"] > 0
            continue
        if e.startswith("transition-"):     # Monte Carlo and hysteresis of the pseudo-spin model: no GPAW
            assert r["inputs"] and r["wall_time_s"] > 0 and "gpaw" not in r["inputs"]
            continue
        if e.startswith("wannier90-"):      # GPAW SCF, then wannier90.x on one rank
            assert r["proj"]["hr"] and r["wall_time_s"] > 0 and "gpaw" in r["inputs"]
            assert list((root / "cache" / e).glob("gpaw-*.txt")), "GPAW log kept with the result"
            continue
        assert r["ranks"] >= 1 and r["wall_time_s"] > 0 and "gpaw" in r["inputs"]
        assert list((root / "cache" / e).glob("gpaw*.txt")), "GPAW log kept with the result"


@pytest.mark.dft
def test_bad_parameter_fails_before_any_dft(tmp_path, monkeypatch):
    import papermill as pm
    monkeypatch.setenv("COMPENDIUM_CACHE", str(tmp_path / "cache"))
    with pytest.raises(pm.PapermillExecutionError, match="ecut"):
        pm.execute_notebook(str(NOTEBOOKS / "02_afe_lattice.ipynb"), str(tmp_path / "bad.ipynb"),
                            parameters={"profile": "smoke", "ecut": 5.0}, cwd=str(NOTEBOOKS),
                            progress_bar=False, kernel_name="python3")
    assert not (tmp_path / "cache").exists()
