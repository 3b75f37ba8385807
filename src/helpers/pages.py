"""The book's page addresses: each notebook's executed copy (build/executed/<stem>.ipynb) is
published under a short name, through a link in the repository root (`valence.ipynb` ->
build/executed/01_valence.ipynb), so that the page lives at /valence.html."""
from __future__ import annotations

#: notebook stem -> page name (the page is <name>.html at the top of the book).
PAGES = {"00_intro": "intro", "01_valence": "valence", "02_afe_lattice": "lattice",
         "03_afo_order": "orbitals", "04_fe_dipole": "dipole", "05_generalization": "generalization",
         "06_scorecard": "scorecard"}


def page_name(stem: str) -> str:
    """The short page name of notebook `stem` (e.g. '01_valence' -> 'valence')."""
    if stem not in PAGES:
        raise ValueError(f"stem={stem!r}: must be one of {list(PAGES)}")
    return PAGES[stem]


def href(stem: str, anchor: str = "") -> str:
    """Relative address of a page from another page of the book, with an optional #anchor."""
    return f"{page_name(stem)}.html" + (f"#{anchor}" if anchor else "")
