"""helpers.rungs.afo.dftu: targets, identification of the final states, and the verdict logic, on made-up steps."""
import numpy as np
import pytest

from helpers.dft import branch_steps
from helpers.rungs.afo.dftu import figures as afo_dftu_figures
from helpers.rungs.afo.dftu import findings as afo_dftu_findings
from helpers.rungs.afo.dftu import page as afo_dftu_page
from helpers.rungs.afo.dftu import plans as afo_dftu_plans
from helpers.rungs.afo.dftu import readings as afo_dftu_readings
from helpers.rungs.afo.dftu import states as afo_dftu_states
from helpers.rungs.afo.dftu import verdicts as afo_dftu_verdicts

Q, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(5, 5)))   # columns a, b, c, ...


def _site(filled, extra=0.0):
    """Projector-like occupations of one W (both spins): `filled` orbital 1.6, the rest 0.8 +- extra."""
    n = 0.8 * np.eye(5) + (1.6 - 0.8) * np.outer(filled, filled)
    return (0.5 * n).tolist(), (0.5 * n).tolist()


def _flat():
    n = Q @ np.diag([1.16, 1.05, 0.85, 0.76, 0.52]) @ Q.T
    return (0.5 * n).tolist(), (0.5 * n).tolist()


def _result(w1, w2, E, pz=0.0):
    return {"steps": [{"U_eV": 3.0, "lambda_eV": 0.0, "energy_eV": E, "converged": True,
                       "occupations": {"0": list(w1), "1": list(w2)}, "dipole_eA": [0, 0, pz]}]}


def _jobs(spec):
    return [{"spin": "restricted", "U_eV": 3.0, "reading": "energy order", "state": name, "result": r}
            for name, r in spec.items()]


def test_states_are_read_from_natural_orbitals():
    b, c = Q[:, 1], Q[:, 2]
    rot1, rot2 = (b + c) / 2**0.5, (b - c) / 2**0.5       # AFO of rotated orbitals: equal b, c diagonals
    rows = afo_dftu_states.state_table(_jobs({"unbiased": _result(_flat(), _flat(), -10.0),
                                              "b2c2": _result(_site(rot1), _site(rot2), -10.3, 0.01),
                                              "b2b2": _result(_site(b), _site(b), -10.1)}), [0, 1], Q, n_fu=2)
    kinds = {r["start"]: r["state"] for r in rows}
    assert kinds == {"unbiased": "unpolarized", "b2c2": "AFO", "b2b2": "FO"}
    by = {r["start"]: r for r in rows}
    assert by["b2c2"]["ΔE (meV/f.u.)"] == pytest.approx(-150)
    assert by["b2c2"]["W1 filled (a, b, c)"] == "0.00, 0.50, 0.50"
    # the dipole in each normalization the page asks for, one column each, proportional to p_z
    norm = lambda p: {"per f.u. volume (μC/cm²)": 20.0 * p, "per area per W, 2D (pC/m)": 100.0 * p}   # noqa: E731
    row = next(r for r in afo_dftu_states.state_table(_jobs({"b2c2": _result(_site(rot1), _site(rot2), -10.3, 0.01)}), [0, 1], Q, 2, norm))
    assert row["p_z per f.u. volume (μC/cm²)"] == pytest.approx(20 * row["p_z (e·Å)"]) != 0
    assert row["p_z per area per W, 2D (pC/m)"] == pytest.approx(100 * row["p_z (e·Å)"])


def test_verdicts_wait_for_the_states_that_decide():
    b, c = Q[:, 1], Q[:, 2]
    only_afo = afo_dftu_states.state_table(_jobs({"unbiased": _result(_flat(), _flat(), -10.0),
                                                  "b2c2": _result(_site(b), _site(c), -10.3)}), [0, 1], Q, 2)
    v = {x["claim"]: x["outcome"] for x in afo_dftu_verdicts.verdicts(only_afo, 100.0)}
    assert v == {"polarization gain": "reproduced", "AFO lowest": "undetermined"}
    every = {"unbiased": _result(_flat(), _flat(), -10.0), "b2c2": _result(_site(b), _site(c), -10.1),
             "c2b2": _result(_site(c), _site(b), -10.1), "b2b2": _result(_site(b), _site(b), -10.4),
             "c2c2": _released(_flat(), _flat(), -10.0)}     # c2c2 fell back after a controlled release
    v = {x["claim"]: x for x in afo_dftu_verdicts.verdicts(afo_dftu_states.state_table(_jobs(every), [0, 1], Q, 2), 100.0)}
    assert v["AFO lowest"]["outcome"] == "not reproduced" and "FO from b2b2" in v["AFO lowest"]["evidence"]
    assert v["polarization gain"]["outcome"] == "reproduced"
    assert "fell back to the unpolarized state: c2c2" in v["AFO lowest"]["evidence"]
    # a start that ended unconverged and still ordered: its state is unknown, so neither claim is decided by the rest
    open_ = dict(every, c2c2=dict(_result(_site(c), _site(c), -10.2)))
    open_["c2c2"]["steps"][-1]["converged"] = False
    v = {x["claim"]: x for x in afo_dftu_verdicts.verdicts(afo_dftu_states.state_table(_jobs(open_), [0, 1], Q, 2), 100.0)}
    assert v["AFO lowest"]["outcome"] == "undetermined" and "ended unconverged and still ordered: c2c2" in v["AFO lowest"]["evidence"]
    # nothing is reproduced against a reference that did not converge
    noref = dict(every, unbiased=_result(_flat(), _flat(), -10.0))
    noref["unbiased"]["steps"][-1]["converged"] = False
    noref["c2c2"] = _released(_site(c), _site(c), -10.2)
    v = {x["claim"]: x for x in afo_dftu_verdicts.verdicts(afo_dftu_states.state_table(_jobs(noref), [0, 1], Q, 2), 100.0)}
    assert v["polarization gain"]["outcome"] == "undetermined"
    assert "no converged reference that fills neither b nor c" in v["polarization gain"]["evidence"]


def test_afo_lowest_needs_both_kinds_and_a_reading_whose_reference_fills_b_and_c_has_no_gain():
    """'AFO lowest' ranks FO against AFO: with every decisive start computed but only AFO surviving it
    is undetermined, not reproduced. In a reading whose unpolarized reference already fills b and c (a
    start of that reading fell back into it), the gain has no a^2 state to be measured from; there the
    mirror image c2c2 of b2b2 need not be computed."""
    b, c = Q[:, 1], Q[:, 2]
    fell = _released(_flat(), _flat(), -10.0)
    only_afo = {"unbiased": _result(_flat(), _flat(), -10.0), "b2c2": _result(_site(b), _site(c), -10.3),
                "b2b2": fell, "c2c2": fell}
    v = {x["claim"]: x for x in afo_dftu_verdicts.verdicts(afo_dftu_states.state_table(_jobs(only_afo), [0, 1], Q, 2), 100.0)}
    assert v["AFO lowest"]["outcome"] == "undetermined" and "only AFO states of b or c survive" in v["AFO lowest"]["evidence"]
    assert v["polarization gain"]["outcome"] == "reproduced"
    # another reading, in which the reference's filled orbital (Q's a) is an equal mix of b' and c'
    P = Q.copy()
    P[:, 0], P[:, 1], P[:, 2] = Q[:, 1], (Q[:, 2] - Q[:, 0]) / 2**0.5, (Q[:, 2] + Q[:, 0]) / 2**0.5
    ref = _flat()
    local = [{"spin": "restricted", "U_eV": 3.0, "reading": "energy order", "state": "unbiased", "protocol": "p",
              "result": _result(ref, ref, -10.0)}]
    local += [{"spin": "restricted", "U_eV": 3.0, "reading": "local octahedral frame", "orbitals": P, "state": st,
               "protocol": "p", "result": _released(ref, ref, -10.0)} for st in ("b2c2", "b2b2")]
    rows = afo_dftu_states.state_table(local, [0, 1], Q, 2)
    assert all(r["= unbiased state"] for r in rows if r["start"] != "unbiased")
    assert min(r["b + c in filled orbitals"] for r in rows if r["reading"] != "energy order") > 0.9
    v = {x["claim"]: x for x in afo_dftu_verdicts.verdicts(rows, 100.0)}
    assert v["polarization gain"]["outcome"] == "undetermined" and "no a² state" in v["polarization gain"]["evidence"]
    assert "no ordered state of b or c survives the release" in v["AFO lowest"]["evidence"]     # b2c2 and b2b2 suffice here


def test_a_protocol_in_a_rotated_frame_ranks_against_the_reference_read_in_that_frame():
    """The a^2 FO of the main reading is, in a frame where a = (c' - b')/sqrt(2), an FO of that frame's b' and c':
    a protocol in that frame ranks its AFO against it (reference_rereads). A main-reading protocol does not count
    the re-read state as polarized, and the page's rows show each state once."""
    P = Q.copy()
    P[:, 0], P[:, 1], P[:, 2] = Q[:, 1], (Q[:, 2] - Q[:, 0]) / 2**0.5, (Q[:, 2] + Q[:, 0]) / 2**0.5
    a2 = (_site(Q[:, 0]), _site(Q[:, 0]))
    fell = _released(*a2, -10.0)
    rec = lambda st, r, proto, reading="energy order", O=None: {   # noqa: E731
        "spin": "restricted", "U_eV": 3.0, "reading": reading, "orbitals": O, "state": st, "protocol": proto, "result": r}
    records = [rec("unbiased", _result(*a2, -10.0), "q")]
    records += [rec(st, fell, "q, bias") for st in ("b2c2", "b2b2", "c2c2")]
    records += [rec("b2c2", _released(_site(P[:, 1]), _site(P[:, 2]), -10.05), "p", "local octahedral frame", P),
                rec("b2b2", fell, "p", "local octahedral frame", P)]
    plain = afo_dftu_states.state_table(records, [0, 1], Q, 2)
    v = {(x["protocol"], x["claim"]): x for x in afo_dftu_verdicts.verdicts(plain, 100.0)}
    assert "only AFO states" in v["p", "AFO lowest"]["evidence"]     # b2b2 fell back into a^2: counted through a^2's row
    assert "fell back to the unbiased state, ordered itself: b2b2 (FO)" in v["p", "AFO lowest"]["evidence"]
    rereads = afo_dftu_states.reference_rereads(records)
    assert [(r["state"], r["reading"]) for r in rereads] == [("unbiased", "local octahedral frame")]
    rows = afo_dftu_states.state_table(records + rereads, [0, 1], Q, 2)
    again = next(r for r in rows if r.get("re-read"))
    assert again["state"] == "FO" and again["b + c in filled orbitals"] > 0.99 and again["ΔE (meV/f.u.)"] == pytest.approx(0)
    v = {(x["protocol"], x["claim"]): x for x in afo_dftu_verdicts.verdicts(rows, 100.0)}
    assert v["p", "AFO lowest"]["outcome"] == "reproduced" and "AFO from b2c2 (-25" in v["p", "AFO lowest"]["evidence"]
    assert "non-polar: not the paper's ferroelectric AFO" in v["p", "AFO lowest"]["evidence"]    # p_z = 0 here
    assert v["q, bias", "AFO lowest"]["outcome"] == "undetermined"
    assert "no ordered state of b or c survives" in v["q, bias", "AFO lowest"]["evidence"]
    assert v["q, bias", "polarization gain"]["outcome"] == "not reproduced"
    # the same a^2 state converged by a second SCF (another protocol's unbiased start) leaves it what it is: an unbiased
    # state is read by itself, not relabelled by another's
    twice = records + [rec("unbiased", _result(*a2, -10.0), "r")]
    rows = afo_dftu_states.state_table(twice + afo_dftu_states.reference_rereads(twice), [0, 1], Q, 2)
    assert {r["state"] for r in rows if r["start"] == "unbiased"} == {"FO"}
    assert {(x["protocol"], x["claim"]): x["outcome"] for x in afo_dftu_verdicts.verdicts(rows, 100.0)}["p", "AFO lowest"] == "reproduced"
    # an AFO reached by a release that was not controlled decides nothing: the state it stepped over is not known
    loose = records[:-2] + [rec("b2c2", _released(_site(P[:, 1]), _site(P[:, 2]), -10.05, stalled=True), "p",
                                "local octahedral frame", P), records[-1]]
    v = {(x["protocol"], x["claim"]): x for x in afo_dftu_verdicts.verdicts(afo_dftu_states.state_table(loose + afo_dftu_states.reference_rereads(loose),
                                                                                                        [0, 1], Q, 2), 100.0)}
    assert v["p", "AFO lowest"]["outcome"] == "undetermined"
    assert "ended ordered after a release that was not controlled: b2c2" in v["p", "AFO lowest"]["evidence"]


