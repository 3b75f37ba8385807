"""Formulas of the findings typeset for HTML (subscripts, Greek letters, units)."""
from __future__ import annotations

import re


#: Chemical formulas, d counts and ionic charges written plainly in the scorecard's text, and their
#: typeset HTML (sub- and superscripts).
_FORMULA = re.compile(r"\b(WTe|MoTe|ReSe|MoS)(\d)\b|\bW(\d)\+|\bd(\d)\b|\bt2g(\d)?\b|\b([tpU])_(intra|inter|z|b|c|eff)\b")


def formulas_html(text: str) -> str:
    """`text` (Markdown or HTML) with formulas typeset in HTML: WTe2 -> WTe<sub>2</sub>,
    W4+ -> W<sup>4+</sup>, d2 -> d<sup>2</sup>, t2g3 -> t<sub>2g</sub><sup>3</sup>, t_intra ->
    t<sub>intra</sub>, p_z -> p<sub>z</sub>, U_eff -> U<sub>eff</sub>; the names of
    distortion measures as a reader writes them (helpers.dft.geometry.pretty_measure)."""
    def sub(m):
        if m.group(1):
            return f"{m.group(1)}<sub>{m.group(2)}</sub>"
        if m.group(3):
            return f"W<sup>{m.group(3)}+</sup>"
        if m.group(4):
            return f"d<sup>{m.group(4)}</sup>"
        if m.group(6):
            return f"{m.group(6)}<sub>{m.group(7)}</sub>"
        return "t<sub>2g</sub>" + (f"<sup>{m.group(5)}</sup>" if m.group(5) else "")
    return _FORMULA.sub(sub, text)
