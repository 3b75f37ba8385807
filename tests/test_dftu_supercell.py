"""helpers.rungs.afo.dftu.supercell: targets of longer-period patterns, the order of the repeated atoms, the state
read from natural orbitals, and the verdict, on made-up steps."""
import numpy as np
import pytest
from ase import Atoms

from helpers.rungs.afo.dftu import plans as afo_dftu_plans
from helpers.rungs.afo.dftu import supercell as afo_dftu_supercell

Q, _ = np.linalg.qr(np.random.default_rng(5).normal(size=(5, 5)))   # columns a, b, c, ...


def _layer():
    return Atoms("W2Te4", positions=[[0, 0, 9], [1.7, 3.6, 9.4], [1.7, 1.1, 10.8], [0, 4.2, 11.4],
                                     [0, 2.0, 7.8], [1.7, 5.2, 7.2]],
                 cell=[3.49, 6.31, 18.7], pbc=[True, True, False])


def _site(filled):
    n = 0.8 * np.eye(5) + 0.8 * np.outer(filled, filled)
    return (0.5 * n).tolist(), (0.5 * n).tolist()


def _flat():
    n = Q @ np.diag([1.16, 1.05, 0.85, 0.76, 0.52]) @ Q.T
    return (0.5 * n).tolist(), (0.5 * n).tolist()


def _job(name, sites, E, lams=(0.0,), constrained=None):
    occ = {str(a): s for a, s in zip([0, 1, 6, 7], sites)}
    steps = [{"U_eV": 3.0, "lambda_eV": l, "energy_eV": E if l == 0 else constrained, "bias_energy_eV": 0.0,
              "converged": True, "occupations": occ, "dipole_eA": [0, 0, 0.0]} for l in lams]
    return {"state": name, "cell": [2, 1, 1], "result": {"steps": steps}}


def test_the_repeated_layer_puts_each_copy_after_the_other_along_a():
    big, metals = afo_dftu_supercell.supercell(_layer(), [2, 1, 1])
    assert metals == [0, 1, 6, 7]
    assert np.allclose(big.positions[6:8] - big.positions[0:2], [3.49, 0, 0])


def test_a_longer_period_pattern_biases_each_sub_cell_toward_its_own_orbitals():
    t = afo_dftu_supercell.pattern_targets("b2b2|c2c2", Q, [0, 1, 6, 7], [2, 1, 1])
    assert sorted(t) == [0, 1, 6, 7]
    for a, letter in zip([0, 1, 6, 7], "bbcc"):
        assert np.allclose(t[a]["both"][0], Q[:, "abc".index(letter)])
        assert np.allclose(t[a]["subspace"], Q[:, :3].T)
    plain = afo_dftu_supercell.pattern_targets("b2c2", Q, [0, 1, 6, 7], [2, 1, 1])
    assert np.allclose(plain[6]["both"][0], Q[:, 1]) and np.allclose(plain[7]["both"][0], Q[:, 2])


@pytest.mark.parametrize("pattern, cell, match", [("b2b2|c2c2|b2c2", [2, 1, 1], "pattern"), ("b2x2", [2, 1, 1], "pattern"),
                                                  ("b2c2", [2, 0, 1], "cell"), ("b2c2", [2.5, 1, 1], "cell")])
def test_bad_patterns_and_cells_are_refused_by_name(pattern, cell, match):
    with pytest.raises(ValueError, match=match):
        afo_dftu_supercell.pattern_targets(pattern, Q, [0, 1, 6, 7], cell)


def test_the_state_is_read_per_W_from_its_filled_orbital_not_from_the_start():
    b, c = Q[:, 1], Q[:, 2]
    st = _job("b2c2|c2b2", [_site(b), _site(b), _site(c), _site(c)], -1.0)["result"]["steps"][0]
    assert afo_dftu_supercell.read_pattern(st, [0, 1, 6, 7], Q, 2)[0] == "b2b2|c2c2"
    st = _job("b2c2|c2b2", [_flat()] * 4, -1.0)["result"]["steps"][0]
    assert afo_dftu_supercell.read_pattern(st, [0, 1, 6, 7], Q, 2)[0] == "unpolarized"
    st = _job("b2c2|c2b2", [_site(b), _flat(), _flat(), _site(c)], -1.0)["result"]["steps"][0]
    assert afo_dftu_supercell.read_pattern(st, [0, 1, 6, 7], Q, 2)[0] == f"b2{afo_dftu_supercell.UNPOLARIZED}2|{afo_dftu_supercell.UNPOLARIZED}2c2"


