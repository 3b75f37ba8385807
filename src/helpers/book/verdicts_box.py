"""The verdict boxes that open each page and the findings boxes: counts, tallies, DFT+U lines."""
from __future__ import annotations

import html
import pandas as pd

from . import claims
from ..rungs.afo.claims import CLAIMS
from ..store import reference
from .badges import COLOURS, badge, typeset, verdict_key
from .claims import RUNGS
from .pages import href
from .scorecard import NOT_AN_ENERGY, NOT_COUNTED, counted, methods_note


#: Names of the rungs in the boxes, by the scorecard's rung name.
RUNG_TITLES = {"valence (Rydberg)": "Valence (Rydberg scale)", "AFE lattice (eV)": "Antiferroelectric lattice (eV scale)",
               "AFO order (sub-eV)": "Antiferro-orbital order (sub-eV scale)", "FE dipole": "Ferroelectric dipole",
               "AFO order and FE dipole (sub-eV)": "Orbital readings (the AFO and FE claims together)",
               "generalization": "Generalization (ReSe₂, 1T′-MoTe₂)",
               "ordering temperature": "Ordering temperature (beyond the paper)"}
_STYLE = ("border:1px solid #d0d7de;border-left:6px solid #0969da;border-radius:6px;padding:0.6em 1em;"
          "margin:0.8em 0 1.2em 0;background:#f6f8fa;max-width:100%;box-sizing:border-box;overflow-wrap:anywhere")


_PLURAL = {"consistency check": "consistency checks", "calibration": "calibrations"}


def _link(verdict: str) -> str:
    table = "tbl-scorecard-checks" if verdict.startswith(NOT_COUNTED) else "tbl-scorecard"
    return href("07_scorecard", table)


def _counted(df: pd.DataFrame) -> pd.Series:
    return ~df["verdict"].str.startswith(NOT_COUNTED)


def counts(df: pd.DataFrame) -> dict:
    """The tally as the scorecard counts it (helpers.book.scorecard.counted: each calculation once):
    {verdict key: number}, in the order of COLOURS (zeros left out)."""
    keys = counted(df)["verdict"].map(verdict_key)
    return {k: int((keys == k).sum()) for k in COLOURS if (keys == k).any()}


def tally_html(df: pd.DataFrame) -> str:
    """The tally of the counted claims as badges ('7 not reproduced', ...)."""
    return " ".join(badge(k, _link(k), f"{n} {k}") for k, n in counts(df).items())


def dftu_tally_html(df: pd.DataFrame) -> str:
    """For the rows of one rung: the DFT+U verdicts of its energy claims (the paper's own method) as badges
    reading 'DFT+U: n verdict', after a separator; '' where no row has one (an energy claim DFT+U does not
    compute here shows none: the scorecard's column says so)."""
    if "DFT+U verdict" not in df:
        return ""
    v = df["DFT+U verdict"]
    v = v[v.notna() & (v != NOT_AN_ENERGY)].map(verdict_key)
    v = v[v != "not computed here"]
    if v.empty:
        return ""
    link = href("07_scorecard", "tbl-scorecard")
    return (' <span style="color:#57606a">· DFT+U, the paper\'s method:</span> '
            + " ".join(badge(k, link, f"{n} {k}") for k, n in v.value_counts().items()))


def findings_html(df: pd.DataFrame, profile: str) -> str:
    """The introduction's findings box: the tally and one line per rung with its verdict badges."""
    if df.empty:
        raise ValueError("df: no scorecard rows")
    n = sum(counts(df).values())
    lines = [f'<p style="margin:0 0 0.4em 0"><strong>What is reproduced</strong> — {n} verdicts on the paper\'s claims, '
             f'each calculation counted once (profile <em>{html.escape(profile)}</em>): {tally_html(df)}</p>',
             '<ul style="margin:0;padding-left:1.2em">']
    for rung, stem in RUNGS.items():
        part = df[df["rung"] == rung]
        if part.empty:
            continue
        mine = part[_counted(part)]
        badges = " ".join(badge(k, _link(k), f"{n} {k}") for k, n in counts(part).items()) if not mine.empty else ""
        aside = part.loc[~_counted(part), "verdict"].map(verdict_key).value_counts()
        extra = (' <span style="color:#57606a">(not counted: '
                 + ", ".join(f"{n} {k if n == 1 else _PLURAL.get(k, k)}" for k, n in aside.items()) + ")</span>"
                 if len(aside) else "")
        lines.append(f'<li><a href="{href(stem)}">{html.escape(RUNG_TITLES.get(rung, rung))}</a>: {badges}{extra}'
                     f'{dftu_tally_html(part)}</li>')
    lines.append("</ul>")
    lines.append(f'<p style="margin:0.4em 0 0 0;font-size:0.9em">Every claim, with its criterion and our numbers: '
                 f'<a href="{href("07_scorecard")}">the scorecard</a>.</p>')
    return f'<div class="verdict-box" style="{_STYLE}">' + "".join(lines) + "</div>"


def _rest(verdict: str, brackets: bool = True) -> str:
    """What a verdict says after its key (e.g. the variants it rests on), typeset (in brackets unless
    `brackets` is False), or ''."""
    rest = verdict[len(verdict_key(verdict)):].strip(" :")
    if rest.startswith("(") and rest.endswith(")"):
        rest = rest[1:-1]
    shown = f"({typeset(rest)})" if brackets else typeset(rest)
    return f' <span style="color:#57606a;font-size:0.9em">{shown}</span>' if rest else ""


