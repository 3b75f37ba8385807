"""The DFT+U cost table: medians and sums read from made-up branch records."""
import json

import pytest

from helpers.book import dftu_cost


def _entry(cache, name, steps, spinpol=False, targets=True, n_atoms=6):
    d = cache / name
    d.mkdir()
    inputs = {"atoms": {"symbols": ["W"] * 2 + ["Te"] * (n_atoms - 2)}, "kpts": [8, 4, 1],
              "targets": {"0": {}} if targets else {}}
    if spinpol:
        inputs["spinpol"] = True
    kind = name.rsplit("-paper-", 1)[0]
    (d / "result.json").write_text(json.dumps({"kind": kind, "inputs": inputs, "ranks": 2, "steps": [
        {"U_eV": U, "lambda_eV": lam, "seconds": sec, "iterations": it} for U, lam, sec, it in steps]}))


@pytest.fixture
def cache(tmp_path):
    # two restricted branches of the relaxed layer: releases at 6 eV of 100 + 50 and 300 s
    _entry(tmp_path, "dftu_branch-WTe2-relaxed-d2-anneal6-NM-paper-aaaa", [(6, 1, 100, 10), (6, 0, 50, 10), (5, 0, 40, 8)])
    _entry(tmp_path, "dftu_branch-WTe2-relaxed-d2-anneal6-NM-paper-bbbb", [(6, 1, 300, 30), (5, 0, 60, 12)])
    # an unbiased 1T branch (valence page): no release
    _entry(tmp_path, "dftu_branch-WTe2-1T-anneal8-NM-paper-cccc", [(8, 0, 720, 60)], targets=False)
    # another profile is not read
    _entry(tmp_path, "dftu_branch-WTe2-1T-anneal8-NM-smoke-dddd", [(8, 0, 1, 1)], targets=False)
    return tmp_path


def test_medians_releases_and_page_totals(cache):
    rows = {r["what"]: r for r in dftu_cost.cost_rows(dftu_cost.branch_records(cache, "paper"))}
    relaxed = rows["relaxed d2 layer (6 atoms), spin-restricted"]
    assert relaxed["branches"] == 2 and relaxed["SCF steps"] == 5
    assert relaxed["one SCF step (s)"] == pytest.approx(60.0)          # median of 100, 50, 40, 300, 60
    assert relaxed["one iteration (s)"] == pytest.approx(5.0)          # median of 10, 5, 5, 10, 5
    assert relaxed["one release (min)"] == pytest.approx(225 / 60)      # median of 150 and 300 s
    assert relaxed["one branch (min)"] == pytest.approx((190 + 360) / 2 / 60)
    one_t = rows["1T layer (6 atoms), spin-restricted"]
    assert one_t["one release (min)"] != one_t["one release (min)"]     # NaN: an unbiased branch has no release
    assert rows["all branches of the AFO and FE pages"]["total (h)"] == pytest.approx(550 / 3600)
    assert rows["all branches of the valence page"]["total (h)"] == pytest.approx(0.2)


def test_markdown_table_and_empty_cache(cache, tmp_path_factory):
    path = tmp_path_factory.mktemp("book") / "cost.md"
    dftu_cost.write_table(cache, path)
    text = path.read_text()
    assert "2 MPI ranks" in text and text.count("\n|") == 6    # header, rule, 4 rows
    empty = tmp_path_factory.mktemp("empty")
    assert "No DFT+U branch" in dftu_cost.markdown(dftu_cost.cost_rows(dftu_cost.branch_records(empty)))
