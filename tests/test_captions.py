"""Captions of the book's numbered figures and tables: which cache entries a result came from, the
source line, and the Markdown tables MyST-NB pastes (parsed back with the GFM table rules)."""
import json
import math

import pandas as pd
import pytest

from helpers.book import captions
from helpers.store import cache


@pytest.fixture
def toy_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPENDIUM_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("COMPENDIUM_REQUIRE_CACHE", raising=False)
    monkeypatch.delenv("COMPENDIUM_READ_LOG", raising=False)
    return tmp_path


def test_cache_entries_finds_every_result_at_any_depth(toy_cache):
    a = cache.cached("toy", "smoke", {"x": 1}, lambda w: {"value": 1})
    b = cache.cached("toy", "smoke", {"x": 2}, lambda w: {"value": 2})
    nested = {"runs": {"main": a, "other": [b, {"not": "a result", "key": "no kind"}]}, "copy": a}
    assert captions.cache_entries(nested) == sorted([a["key"], b["key"]])
    assert captions.cache_entries({"key": "x", "kind": "toy"}) == []        # no profile: not a result
    assert captions.cache_entries() == []


def test_recorded_names_what_was_read_and_keeps_the_notebook_log(toy_cache):
    outer = toy_cache / "reads.jsonl"
    import os
    os.environ["COMPENDIUM_READ_LOG"] = str(outer)
    try:
        cache.cached("toy", "smoke", {"x": 0}, lambda w: {"value": 0})          # before: not recorded
        with captions.recorded() as names:
            a = cache.cached("toy", "smoke", {"x": 1}, lambda w: {"value": 1})
            cache.cached("toy", "smoke", {"x": 1}, lambda w: {"value": 1})      # read twice, named once
        assert names == [a["key"]]
        # an entry missing under COMPENDIUM_REQUIRE_CACHE=1 is logged (for re-execution) but is no source
        os.environ["COMPENDIUM_REQUIRE_CACHE"] = "1"
        with captions.recorded() as missed:
            with pytest.raises(cache.CacheMiss):
                cache.cached("toy", "smoke", {"x": 9}, lambda w: {"value": 9})
        os.environ.pop("COMPENDIUM_REQUIRE_CACHE")
        assert missed == []
        assert os.environ["COMPENDIUM_READ_LOG"] == str(outer)
        logged = [json.loads(line)["entry"] for line in outer.read_text().splitlines()]
        assert logged.count(a["key"]) == 2 and len(logged) == 4
    finally:
        os.environ.pop("COMPENDIUM_READ_LOG", None)


def test_source_line_states_profile_and_entries():
    line = captions.source_line("paper", ["relax-b", "relax-a", "relax-a"])
    assert line.startswith("Profile **paper**.") and "`relax-a`, `relax-b`" in line and "entries" in line
    assert "not meaningful" in captions.source_line("smoke", ["x"])
    assert "no cache entry" in captions.source_line(None, note="two-site model")
    with pytest.raises(ValueError, match="profile"):
        captions.source_line(3, [])


def gfm_cells(text):
    """Rows of cell texts of the first table in `text`, parsed as GitHub-flavoured Markdown."""
    markdown_it = pytest.importorskip("markdown_it")
    tokens = markdown_it.MarkdownIt("gfm-like").parse(text)
    rows, row = [], None
    for t in tokens:
        if t.type == "tr_open":
            row = []
        elif t.type == "inline" and row is not None:
            row.append("".join(c.content for c in t.children if c.type in ("text", "code_inline")))
        elif t.type == "tr_close":
            rows.append(row)
            row = None
    return rows


def test_markdown_table_survives_pipes_nan_and_multiindex():
    df = pd.DataFrame({"quantity": ["bond", "bond"], "definition": ["mean |d − ⟨d⟩|", "a_b*c"],
                       "value (Å)": [0.3061234567, math.nan]}).set_index(["quantity", "definition"])
    rows = gfm_cells(captions.markdown_table(df))
    assert rows[0] == ["quantity", "definition", "value (Å)"]
    assert rows[1] == ["bond", "mean |d − ⟨d⟩|", "0.306123"]
    assert rows[2] == ["bond", "a_b*c", "—"]
    plain = gfm_cells(captions.markdown_table(pd.DataFrame({"a": [1, 2]})))
    assert plain == [["a"], ["1"], ["2"]]                                   # a default index is left out
    with pytest.raises(ValueError, match="DataFrame"):
        captions.markdown_table([[1, 2]])


def test_glue_keys_are_labels():
    for bad in ("figure-1", "fig_a", "tbl-A", "fig-"):
        with pytest.raises(ValueError, match="key"):
            captions.glue_table(bad, pd.DataFrame({"a": [1]}), "")


def test_long_tables_are_written_as_csv_and_sources_fold(tmp_path, monkeypatch):
    monkeypatch.setattr(captions, "CSV_DIR", tmp_path / "tables")
    df = pd.DataFrame({"E (eV)": [0.5, math.nan], "ok": [True, False]}).set_index("ok")
    link = captions.write_csv("tbl-x", df)
    text = (tmp_path / "tables" / "tbl-x.csv").read_text().splitlines()
    assert text == ["ok,E (eV)", "yes,0.5", "no,—"]
    assert 'href="../tables/tbl-x.csv"' in link and "2 rows" in link
    box = captions.provenance("Profile **paper**.")
    assert box.startswith('<details class="provenance">') and "\n\nProfile **paper**.\n\n" in box
    rows = gfm_cells(captions.markdown_table(pd.DataFrame({"a": [[1, 2]], "b": [None], "c": [True]})))
    assert rows[1] == ["1, 2", "—", "yes"]
