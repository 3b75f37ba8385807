"""Book sources: every citation resolves to references.bib, DOIs are well-formed, the benchmark
command writes its JSON and table (tested with stand-in measurements, no DFT)."""
import json
import re

import pytest
import yaml

from helpers import bench
from helpers.paths import ROOT


def bib_entries():
    text = (ROOT / "book" / "references.bib").read_text()
    return dict(re.findall(r"@\w+\{([^,]+),(.*?)\n\}", text, re.S))


def test_every_citation_is_in_the_bibliography():
    keys = set(bib_entries())
    cited = set()
    for md in (ROOT / "book").glob("*.md"):
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", md.read_text()):
            cited |= {k.strip() for k in group.split(",")}
    assert cited and cited <= keys, f"unknown citation keys {sorted(cited - keys)}"
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["bibtex_bibfiles"] == ["book/references.bib"]
    assert "{bibliography}" in (ROOT / "book" / "references.md").read_text()


def test_dois_are_well_formed():
    for key, body in bib_entries().items():
        for doi in re.findall(r"doi\s*=\s*\{([^}]*)\}", body):
            assert re.fullmatch(r"10\.\d{4,9}/\S+", doi), (key, doi)


def test_bench_writes_medians_and_the_table(tmp_path, monkeypatch):
    fake = {"rebuild": lambda: bench.median_of(lambda: None, 3),
            "paper": lambda: {"02_afe_lattice": {"median_s": 5.0, "runs_s": [5.0]}}}
    monkeypatch.setattr(bench, "measurements", lambda repeat: fake)
    out, table = tmp_path / "benchmark.json", tmp_path / "table.md"
    bench.bench(repeat=3, only=["rebuild", "paper"], output=out, table_path=table)
    data = json.loads(out.read_text())
    assert len(data["measurements"]["rebuild"]["runs_s"]) == 3
    assert "| notebook from the paper cache: 02 afe lattice | 5.0 |" in table.read_text()
    with pytest.raises(SystemExit, match="unknown"):
        bench.bench(only=["nonsense"], output=out, table_path=table)
