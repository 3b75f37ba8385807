"""The verdict boxes and readable table cells: colours follow the verdict ('not reproduced' is not
'reproduced'), the tally counts only the counted claims, formulas are typeset and text escaped."""
import math

import numpy as np
import pandas as pd
import pytest

from helpers.book import badges
from helpers.book import claims
from helpers.book import pages
from helpers.book import tables
from helpers.book import verdicts_box as vb
from helpers.book.scorecard import row


def card():
    return pd.DataFrame([
        row("valence (Rydberg)", "effective W4+: d2", "W4+", "x", "c", "undetermined"),
        row("AFE lattice (eV)", "d2 relaxes <d>", "1", "1", "c", True),
        row("AFE lattice (eV)", "Table 1 d3", "1", "2", "c", False),
        row("AFE lattice (eV)", "Table 1 experiment", "1", "1", "c", "calibration: the measure matches"),
        row("generalization", "1T WTe2 fails it", "—", "x", "c", "consistency check: holds"),
    ])


def test_verdict_keys_and_colours():
    assert badges.verdict_key("not reproduced") == "not reproduced"
    assert badges.verdict_key("reproduced") == "reproduced"
    assert badges.verdict_key("consistency check: FAILS") == "consistency check"
    assert badges.COLOURS["not reproduced"] != badges.COLOURS["reproduced"]
    with pytest.raises(ValueError, match="verdict"):
        badges.verdict_key("maybe")


def test_tally_counts_only_counted_claims():
    df = card()
    assert vb.counts(df) == {"reproduced": 1, "not reproduced": 1, "undetermined": 1}
    box = vb.findings_html(df, "paper")
    assert 'class="verdict-box"' in box and "3 verdicts" in box
    assert "1 not reproduced" in box and "1 calibration" in box and "1 consistency check" in box
    assert 'href="valence.html"' in box and 'href="scorecard.html#tbl-scorecard"' in box


def test_boxes_count_each_calculation_once_as_the_scorecard():
    """The tally of the boxes is the scorecard's (helpers.book.scorecard.counted): two rows of one
    calculation that disagree count once, as undetermined; a row closer to experiment than the paper
    supports it; the introduction's tally, the sum of its rungs' and the scorecard's tally line agree."""
    import re

    from helpers.book import scorecard as sc
    df = pd.DataFrame([
        row("AFE lattice (eV)", "short W–W", "1", "1", "c", True, "relaxation"),
        row("AFE lattice (eV)", "long W–W", "1", "2", "c", False, "relaxation"),
        row("AFE lattice (eV)", "Table 1 d2", "1", "2", "c", "closer to experiment than the paper (x)", "table"),
        row("FE dipole", "magnitude", "1", "2", "c", "undetermined (resting on 1 deciding variant of 9 tried)"),
        row("generalization", "check", "—", "x", "c", "consistency check: holds")])
    assert vb.counts(df) == {"reproduced": 1, "undetermined": 2}
    line = dict((v, int(n)) for n, v in re.findall(r"\*\*(\d+)\*\* ([a-z ]+?)[,.]", sc.tally(df)))
    assert line == vb.counts(df)
    box = vb.findings_html(df, "paper")
    head = re.sub(r"<[^>]+>", " ", box.split("</p>", 1)[0])
    assert dict((v, int(n)) for n, v in re.findall(r"(\d+) (reproduced|undetermined|not reproduced)", head)) == line
    assert "3 verdicts" in box
    chapter = vb.chapter_html(df[df.rung == "AFE lattice (eV)"], "paper")
    assert "closer to experiment" in chapter and "In the tally" in chapter and "3 rows, 2 counted" in chapter


def test_chapter_box_escapes_and_typesets_and_puts_checks_last():
    box = vb.chapter_html(card()[card().rung == "AFE lattice (eV)"], "paper")
    assert "d<sup>2</sup> relaxes ⟨d⟩" in box and "<d>" not in box
    assert box.index("Table 1 d<sup>3</sup>") < box.index("Table 1 experiment")
    assert "scorecard.html#tbl-scorecard-checks" in box
    with pytest.raises(ValueError, match="rows"):
        vb.chapter_html([], "paper")