def test_targets_and_bad_input():
    t = afo_dftu_plans.pattern_targets("b2c2", Q, [0, 1])
    assert np.allclose(t[0]["both"][0], Q[:, 1]) and np.allclose(t[1]["both"][0], Q[:, 2])
    t, mm = afo_dftu_plans.high_spin_targets(Q, [0, 1], antiferro=True)
    assert mm == [2.0, -2.0] and len(t[1]["dn"]) == 2 and t[1]["up"] == []
    # d2d2: the b-c pair rotated by 45 degrees, a unit vector with equal b and c weight and none of a
    t = afo_dftu_plans.pattern_targets("d2d2", Q, [0, 1])
    d = np.asarray(t[0]["both"][0])
    assert np.isclose(np.linalg.norm(d), 1.0) and np.allclose(Q.T @ d, [0, 2 ** -0.5, 2 ** -0.5, 0, 0])
    with pytest.raises(ValueError, match="pattern"):
        afo_dftu_plans.pattern_targets("b2e2", Q, [0, 1])


def _released(w1, w2, E, stalled=False, E_biased=-9.0, E_bias=0.5):
    """A branch biased at lambda = 1 eV (energy E_biased with bias energy E_bias), then released to E."""
    r = _result(w1, w2, E)
    first = {"U_eV": 3.0, "lambda_eV": 1.0, "energy_eV": E_biased, "bias_energy_eV": E_bias, "converged": True,
             "occupations": {"0": list(w1), "1": list(w2)}, "dipole_eA": [0, 0, 0]}
    mid = dict(first, lambda_eV=0.1, converged=not stalled)
    r["steps"] = [first, mid] + r["steps"]
    return r


def test_a_fall_back_counts_against_the_paper_only_after_a_controlled_release():
    b, c = Q[:, 1], Q[:, 2]
    flat = _flat()
    spec = {"unbiased": _result(flat, flat, -10.0),
            "b2c2": _released(flat, flat, -10.0), "b2b2": _released(flat, flat, -10.0),
            "c2c2": _released(flat, flat, -10.0)}                  # no c2b2: b2c2's inversion image is not needed
    rows = afo_dftu_states.state_table(_jobs(spec), [0, 1], Q, 2)
    v = {x["claim"]: x for x in afo_dftu_verdicts.verdicts(rows, 100.0)}
    assert v["polarization gain"]["outcome"] == "not reproduced"
    assert v["AFO lowest"]["outcome"] == "undetermined"            # no ordered state: nothing to compare
    by = {r["start"]: r for r in rows}
    # the constrained energy at full bias: (E - E_bias) - E_unpolarized = (-9.0 - 0.5 + 10.0) eV over 2 f.u.
    assert by["b2b2"]["ΔE constrained, full bias (meV/f.u.)"] == pytest.approx(250.0)
    spec["b2b2"] = _released(flat, flat, -10.0, stalled=True)
    v = {x["claim"]: x for x in afo_dftu_verdicts.verdicts(afo_dftu_states.state_table(_jobs(spec), [0, 1], Q, 2), 100.0)}
    assert v["polarization gain"]["outcome"] == "undetermined" and "not controlled" in v["polarization gain"]["evidence"]
    # converged steps, but the bias dropped to zero from 0.3 eV: a jump, not a controlled release
    spec["b2b2"] = _released(flat, flat, -10.0)
    spec["b2b2"]["steps"][1]["lambda_eV"] = 0.3
    v = {x["claim"]: x for x in afo_dftu_verdicts.verdicts(afo_dftu_states.state_table(_jobs(spec), [0, 1], Q, 2), 100.0)}
    assert v["polarization gain"]["outcome"] == "undetermined" and "from above 0.1 eV" in v["polarization gain"]["evidence"]
    assert "was removed: b2b2)" in v["polarization gain"]["evidence"]
    # converged steps and a last drop from 0.1 eV, but b2b2 still ordered there and unordered only without the bias
    spec["b2b2"] = _released(flat, flat, -10.0)
    for s in spec["b2b2"]["steps"][:2]:
        s["occupations"] = {"0": _site(b), "1": _site(b)}
    rows = afo_dftu_states.state_table(_jobs(spec), [0, 1], Q, 2)
    assert next(r for r in rows if r["start"] == "b2b2")["order held to the last bias"]
    v = {x["claim"]: x for x in afo_dftu_verdicts.verdicts(rows, 100.0)}
    assert v["polarization gain"]["outcome"] == "undetermined" and "order held until" in v["polarization gain"]["evidence"]


def _annealed(w_by_U, E_by_U, biased=True):
    """A made-up annealed branch: the bias at the first U (lambda 1, then 0), then one unbiased step per
    further U; w_by_U[U] = (W1, W2) occupations."""
    Us = list(w_by_U)
    steps = []
    if biased:
        steps.append({"U_eV": Us[0], "lambda_eV": 1.0, "energy_eV": E_by_U[Us[0]] + 5.0, "bias_energy_eV": 4.0,
                      "converged": True, "occupations": {"0": list(w_by_U[Us[0]][0]), "1": list(w_by_U[Us[0]][1])},
                      "dipole_eA": [0, 0, 0]})
    for U in Us:
        steps.append({"U_eV": U, "lambda_eV": 0.0, "energy_eV": E_by_U[U], "converged": True,
                      "occupations": {"0": list(w_by_U[U][0]), "1": list(w_by_U[U][1])}, "dipole_eA": [0, 0, 0]})
    return {"steps": steps}


def _afo_at_6_eV():
    """Two made-up annealed branches from 6 to 3 eV: the unbiased one, and b2c2, whose AFO survives the
    release at 6 eV (0.3 eV per cell below the reference) and falls back at 3 eV."""
    b, c = Q[:, 1], Q[:, 2]
    flat, afo = (_flat(), _flat()), (_site(b), _site(c))
    return [{"spin": "restricted", "U_grid": [6.0, 3.0], "reading": "energy order", "state": "unbiased",
             "result": _annealed({6.0: flat, 3.0: flat}, {6.0: -8.0, 3.0: -10.0}, biased=False)},
            {"spin": "restricted", "U_grid": [6.0, 3.0], "reading": "energy order", "state": "b2c2",
             "result": _annealed({6.0: afo, 3.0: flat}, {6.0: -8.3, 3.0: -10.0})}]


def test_the_survival_line_says_whether_any_ordered_state_outlives_its_release():
    """The premise of both claims, counted over the controlled releases of the b/c starts only: an ordered state
    that survives its release is named; where none does, the line says so with its scope. Rows reached by
    continuation, the a2a2 control and uncontrolled releases are not counted; a start that ended unconverged and
    still ordered is named as unknown."""
    rows = afo_dftu_states.state_table(afo_dftu_states.annealed_steps(_afo_at_6_eV()), [0, 1], Q, 2)
    assert afo_dftu_states.survival_line(rows) == ("- Ordered states after the release: 1 of 1 releases of b/c starts end in 1 "
                                                   "converged state polarized toward $b$ or $c$ on every W, each in its own reading of "
                                                   "a, b, c: b2c2 at 6 eV (restricted, energy order reading; AFO, -150.0 meV/f.u.; "
                                                   "release b2c2 not controlled).")
    # ordered on one W only (the other W unlike it): not the paper's order, said apart and not counted as surviving
    half = [dict(r, state="partly polarized") if r["start"] == "b2c2" and r["U (eV)"] == 6.0 else r for r in rows]
    line = afo_dftu_states.survival_line(half)
    assert "Ordered states after the release" not in line and "ordered on one W only" in line and "b2c2 at 6 eV" in line
    v = {x["claim"]: x for x in afo_dftu_verdicts.verdicts(half, 100.0) if x["U (eV)"] == 6.0}
    assert v["polarization gain"]["outcome"] != "reproduced" and "ended ordered on one W only: b2c2" in v["polarization gain"]["evidence"]
    at3 = [r for r in rows if r["U (eV)"] == 3.0]
    assert afo_dftu_states.survival_line(at3) == ""          # 3 eV was reached by continuation: no release there to count
    fell = [dict(r, protocol=afo_dftu_plans.PROTOCOL_DIRECT, **{"release controlled": True}) for r in at3]
    ctrl = [dict(r, start="a2a2") for r in fell if r["start"] == "b2c2"]
    line = afo_dftu_states.survival_line(fell + ctrl)
    assert line.startswith("- **No ordered state survives the release**: none of the 1 controlled releases of the b/c "
                           "starts ($U_\\mathrm{eff}$ 3 eV, restricted, energy order reading)")
    loose = [dict(r, **{"release controlled": False}, start="b2b2") for r in fell if r["start"] == "b2c2"]
    assert "1 releases that were not controlled ended unpolarized too" in afo_dftu_states.survival_line(fell + loose)
    stuck = [dict(r, converged=False) if r["start"] == "b2c2" and r["U (eV)"] == 6.0 else r for r in rows]
    assert afo_dftu_states.survival_line(stuck + fell).endswith("their final state unknown (where they stopped, from the reference): "
                                                                "b2c2 at 6 eV (annealed from 6 eV; -150 meV/f.u.).")
    # nothing settled (a smoke run, every step at its cap): said so, not a scope over nothing
    assert afo_dftu_states.survival_line([r for r in stuck if r["start"] == "b2c2" and r["U (eV)"] == 6.0]) == (
        "- No release of a b/c start settled under control: ended unconverged and still ordered, final state unknown: "
        "b2c2 at 6 eV.")
    assert afo_dftu_states.survival_line([r for r in rows if r["start"] == "unbiased"]) == ""


def test_annealed_branches_give_one_state_per_U_and_their_own_verdicts():
    jobs = _afo_at_6_eV()
    steps = afo_dftu_states.annealed_steps(jobs)
    assert [(s["state"], s["U_eV"]) for s in steps] == [("unbiased", 6.0), ("unbiased", 3.0), ("b2c2", 6.0), ("b2c2", 3.0)]
    assert all(s["protocol"] == "annealed from 6 eV" for s in steps)
    rows = afo_dftu_states.state_table(steps, [0, 1], Q, 2)
    by = {(r["start"], r["U (eV)"]): r for r in rows}
    assert by[("b2c2", 6.0)]["state"] == "AFO" and by[("b2c2", 6.0)]["ΔE (meV/f.u.)"] == pytest.approx(-150)
    assert by[("b2c2", 3.0)]["state"] == "unpolarized"
    # the constrained energy belongs to the U of the bias only: (-8.3 + 5 - 4) - (-8) = +0.7 eV per cell
    assert by[("b2c2", 6.0)]["ΔE constrained, full bias (meV/f.u.)"] == pytest.approx(350)
    assert np.isnan(by[("b2c2", 3.0)]["ΔE constrained, full bias (meV/f.u.)"])
    # a direct branch at 3 eV is judged apart from the annealed ones at the same U
    direct = afo_dftu_states.state_table(_jobs({"unbiased": _result(_flat(), _flat(), -10.0)}), [0, 1], Q, 2)
    v = afo_dftu_verdicts.verdicts(rows + direct, 100.0)
    keys = {(x["U (eV)"], x["protocol"]) for x in v}
    assert keys == {(6.0, "annealed from 6 eV"), (3.0, "annealed from 6 eV"), (3.0, afo_dftu_plans.PROTOCOL_DIRECT)}
    gain6 = next(x for x in v if x["U (eV)"] == 6.0 and x["claim"] == "polarization gain")
    assert gain6["outcome"] == "reproduced" and "AFO state from b2c2" in gain6["evidence"]


