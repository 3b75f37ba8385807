"""Published numbers to compare against, read from data/reference/paper_values.json.

These values are never results of this compendium; notebooks show them beside our own.
"""
from __future__ import annotations

import json
from functools import lru_cache

from .paths import REFERENCE


def paper_gain_meV() -> float:
    """The paper's orbital-polarization gain (meV per formula unit), the threshold of claim (i),
    from data/reference/paper_values.json."""
    return float(get("orbital_polarization_gain_meV_per_fu")["value"])


@lru_cache(maxsize=1)
def values() -> dict:
    """The whole reference-data file (with a `sources` table of citations)."""
    return json.loads((REFERENCE / "paper_values.json").read_text())


def get(name: str) -> dict:
    """One reference entry, with its full citation added under `citation`."""
    data = values()
    if name not in data or name.startswith("_") or name == "sources":
        raise KeyError(f"no reference value {name!r}; available: "
                       f"{sorted(k for k in data if not k.startswith('_') and k != 'sources')}")
    entry = dict(data[name])
    entry["citation"] = data["sources"][entry["source"]]
    return entry
