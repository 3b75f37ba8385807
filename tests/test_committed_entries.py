"""Every committed result is found by the code as it is now: its folder name is the key the store computes
from its recorded inputs, its files verify against its manifest, and it loads."""
import json

import pytest

from helpers.store import cache, keys, manifest, paths

ENTRIES = sorted(p for p in (paths.DATA / "cache").iterdir() if p.is_dir())


def test_there_are_committed_entries():
    assert len(ENTRIES) > 100


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda p: p.name)
def test_committed_entry_keeps_its_key_and_loads(entry, monkeypatch):
    monkeypatch.setenv("COMPENDIUM_CACHE", str(entry.parent))
    inputs = json.loads((entry / "inputs.json").read_text())
    kind_profile, key = entry.name.rsplit("-", 1)
    assert keys.key(inputs) == key, f"{entry.name}: its inputs now hash to {keys.key(inputs)}"
    assert manifest.problems(entry) == []
    assert isinstance(cache.load(entry.name), dict)