def test_annealed_plan_of_the_profiles():
    assert afo_dftu_plans.annealed_jobs("smoke", Q, [0, 1]) == []
    jobs = afo_dftu_plans.annealed_jobs("paper", {"energy order": Q, "local octahedral frame": Q[:, ::-1]}, [0, 1])
    assert jobs[0]["state"] == "unbiased" and jobs[0]["targets"] is None
    assert {j["reading"] for j in jobs} == {"energy order", "local octahedral frame"}
    ann = [j for j in jobs if not j["convergence"]]
    assert all(j["U_grid"][0] > j["U_grid"][-1] and j["U_grid"] == sorted(j["U_grid"], reverse=True) for j in ann)
    # the numerics check: b2b2 at 6 eV on two other numerics with the schedule of the main b2b2, each with its own
    # unbiased reference (the profile's numerics are the main branch's)
    conv = [j for j in jobs if j["convergence"]]
    assert {len(j["U_grid"]) for j in conv} == {1} and {j["state"] for j in conv} == {"unbiased", "b2b2", "b2c2"}
    assert [j["overrides"] for j in conv if j["state"] == "b2b2"] == [{"kpt_density": 6.0}, {"smearing": 0.02}]
    # and the thinnest margin, the local frame's polar AFO, on the smaller Fermi width
    afo = [j for j in conv if j["state"] == "b2c2"]
    assert [(j["reading"], j["overrides"]) for j in afo] == [("local octahedral frame", {"smearing": 0.02})]
    main_b2b2 = next(j for j in jobs if j["state"] == "b2b2" and j["protocol"] == "annealed from 6 eV, bias on a, b, c")
    assert all(j["settings"]["release"] == main_b2b2["settings"]["release"] for j in conv)
    assert all(j["protocol"].startswith("released at 6 eV") for j in conv)
    assert min(j["U_grid"][-1] for j in jobs) == 3.0 and max(j["U_grid"][0] for j in jobs) >= 8.0
    assert {j["state"] for j in jobs} >= {"b2b2", "c2c2", "b2c2"}
    # the decisive starts with the bias within a, b, c: the two remaining d orbitals are left alone
    sub = [j for j in jobs if j["protocol"] == "annealed from 6 eV, bias on a, b, c"]
    assert {j["state"] for j in sub} == {"b2b2", "c2c2", "b2c2", "a2a2", "d2d2"}      # a2a2: the control; d2d2: b-c rotated
    assert all(np.allclose(np.asarray(t["subspace"]), Q[:, :3].T) for j in sub for t in j["targets"].values())


def test_a_start_with_its_own_release_keeps_its_protocol(monkeypatch):
    """A per-start release schedule is a numerical choice: the start stays in its protocol's group,
    the others keep the protocol's schedule, and the override does not leak into the protocol."""
    P = {"U_grid": [6.0, 3.0], "release": [1.0, 0.0], "subspace": True, "starts": ["b2c2", "b2b2"],
         "maxiter": [80, 200], "per_start": {"b2b2": {"release": [1.0, 0.5, 0.0], "maxiter": [200, 200]}}}
    monkeypatch.setitem(afo_dftu_plans.SETTINGS, "test", {"annealed": [P]})
    jobs = {j["state"]: j for j in afo_dftu_plans.annealed_jobs("test", Q, [0, 1])}
    assert jobs["b2b2"]["protocol"] == jobs["b2c2"]["protocol"] == "annealed from 6 eV, bias on a, b, c"
    assert jobs["b2b2"]["settings"]["release"] == [1.0, 0.5, 0.0] and jobs["b2b2"]["settings"]["maxiter"] == [200, 200]
    assert jobs["b2c2"]["settings"]["release"] == [1.0, 0.0] and "per_start" not in jobs["b2c2"]["settings"]
    assert P["release"] == [1.0, 0.0]


def test_the_annealing_figure_draws_only_annealed_rows():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    direct = afo_dftu_states.state_table(_jobs({"unbiased": _result(_flat(), _flat(), -10.0)}), [0, 1], Q, 2)
    fig, ax = plt.subplots()
    assert afo_dftu_figures.plot_annealed(ax, direct) is False and not ax.lines
    flat = (_flat(), _flat())
    jobs = [{"spin": "restricted", "U_grid": [6.0, 3.0], "reading": "energy order", "state": "unbiased",
             "result": _annealed({6.0: flat, 3.0: flat}, {6.0: -8.0, 3.0: -10.0}, biased=False)}]
    assert afo_dftu_figures.plot_annealed(ax, direct + afo_dftu_states.state_table(afo_dftu_states.annealed_steps(jobs), [0, 1], Q, 2), 100.0)
    assert list(ax.lines[0].get_xdata()) == [3.0, 6.0]
    plt.close(fig)


def test_scorecard_line_groups_the_U_values_of_each_outcome():
    v = [{"spin": "restricted", "U (eV)": U, "protocol": "annealed from 6 eV", "claim": "polarization gain",
          "outcome": o} for U, o in ((6.0, "reproduced"), (5.0, "reproduced"), (3.0, "not reproduced"))]
    v.append({"spin": "restricted", "U (eV)": 3.0, "protocol": afo_dftu_plans.PROTOCOL_DIRECT, "claim": "polarization gain",
              "outcome": "undetermined"})
    line = afo_dftu_verdicts.claim_summary(v, "polarization gain")
    assert line == ("energy-order reading of a, b, c unless named — restricted, annealed from 6 eV: reproduced at U = 6, 5; "
                    f"not reproduced at U = 3 | restricted, {afo_dftu_plans.PROTOCOL_DIRECT}: undetermined at U = 3")
    # the U values reached by continuation of the state released at the protocol's first U are said to be so
    for r in v[1:3]:
        r["by continuation"] = True
    assert afo_dftu_verdicts.claim_summary(v, "polarization gain").startswith(
        "energy-order reading of a, b, c unless named — restricted, annealed from 6 eV: reproduced at U = 6 (carried by "
        "continuation to 5); not reproduced at U = 3 (by continuation)")
    assert afo_dftu_verdicts.claim_summary(v, "AFO lowest") == "not computed"


def test_the_dftu_verdict_is_undetermined_where_it_flips_and_names_what_is_undecided():
    """One verdict per claim over spin, U_eff and protocol: rows that decide both ways make it
    undetermined with the range of each; rows that agree decide it, saying per spin treatment and
    reading where the bias was released and where states were only carried by continuation, and the
    protocols still undecided are counted with their reason; no row decides: undetermined with the reason."""
    def r(U, o, spin="restricted", protocol="annealed from 6 eV", why="x", cont=False, reading="energy order"):
        return {"spin": spin, "U (eV)": U, "protocol": protocol, "reading": reading, "claim": "polarization gain",
                "outcome": o, "by continuation": cont, "evidence": f"{why}; starts tried: b2b2; reading of a, b, c: {reading}"}
    flips = [r(6.0, "reproduced"), r(5.0, "reproduced", cont=True), r(3.0, "not reproduced", cont=True)]
    assert afo_dftu_verdicts.claim_verdict(flips, "polarization gain") == (
        "undetermined (flips: reproduced for restricted, energy order reading: released at U_eff 6 eV, carried by "
        "continuation to 5 eV; not reproduced for restricted, energy order reading: at U_eff 3 eV by continuation only)")
    agree = [r(6.0, "not reproduced"), r(3.0, "not reproduced", cont=True), r(4.0, "not reproduced", "polarized", "annealed from 4 eV"),
             r(3.0, "undetermined", protocol=afo_dftu_plans.PROTOCOL_DIRECT, why="not every b/c pattern started (lowest: FO)"),
             r(6.0, "undetermined", protocol="local", why="no a² state", reading="local octahedral frame")]
    assert afo_dftu_verdicts.claim_verdict(agree, "polarization gain") == (
        "not reproduced (restricted, energy order reading: released at U_eff 6 eV, carried by continuation to 3 eV; "
        "polarized, energy order reading: released at U_eff 4 eV; 2 more protocols undecided: "
        "the protocol's starts: not every b/c pattern started; no a² state; decided in the energy order reading only)")
    # rows continued from a U where every start had already fallen back carry nothing ordered: said so, not
    # "carried"; a spin-polarized protocol against a non-magnetic reference repeats the restricted result
    empty = [dict(x, **{"carried ordered": False}) if x["by continuation"] else x for x in agree[:2]]
    empty.append(dict(agree[2], **{"non-magnetic": True}))
    assert afo_dftu_verdicts.claim_verdict(empty, "polarization gain") == (
        "not reproduced (restricted, energy order reading: released at U_eff 6 eV, nothing ordered left to carry to 3 eV; "
        "polarized, energy order reading: released at U_eff 4 eV (non-magnetic there: a repeat of the restricted result))")
    none = [r(3.0, "undetermined", why="no ordered state of b or c survives the release: nothing to compare")]
    assert afo_dftu_verdicts.claim_verdict(none, "polarization gain").startswith(
        "undetermined (the computed states: no ordered state of b or c survives the release; restricted, energy order reading: "
        "released at U_eff 3 eV")
    assert afo_dftu_verdicts.claim_verdict(none, "AFO lowest") == "not computed here"
    lines = afo_dftu_verdicts.verdict_lines(agree).splitlines()
    assert lines[0].startswith("- **not reproduced**: doubly occupying $b$ or $c$") and "$U_\\mathrm{eff}$ 6 eV" in lines[0]
    assert lines[1] == ("- **not computed here**: of the ordered states, the antiferro-orbital one is the lowest — "
                        "no DFT+U state computed at this profile.")


def test_findings_name_where_annealed_states_cease_and_check_the_reference():
    jobs = _afo_at_6_eV()
    rows = afo_dftu_states.state_table(afo_dftu_states.annealed_steps(jobs) + _jobs({"unbiased": _result(_flat(), _flat(), -10.0002)}),
                                       [0, 1], Q, 2)
    surv = afo_dftu_states.annealed_survival(rows)
    assert surv == [{"start": "b2c2", "protocol": "annealed from 6 eV", "states": {6.0: "AFO", 3.0: "unpolarized"},
                     "lowest polarized U (eV)": 6.0, "ΔE there (meV/f.u.)": pytest.approx(-150)}]
    agree = afo_dftu_findings.reference_agreement(rows)
    assert len(agree) == 1 and agree[0]["max |ΔE| (meV/f.u.)"] == pytest.approx(0.1)
    text = afo_dftu_findings.findings({"rows": rows, "verdicts": afo_dftu_verdicts.verdicts(rows, 100.0)})
    assert "orbitally polarized down to 6 eV" in text and "within 0.10 meV/f.u." in text
    # b2c2 was still AFO where released (6 eV): the 3 eV rows carry an ordered state down, and say so
    at3 = [v for v in afo_dftu_verdicts.verdicts(rows, 100.0) if v["U (eV)"] == 3.0 and v["protocol"] == "annealed from 6 eV"]
    assert at3 and all(v["by continuation"] and v["carried ordered"] is True and not v["non-magnetic"] for v in at3)


def test_release_landscape_is_measured_from_the_reference_at_the_bias_U():
    b, c = Q[:, 1], Q[:, 2]
    flat, afo = (_flat(), _flat()), (_site(b), _site(c))
    jobs = [{"spin": "restricted", "U_grid": [6.0, 3.0], "reading": "energy order", "state": "unbiased",
             "protocol": "annealed from 6 eV",
             "result": _annealed({6.0: flat, 3.0: flat}, {6.0: -8.0, 3.0: -10.0}, biased=False)},
            {"spin": "restricted", "U_grid": [6.0, 3.0], "reading": "energy order", "state": "b2c2",
             "protocol": "annealed from 6 eV, bias on a, b, c",
             "result": _annealed({6.0: afo, 3.0: flat}, {6.0: -8.3, 3.0: -10.0})}]
    rows = afo_dftu_states.release_rows(jobs, 2)
    # lambda = 1: (-8.3 + 5 - 4) - (-8) = +0.7 eV per cell; lambda = 0: -0.3 eV per cell
    assert [(r["lambda (eV)"], round(r["E - E_bias - E_ref (meV/f.u.)"])) for r in rows] == [(1.0, 350), (0.0, -150)]
    # continuity: the first step has no predecessor; the release's only step is where the state changed
    assert rows[0]["max |Δn| from previous step"] == 0.0 and rows[1]["max |Δn| from previous step"] == 0.0
    assert "between λ = 1 and 0 eV" in afo_dftu_findings.release_findings(rows)
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    assert afo_dftu_figures.plot_release(ax, rows) and not afo_dftu_figures.plot_release(ax, [])
    plt.close(fig)


