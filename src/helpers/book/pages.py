"""The book's page addresses: each notebook's executed copy (build/executed/<stem>.ipynb) is
published under a short name, through a link in book/ (`book/valence.ipynb` ->
../build/executed/01_valence.ipynb), so that the page lives at /book/valence.html, beside the book's
other pages (methods, references); the repository's top level keeps its fixed layout.
"""
from __future__ import annotations

#: The folder of the book's pages (Sphinx docnames book/<name>; addresses /book/<name>.html).
DOC_DIR = "book"
#: notebook stem -> page name (the page is book/<name>.html).
PAGES = {"00_intro": "intro", "01_valence": "valence", "02_afe_lattice": "lattice",
         "03_afo_order": "orbitals", "04_fe_dipole": "dipole", "05_generalization": "generalization",
         "06_transition": "transition", "07_scorecard": "scorecard"}


def page_name(stem: str) -> str:
    """The short page name of notebook `stem` (e.g. '01_valence' -> 'valence')."""
    if stem not in PAGES:
        raise ValueError(f"stem={stem!r}: must be one of {list(PAGES)}")
    return PAGES[stem]


def docname(stem: str) -> str:
    """The Sphinx docname of notebook `stem`'s page (e.g. '01_valence' -> 'book/valence'), as in _toc.yml."""
    return f"{DOC_DIR}/{page_name(stem)}"


def href(stem: str, anchor: str = "") -> str:
    """Relative address of a page from another page of the book (all in DOC_DIR), with an optional #anchor."""
    return f"{page_name(stem)}.html" + (f"#{anchor}" if anchor else "")


#: Pages of the book outside the notebooks (Sphinx docnames book/<name>).
OTHER_PAGES = ("methods", "references")
#: Short addresses at the site's root (/<name>.html) that forward to the pages: files of book/_extra,
#: which Sphinx copies to the root of the site (html_extra_path).
EXTRA_DIR = "book/_extra"


def redirect_stub(name: str) -> str:
    """The HTML of /<name>.html, forwarding a reader (and a search engine, rel=canonical) to the page
    book/<name>.html."""
    target = f"{DOC_DIR}/{name}.html"
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">\n'
            f'<meta http-equiv="refresh" content="0; url={target}">\n<link rel="canonical" href="{target}">\n'
            f'<title>{name}</title></head>\n<body><p>This page is at <a href="{target}">{target}</a>.</p></body></html>\n')


def redirect_names() -> list:
    """Every page that gets a short address: the notebook pages and the other pages of the book."""
    return list(PAGES.values()) + list(OTHER_PAGES)
