"""Book sources: every citation resolves to references.bib, DOIs are well-formed, the benchmark
command writes its JSON and table (tested with stand-in measurements, no DFT)."""
import json
import os
import re

import pytest
import yaml

from helpers.cli import bench
from helpers.store.paths import ROOT


def bib_entries():
    text = (ROOT / "book" / "references.bib").read_text()
    return dict(re.findall(r"@\w+\{([^,]+),(.*?)\n\}", text, re.S))


def markdown_sources():
    """The text of every Markdown page of book/ and of every markdown cell of the notebooks."""
    import nbformat
    texts = [md.read_text() for md in (ROOT / "book").glob("*.md")]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        texts += [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == "markdown"]
    return texts


def test_every_citation_is_in_the_bibliography():
    keys = set(bib_entries())
    cited = set()
    for text in markdown_sources():
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", text):
            cited |= {k.strip() for k in group.split(",")}
    assert cited and cited <= keys, f"unknown citation keys {sorted(cited - keys)}"
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["bibtex_bibfiles"] == ["book/references.bib"]
    assert "{bibliography}" in (ROOT / "book" / "references.md").read_text()


def test_launch_buttons_open_the_executed_notebook_in_binder():
    """Binder needs the repository and a BinderHub; the page paths it opens are those of _toc.yml:
    links in book/ to the executed notebooks, which postBuild creates (python -m
    helpers execute into build/executed)."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", config["repository"]["url"])
    assert config["repository"].get("branch")
    assert config["launch_buttons"]["binderhub_url"].startswith("https://")
    assert "helpers execute" in (ROOT / "postBuild").read_text()


def test_pages_live_at_short_addresses():
    """Every notebook is a page of _toc.yml under its short name (helpers.book.pages.PAGES): a link in
    book/ to its executed copy in build/executed, so the page is /book/<name>.html; the repository's
    top level holds no page links (its layout is fixed)."""
    from helpers.book.pages import DOC_DIR, PAGES, docname
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]] + [c["file"] for p in toc["parts"] for c in p["chapters"]]
    stems = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert sorted(PAGES) == stems
    assert [p for p in pages if p.endswith(tuple(PAGES.values()))] == [docname(s) for s in stems]
    for stem, name in PAGES.items():
        link = ROOT / DOC_DIR / f"{name}.ipynb"
        assert link.is_symlink() and os.readlink(link) == f"../build/executed/{stem}.ipynb", link
    assert not [p.name for p in ROOT.glob("*.ipynb")], "page links in the repository's top level"
    for text in markdown_sources():
        assert "/build/executed/" not in text, "a link to a page's old address"


def notebook_cells(path):
    import nbformat
    cells = nbformat.read(path, as_version=4).cells
    return ("\n".join(c.source for c in cells if c.cell_type == "markdown"),
            "\n".join(c.source for c in cells if c.cell_type == "code"))


def test_every_numref_names_a_figure_or_table_and_every_paste_is_glued():
    """Before a build: each {numref} target is a `:name:` of some page, and each {glue:figure} or
    {glue:md} key of a notebook is glued by a code cell of that notebook (by its literal key)."""
    names, refs = set(), set()
    for text in markdown_sources():
        names |= set(re.findall(r"^:name:\s*(\S+)", text, re.M))
        refs |= set(re.findall(r"\{numref\}`(?:[^`<]*<)?([^`>]+)>?`", text))
    assert refs and refs <= names, f"{{numref}} without a target: {sorted(refs - names)}"
    for text in markdown_sources():                  # a role in a table's caption loses its number
        for caption in re.findall(r"^`+\{table\}(.*)$", text, re.M):
            assert "{" not in caption, f"a role in the table caption {caption[:60]!r}"
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        md, code = notebook_cells(path)
        for key in re.findall(r"\{glue:(?:figure|md)\}\s+(\S+)", md):
            assert f'"{key.removesuffix("-source")}"' in code, f"{path.name}: {key} is pasted but never glued"


def test_a_cell_that_glues_shows_its_outputs_only_where_they_are_pasted():
    """A code cell that glues a figure or table is tagged remove-output: otherwise the book shows every
    glued object a second time in the cell's output, the tables as raw Markdown pipes; what such a cell
    has to say goes into a glued Markdown key and is pasted where the page needs it."""
    import nbformat
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for i, c in enumerate(nbformat.read(path, as_version=4).cells):
            if c.cell_type == "code" and re.search(r"captions\.glue_\w+\(", c.source):
                assert "remove-output" in c.metadata.get("tags", []), \
                    f"{path.name}, cell {i}: glues but is not tagged remove-output"


def test_dois_are_well_formed():
    for key, body in bib_entries().items():
        for doi in re.findall(r"doi\s*=\s*\{([^}]*)\}", body):
            assert re.fullmatch(r"10\.\d{4,9}/\S+", doi), (key, doi)


def test_bench_writes_medians_and_the_table(tmp_path, monkeypatch):
    fake = {"rebuild": lambda: bench.median_of(lambda: None, 3),
            "paper": lambda: {"02_afe_lattice": {"median_s": 5.0, "runs_s": [5.0]}}}
    monkeypatch.setattr(bench, "measurements", lambda repeat, repeat_costly: fake)
    out, table = tmp_path / "benchmark.json", tmp_path / "table.md"
    bench.bench(repeat=3, only=["rebuild", "paper"], output=out, table_path=table)
    data = json.loads(out.read_text())
    assert len(data["measurements"]["rebuild"]["runs_s"]) == 3
    text = table.read_text()
    assert "| notebook from the paper cache: 02 afe lattice | 5.0 | 1 |" in text
    assert "| unchanged rebuild (`scripts/build_book.sh`) | 0.0 | 3 | under 60 s: met |" in text
    with pytest.raises(SystemExit, match="unknown"):
        bench.bench(only=["nonsense"], output=out, table_path=table)
    with pytest.raises(SystemExit, match="--repeat-costly"):
        bench.bench(only=["rebuild"], repeat_costly=0, output=out, table_path=table)


def test_bench_speedup_and_targets_can_be_missed():
    results = {"date": "d", "commit": "c" * 40, "machine": {"cpus": 2, "platform": "p"},
               "measurements": {
                   "scf_ranks": {"1_ranks": {"median_s": 100.0, "runs_s": [100.0]},
                                 "2_ranks": {"median_s": 80.0, "runs_s": [80.0]}},
                   "tests": {"median_s": 2400.0, "runs_s": [2400.0],
                             "smoke_notebooks": {"01_valence": {"median_s": 60.0, "runs_s": [60.0]}}}}}
    assert bench.speedup(results) == 1.25
    text = bench.table(results)
    assert "| SCF speed-up, 2 ranks over 1 | 1.25× | | at least 1.7: missed |" in text
    assert "under 30 min: missed" in text
    assert "notebook at smoke (within the test command): 01 valence | 60.0 | 1 |" in text


def test_every_page_has_a_short_address_at_the_root():
    """book/_extra/<name>.html (copied to the site's root) forwards /<name>.html to book/<name>.html for
    every page of _toc.yml, and each file is what helpers.book.pages writes."""
    import yaml
    from helpers.book import pages
    from helpers.store.paths import ROOT
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    docs = [toc["root"]] + [c["file"] for part in toc["parts"] for c in part["chapters"]]
    names = [d.removeprefix("book/") for d in docs]
    assert sorted(names) == sorted(pages.redirect_names())
    for n in names:
        stub = ROOT / pages.EXTRA_DIR / f"{n}.html"
        assert stub.is_file() and stub.read_text() == pages.redirect_stub(n), f"{stub}: missing or stale"
        assert f'url=book/{n}.html"' in stub.read_text()