def test_a_step_stopped_at_its_cap_counts_only_with_a_small_density_residual(tmp_path, monkeypatch):
    """Residuals read from the GPAW log kept with the entry (one SCF table per step): a step that stopped
    at its cap with the energy criterion met and the density residual at 10^-4.4 counts as converged; one
    whose residual froze at 10^-1.6 does not."""
    monkeypatch.setenv("COMPENDIUM_CACHE", str(tmp_path))
    (tmp_path / "k").mkdir()
    table = lambda dens: "\n".join(["|iter     |     time |      energy | eigst |  dens |minit |",
                                    "|iter:   1| 02:16:45 |  -16.246766 |      c|       |    1 |",
                                    f"|iter:   2| 02:16:52 |  -16.206607c|      c| {dens} |    2c|"])
    (tmp_path / "k" / "gpaw.txt").write_text("\n".join([table("-5.07c"), "text", table("-4.41"), table("-1.60")]))
    res = branch_steps.step_residuals({"key": "k"})
    assert res == [(-5.07, True), (-4.41, True), (-1.6, True)]
    capped = {"converged": False}
    assert branch_steps.step_converged(capped, res[1]) and not branch_steps.step_converged(capped, res[2])
    assert not branch_steps.step_converged(capped, None) and branch_steps.step_converged({"converged": True}, None)
    assert branch_steps.step_residuals({"key": "absent"}) == [] and branch_steps.step_residuals({}) == []
    # a coloured log (GPAW run from a notebook kernel) reads the same
    (tmp_path / "k" / "gpaw.txt").write_text("\n".join([table("\x1b[32m -5.07\x1b[0m"), table("-4.41")]))
    assert branch_steps.step_residuals({"key": "k"}) == [(-5.07, True), (-4.41, True)]
    # a log whose tables do not pair with the recorded steps pairs nothing
    assert branch_steps.step_residuals({"key": "k", "steps": [{}, {}, {}]}) == []


def test_two_release_schedules_agree_only_when_they_reach_the_same_state():
    """schedule_agreement compares the unbiased steps of a start run with two release schedules: the same
    state (energy and occupations) is a pass, an AFO kept by one schedule and lost by the other is not."""
    b, c = Q[:, 1], Q[:, 2]
    flat, afo = (_flat(), _flat()), (_site(b), _site(c))
    job = lambda w6, E6, n: {"state": "b2c2", "protocol": "annealed from 6 eV, bias on a, b, c",
                             "settings": {"release": [1.0] * (n - 1) + [0.0]},
                             "result": _annealed({6.0: w6, 3.0: flat}, {6.0: E6, 3.0: -10.0})}
    same = afo_dftu_page.schedule_agreement([job(flat, -8.0, 8)], [job(flat, -8.0002, 5)], n_fu=2)
    assert [r["U (eV)"] for r in same] == [6.0, 3.0] and same[0]["schedules"] == "8 and 5 release steps"
    assert abs(same[0]["ΔE (meV/f.u.)"] - 0.1) < 1e-9 and same[0]["max |Δn|"] < 1e-12
    text = afo_dftu_findings.findings({"rows": [], "schedule checks": same})
    assert "does not depend on the release schedule" in text
    # where each schedule's biased minimum ends is said too: both schedules here have one biased step (1 eV) then 0
    assert same[0]["ends between λ (eV)"] == "1 and 0 | 1 and 0" and "ends between λ = 1 and 0 eV with the one" in text
    steps = [{"U_eV": 6.0, "lambda_eV": l, "occupations": {"0": list(w[0]), "1": list(w[1])}}
             for l, w in ((1.0, afo), (0.5, afo), (0.25, flat), (0.0, flat))]
    assert afo_dftu_states.release_end({"steps": steps}) == "0.5 and 0.25" and afo_dftu_states.release_end({"steps": steps[:1]}) == ""
    differ = afo_dftu_page.schedule_agreement([job(afo, -8.3, 8)], [job(flat, -8.0, 5)], n_fu=2)
    assert differ[0]["max |Δn|"] > 0.1 and abs(differ[0]["ΔE (meV/f.u.)"] + 150) < 1e-9
    assert "depends on the schedule" in afo_dftu_findings.findings({"rows": [], "schedule checks": differ})
    # a reading whose a is not its lowest level is named: the paper's a^2 premise fails there before any DFT+U
    levels = {"energy order": [0.52, 0.62, 0.74], "local octahedral frame": [0.665, 0.613, 0.614]}
    text = afo_dftu_findings.findings({"rows": [], "levels (eV)": levels})
    assert "local octahedral frame reading, a lies above both b and c" in text and "energy order reading" not in text
    # a check without its main run (or not computed) gives no row
    assert afo_dftu_page.schedule_agreement([], [job(flat, -8.0, 5)], n_fu=2) == []


def test_protocols_on_other_numerics_or_spin_get_their_own_label_and_reference(monkeypatch):
    """A protocol with a denser k grid (or spin-polarized) is labelled by what it changes, and its
    states are measured from the unbiased state of the same numerics, never from the profile's."""
    base = {"U_grid": [6.0, 3.0], "release": [1.0, 0.0], "subspace": True, "starts": ["unbiased", "b2c2"], "maxiter": [80, 200]}
    monkeypatch.setitem(afo_dftu_plans.SETTINGS, "test", {"annealed": [base, base | {"kpt_density": 6.0},
                                                                       base | {"spin": "polarized"}]})
    jobs = afo_dftu_plans.annealed_jobs("test", Q, [0, 1])
    labels = [j["protocol"] for j in jobs]
    assert labels == ["annealed from 6 eV", "annealed from 6 eV, bias on a, b, c",
                      "annealed from 6 eV, k density 6 /Å", "annealed from 6 eV, bias on a, b, c, k density 6 /Å",
                      "annealed from 6 eV, spin-polarized", "annealed from 6 eV, bias on a, b, c, spin-polarized"]
    assert jobs[2]["overrides"] == {"kpt_density": 6.0} and jobs[0]["overrides"] == {}
    pol = jobs[5]
    assert pol["spin"] == "polarized" and pol["moment_seed"] == [0.5, -0.5] and set(pol["targets"][0]) >= {"up", "dn"}
    monkeypatch.setitem(afo_dftu_plans.SETTINGS, "bad", {"annealed": [base | {"spin": "collinear"}]})
    with pytest.raises(ValueError, match="spin='collinear'"):
        afo_dftu_plans.annealed_jobs("bad", Q, [0, 1])
    # the same made-up states on two k grids, the denser one 1 eV lower everywhere: each protocol's b2c2
    # AFO is 0.3 eV per cell below its own reference, not 1.3 eV below the other's
    b, c = Q[:, 1], Q[:, 2]
    flat, afo = (_flat(), _flat()), (_site(b), _site(c))
    made = []
    for j, shift in zip(jobs[:4], (0.0, 0.0, -1.0, -1.0)):
        w = {6.0: afo if j["state"] == "b2c2" else flat, 3.0: flat}
        E = {6.0: (-8.3 if j["state"] == "b2c2" else -8.0) + shift, 3.0: -10.0 + shift}
        made.append(j | {"result": _annealed(w, E, biased=j["state"] != "unbiased")})
    rows = afo_dftu_states.state_table(afo_dftu_states.annealed_steps(made), [0, 1], Q, n_fu=2)
    afo_rows = [r for r in rows if r["start"] == "b2c2" and r["U (eV)"] == 6.0]
    assert len(afo_rows) == 2 and all(abs(r["ΔE (meV/f.u.)"] + 150) < 1e-6 for r in afo_rows)
    v = afo_dftu_verdicts.verdicts(rows, 100.0)
    assert {r["protocol"] for r in v} == {labels[1], labels[3]}


def test_an_a_leaning_reference_past_the_polarization_threshold_changes_no_verdict():
    """The unbiased state fills a a little more than the classification's threshold allows for
    'unpolarized' (so it reads FO of a): it is still the reference, and starts that fall back into it
    after a controlled release count against the paper."""
    a = Q[:, 0]
    ref = _site(a)                                       # a filled, 1.6 against 0.8: labelled FO
    spec = {"unbiased": _result(ref, ref, -10.0)}
    for p in ("b2b2", "c2c2", "b2c2"):
        spec[p] = _result(ref, ref, -10.0)
        biased = dict(spec[p]["steps"][0], lambda_eV=0.1, energy_eV=-9.9)   # released from 0.1 eV: controlled
        spec[p]["steps"].insert(0, biased)
    rows = afo_dftu_states.state_table(_jobs(spec), [0, 1], Q, n_fu=2)
    assert {r["start"]: r["release controlled"] for r in rows} == {"unbiased": None, "b2b2": True, "c2c2": True, "b2c2": True}
    unb = [r for r in rows if r["start"] == "unbiased"][0]
    assert unb["state"] != "unpolarized" and unb["ΔE (meV/f.u.)"] == 0.0
    v = {x["claim"]: x["outcome"] for x in afo_dftu_verdicts.verdicts(rows, 100.0)}
    assert v["polarization gain"] == "not reproduced"
    # a start that was never biased is no evidence of a fall-back
    for p in ("b2b2", "c2c2", "b2c2"):
        spec[p]["steps"].pop(0)
    rows = afo_dftu_states.state_table(_jobs(spec), [0, 1], Q, n_fu=2)
    assert {x["claim"]: x["outcome"] for x in afo_dftu_verdicts.verdicts(rows, 100.0)}["polarization gain"] == "undetermined"


def test_release_continuity_finds_the_jump_where_the_biased_state_ends():
    """A release through 1, 0.5, 0.25, 0 eV whose state stays AFO down to 0.5 eV and is unpolarized from 0.25 eV:
    the largest one-step change of the occupation matrices is between 0.5 and 0.25 eV, and equals the
    difference of the two states' matrices."""
    b, c = Q[:, 1], Q[:, 2]
    flat, afo = (_flat(), _flat()), (_site(b), _site(c))
    steps = [{"U_eV": 6.0, "lambda_eV": lam, "energy_eV": -8.0, "bias_energy_eV": 0.0, "converged": True,
              "occupations": {"0": list(w[0]), "1": list(w[1])}, "dipole_eA": [0, 0, 0]}
             for lam, w in ((1.0, afo), (0.5, afo), (0.25, flat), (0.0, flat))]
    jobs = [{"spin": "restricted", "U_grid": [6.0], "reading": "energy order", "state": "unbiased",
             "protocol": "annealed from 6 eV", "result": _annealed({6.0: flat}, {6.0: -8.0}, biased=False)},
            {"spin": "restricted", "U_grid": [6.0], "reading": "energy order", "state": "b2c2",
             "protocol": "annealed from 6 eV, bias on a, b, c", "result": {"steps": steps}}]
    rows = afo_dftu_states.release_rows(jobs, 2)
    jumps = [r["max |Δn| from previous step"] for r in rows]
    expected = max(np.abs(np.add(*np.asarray(a)) - np.add(*np.asarray(f))).max() for a, f in zip(afo, flat))
    assert jumps[0] == 0 and jumps[1] == pytest.approx(0) and jumps[3] == pytest.approx(0)
    assert jumps[2] == pytest.approx(expected) and expected > 0.3
    assert "between λ = 0.5 and 0.25 eV" in afo_dftu_findings.release_findings(rows)


