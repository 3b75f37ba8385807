"""The scorecard's bookkeeping: verdict labels are checked, the tally counts what it is given, and
the source note names every cache entry of every group of rows."""
import pandas as pd
import pytest

from helpers import scorecard


def test_verdict_rejects_an_unknown_label():
    assert scorecard.verdict(False) == "not reproduced"
    assert scorecard.verdict("consistency check: holds").startswith("consistency")
    with pytest.raises(ValueError, match="must start with one of"):
        scorecard.verdict("agrees nicely")


def test_tally_counts_each_verdict():
    card = pd.DataFrame({"verdict": ["reproduced", "not reproduced", "not reproduced", "undetermined"]})
    parts = scorecard.tally(card).rstrip(".").split(", ")
    assert parts[0] == "**2** not reproduced"                      # the largest count first
    assert sorted(parts[1:]) == ["**1** reproduced", "**1** undetermined"]


def test_source_note_names_every_entry_once_per_group():
    note = scorecard.source_note("paper", {"A rows": ["x-1", "x-2", "x-1"], "B rows": []})
    assert "*A rows* (2 entries): `x-1`, `x-2`." in note
    assert "*B rows* (0 entries): none read" in note
    with pytest.raises(ValueError, match="reads"):
        scorecard.source_note("paper", {})
