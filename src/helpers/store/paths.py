"""Where the compendium keeps its data: structures, reference values, cached results."""

import os
from pathlib import Path


ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "data"
STRUCTURES = DATA / "structures"
REFERENCE = DATA / "reference"


def cache_dir() -> Path:
    """Directory of the result cache: $COMPENDIUM_CACHE, else data/cache in the repository."""
    return Path(os.environ.get("COMPENDIUM_CACHE", DATA / "cache"))