def test_high_spin_starts_need_a_spin_polarized_protocol_and_carry_their_moments(monkeypatch):
    """High-spin d2 starts fill a and b in one spin on each W (AFM: opposite spins on W1 and W2), seeded with
    +-2 muB; in a spin-restricted protocol they are refused before any SCF; the bias subspace is a, b, c."""
    base = {"U_grid": [4.0, 3.0], "release": [1.0, 0.0], "subspace": True, "maxiter": [80, 200]}
    monkeypatch.setitem(afo_dftu_plans.SETTINGS, "test", {"annealed": [base | {"spin": "polarized",
                                                                               "starts": ["high-spin AFM", "high-spin FM"]}]})
    afm, fm = afo_dftu_plans.annealed_jobs("test", Q, [0, 1])
    assert afm["moment_seed"] == [2.0, -2.0] and fm["moment_seed"] == [2.0, 2.0]
    assert len(afm["targets"][0]["up"]) == 2 and afm["targets"][0]["dn"] == []
    assert afm["targets"][1]["up"] == [] and len(afm["targets"][1]["dn"]) == 2
    assert np.allclose(afm["targets"][0]["subspace"], Q[:, :3].T)
    from helpers.dft.occupation_control import check_targets
    check_targets(afm["targets"], ["W", "W"], True, afm["moment_seed"])      # consistent as built
    monkeypatch.setitem(afo_dftu_plans.SETTINGS, "bad", {"annealed": [base | {"starts": ["high-spin AFM"]}]})
    with pytest.raises(ValueError, match="needs spin='polarized'"):
        afo_dftu_plans.annealed_jobs("bad", Q, [0, 1])


def test_a_stalled_unbiased_scf_is_not_the_reference_when_a_converged_unpolarized_state_exists():
    """At a large U the unbiased SCF may stop at its cap (here 30 meV per cell too low, a residual's worth); the
    ordered starts that fell back into the unpolarized state under control are converged: they are the reference
    and decide the gain, and the stalled energy shifts nothing."""
    flat = _flat()
    stalled = _result(flat, flat, -10.03)
    stalled["steps"][0]["converged"] = False
    spec = {"unbiased": stalled, "b2c2": _released(flat, flat, -10.0), "b2b2": _released(flat, flat, -10.0),
            "c2c2": _released(flat, flat, -10.0)}
    rows = afo_dftu_states.state_table(_jobs(spec), [0, 1], Q, 2)
    by = {r["start"]: r for r in rows}
    assert by["b2c2"]["ΔE (meV/f.u.)"] == pytest.approx(0.0) and by["unbiased"]["ΔE (meV/f.u.)"] == pytest.approx(-15.0)
    v = {x["claim"]: x["outcome"] for x in afo_dftu_verdicts.verdicts(rows, 100.0)}
    assert v["polarization gain"] == "not reproduced"
    spec = {"unbiased": stalled, "b2c2": _released(flat, flat, -10.0, stalled=True)}
    v = {x["claim"]: x["outcome"] for x in afo_dftu_verdicts.verdicts(afo_dftu_states.state_table(_jobs(spec), [0, 1], Q, 2), 100.0)}
    assert v["polarization gain"] == "undetermined"


def test_the_numerics_check_is_kept_out_of_the_verdicts_and_read_against_its_own_reference(monkeypatch):
    """b2b2 released at 6 eV on the profile's numerics (the main annealed branch) and on a denser k grid
    (everything 1 eV lower there, as a k-grid change may make it): the check reads each release from the
    reference of its own numerics, finds the same branch end and constrained energies, the unbiased shift
    per f.u., and the verdict table does not see the check's rows."""
    b = Q[:, 1]
    sched = {"release": [1.0, 0.5, 0.0], "maxiter": [200, 200]}
    main = {"U_grid": [6.0, 3.0], "subspace": True, "starts": ["unbiased", "b2b2"], **sched}
    monkeypatch.setitem(afo_dftu_plans.SETTINGS, "test", {"annealed": [main, {"U_grid": [6.0], "subspace": True, "convergence": True,
                                                                              "starts": ["unbiased", "b2b2"], "kpt_density": 6.0, **sched}]})
    jobs = afo_dftu_plans.annealed_jobs("test", Q, [0, 1])
    flat, fo = (_flat(), _flat()), (_site(b), _site(b))

    def branch(Us, shift, biased):
        steps = []
        if biased:         # FO at full bias (+1 eV per cell constrained), gone at 0.5 eV
            steps += [{"U_eV": 6.0, "lambda_eV": 1.0, "energy_eV": -8.0 + shift + 5.0, "bias_energy_eV": 4.0, "converged": True,
                       "occupations": {"0": list(fo[0]), "1": list(fo[1])}, "dipole_eA": [0, 0, 0]},
                      {"U_eV": 6.0, "lambda_eV": 0.5, "energy_eV": -8.0 + shift + 0.1, "bias_energy_eV": 0.0, "converged": True,
                       "occupations": {"0": list(flat[0]), "1": list(flat[1])}, "dipole_eA": [0, 0, 0]}]
        for U in Us:
            steps.append({"U_eV": U, "lambda_eV": 0.0, "energy_eV": {6.0: -8.0, 3.0: -10.0}[U] + shift, "converged": True,
                          "occupations": {"0": list(flat[0]), "1": list(flat[1])}, "dipole_eA": [0, 0, 0]})
        return {"steps": steps, "inputs": {"kpts": [11, 6, 1] if shift else [8, 4, 1], "smearing": 0.05}}
    made = [j | {"result": branch(j["U_grid"], -1.0 if j["overrides"] else 0.0, j["state"] != "unbiased")} for j in jobs]
    rows = afo_dftu_states.state_table(afo_dftu_states.annealed_steps(made), [0, 1], Q, n_fu=2)
    conv = afo_dftu_page.numerics_convergence(made, rows, n_fu=2)
    assert [c["numerics"] for c in conv] == [afo_dftu_plans.PROFILE_NUMERICS, "k density 6 /Å"]
    assert [c["k grid, width (eV)"] for c in conv] == ["8×4, 0.05", "11×6, 0.05"]
    assert conv[1]["E_unbiased − profile's (meV/f.u.)"] == pytest.approx(-500)
    assert [c["E − E_bias by λ (meV/f.u.)"] for c in conv] == ["1: +500, 0.5: +50"] * 2
    assert [c["branch ends between λ (eV)"] for c in conv] == ["1 and 0.5"] * 2
    assert all(c["state after the release"] == "unpolarized" and c["every step converged"] for c in conv)
    v = afo_dftu_verdicts.verdicts(rows, 100.0)
    assert v and all(not r["protocol"].startswith("released at 6 eV") for r in v)
    text = afo_dftu_findings.findings({"rows": rows, "numerics": conv, "numerics U (eV)": 6.0})
    assert "b2b2 released at 6 eV ends between λ = 1 and 0.5 eV (8×4, 0.05 eV); 1 and 0.5 eV (11×6, 0.05 eV)" in text
    assert afo_dftu_page.numerics_convergence(made, rows, 2, "b2b2", "local octahedral frame") == []     # planned per reading
    assert "moves by at most 500.0 meV/f.u." in text and "did not converge" not in text
    # a biased step of the check that stalls is marked where its energy is listed, and the end is said to be read across it
    made[-1]["result"]["steps"][0]["converged"] = False
    rows = afo_dftu_states.state_table(afo_dftu_states.annealed_steps(made), [0, 1], Q, n_fu=2)
    conv = afo_dftu_page.numerics_convergence(made, rows, n_fu=2)
    assert conv[1]["E − E_bias by λ (meV/f.u.)"] == "1: +500 (not converged), 0.5: +50" and conv[1]["every step converged"] is False
    text = afo_dftu_findings.findings({"rows": rows, "numerics": conv, "numerics U (eV)": 6.0})
    assert "with 11×6, 0.05 eV a step did not converge" in text and "with 8×4" not in text
    with pytest.raises(ValueError, match="which"):
        afo_dftu_states.release_rows(made, 2, which="checks")


def test_a_reference_that_fills_b_and_c_and_a_non_magnetic_spin_polarized_state_are_said_to_be_so():
    b, c = Q[:, 1], Q[:, 2]
    mix = (b * 0.8 + c * 0.6)                            # the unbiased state at a large U leaning to b and c
    weak = lambda v: ((0.5 * (0.95 * np.eye(5) + 0.25 * np.outer(v, v))).tolist(),) * 2   # noqa: E731, below GAP_MIN
    jobs = _jobs({"unbiased": _result(weak(mix), weak(mix), -10.0)})
    pol = _jobs({"unbiased": _result(_flat(), _flat(), -12.0)}) + _jobs({"unbiased": _result(_flat(), _flat(), -12.00002)})
    pol[0]["spin"] = "polarized"
    pol[0]["result"]["steps"][-1]["magnetic_moments_muB"] = [0.0004, -0.0004]
    for j in pol:
        j["U_eV"] = 4.0
    rows = afo_dftu_states.state_table(jobs + pol, [0, 1], Q, n_fu=2)
    lines = afo_dftu_findings.reference_findings(rows, n_fu=2)
    assert len(lines) == 2
    assert "at 3 eV" in lines[0] and "fills mostly b and c" in lines[0] and "not the paper's a² state" in lines[0]
    assert "Spin-polarized at 4 eV" in lines[1] and "to 0.01 meV/f.u." in lines[1] and "repeat the restricted" in lines[1]
    # a magnetic start that converged below the non-magnetic state is the ground state there, and is said so
    magnet = _jobs({"high-spin AFM": _result(_flat(), _flat(), -12.1)})
    magnet[0].update(spin="polarized", U_eV=4.0)
    magnet[0]["result"]["steps"][-1]["magnetic_moments_muB"] = [0.95, -0.95]
    rows = afo_dftu_states.state_table(jobs + pol + magnet, [0, 1], Q, n_fu=2)
    line = afo_dftu_findings.reference_findings(rows, n_fu=2)[1]
    assert "but the high-spin AFM start ends magnetic (|m| 0.95 μB; orbitally unpolarized) 50.0 meV/f.u. below it" in line
    assert "repeat the restricted" not in line


def test_the_control_compares_constrained_energies_at_equal_occupation():
    """An equal bias strength gives different targets different occupations: the control is compared where
    both hold the same largest natural occupation n1, interpolated, never extrapolated; a step that has fallen
    into the unpolarized state is no longer a configuration and is left out."""
    P = "annealed from 6 eV, bias on a, b, c"
    def rel(start, lam, n1, E, state="FO", protocol=P):
        return {"start": start, "protocol": protocol, "lambda (eV)": lam, "largest natural occupations": [n1, n1],
                "E - E_bias - E_ref (meV/f.u.)": E, "converged": True, "state": state}
    release = [rel("a2a2", 1.0, 2.0, 400.0), rel("a2a2", 0.5, 1.8, 200.0), rel("a2a2", 0.25, 1.6, 100.0),
               rel("b2b2", 1.0, 2.05, 900.0), rel("b2b2", 0.5, 1.75, 500.0),
               rel("b2b2", 0.1, 1.3, 12.0, "unpolarized"), rel("b2b2", 0.0, 1.3, 0.0, "unpolarized")]
    # b2b2 covers n1 1.75-2.05, a2a2 1.6-2.0: common grid 1.8, 1.9, 2.0; b2b2 at 1.8 is 500 + 400 * 0.05 / 0.3
    line, = afo_dftu_findings.control_findings(release)
    assert line == (f"- Start b2b2 ({P}) against the a2a2 control at equal occupation, while both hold their order: "
                    "+367 at $n_1$ = 1.8, +400 at $n_1$ = 1.9, +433 at $n_1$ = 2 meV/f.u.")
    # equal bias strength would have said +500 at lambda = 1 eV: the 0.05 more occupation of b2b2 costs 67 of it
    line, = afo_dftu_findings.control_findings([r for r in release if r["start"] != "a2a2" or r["lambda (eV)"] < 1])
    assert "+367 at $n_1$ = 1.8" in line and "$n_1$ = 1.9" not in line
    far = [rel("a2a2", 1.0, 1.5, 50.0), rel("a2a2", 0.5, 1.4, 20.0)] + release[3:]
    assert afo_dftu_findings.control_findings(far)[0].endswith("no common occupation ($n_1$ 1.75–2.05 against 1.40–1.50).")


