"""Numbered figures and tables of the book, each with the line that says where its numbers come from.

A notebook hands a figure or a table to MyST-NB's `glue` under a key (`glue_figure`, `glue_table`);
its markdown cell pastes it with a ```{glue:figure}``` directive (figures) or a ```{table}```
directive around ```{glue:md}``` (tables), with a `name:` label that `{numref}` refers to, so that
Sphinx numbers them. Beside each, `source_line` states the profile it was computed at and the
cache entries (directories of data/cache) it was read from; it is glued under `<key>-source` and
pasted into the figure's legend or under the table. The pattern, for a figure:

    captions.glue_figure("fig-x", fig, captions.source_line(profile, captions.cache_entries(res)))

and in the markdown cell (four backticks around the nested three):

    ````{glue:figure} fig-x
    :name: fig-x

    What is shown, computed from what.

    ```{glue:md} fig-x-source
    ```
    ````

Glued objects are also displayed, so a reader of the notebook in Jupyter sees them; the cell that
glues them is tagged `remove-output`, so the book shows them once, numbered.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import pandas as pd
from IPython.display import Markdown, display

from . import tables
from ..store.paths import ROOT


tables.register_display()        # DataFrames a notebook displays show readable cells, no index

#: Characters escaped in table cells (GitHub-flavoured Markdown): a bare `|` would split the cell.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~#$])")


def cache_entries(*results) -> list[str]:
    """Names of the cache entries behind `results`: cached results (dicts carrying the cache's
    `kind`, `profile` and `key`) or dicts and lists holding them, at any depth; sorted, unique."""
    found: set[str] = set()

    def walk(o):
        if isinstance(o, dict):
            if isinstance(o.get("key"), str) and "kind" in o and "profile" in o:
                found.add(o["key"])
                return                    # a result holds no other entry's result
            for v in o.values():
                walk(v)
        elif isinstance(o, (list, tuple)):
            for v in o:
                walk(v)

    for r in results:
        walk(r)
    return sorted(found)


@contextlib.contextmanager
def recorded():
    """Context manager collecting the names of the cache entries read inside it (through
    helpers.store's read log; entries missing from the cache are not listed), for helpers that do
    not return their cached results. The reads
    still reach the notebook's own read log ($COMPENDIUM_READ_LOG), if one is set."""
    names: list[str] = []
    outer = os.environ.get("COMPENDIUM_READ_LOG")
    fd, path = tempfile.mkstemp(suffix=".jsonl")
    os.close(fd)
    os.environ["COMPENDIUM_READ_LOG"] = path
    try:
        yield names
    finally:
        if outer is None:
            os.environ.pop("COMPENDIUM_READ_LOG", None)
        else:
            os.environ["COMPENDIUM_READ_LOG"] = outer
        with open(path) as f:
            lines = [line for line in f if line.strip()]
        os.unlink(path)
        if outer is not None and lines:
            with open(outer, "a") as f:
                f.writelines(lines)
        # a miss is logged too (manifest None, for the re-execution logic): it is not a source
        names.extend(sorted({r["entry"] for r in map(json.loads, lines) if r.get("manifest")}))


def source_line(profile: str | None, entries=(), note: str = "") -> str:
    """Markdown line stating the profile (None: the result does not depend on one) and the cache
    entries a figure or table was computed from, or, without entries, that it is computed when the
    page runs; `note` adds what else it rests on (e.g. an experimental structure file)."""
    if profile is not None and not isinstance(profile, str):
        raise ValueError(f"profile={profile!r}: must be a profile name or None")
    parts = []
    if profile == "smoke":
        parts.append("Profile **smoke** (numbers not meaningful).")
    elif profile is not None:
        parts.append(f"Profile **{profile}**.")
    entries = sorted(set(entries))
    if entries:
        word = "entry" if len(entries) == 1 else "entries"
        parts.append(f"Read from the cache {word} (data/cache) " + ", ".join(f"`{e}`" for e in entries) + ".")
    else:
        parts.append("Computed when the page runs; no cache entry.")
    if note:
        parts.append(note.rstrip(".") + ".")
    return " ".join(parts)


def _cell(value) -> str:
    """One table cell as escaped Markdown text (helpers.book.tables.cell_text: NaN and None as an em
    dash, booleans as yes/no, lists joined)."""
    return _MD_SPECIAL.sub(r"\\\1", tables.cell_text(value))


def markdown_table(df: pd.DataFrame) -> str:
    """A DataFrame as a GitHub-flavoured Markdown table (what `{glue:md}` with `:format: gfm` pastes):
    a named or non-default index becomes the first columns, cells are escaped, NaN shows as —."""
    frame = tables.plain_frame(df)
    header = [_cell(c) if str(c) else " " for c in frame.columns]
    right = tables.numeric_columns(frame)
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if r else ":---" for r in right) + "|"]
    rich = [str(c).lower() in tables.VERDICT_COLUMNS for c in frame.columns]
    for row in frame.itertuples(index=False, name=None):
        lines.append("| " + " | ".join(_rich_cell(v, c) if r else _cell(v)
                                       for v, c, r in zip(row, frame.columns, rich)) + " |")
    return "\n".join(lines)