def test_chapter_box_shows_the_dftu_verdict_first():
    """An energy claim with a DFT+U verdict (the paper's method) shows it before the other method's, in
    its own colour and with its own reasons; a row without one shows a single badge."""
    df = pd.DataFrame([
        row("AFO order (sub-eV)", "AFO lowest", "AFO", "x", "c", False, energy=True, dftu="...",
            dftu_ok="undetermined (no ordered state of b or c survives the release)"),
        row("AFO order (sub-eV)", "b, c degenerate", "yes", "x", "c", True)])
    box = vb.chapter_html(df, "paper")
    first = box.split("</li>")[0]
    assert first.index("DFT+U: undetermined") < first.index(">not reproduced<")
    assert badges.COLOURS["undetermined"][0] in first and badges.COLOURS["not reproduced"][0] in first
    assert "no ordered state of b or c survives the release" in first
    assert "DFT+U" not in box.split("</li>")[1]
    assert "the two methods disagree" not in box                      # one of them undecided
    differ = pd.DataFrame([row("AFO order (sub-eV)", "gain", ">100", "x", "c", True, energy=True, dftu="...",
                               dftu_ok="not reproduced (restricted, released at 6 eV)")])
    assert "the two methods disagree" in vb.chapter_html(differ, "paper")
    with pytest.raises(ValueError, match="not an energy claim"):
        row("AFO order (sub-eV)", "b, c degenerate", "yes", "x", "c", True, dftu_ok=True)
    # the introduction's line of the rung counts the DFT+U verdicts beside the tally, which they do not enter
    intro = vb.findings_html(df, "paper")
    line = next(li for li in intro.split("<li>") if "Antiferro-orbital" in li)
    assert "DFT+U, the paper" in line and "1 undetermined" in line.split("DFT+U, the paper")[1]
    assert vb.counts(df) == {"reproduced": 1, "not reproduced": 1}
    assert "DFT+U" not in vb.findings_html(card(), "paper")
    pending = pd.DataFrame([row("AFE lattice (eV)", "eV scale", "eV", "0.6 eV", "c", True, energy=True)])
    assert pending["DFT+U verdict"][0] == "not computed here"
    assert "DFT+U" not in vb.findings_html(pending, "paper") and "DFT+U" not in vb.chapter_html(pending, "paper")


def test_page_addresses_and_rungs():
    assert pages.href("01_valence") == "valence.html"
    assert pages.href("07_scorecard", "tbl-scorecard") == "scorecard.html#tbl-scorecard"
    assert set(claims.RUNGS.values()) < set(pages.PAGES)
    with pytest.raises(ValueError, match="rung"):
        claims.rung_rows("07_nothing", "WTe2", "paper")
    with pytest.raises(ValueError, match="unknown scorecard parameters"):
        claims.valence_rows("WTe2", "paper", J=0.5)


def test_cells_never_show_raw_python():
    assert [tables.cell_text(v) for v in (None, math.nan, np.float64("nan"), True, np.False_, math.inf, -math.inf)] \
        == ["—", "—", "—", "yes", "no", "∞", "−∞"]
    assert tables.cell_text([1, 2.5, None]) == "1, 2.5, —"
    assert tables.cell_text("True / False") == "yes / no"
    assert tables.cell_text("nan/nan Å") == "—/— Å"
    assert tables.cell_text(-0.0) == "0"
    df = pd.DataFrame({"a": [1.0, math.nan], "ok": [True, False]})
    out = tables.frame_html(df)
    for raw in ("NaN", "nan", "True", "False", "None", "…"):
        assert raw not in out
    assert "<th>a</th>" in out and "<details>" not in out
    assert "<details>" in tables.frame_html(pd.DataFrame({"a": range(tables.FOLD_ROWS + 1)}))


