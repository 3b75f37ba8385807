"""Verdict colours and badges, and energies typeset with their units."""
from __future__ import annotations

import html

from ..dft.geometry import pretty_measure
from ..rungs.typeset import formulas_html


def format_energy(e_eV: float) -> str:
    """An energy for a label: '3.0 eV' from 1 eV up, '648 meV' from 0.1 eV, else two digits in meV."""
    if e_eV >= 1:
        return f"{e_eV:.1f} eV" if e_eV < 10 else f"{e_eV:.0f} eV"
    return f"{1000 * e_eV:.0f} meV" if e_eV >= 0.1 else f"{1000 * e_eV:.2g} meV"


#: Badge colours (background, text) by the start of a verdict.
COLOURS = {"reproduced": ("#1a7f37", "#ffffff"), "closer to experiment": ("#1a7f37", "#ffffff"),
           "not reproduced": ("#cf222e", "#ffffff"),
           "undetermined": ("#bf8700", "#ffffff"), "not computed here": ("#6e7781", "#ffffff"),
           "consistency check": ("#dde3ea", "#24292f"), "calibration": ("#dde3ea", "#24292f"),
           "beyond the paper": ("#dde3ea", "#24292f")}


def typeset(text: str) -> str:
    """Plain `text` escaped for HTML, with formulas and measure names typeset (formulas_html)."""
    return formulas_html(html.escape(pretty_measure(text), quote=False))


def verdict_key(verdict: str) -> str:
    """The key of COLOURS a verdict starts with ('not reproduced' before 'reproduced')."""
    for k in sorted(COLOURS, key=len, reverse=True):
        if verdict.startswith(k):
            return k
    raise ValueError(f"verdict {verdict!r}: must start with one of {list(COLOURS)}")


def badge(verdict: str, link: str | None = None, text: str | None = None) -> str:
    """An HTML badge coloured by the verdict, reading `text` (default: the verdict's key), linked to `link`."""
    bg, fg = COLOURS[verdict_key(verdict)]
    label = html.escape(text if text is not None else verdict_key(verdict))
    style = (f"display:inline-block;padding:0.05em 0.55em;border-radius:0.9em;background:{bg};color:{fg};"
             f"font-size:0.85em;font-weight:600;white-space:nowrap;text-decoration:none")
    tag = f'<span class="verdict-badge" style="{style}">{label}</span>'
    return f'<a href="{html.escape(link)}" title="{html.escape(verdict)}" style="text-decoration:none">{tag}</a>' if link else tag