def _rich_cell(value, column) -> str:
    """A verdict cell as inline HTML (coloured badge, long text folded), safe inside a GFM table."""
    return tables.cell_html(value, column).replace("|", "&#124;").replace("\n", " ")


#: Tables with more rows than this are also written as CSV (book/_extra/tables/<key>.csv, published
#: with the book at tables/<key>.csv through html_extra_path) and linked under the table.
CSV_ROWS = 8
CSV_DIR = ROOT / "book" / "_extra" / "tables"


def write_csv(key: str, df: pd.DataFrame) -> str:
    """Write `df` (readable cells) to CSV_DIR/<key>.csv; returns the Markdown link to it."""
    CSV_DIR.mkdir(parents=True, exist_ok=True)
    frame = tables.plain_frame(df)
    frame.map(tables.cell_text).to_csv(CSV_DIR / f"{key}.csv", index=False)
    return f'<a href="../tables/{key}.csv" download>The table as CSV</a> ({len(frame)} rows).'


def provenance(source: str) -> str:
    """The source line as a small dropdown ('Source'), as pasted under a figure or table."""
    return f'<details class="provenance"><summary>Source</summary>\n\n{source}\n\n</details>'


def _glue(key: str, obj) -> None:
    """myst_nb.glue (displayed too), or a plain display where MyST-NB is not installed."""
    try:
        from myst_nb import glue
    except ImportError:                                     # a bare Jupyter: show it, nothing to paste
        display(obj)
        return
    glue(key, obj, display=True)


def _check_key(key: str) -> None:
    if not (isinstance(key, str) and re.fullmatch(r"(fig|tbl)-[a-z0-9][a-z0-9-]*", key)):
        raise ValueError(f"key={key!r}: must start with 'fig-' or 'tbl-' followed by lower-case "
                         f"letters, digits and hyphens (it is also the figure's or table's label)")


#: Resolution of glued figures (dots per inch); they are displayed at 100 CSS pixels per inch, so a
#: 7-inch figure is 700 pixels wide, the width of the page's text column, and sharp on HiDPI screens.
FIGURE_DPI = 200


def glue_figure(key: str, fig, source: str) -> None:
    """Glue a matplotlib figure as a PNG under `key` (whatever the matplotlib backend) and its
    source line under `key`-source; the figure is closed (so Jupyter does not show it twice)."""
    import io

    import matplotlib.pyplot as plt
    from IPython.display import Image
    _check_key(key)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=FIGURE_DPI, bbox_inches="tight")
    plt.close(fig)
    png = buf.getvalue()
    width_px = int.from_bytes(png[16:20], "big")          # PNG header: IHDR width
    # only the width is given, so a page narrower than the figure scales it without distorting it
    _glue(key, Image(data=png, format="png", width=width_px * 100 // FIGURE_DPI))
    _glue(f"{key}-source", Markdown(provenance(source)))


def glue_table(key: str, df: pd.DataFrame, source: str) -> None:
    """Glue a DataFrame as a Markdown table under `key` and its source line under `key`-source; a
    table of more than CSV_ROWS rows is also written as CSV, linked after the source line."""
    _check_key(key)
    _glue(key, Markdown(markdown_table(df)))
    csv = f"\n\n{write_csv(key, df)}" if len(df) > CSV_ROWS else ""
    _glue(f"{key}-source", Markdown(provenance(source) + csv))


def glue_markdown(key: str, text: str, source: str) -> None:
    """Glue Markdown `text` (e.g. a MyST table with {doc} links, pasted with `:format: myst`) under
    `key` and its source line under `key`-source."""
    _check_key(key)
    _glue(key, Markdown(text))
    _glue(f"{key}-source", Markdown(provenance(source)))


def glue_missing(key: str, reason: str) -> None:
    """Glue a stand-in for a figure or table the page does not produce with its parameters (the
    markdown cell that pastes it must still find it): one cell saying `reason`."""
    _check_key(key)
    _glue(key, Markdown(markdown_table(pd.DataFrame({"not shown": [reason]}))))
    _glue(f"{key}-source", Markdown(f"Not computed: {reason}."))