def test_the_verdict_box_line_gives_the_range_of_the_control_margins_and_whether_any_reaches_the_gain():
    """The summary of the equal-occupation comparisons: the range over starts and protocols of the main reading, the
    comparisons at or below the paper's gain named (the line could say either), the other readings left out."""
    P, Q4 = "annealed from 6 eV, bias on a, b, c", "annealed from 4 eV, bias on a, b, c, spin-polarized"
    def rel(start, lam, n1, E, protocol=P, reading="energy order"):
        return {"start": start, "protocol": protocol, "lambda (eV)": lam, "largest natural occupations": [n1, n1],
                "E - E_bias - E_ref (meV/f.u.)": E, "converged": True, "state": "FO", "reading": reading}
    release = [rel("a2a2", 1.0, 2.0, 400.0), rel("a2a2", 0.5, 1.8, 200.0),
               rel("b2b2", 1.0, 2.0, 700.0), rel("b2b2", 0.5, 1.8, 450.0),
               rel("a2a2", 1.0, 1.7, 300.0, Q4), rel("a2a2", 0.5, 1.5, 100.0, Q4),
               rel("c2c2", 1.0, 1.7, 350.0, Q4), rel("c2c2", 0.5, 1.5, 150.0, Q4),
               rel("b2c2", 1.0, 1.2, 90.0, Q4), rel("b2c2", 0.5, 1.1, 50.0, Q4),
               rel("b2c2", 1.0, 2.0, -900.0, P + ", local octahedral frame reading", "local octahedral frame"),
               rel("b2c2", 0.5, 1.8, -900.0, P + ", local octahedral frame reading", "local octahedral frame")]
    line = afo_dftu_findings.control_line(release + [rel("high-spin AFM", 1.0, 1.6, -50.0, Q4), rel("high-spin AFM", 0.5, 1.5, -50.0, Q4)],
                                          100.0)
    assert "changes the energy by +50 to +300 meV/f.u. over 2 starts in 2 protocols" in line and "AFM" not in line
    assert "the paper's gain needs -100 or lower: reached by none" in line and "-900" not in line
    assert line.endswith(f"No common occupation with the control: b2c2 ({Q4}).")
    low = [dict(r, **{"E - E_bias - E_ref (meV/f.u.)": r["E - E_bias - E_ref (meV/f.u.)"] - 500})
           if r["start"] == "c2c2" else r for r in release]
    assert f"reached by c2c2 ({Q4}, -450)" in afo_dftu_findings.control_line(low, 100.0)
    assert afo_dftu_findings.control_line([r for r in release if r["start"] != "a2a2"], 100.0) == ""


def test_biased_orders_are_ranked_at_equal_occupation_and_another_reading_takes_the_main_readings_control():
    """FO and AFO configurations are ranked where both hold the same occupation; against the mean of b2b2 and
    c2c2 the b-c level splitting cancels, and that comparison decides which order is lower; a start of another
    reading is measured against the a2a2 control of the same protocol in the main reading."""
    P = "annealed from 6 eV, bias on a, b, c"
    def rel(start, lam, n1, E, protocol=P, ok=True):
        return {"start": start, "protocol": protocol, "main-reading protocol": P, "lambda (eV)": lam,
                "largest natural occupations": [n1, n1], "E - E_bias - E_ref (meV/f.u.)": E, "converged": ok}
    release = [rel("b2b2", 1.0, 2.0, 900), rel("b2b2", 0.5, 1.8, 500), rel("b2c2", 1.0, 2.0, 1000),
               rel("b2c2", 0.5, 1.8, 560), rel("b2c2", 0.25, 1.5, 100, ok=False),
               rel("a2a2", 1.0, 2.0, 450), rel("a2a2", 0.5, 1.8, 190),
               rel("b2c2", 1.0, 2.0, 440, P + ", local octahedral frame reading"),
               rel("b2c2", 0.5, 1.8, 200, P + ", local octahedral frame reading")]
    line, = afo_dftu_findings.ranking_findings(release)
    assert line.startswith(f"- Ranking of the biased configurations ({P}), at equal occupation: E(b2c2) − E(lowest FO, "
                           "b2b2) = +60, +80, +100 meV/f.u. at $n_1$ = 1.8, 1.9, 2") and "the FO is the lower order" in line
    # with c2c2 the AFO is measured against the mean of the two FO: here 560 - (500 + 700) / 2 = -40 at $n_1$ = 1.8 and
    # 1000 - (900 + 1300) / 2 = -100 at 2.0: the AFO below the mean though b2b2 alone lies below it
    line, = afo_dftu_findings.ranking_findings(release + [rel("c2c2", 1.0, 2.0, 1300), rel("c2c2", 0.5, 1.8, 700)])
    assert "+60, +80, +100 meV/f.u." in line and "-40, -70, -100 meV/f.u. at $n_1$ = 1.8, 1.9, 2" in line
    assert "depends on the occupation or on the b–c level splitting" in line and "the AFO is the lower order" not in line
    # with c2c2 lying low enough that both comparisons put the AFO below, the AFO is the lower order
    low = [rel("b2c2", 1.0, 2.0, 1000), rel("b2c2", 0.5, 1.8, 560), rel("b2b2", 1.0, 2.0, 1100), rel("b2b2", 0.5, 1.8, 600),
           rel("c2c2", 1.0, 2.0, 1300), rel("c2c2", 0.5, 1.8, 700)]
    line, = afo_dftu_findings.ranking_findings(low)
    assert "= -40, -70, -100 meV/f.u." in line and "the AFO is the lower order" in line
    # an AFO that keeps its order on both W at one bias strength only is said so, not ranked
    line, = afo_dftu_findings.ranking_findings(low[2:] + [low[0], dict(low[1], state="partly polarized")])
    assert "holds an order on both W at one bias strength only ($n_1$ 2.00 only" in line
    lines = afo_dftu_findings.control_findings(release)
    assert f"- Start b2c2 ({P}, local octahedral frame reading) against the a2a2 control at equal occupation, while " \
           "both hold their order: +10 at $n_1$ = 1.8, +0 at $n_1$ = 1.9, -10 at $n_1$ = 2 meV/f.u." in lines


def test_a_protocol_in_another_reading_targets_and_reads_its_own_orbitals(monkeypatch):
    P, _ = np.linalg.qr(np.random.default_rng(9).normal(size=(5, 5)))       # the other reading's a, b, c, ...
    proto = {"U_grid": [6.0, 3.0], "release": [1.0, 0.0], "subspace": True, "reading": "local octahedral frame",
             "starts": ["b2c2"], "maxiter": [80, 200]}
    monkeypatch.setitem(afo_dftu_plans.SETTINGS, "test", {"annealed": [proto]})
    with pytest.raises(ValueError, match="reading='local octahedral frame'"):
        afo_dftu_plans.annealed_jobs("test", Q, [0, 1])
    jobs = afo_dftu_plans.annealed_jobs("test", {"energy order": Q, "local octahedral frame": P}, [0, 1])
    assert jobs[0]["protocol"] == "annealed from 6 eV, bias on a, b, c, local octahedral frame reading"
    assert jobs[0]["main-reading protocol"] == "annealed from 6 eV, bias on a, b, c"     # where its control is found
    assert np.allclose(jobs[0]["targets"][0]["both"][0], P[:, 1]) and np.allclose(jobs[0]["targets"][1]["both"][0], P[:, 2])
    # its state is read in its own a, b, c: P's b filled on W1 and c on W2 is an AFO of b and c there
    b, c = P[:, 1], P[:, 2]
    made = [jobs[0] | {"result": _annealed({6.0: (_site(b), _site(c)), 3.0: (_flat(), _flat())}, {6.0: -8.3, 3.0: -10.0})}]
    rows = afo_dftu_states.state_table(afo_dftu_states.annealed_steps(made), [0, 1], Q, n_fu=2)
    at6 = next(r for r in rows if r["U (eV)"] == 6.0)
    assert at6["state"] == "AFO" and at6["W1 filled (a, b, c)"] == "0.00, 1.00, 0.00" and at6["b + c in filled orbitals"] > 0.99
    # at 3 eV it ends in the unbiased state, whose filled orbital is read in this reading's a, b, c
    ref = {"spin": "restricted", "U_grid": [3.0], "reading": "energy order", "state": "unbiased", "protocol": "annealed from 6 eV",
           "result": {"steps": [made[0]["result"]["steps"][-1]]}}
    rows = afo_dftu_states.state_table(afo_dftu_states.annealed_steps(made + [ref]), [0, 1], Q, n_fu=2)
    lines = afo_dftu_findings.reference_findings(rows, n_fu=2)
    assert any(line.startswith("- In the local octahedral frame reading the unpolarized state's filled orbital") for line in lines)


def test_step_iteration_caps_two_and_three_part_forms():
    """[release, last] keeps every step but the last at the first cap; [release, annealing, last] gives
    the unbiased steps at lower U_eff their own cap."""
    from helpers.dft.gpaw_job.dftu import step_maxiter
    assert [step_maxiter([60, 200], r, l) for r, l in ((True, False), (False, False), (False, True))] == [60, 60, 200]
    assert [step_maxiter([60, 150, 200], r, l) for r, l in ((True, False), (False, False), (False, True))] == [60, 150, 200]


def test_a_verdict_that_changes_with_the_polarization_threshold_is_undetermined():
    """The threshold on n1 - n2 that calls a W polarized is a choice of ours: a claim whose outcome differs at
    another threshold is undetermined, with each threshold's outcome named; one that agrees keeps its verdict."""
    b, c = Q[:, 1], Q[:, 2]
    n = 0.8 * np.eye(5) + 0.25 * np.outer(b, b)       # b at 1.05 against 0.8: n1 - n2 = 0.25, between the thresholds
    weak = ((0.5 * n).tolist(), (0.5 * n).tolist())
    every = {"unbiased": _result(_flat(), _flat(), -10.0), "b2c2": _released(_flat(), _flat(), -10.0),
             "c2b2": _released(_flat(), _flat(), -10.0), "b2b2": _released(weak, weak, -10.4),
             "c2c2": _released(_flat(), _flat(), -10.0)}
    table = lambda g: afo_dftu_states.state_table(_jobs(every), [0, 1], Q, 2, gap_min=g)     # noqa: E731
    by = {g: afo_dftu_verdicts.claim_verdict(afo_dftu_verdicts.verdicts(table(g), 100.0), "polarization gain") for g in (0.2, 0.3)}
    assert by[0.2].startswith("reproduced") and by[0.3].startswith("not reproduced")
    checks = {0.2: {"polarization gain": by[0.2]}}
    v = afo_dftu_verdicts.robust_claim_verdict(afo_dftu_verdicts.verdicts(table(0.3), 100.0), "polarization gain", checks)
    assert v.startswith("undetermined (flips with the polarization threshold") and "reproduced at n1 − n2 ≥ 0.2" in v
    assert afo_dftu_verdicts.robust_claim_verdict(afo_dftu_verdicts.verdicts(table(0.3), 100.0), "polarization gain",
                                                  {0.4: {"polarization gain": by[0.3]}}) == by[0.3]
    # the residual a capped step may end with is a choice of ours too: read again with GPAW's own flag alone
    strict = {branch_steps.RESIDUAL_STRICT_LOG10: {"polarization gain": by[0.2], "AFO lowest": "undetermined (x)"}}
    v = afo_dftu_verdicts.robust_claim_verdict(afo_dftu_verdicts.verdicts(table(0.3), 100.0), "polarization gain", None, strict)
    assert v.startswith("undetermined (flips with the density residual") and "reproduced at log10 residual ≤ -5" in v
    text = afo_dftu_verdicts.threshold_findings(afo_dftu_verdicts.verdicts(table(0.3), 100.0), {}, strict)
    assert text.startswith("- With a step stopped at its cap counted only when GPAW converged it") and \
        "the verdict changes for: polarization gain;" in text
    same = afo_dftu_verdicts.threshold_findings(afo_dftu_verdicts.verdicts(table(0.3), 100.0), {},
                                                {-5.0: {"polarization gain": "not reproduced (z)", "AFO lowest": "undetermined (y)"}})
    assert "each claim's outcome is the same" in same
    # a decided outcome resting on other evidence under the strict rule: what it then rests on is named
    assert "Under that rule the evidence changes — polarization gain: z." in same
    assert "the verdict changes for: polarization gain" in afo_dftu_verdicts.threshold_findings(afo_dftu_verdicts.verdicts(table(0.3), 100.0), checks
                                                                                                | {0.2: {"polarization gain": by[0.2], "AFO lowest": "undetermined (x)"}})
    # with the state table, how many b/c rows the threshold cannot move (the unbiased state itself) is said
    rows = table(0.3)
    n_same = sum(bool(r.get("= unbiased state")) for r in rows if r["start"] in afo_dftu_plans.ORDERED_STARTS)
    assert n_same == 3                              # b2c2, c2b2, c2c2 fell back; the weakly polarized b2b2 did not
    text = afo_dftu_verdicts.threshold_findings(afo_dftu_verdicts.verdicts(rows, 100.0), {0.4: {"polarization gain": by[0.3], "AFO lowest": "undetermined (x)"}},
                                                None, rows)
    assert "(3 of the 4 b/c rows are the unbiased state itself" in text and "move only the other 1)" in text


