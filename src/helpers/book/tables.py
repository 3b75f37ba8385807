"""Table cells and tables as a reader sees them: missing values as an em dash, booleans as yes/no,
lists joined, infinities as ∞, never cut with an ellipsis; no default integer index. Used for the
numbered Markdown tables (helpers.book.captions.markdown_table) and for DataFrames a notebook displays
directly (`register_display` makes IPython show them through `frame_html`). A long displayed table
opens as a dropdown.
"""
from __future__ import annotations

import html
import math
import re
import numpy as np
import pandas as pd

from .badges import badge, verdict_key


#: Displayed tables with more rows than this are folded into a dropdown.
FOLD_ROWS = 15
_MISSING_WORDS = re.compile(r"\b(?:nan|NaN|None)\b")
_BOOL_WORDS = {"True": "yes", "False": "no"}


def cell_text(value) -> str:
    """Plain text of one table cell: None/NaN -> '—', True/False -> 'yes'/'no', ±inf -> '±∞',
    floats to 6 significant digits, lists and arrays joined with ', '; strings reading 'nan',
    'None', 'True' or 'False' (e.g. '{x} / {y}' of booleans) are translated the same way."""
    if value is None:
        return "—"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return "—"
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        return f"{value + 0.0:.6g}"                        # + 0.0: no "-0" from a rounded -0.0
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (list, tuple, set, np.ndarray)):
        return ", ".join(cell_text(v) for v in (sorted(value) if isinstance(value, set) else value))
    if isinstance(value, dict):
        return "; ".join(f"{k}: {cell_text(v)}" for k, v in value.items())
    text = str(value).replace("\n", " ")
    text = re.sub(r"\b(True|False)\b", lambda m: _BOOL_WORDS[m.group(1)], text)
    return _MISSING_WORDS.sub("—", text)


#: Cells longer than this (characters) show their first words and fold the rest into a dropdown.
FOLD_CHARS = 160
#: Columns whose cells are verdicts (helpers.book.scorecard.VERDICTS), shown as coloured badges.
VERDICT_COLUMNS = ("verdict",)


def cell_html(value, column: str = "") -> str:
    """One table cell as HTML: cell_text escaped; a verdict column's cell starts with its coloured
    badge (helpers.book.badges.badge); a cell longer than FOLD_CHARS shows its first words and
    folds the rest into a dropdown."""
    text = cell_text(value)
    if str(column).lower() in VERDICT_COLUMNS:
        try:
            key = verdict_key(text)
        except ValueError:
            key = None
        if key is not None:
            rest = text[len(key):].lstrip(" :")
            return badge(text) + (f" {fold_html(rest)}" if rest else "")
    return fold_html(text)


def fold_html(text: str) -> str:
    """`text` escaped for HTML; longer than FOLD_CHARS: its first sentence or words, the rest in a
    dropdown ('more')."""
    if len(text) <= FOLD_CHARS:
        return html.escape(text)
    cut = text.rfind(" ", 0, FOLD_CHARS // 2)
    cut = cut if cut > 0 else FOLD_CHARS // 2
    return (f"{html.escape(text[:cut])} <details style=\"display:inline\"><summary>more</summary>"
            f"{html.escape(text[cut:])}</details>")


def plain_frame(df: pd.DataFrame) -> pd.DataFrame:
    """`df` with a MultiIndex header joined into one row and a named or non-default index turned
    into the first columns (a default integer index is dropped)."""
    if not isinstance(df, pd.DataFrame):
        raise ValueError(f"df: must be a pandas DataFrame, not {type(df).__name__}")
    if isinstance(df.columns, pd.MultiIndex):                 # pivot tables: one header row, levels joined
        df = df.set_axis([", ".join(str(x) for x in c if str(x)) for c in df.columns], axis=1)
    plain_index = isinstance(df.index, pd.RangeIndex) and df.index.name is None
    return df if plain_index else df.reset_index(names=[n if n is not None else "" for n in df.index.names])


def numeric_columns(frame: pd.DataFrame) -> list[bool]:
    """Whether each column is numeric (right-aligned), booleans not."""
    return [pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
            for c in frame.columns]


def frame_html(df: pd.DataFrame, fold_rows: int = FOLD_ROWS) -> str:
    """A DataFrame as an HTML table with readable cells (see cell_text); more than `fold_rows`
    rows: inside a dropdown saying how many."""
    frame = plain_frame(df)
    right = numeric_columns(frame)
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False, name=None):
        body.append("<tr>" + "".join(
            f'<td style="text-align:{"right" if r else "left"}">{cell_html(v, c)}</td>'
            for v, r, c in zip(row, right, frame.columns)) + "</tr>")
    table = (f'<div class="compendium-table" style="overflow-x:auto;max-width:100%">'
             f'<table class="table"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>')
    if len(frame) > fold_rows:
        return f"<details><summary>The full table ({len(frame)} rows)</summary>{table}</details>"
    return table


def register_display() -> bool:
    """Make IPython display DataFrames through frame_html (and as plain text elsewhere); False when
    not running under IPython."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    ip = get_ipython()
    if ip is None:
        return False
    ip.display_formatter.formatters["text/html"].for_type(pd.DataFrame, frame_html)
    return True
