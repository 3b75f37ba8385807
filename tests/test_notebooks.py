"""Notebooks: committed without outputs, parameterized, and executed for real at `smoke`.

The smoke run uses an empty temporary cache, so it performs real GPAW calculations (a few
minutes on two cores). The `paper` profile is executed by nbmake from the committed cache.
"""
import json

import nbformat
import pytest

from helpers.cli import NOTEBOOKS, execute, notebooks


@pytest.mark.parametrize("path", notebooks(), ids=lambda p: p.stem)
def test_notebook_is_clean_and_parameterized(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not any(c.get("outputs") for c in code), "commit notebooks without outputs"
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1 and code.index(tagged[0]) == 0
    assert "profile" in tagged[0].source


@pytest.mark.dft
def test_afe_notebook_smoke_with_empty_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPENDIUM_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("COMPENDIUM_REQUIRE_CACHE", raising=False)
    out, = execute("smoke", ["afe"], out=tmp_path / "executed")
    nb = nbformat.read(out, as_version=4)
    text = json.dumps([c.get("outputs", []) for c in nb.cells])
    assert "Smoke profile" in text and "NOT meaningful" in text
    entries = sorted(p.parent.name for p in (tmp_path / "cache").glob("*/result.json"))
    assert sum(e.startswith("relax-WTe2-d2") for e in entries) == 2
    assert sum(e.startswith("relax-WTe2-d3") for e in entries) == 2
    assert any(e.startswith("scf-") for e in entries)
    for e in entries:
        r = json.loads((tmp_path / "cache" / e / "result.json").read_text())
        assert r["ranks"] >= 1 and r["wall_time_s"] > 0 and "gpaw" in r["inputs"]
        assert list((tmp_path / "cache" / e).glob("gpaw-*.txt")), "GPAW log kept with the result"


@pytest.mark.dft
def test_bad_parameter_fails_before_any_dft(tmp_path, monkeypatch):
    import papermill as pm
    monkeypatch.setenv("COMPENDIUM_CACHE", str(tmp_path / "cache"))
    with pytest.raises(pm.PapermillExecutionError, match="ecut"):
        pm.execute_notebook(str(NOTEBOOKS / "02_afe_lattice.ipynb"), str(tmp_path / "bad.ipynb"),
                            parameters={"profile": "smoke", "ecut": 5.0}, cwd=str(NOTEBOOKS),
                            progress_bar=False, kernel_name="python3")
    assert not (tmp_path / "cache").exists()