def test_continuation_below_a_fall_back_carries_nothing_and_a_capped_step_counts_only_by_the_residual_rule():
    """verdicts() marks the rows below a release where every b/c start had already fallen back as carrying
    nothing ordered; and a step stopped at its cap with a residual of 10^-4.5 counts as converged by our rule
    but not when the residuals are withheld (GPAW's own flag alone, as the strict re-reading does)."""
    flat = (_flat(), _flat())
    jobs = [{"spin": "restricted", "U_grid": [6.0, 3.0], "reading": "energy order", "state": s,
             "result": _annealed({6.0: flat, 3.0: flat}, {6.0: -8.0, 3.0: -10.0}, biased=s != "unbiased")}
            for s in ("unbiased", "b2c2")]
    v = afo_dftu_verdicts.verdicts(afo_dftu_states.state_table(afo_dftu_states.annealed_steps(jobs), [0, 1], Q, 2), 100.0)
    at3 = [x for x in v if x["U (eV)"] == 3.0]
    assert at3 and all(x["by continuation"] and x["carried ordered"] is False for x in at3)
    capped = _jobs({"unbiased": _result(_flat(), _flat(), -10.0)})[0]
    capped["result"]["steps"][-1]["converged"] = False
    ours = afo_dftu_states.state_table([dict(capped, residuals=[(-4.5, True)])], [0, 1], Q, 2)
    strict = afo_dftu_states.state_table([dict(capped, residuals=[])], [0, 1], Q, 2)
    assert ours[0]["converged"] and not strict[0]["converged"]


def test_an_occupation_curve_stops_where_energy_is_no_longer_one_function_of_occupation():
    """occupation_curve follows a release in order of decreasing bias: it stops before an unconverged biased
    step (the state may have changed across it, so it is not bridged) and before a step whose n1 rises again
    (E would then take two values at one n1); the unpolarized end is left out but does not stop it."""
    def rel(lam, n1, E, ok=True, state="FO"):
        return {"start": "b2b2", "protocol": "p", "lambda (eV)": lam, "largest natural occupations": [n1, n1],
                "E - E_bias - E_ref (meV/f.u.)": E, "converged": ok, "state": state}
    clean = [rel(1.0, 2.0, 900), rel(0.5, 1.8, 500), rel(0.25, 1.6, 200), rel(0.1, 1.2, 10, state="unpolarized")]
    n, E = afo_dftu_states.occupation_curve(clean, "b2b2", "p")
    assert list(n) == [1.6, 1.8, 2.0] and list(E) == [200, 500, 900]
    gap = [rel(1.0, 2.0, 900), rel(0.5, 1.8, 500, ok=False), rel(0.25, 1.6, 200)]
    n, _ = afo_dftu_states.occupation_curve(gap, "b2b2", "p")
    assert list(n) == [2.0]
    # a step where one W has lost its order ends the curve: its mean n1 mixes an ordered and an unpolarized W
    broken = [rel(1.0, 2.0, 900), rel(0.5, 1.5, 300, state="partly polarized"), rel(0.25, 1.45, 200)]
    n, _ = afo_dftu_states.occupation_curve(broken, "b2b2", "p")
    assert list(n) == [2.0]
    back = [rel(1.0, 2.0, 900), rel(0.5, 1.7, 500), rel(0.25, 1.85, 300), rel(0.1, 1.6, 100)]
    n, E = afo_dftu_states.occupation_curve(back, "b2b2", "p")
    assert list(n) == [1.7, 2.0] and list(E) == [500, 900]


def test_the_equal_occupation_figure_draws_the_papers_line_below_the_control_and_skips_thin_protocols():
    """plot_occupation draws each ordered start of a protocol against n1, and the control lowered by the
    paper's gain where the claim puts b^2 and c^2; a protocol with fewer than two starts holding two ordered
    steps is not one occupation_protocols offers."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    P = "annealed from 6 eV, bias on a, b, c"
    def rel(start, lam, n1, E, protocol=P):
        return {"start": start, "protocol": protocol, "lambda (eV)": lam, "largest natural occupations": [n1, n1],
                "E - E_bias - E_ref (meV/f.u.)": E, "converged": True, "state": "FO"}
    release = [rel("a2a2", 1.0, 2.0, 400.0), rel("a2a2", 0.5, 1.8, 200.0), rel("b2b2", 1.0, 2.05, 900.0),
               rel("b2b2", 0.5, 1.75, 500.0), rel("b2c2", 1.0, 2.0, 1000.0, "other"), rel("b2c2", 0.5, 1.8, 500.0, "other")]
    assert afo_dftu_figures.occupation_protocols(release) == [P]
    fig, ax = plt.subplots()
    assert afo_dftu_figures.plot_occupation(ax, release, P, gain_meV=100.0)
    lines = {l.get_label(): l for l in ax.get_lines()}
    paper = lines["control − the paper's gain"]
    assert list(paper.get_xdata()) == [1.8, 2.0] and list(paper.get_ydata()) == [100.0, 300.0]
    assert list(lines["b2b2"].get_ydata()) == [500.0, 900.0]
    assert list(lines["the paper's gain below the unpolarized state"].get_ydata()) == [-100.0, -100.0]
    assert "b2c2" not in lines                                       # another protocol's start is not drawn here
    fig2, ax2 = plt.subplots()
    assert not afo_dftu_figures.plot_occupation(ax2, release, "absent")
    plt.close(fig); plt.close(fig2)


def test_the_ferro_orbital_energy_over_the_b_c_plane_has_its_lowest_value_from_three_orbitals():
    """E(t) = A + B cos 2t + C sin 2t: with E(b) = 300, E(c) = 500 and E(d) = 250 (d at 45 degrees) against a
    control at 0, A = 400, B = -100, C = -150 and the lowest value 400 - sqrt(100^2 + 150^2) = 219.7 lies at
    2t = atan2(150, 100), t = 28.2 degrees from b toward c."""
    def rel(start, lam, n1, E):
        return {"start": start, "protocol": "p", "lambda (eV)": lam, "largest natural occupations": [n1, n1],
                "E - E_bias - E_ref (meV/f.u.)": E, "converged": True, "state": "FO"}
    release = [rel(s, lam, n, E + (n - 1.8) * 1000) for s, E in (("b2b2", 300), ("c2c2", 500), ("d2d2", 250), ("a2a2", 0))
               for lam, n in ((1.0, 2.0), (0.5, 1.8))]
    line, = afo_dftu_findings.plane_findings(release)
    assert "+220 at $n_1$ = 1.8 (θ = 28°)" in line and "+220 at $n_1$ = 1.9 (θ = 28°)" in line
    assert afo_dftu_findings.plane_findings([r for r in release if r["start"] != "d2d2"]) == []


def test_a_reading_that_relabels_the_orbitals_reads_the_same_configurations_and_says_what_its_order_means():
    """A reading whose a, b, c are energy order's b, a, c (the continuity reading of the relaxed layer) needs no
    new state: its b^2 - a^2 is energy order's a^2 - b^2 at equal occupation. Where its lowest level is b, b^2
    below a^2 is the crystal-field order, said so; a reading of other orbitals is not a relabelling."""
    R, _ = np.linalg.qr(np.random.default_rng(3).normal(size=(5, 5)))
    readings_ = {"energy order": {"orbitals": R, "energies_eV": [0.523, 0.62, 0.739]},
                 "continuity from 1T": {"orbitals": R[:, [1, 0, 2, 3, 4]] * [1, -1, 1, 1, 1],
                                        "energies_eV": [0.62, 0.523, 0.739]},
                 "rotated": {"orbitals": np.linalg.qr(np.random.default_rng(4).normal(size=(5, 5)))[0]}}
    relabel = afo_dftu_readings.relabellings(readings_)
    assert list(relabel) == ["continuity from 1T"] and relabel["continuity from 1T"]["map"] == {"a": "b", "b": "a", "c": "c"}

    def rel(start, lam, n1, E):
        return {"start": start, "protocol": "p", "lambda (eV)": lam, "largest natural occupations": [n1, n1],
                "E - E_bias - E_ref (meV/f.u.)": E, "converged": True, "state": "FO"}
    release = [rel(s, lam, n, E + (n - 1.8) * 1000) for s, E in (("b2b2", 300), ("c2c2", 480), ("a2a2", 0))
               for lam, n in ((1.0, 2.0), (0.5, 1.8))]
    x, = afo_dftu_readings.relabelled(release, relabel)
    assert x["b2 - a2"] == pytest.approx([-300, -300, -300]) and x["c2 - a2"] == pytest.approx([180, 180, 180])
    line, = afo_dftu_readings.relabelled_findings(release, relabel, 100.0)
    assert "Below a² by the paper's gain (100 meV/f.u.) at every occupation: b²." in line
    assert "b is the lowest level" in line and "crystal-field order" in line
    assert "b² − a² = -300 to -300" in afo_dftu_readings.reading_line(release, relabel)
    assert afo_dftu_readings.reading_line(release, {}) == ""


def test_every_reason_the_verdicts_give_for_an_undecided_protocol_has_a_kind():
    """The first clause of each undecided reason helpers.rungs.afo.dftu.verdicts.verdicts writes falls under one REASON_KINDS entry, so the verdict
    line never blends what is missing with what the states show."""
    whys = ["in this reading the unpolarized reference already fills b and c (b + c = 0.93 in its filled orbital): x",
            "every decisive start computed, but a release was not controlled or a start ended unconverged: x",
            "FO state from b2b2 at -150 meV/f.u., but against no converged reference that fills neither b nor c",
            "not every b/c pattern started (lowest so far: FO from b2b2, +300 meV/f.u.)",
            "a release was not controlled or a start ended unconverged: the states to rank are not all known",
            "only FO states of b or c survive the release: nothing to rank them against",
            "no ordered state of b or c survives the release: nothing to compare",
            "FO and AFO patterns not all started"]
    said = afo_dftu_verdicts.open_reasons([{"evidence": f"{w}; starts tried: b2b2"} for w in whys])
    groups = said.split("; ")
    assert all(": " in g and g.split(": ")[0] in afo_dftu_verdicts.REASON_KINDS for g in groups), said
    assert said.startswith("the reading: in this reading") or "the solver: every decisive start" in said
    assert "the computed states: only FO states of b or c survive the release, no ordered state of b or c survives the release" in said


def test_a_state_ordered_in_a_is_the_reference_the_gain_is_measured_from():
    """The claim compares b^2 with a^2: where a converged state ordered in a exists (the a2a2 control released at
    8 eV, with the unbiased SCF stalled), energies are measured from it, and it gives the verdict the converged
    reference it otherwise lacks; an FO of b 0.2 eV per cell below a stalled SCF but 0.1 above a^2 is no gain."""
    a, b = Q[:, 0], Q[:, 1]
    stalled = _result(_flat(), _flat(), -10.0)
    stalled["steps"][0]["converged"] = False
    rows = afo_dftu_states.state_table(_jobs({"unbiased": stalled, "a2a2": _result(_site(a), _site(a), -10.3),
                                              "b2b2": _result(_site(b), _site(b), -10.2)}), [0, 1], Q, 2)
    by = {r["start"]: r for r in rows}
    assert by["a2a2"]["state"] == "FO" and afo_dftu_states._a_ordered(by["a2a2"]) and not afo_dftu_states._a_ordered(by["b2b2"])
    assert by["a2a2"]["ΔE (meV/f.u.)"] == pytest.approx(0.0) and by["b2b2"]["ΔE (meV/f.u.)"] == pytest.approx(50.0)
    v = {x["claim"]: x for x in afo_dftu_verdicts.verdicts(rows, 100.0)}
    assert "no converged reference" not in v["polarization gain"]["evidence"]
    assert v["polarization gain"]["outcome"] != "reproduced"


def test_a_fall_back_counts_as_released_only_when_the_bias_itself_let_the_order_go():
    """release_controlled: order lost under the bias is a controlled release; order held to the last bias and lost only
    in the unbiased SCF is not (one SCF may step over a shallow minimum); order lost later, by continuation to a
    smaller U, is not the release's; a last drop from above RELEASE_LAST_MAX is a jump; a step short of convergence
    spoils it."""
    from helpers.dft import branch_steps
    from helpers.rungs.afo.dftu import figures as afo_dftu_figures
    from helpers.rungs.afo.dftu import findings as afo_dftu_findings
    from helpers.rungs.afo.dftu import page as afo_dftu_page
    from helpers.rungs.afo.dftu import plans as afo_dftu_plans
    from helpers.rungs.afo.dftu import readings as afo_dftu_readings
    from helpers.rungs.afo.dftu import states as afo_dftu_states
    from helpers.rungs.afo.dftu import verdicts as afo_dftu_verdicts
    step = lambda U, lam, order, conv=True: {"U_eV": U, "lambda_eV": lam, "order": order, "converged": conv}  # noqa: E731
    ordered = lambda s: s["order"]                                                                              # noqa: E731
    lost_biased = {"steps": [step(6, 1.0, True), step(6, 0.25, True), step(6, 0.1, False), step(6, 0.0, False)]}
    assert afo_dftu_states.release_controlled(lost_biased, [], ordered) == (True, False)
    held = {"steps": [step(6, 1.0, True), step(6, 0.1, True), step(6, 0.05, True), step(6, 0.0, False)]}
    assert afo_dftu_states.release_controlled(held, [], ordered) == (False, True)
    survived_then_annealed_away = {"steps": [step(6, 1.0, True), step(6, 0.05, True), step(6, 0.0, True),
                                             step(5, 0.0, False)]}
    assert afo_dftu_states.release_controlled(survived_then_annealed_away, [], ordered) == (True, False)
    jump = {"steps": [step(6, 1.0, False), step(6, 0.3, False), step(6, 0.0, False)]}
    assert afo_dftu_states.release_controlled(jump, [], ordered) == (False, False)
    stalled = {"steps": [step(6, 1.0, True), step(6, 0.1, False, conv=False), step(6, 0.0, False)]}
    assert afo_dftu_states.release_controlled(stalled, [], ordered)[0] is False
    assert afo_dftu_states.release_controlled({"steps": [step(6, 0.0, False)]}, [], ordered) == (None, False)


def test_fo_and_afo_are_ranked_in_a_reading_without_a_reference_that_fills_neither_b_nor_c():
    """In a reading where every state fills b and c (no a^2 reference, and here the unbiased SCF did not
    converge either) the gain is undetermined, but a converged FO and a converged AFO of that reading can still
    be ranked: the lower one decides 'AFO lowest'."""
    P = Q.copy()
    P[:, 0], P[:, 1], P[:, 2] = Q[:, 1], (Q[:, 2] - Q[:, 0]) / 2**0.5, (Q[:, 2] + Q[:, 0]) / 2**0.5
    b, c = P[:, 1], P[:, 2]
    stalled = _result(_flat(), _flat(), -10.0)
    stalled["steps"][-1]["converged"] = False
    for E_afo, outcome in ((-10.3, "reproduced"), (-10.1, "not reproduced")):
        jobs = [{"spin": "restricted", "U_eV": 3.0, "reading": "energy order", "state": "unbiased", "protocol": "p",
                 "result": stalled}]
        jobs += [{"spin": "restricted", "U_eV": 3.0, "reading": "local octahedral frame", "orbitals": P, "state": st,
                  "protocol": "p", "result": _released(w1, w2, E)}
                 for st, w1, w2, E in (("b2c2", _site(b), _site(c), E_afo), ("b2b2", _site(b), _site(b), -10.2))]
        rows = afo_dftu_states.state_table(jobs, [0, 1], Q, 2)
        assert {r["start"]: r["state"] for r in rows} == {"unbiased": "unpolarized", "b2c2": "AFO", "b2b2": "FO"}
        v = {x["claim"]: x for x in afo_dftu_verdicts.verdicts(rows, 100.0)}
        assert v["AFO lowest"]["outcome"] == outcome, v["AFO lowest"]["evidence"]
        assert v["polarization gain"]["outcome"] == "undetermined"


def test_a_mixed_state_is_named_by_the_reading_in_which_it_is_a_clean_order():
    """Filled orbitals b' + 0.23 c' on W1 and c' + 0.23 b' on W2 of a reading P (as the 8 eV state: 0.95 of one
    letter each) overlap by 0.44, above AFO_MAX: 'mixed' whatever the reading; in P each W is one letter (b', c'):
    that reading's AFO. A state clean in no reading says so."""
    P = Q.copy()
    P[:, 0], P[:, 1], P[:, 2] = Q[:, 1], (Q[:, 2] - Q[:, 0]) / 2**0.5, (Q[:, 2] + Q[:, 0]) / 2**0.5
    v1 = P[:, 1] + 0.23 * P[:, 2]
    v2 = P[:, 2] + 0.23 * P[:, 1]
    v1, v2 = v1 / np.linalg.norm(v1), v2 / np.linalg.norm(v2)
    rec = {"state": "c2c2", "protocol": "p", "result": _result(_site(v1), _site(v2), -10.3)}
    assert afo_dftu_states.step_state(rec["result"]["steps"][-1], [0, 1])["kind"] == "mixed"
    found = afo_dftu_readings.reading_identities([rec], [0, 1], {"energy order": Q, "local octahedral frame": P})
    assert list(found[0]["readings"]) == ["local octahedral frame"]
    assert found[0]["readings"]["local octahedral frame"][0::2] == ("b", "c")
    ctrl = {"start": "a2a2", "protocol": "p", "U (eV)": 3.0, "converged": True, "E_eV": -10.2, "state": "FO"}
    line, = afo_dftu_readings.identity_lines(found, [ctrl], 2)
    assert "local octahedral frame reading W1 fills b" in line and "that reading's AFO" in line
    assert "-50.0 meV/f.u. from the a2a2 start's FO state" in line
    w = (Q[:, 0] + Q[:, 1] + Q[:, 3]) / 3**0.5
    rec2 = {"state": "b2b2", "protocol": "p", "result": _result(_site(w), _site(v1), -10.0)}
    found2 = afo_dftu_readings.reading_identities([rec2], [0, 1], {"energy order": Q})
    assert found2 == [] or "in no reading" in afo_dftu_readings.identity_lines(found2, [], 2)[0]


