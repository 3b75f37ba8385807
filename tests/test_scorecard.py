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


def test_dipole_ratio_is_undetermined_when_a_dipole_changes_sign_between_windows():
    from helpers.orbitals import analysis as an
    ref = {"orbital_1": 0.188, "orbital_2": 0.085}
    def rows(pbs):
        return [{"reading": "energy order", "layer": "L", "e_low (eV)": e, "p_z b (e·Å)": pb, "p_z c (e·Å)": 0.19,
                 "b, c opposite": pb * 0.19 < 0} for e, pb in pbs]
    norm = {"b": {"x (μC/cm²)": 1.0}, "c": {"x (μC/cm²)": 2.0}}
    ratio = lambda d: next(r for r in an.fe_verdicts(d, norm, [], ref, 26, "energy order") if r["claim"] == an.FE_CLAIMS["ratio"])
    # |0.19/0.085| and |0.19/0.09| are within a factor 2 of 0.188/0.085 in both windows
    assert ratio(rows([(-2.0, 0.085), (-1.5, 0.09)]))["verdict"] == "reproduced"
    flipped = ratio(rows([(-2.0, 0.085), (-1.5, -0.09)]))
    assert flipped["verdict"] == "undetermined" and "changes sign" in flipped["range"]