def test_the_verdict_waits_for_every_start_and_counts_a_fall_back_only_after_a_controlled_release():
    b, c = Q[:, 1], Q[:, 2]
    starts = ["unbiased", "b2b2|c2c2", "b2c2|c2b2"]
    ref = _job("unbiased", [_flat()] * 4, -40.0)
    ordered = _job("b2b2|c2c2", [_site(b), _site(b), _site(c), _site(c)], -40.6, lams=(1.0, 0.1, 0.0), constrained=-39.0)
    rows = afo_dftu_supercell.state_rows([ref, ordered], [0, 1, 6, 7], Q)
    by = {r["start"]: r for r in rows}
    assert by["b2b2|c2c2"]["ΔE (meV/f.u.)"] == pytest.approx(-150)
    assert by["b2b2|c2c2"]["ΔE constrained, full bias (meV/f.u.)"] == pytest.approx(250)
    assert afo_dftu_supercell.verdict(rows, 100.0, starts)["outcome"] == "found"
    fell = _job("b2b2|c2c2", [_flat()] * 4, -40.0, lams=(1.0, 0.1, 0.0), constrained=-39.0)
    assert afo_dftu_supercell.verdict(afo_dftu_supercell.state_rows([ref, fell], [0, 1, 6, 7], Q), 100.0, starts)["outcome"] == "undetermined"
    other = _job("b2c2|c2b2", [_flat()] * 4, -40.0, lams=(1.0, 0.1, 0.0), constrained=-39.0)
    assert afo_dftu_supercell.verdict(afo_dftu_supercell.state_rows([ref, fell, other], [0, 1, 6, 7], Q), 100.0, starts)["outcome"] == "none found"
    jump = _job("b2c2|c2b2", [_flat()] * 4, -40.0, lams=(1.0, 0.0), constrained=-39.0)
    assert afo_dftu_supercell.verdict(afo_dftu_supercell.state_rows([ref, fell, jump], [0, 1, 6, 7], Q), 100.0, starts)["outcome"] == "undetermined"


def test_the_cell_check_compares_energies_per_formula_unit():
    rows = afo_dftu_supercell.state_rows([_job("unbiased", [_flat()] * 4, -40.004)], [0, 1, 6, 7], Q)
    prim = [{"start": "unbiased", "spin": "restricted", "converged": True, "U (eV)": 3.0, "E_eV": -20.0,
             "numerics": afo_dftu_plans.PROFILE_NUMERICS}]
    assert afo_dftu_supercell.cell_check(rows, prim) == pytest.approx(-1.0)
    assert afo_dftu_supercell.cell_check(rows, []) is None


def test_profiles_plan_the_doubled_cell_only_at_paper():
    assert afo_dftu_supercell.jobs("smoke", Q, [0, 1, 6, 7]) == []
    j = afo_dftu_supercell.jobs("paper", Q, [0, 1, 6, 7])
    assert [x["state"] for x in j][0] == "unbiased" and j[0]["targets"] is None
    assert all(x["release"][-1] == 0.0 for x in j)


def test_findings_state_the_verdict_what_each_start_ends_in_and_what_is_missing():
    b, c = Q[:, 1], Q[:, 2]
    rows = afo_dftu_supercell.state_rows([_job("unbiased", [_flat()] * 4, -40.0),
                                          _job("b2b2|c2c2", [_flat()] * 4, -40.0, lams=(1.0, 0.1, 0.0), constrained=-39.0)], [0, 1, 6, 7], Q)
    page = {"planned": True, "cell": [2, 1, 1], "U_eV": 3.0, "rows": rows, "missing": ["b2c2|c2b2"],
            "verdict": afo_dftu_supercell.verdict(rows, 100.0, ["unbiased", "b2b2|c2c2", "b2c2|c2b2"]), "cell check (meV/f.u.)": 0.4}
    text = afo_dftu_supercell.findings(page)
    assert "by the paper's gain: undetermined" in text and "$U_\\mathrm{eff}$ = 3 eV" in text
    assert "Start b2b2|c2c2: ends in unpolarized (+0 meV/f.u.; with the bias at full strength +250)" in text
    assert "+0.40 meV/f.u." in text and "not yet computed: b2c2|c2b2" in text
    assert "the primitive cell's state repeated" in text and "longer period" not in text
    assert afo_dftu_supercell.findings({"planned": False}) == "No supercell is computed at this profile."
    # the same bias in the primitive cell, from its rows of the annealed protocol that starts at this U_eff
    from helpers.rungs.afo.dftu import plans as afo_dftu_plans
    proto = afo_dftu_plans.annealed_protocol(3.0, True, "b2b2")
    prim = [{"protocol": proto, "U (eV)": 3.0, "reading": afo_dftu_plans.MAIN_READING, "spin": "restricted", "start": st,
             "ΔE constrained, full bias (meV/f.u.)": e} for st, e in (("b2b2", 895.0), ("b2c2", 1124.0), ("a2a2", 458.0))]
    prim.append(dict(prim[0], protocol=afo_dftu_plans.annealed_protocol(3.0, False, "b2b2"), **{"ΔE constrained, full bias (meV/f.u.)": 1.0}))
    prim.append(dict(prim[0], **{"U (eV)": 6.0, "ΔE constrained, full bias (meV/f.u.)": 2.0}))
    assert afo_dftu_supercell.primitive_full_bias(prim, 3.0) == {"b2b2": 895.0, "b2c2": 1124.0}
    page["primitive, full bias (meV/f.u.)"] = afo_dftu_supercell.primitive_full_bias(prim, 3.0)
    assert "biased the same way at the same $U_\\mathrm{eff}$, at full strength: b2b2 +895, b2c2 +1124 meV/f.u." in afo_dftu_supercell.findings(page)
    # an unbiased state whose W differ is a modulation the primitive cell cannot hold, and is named so
    page["rows"] = afo_dftu_supercell.state_rows([_job("unbiased", [_site(b), _flat(), _flat(), _flat()], -40.0)], [0, 1, 6, 7], Q)
    text = afo_dftu_supercell.findings(page)
    assert "a modulation of longer period than the primitive cell" in text and "state repeated" not in text