def test_a_verdict_that_changes_with_the_afo_overlap_threshold_is_undetermined():
    b, c = Q[:, 1], Q[:, 2]
    every = {"unbiased": _result(_flat(), _flat(), -10.0), "b2c2": _result(_site(b), _site(c), -10.1),
             "c2b2": _result(_site(c), _site(b), -10.1), "b2b2": _result(_site(b), _site(b), -10.4),
             "c2c2": _released(_flat(), _flat(), -10.0)}
    v = afo_dftu_verdicts.verdicts(afo_dftu_states.state_table(_jobs(every), [0, 1], Q, 2), 100.0)
    assert afo_dftu_verdicts.robust_claim_verdict(v, "AFO lowest").startswith("not reproduced")
    same = {a: {"AFO lowest": "not reproduced (x)", "polarization gain": "reproduced (y)"} for a in afo_dftu_findings.AFO_CHECKS}
    assert afo_dftu_verdicts.robust_claim_verdict(v, "AFO lowest", overlap_checks=same).startswith("not reproduced")
    flip = {**same, afo_dftu_findings.AFO_CHECKS[-1]: {"AFO lowest": "reproduced (z)", "polarization gain": "reproduced (y)"}}
    out = afo_dftu_verdicts.robust_claim_verdict(v, "AFO lowest", overlap_checks=flip)
    assert out.startswith("undetermined (flips with the largest W1–W2 overlap read as AFO") and "reproduced at overlap ≤ 0.5" in out
    assert "the verdict changes for: AFO lowest" in afo_dftu_verdicts.threshold_findings(v, {}, None, [], flip)
    # the flip keeps what the verdict rests on at the page's thresholds
    assert "; at the page's thresholds: not reproduced (" in out
    # the FO threshold: the room the ordered states' overlaps leave for it, or its absence, is said
    rows = [{"start": "b2b2", "U (eV)": 3.0, "protocol": "p", "state": s_, "overlap W1-W2": o}
            for s_, o in (("mixed", 0.55), ("FO", 0.97), ("AFO", 0.1))]
    assert "at most 0.55 (mixed) or at least 0.97 (FO)" in afo_dftu_verdicts.threshold_findings(v, {}, None, rows, same)
    assert "The FO threshold" not in afo_dftu_verdicts.threshold_findings(v, {}, None, rows[1:], same)


def test_the_gain_is_not_judged_in_a_reading_whose_a_is_not_the_lowest_level():
    """Where a lies above b or c (the local octahedral frame), filling b instead of a is that reading's crystal-field
    order: the gain there is undetermined whatever the energies, and the main reading is judged as before."""
    b, c = Q[:, 1], Q[:, 2]
    every = {"unbiased": _result(_flat(), _flat(), -10.0), "b2c2": _result(_site(b), _site(c), -10.3),
             "b2b2": _released(_flat(), _flat(), -10.0), "c2c2": _released(_flat(), _flat(), -10.0)}
    rows = afo_dftu_states.state_table(_jobs(every), [0, 1], Q, 2)
    gain = lambda v: next(x for x in v if x["claim"] == "polarization gain")   # noqa: E731
    assert gain(afo_dftu_verdicts.verdicts(rows, 100.0))["outcome"] == "reproduced"
    assert gain(afo_dftu_verdicts.verdicts(rows, 100.0, {"energy order": True}))["outcome"] == "reproduced"
    other = gain(afo_dftu_verdicts.verdicts(rows, 100.0, {"energy order": False}))
    assert other["outcome"] == "undetermined" and "a is not the lowest on-site level" in other["evidence"]


def test_an_unbiased_start_is_read_in_the_main_reading_whatever_its_protocols_reading():
    """The unbiased SCF has no target: its state is the reference of every protocol at its spin treatment and U, so it
    is read in the main reading (read in another, its b + c weight would make it a b/c-polarized state for the others)."""
    P = np.roll(Q, 1, axis=1)
    jobs = afo_dftu_plans.annealed_jobs("paper", {"energy order": Q, "local octahedral frame": P,
                                                  "continuity from 1T": Q}, [0, 1])
    msr1 = [j for j in jobs if j["protocol"].startswith("annealed from 8 eV") and "MSR1" in j["protocol"]]
    assert {j["state"]: j["reading"] for j in msr1} == {"unbiased": "energy order", "b2c2": "local octahedral frame",
                                                       "b2b2": "local octahedral frame"}
    assert np.allclose(next(j for j in msr1 if j["state"] == "unbiased")["orbitals"], Q)


def test_the_window_line_sorts_decided_releases_by_the_calibrated_window():
    """Only verdicts decided where the bias was released count; each is placed inside or outside the U_eff window
    GPAW's U corresponds to; nothing decided or no window: no line."""
    v = [{"claim": "polarization gain", "outcome": "not reproduced", "spin": "polarized", "U (eV)": 4.0},
         {"claim": "polarization gain", "outcome": "not reproduced", "spin": "restricted", "U (eV)": 6.0},
         {"claim": "polarization gain", "outcome": "not reproduced", "spin": "restricted", "U (eV)": 6.0},
         {"claim": "polarization gain", "outcome": "not reproduced", "spin": "restricted", "U (eV)": 3.0,
          "by continuation": True},
         {"claim": "AFO lowest", "outcome": "undetermined", "spin": "restricted", "U (eV)": 5.0}]
    line = afo_dftu_findings.window_line(v, (3.3, 5.8), 3.0)
    assert "inside that window: polarization gain: polarized at 4 eV (not reproduced); outside it: polarization gain: " \
           "restricted at 6 eV (not reproduced)." in line
    assert "at 3 eV" not in line                      # a continuation carries a release's verdict, it decides nothing
    assert afo_dftu_findings.window_line(v, None, 3.0) == "" and afo_dftu_findings.window_line(v[-1:], (3.3, 5.8), 3.0) == ""