def dftu_html(dftu_verdict) -> tuple[str, str]:
    """The DFT+U verdict of an energy claim (the paper's own method), to stand before the verdict of our
    other method: (a badge reading 'DFT+U: …', a line with the rest of the verdict); ('', '') for a
    row without one (not an energy claim, or one DFT+U does not compute here: the scorecard's column says so)."""
    if not isinstance(dftu_verdict, str) or dftu_verdict == NOT_AN_ENERGY or verdict_key(dftu_verdict) == "not computed here":
        return "", ""
    key = verdict_key(dftu_verdict)
    rest = _rest(dftu_verdict, brackets=False)
    line = (f'<br><span style="color:#57606a;font-size:0.9em">DFT+U with controlled occupations, the paper\'s method:'
            f"</span>{rest}" if rest else "")
    return badge(dftu_verdict, href("07_scorecard", "tbl-scorecard"), f"DFT+U: {key}") + " ", line


def chapter_html(rows: list | pd.DataFrame, profile: str, title: str = "Verdicts on this page") -> str:
    """A chapter's verdict box: each counted claim with its badge and the rest of its verdict, as the
    scorecard states it; checks and calibrations after them; then how these rows count in the tally."""
    df = pd.DataFrame(rows)
    if df.empty:
        raise ValueError("rows: no scorecard rows for this page")
    items = []
    for r in df.sort_values("verdict", key=lambda s: s.str.startswith(NOT_COUNTED), kind="stable").to_dict("records"):
        muted = r["verdict"].startswith(NOT_COUNTED)
        style = ' style="color:#57606a"' if muted else ""
        first, line = dftu_html(r.get("DFT+U verdict"))
        if first and methods_note(r.get("DFT+U verdict"), r["verdict"]):
            line += ' <strong style="font-size:0.9em">— the two methods disagree</strong>'
        items.append(f"<li{style}>{first}{badge(r['verdict'], _link(r['verdict']))} "
                     f"{typeset(str(r['claim']))}{_rest(r['verdict'])}{line}</li>")
    head = (f'<p style="margin:0 0 0.3em 0"><strong>{html.escape(title)}</strong> '
            f'<span style="color:#57606a;font-size:0.9em">(profile <em>{html.escape(profile)}</em>; '
            f'criteria and numbers on <a href="{href("07_scorecard")}">the scorecard</a>)</span></p>')
    tail = ""
    if (~df["verdict"].str.startswith(NOT_COUNTED)).any():
        groups = counted(df)
        n_rows = int((~df["verdict"].str.startswith(NOT_COUNTED)).sum())
        tail = (f'<p style="margin:0.3em 0 0 0;font-size:0.9em">In the tally (each calculation once): '
                f'{tally_html(df)} <span style="color:#57606a">({n_rows} row{"s" if n_rows != 1 else ""}, '
                f'{len(groups)} counted)</span></p>')
    return (f'<div class="verdict-box" style="{_STYLE}">{head}<ul style="margin:0;padding-left:1.2em">'
            + "".join(items) + "</ul>" + tail + "</div>")


def _show(markup: str):
    from IPython.display import HTML, display
    display(HTML(markup))


def chapter_box(stem: str, material: str, profile: str, **kw) -> None:
    """Display the verdict box of page `stem` (e.g. '03_afo_order'), from the scorecard's rows for
    `material` at `profile` (keyword arguments: helpers.book.claims.ROW_DEFAULTS)."""
    if material != "WTe2":
        _show(f'<div class="verdict-box" style="{_STYLE}"><strong>Verdicts</strong>: the paper\'s claims concern WTe₂; '
              f'this run is for {html.escape(material)}, so none is judged here. The '
              f'<a href="{href("07_scorecard")}">scorecard</a> has them for WTe₂.</div>')
        return
    _show(chapter_html(claims.rung_rows(stem, material, profile, **kw), profile))


def findings_box(material: str, profile: str, **kw) -> pd.DataFrame:
    """Display the introduction's findings box (or the scorecard's); returns the scorecard rows it was
    drawn from (helpers.book.claims.all_rows)."""
    df = claims.all_rows(material, profile, **kw)
    _show(findings_html(df, profile))
    return df


def ladder_marks(scales, card: pd.DataFrame, material: str = "WTe2") -> dict:
    """What the ladder figure (helpers.book.plots.energy_scales) marks on the scales of helpers.book.scales:
    'verdicts' ({scale name: the scorecard verdict of the claim the scale tests}), 'paper' ({scale
    name: the paper's value, eV}, where the paper gives one) and 'opposite' (scales whose ordering
    is the opposite of the paper's: FO below AFO)."""
    tests = {f"AFE distortion energy, 1T′-{material}": "the distortion is an eV-scale energy",
             "AFO − FO difference": CLAIMS["AFO lowest (bonds)"]}
    verdicts, paper, opposite = {}, {}, set()
    for s in scales:
        for prefix, claim in tests.items():
            hit = card.loc[card["claim"] == claim, "verdict"]
            if s.name.startswith(prefix) and len(hit):
                verdicts[s.name] = hit.iloc[0]
        if s.name.startswith("on-site charging energy U"):
            paper[s.name] = reference.get("realistic_U_eV")["value"]
        if s.name.startswith("AFO − FO difference") and s.name.endswith("FO lower)") and "AFO lower" not in s.name:
            opposite.add(s.name)
    return {"verdicts": verdicts, "paper": paper, "opposite": opposite}