def test_verdict_map_colours_each_cell_by_its_verdict():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgb

    from helpers.book import plots
    rows = [{"claim": "b, c degenerate", "reading": "energy order", "verdict": "not reproduced"},
            {"claim": "b, c degenerate", "reading": "local frame", "verdict": "consistency check: forced"},
            {"claim": "AFO lowest", "reading": "energy order", "verdict": "undetermined"}]
    fig, ax = plt.subplots()
    plots.verdict_map(ax, rows)
    img = ax.images[0].get_array()
    assert np.allclose(img[0, 0], to_rgb(badges.COLOURS["not reproduced"][0]))
    assert np.allclose(img[1, 0], to_rgb(badges.COLOURS["undetermined"][0]))
    assert np.allclose(img[1, 1], 1.0)                       # not tested: left white
    plt.close(fig)


def test_dipoles_vs_window_one_panel_per_reading():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from helpers.book import plots
    rows = [{"layer": "relaxed d2", "e_low (eV)": e, "reading": r, "p_z b (e·Å)": 0.1 * s, "p_z c (e·Å)": -0.1}
            for e in (-2.0, -1.5) for r, s in (("energy order", 1), ("continuity", -1))]
    fig, axes = plt.subplots(1, 2)
    plots.dipoles_vs_window(axes, rows, paper_eA=(0.05, 0.02))
    assert [len(ax.lines) >= 2 for ax in axes] == [True, True]
    assert "energy order" in axes[0].get_title() and "(b)" in axes[1].get_title()
    with pytest.raises(ValueError, match="panels"):
        plots.dipoles_vs_window(axes[:1], rows)
    plt.close(fig)


def test_verdict_cells_are_badges_and_long_cells_fold():
    from helpers.book import captions
    df = pd.DataFrame({"claim": ["x", "y"], "verdict": ["not reproduced", "consistency check: holds " + "and why " * 40]})
    md = captions.markdown_table(df)
    assert md.count('class="verdict-badge"') == 2 and "<details" in md and "|" not in md.split("\n")[3][2:-2].replace(" | ", "")
    assert tables.cell_html("plain", "ours") == "plain"


def test_the_scorecard_page_builds_no_row_itself():
    """The scorecard page takes its rows from helpers.book.claims, as the boxes do: none of its code cells
    builds a row (row(...), rows.append) or recomputes a verdict, so a box cannot differ from it."""
    import nbformat

    from helpers.store.paths import ROOT
    nb = nbformat.read(ROOT / "notebooks" / "07_scorecard.ipynb", as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert "claims.scorecard(" in code
    for built in ("row(", "rows.append", "thin_evidence", "joint_reading_row"):
        assert built not in code, f"the scorecard page builds rows itself ({built})"


def test_chapter_rows_are_the_scorecard_rows(monkeypatch):
    """A chapter box shows the rows of the scorecard for its rungs, finished as the scorecard finishes
    them (a verdict resting on few variants says so), and the joint readings row on the AFO and FE pages."""
    fake = [row("AFO order (sub-eV)", "gain", "1", "holds in 1 of 1 variants that decide (8 undecided)", "c", "undetermined", claims.MF),
            row("FE dipole", "ratio", "1", "x", "c", False, claims.DIP),
            row(claims.JOINT, "together", "all hold", "x", "c", False)]
    monkeypatch.setitem(claims.PAGE_BUILDERS, "03_afo_order", lambda *a, **k: fake)
    monkeypatch.setitem(claims.PAGE_BUILDERS, "04_fe_dipole", lambda *a, **k: fake)
    afo = claims.rung_rows("03_afo_order", "WTe2", "paper")
    assert [r["claim"] for r in afo] == ["gain", "together"]
    assert afo[0]["verdict"].startswith("undetermined (resting on 1 deciding variant of 9")
    assert [r["claim"] for r in claims.rung_rows("FE dipole", "WTe2", "paper")] == ["ratio", "together"]