def test_a_stalled_unbiased_scf_is_not_the_supercells_reference():
    ref = _job("unbiased", [_flat()] * 4, -40.0)
    ref["result"]["steps"][-1]["converged"] = False
    other = _job("b2c2|c2b2", [_flat()] * 4, -40.1, lams=(1.0, 0.1, 0.0), constrained=-39.0)
    rows = afo_dftu_supercell.state_rows([ref, other], [0, 1, 6, 7], Q)
    assert all(np.isnan(r["ΔE (meV/f.u.)"]) for r in rows)


def test_a_start_counts_once_one_of_its_releases_is_controlled(monkeypatch):
    """The second release (finer steps, its own mixer) runs the same starts again under their own name and
    cache entry; a start whose first release stalled is decided by a second one that is controlled, and
    stays undetermined while neither is."""
    plan = {"cell": [2, 1, 1], "U_eV": 3.0, "release": [1.0, 0.0], "maxiter": [10, 10], "starts": ["unbiased", "b2b2|c2c2"],
            "second_release": {"label": "finer", "release": [1.0, 0.5, 0.0], "maxiter": [20, 20],
                               "mixer": {"backend": "msr1"}, "starts": ["b2b2|c2c2"]}}
    monkeypatch.setitem(afo_dftu_supercell.SETTINGS, "test", plan)
    js = afo_dftu_supercell.jobs("test", Q, [0, 1, 6, 7])
    assert [(j["name"], j["schedule"], j["release"]) for j in js] == [
        ("unbiased", "", [1.0, 0.0]), ("b2b2|c2c2", "", [1.0, 0.0]), ("b2b2|c2c2, finer", "finer", [1.0, 0.5, 0.0])]
    assert js[2]["mixer"] == {"backend": "msr1"} and js[1]["mixer"] is None
    monkeypatch.setitem(afo_dftu_supercell.SETTINGS, "test", dict(plan, second_release=dict(plan["second_release"], starts=["c2c2"])))
    with pytest.raises(ValueError, match="second release"):
        afo_dftu_supercell.jobs("test", Q, [0, 1, 6, 7])
    stalled = _job("b2b2|c2c2", [_flat()] * 4, -40.0, lams=(1.0, 0.25, 0.0), constrained=-39.0)
    stalled["result"]["steps"][1]["converged"] = False
    finer = dict(_job("b2b2|c2c2", [_flat()] * 4, -40.0, lams=(1.0, 0.1, 0.0), constrained=-39.0), schedule="finer")
    ref = _job("unbiased", [_flat()] * 4, -40.0)
    first = afo_dftu_supercell.state_rows([ref, stalled], [0, 1, 6, 7], Q)
    v = afo_dftu_supercell.verdict(first, 100.0, ["unbiased", "b2b2|c2c2"])
    assert v["outcome"] == "undetermined" and "no release controlled for b2b2|c2c2" in v["evidence"]
    both = afo_dftu_supercell.state_rows([ref, stalled, finer], [0, 1, 6, 7], Q)
    assert [r["release"] for r in both] == ["profile's", "profile's", "finer"]
    assert afo_dftu_supercell.verdict(both, 100.0, ["unbiased", "b2b2|c2c2"])["outcome"] == "none found"
    # a controlled release whose last step ended unconverged and still ordered settles nothing
    b, c = Q[:, 1], Q[:, 2]
    open_end = dict(_job("b2b2|c2c2", [_site(b), _site(b), _site(c), _site(c)], -40.0, lams=(1.0, 0.1, 0.0),
                         constrained=-39.0), schedule="finer")
    open_end["result"]["steps"][-1]["converged"] = False
    rows = afo_dftu_supercell.state_rows([ref, stalled, open_end], [0, 1, 6, 7], Q)
    assert afo_dftu_supercell.verdict(rows, 100.0, ["unbiased", "b2b2|c2c2"])["outcome"] == "undetermined"
