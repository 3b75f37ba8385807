"""helpers.rungs.valence.dftu: the starts of the DFT+U annealing on the 1T layer and how its states are read,
on a 1T WTe2 built by ASE and on made-up occupation matrices (no GPAW)."""
import numpy as np
import pytest
from ase.build import mx2

from helpers.dft.occupation_control import check_targets
from helpers.rungs.valence import verdicts as valence_verdicts
from helpers.rungs.valence.dftu import figures as valence_dftu_figures
from helpers.rungs.valence.dftu import findings as valence_dftu_findings
from helpers.rungs.valence.dftu import plans as valence_dftu_plans
from helpers.rungs.valence.dftu import readings as valence_dftu_readings
from helpers.rungs.valence.dftu import status as valence_dftu_status
from helpers.rungs.valence.dftu import steps as valence_dftu_steps
from helpers.rungs.valence.dftu import treatments as valence_dftu_treatments


@pytest.fixture(scope="module")
def one_t():
    a = mx2("WTe2", kind="1T", a=3.5, thickness=3.6, vacuum=8.0).repeat((2, 1, 1))
    a.pbc = (True, True, False)
    return a


def test_trigonal_orbitals_of_the_ideal_1T_site(one_t):
    """In an undistorted 1T layer a1g is the cell's z2 (the t2g combination along the layer normal),
    orthonormal to the rest, and equal on the two W (related by a translation)."""
    O = valence_dftu_plans.site_orbitals(one_t, [0, 3])
    for Q in O:
        assert np.allclose(Q.T @ Q, np.eye(5), atol=1e-8)
        assert abs(Q[2, 0]) == pytest.approx(1.0, abs=1e-6)
    assert abs(O[0][:, 0] @ O[1][:, 0]) == pytest.approx(1.0, abs=1e-6)


def test_every_start_is_a_valid_control_with_the_electrons_it_names(one_t):
    symbols = one_t.get_chemical_symbols()
    filled = {"d2 a1g² (spin 0)": (2, 2), "d2 eπ+² (spin 0)": (2, 2), "d2 eπ+² / eπ−² (spin 0)": (2, 2),
              "d0/d4 (spin 0)": (0, 4), "d2 high spin, FM": (2, 2), "d1/d3 (high spin, AFM)": (1, 3), "d2 high spin, AFM": (2, 2),
              "d1/d3 (a1g¹ / a1g² eπ¹, AFM)": (1, 3), "d3/d3 (high spin, AFM)": (3, 3), "d3/d3 (a1g² eπ¹, AFM)": (3, 3)}
    for j in valence_dftu_plans.jobs("paper", one_t):
        if j["targets"] is None:
            assert j["start"].startswith("unbiased")
            continue
        t = check_targets(j["targets"], symbols, j["spin"] == "polarized", j["magmoms"])
        n = [sum(v.shape[1] * (2 if s == "both" else 1) for s, v in t[a].items() if s != "subspace") for a in sorted(t)]
        assert tuple(n) == filled[j.get("check_of", j["start"])], j["start"]
        if j["spin"] == "polarized":      # the seeded moment is the targets' n_up - n_dn on each W
            assert [t[a]["up"].shape[1] - t[a]["dn"].shape[1] for a in sorted(t)] == \
                [j["magmoms"][a] for a in sorted(t)], j["start"]
        # the bias acts within each W's t2g shell
        assert all(t[a]["subspace"].shape[1] == 3 for a in t)
    assert [j["start"] for j in valence_dftu_plans.jobs("smoke", one_t)] == ["d2 a1g² (spin 0)"]
    with pytest.raises(ValueError, match="start='d3'"):
        valence_dftu_plans.start_targets("d3", valence_dftu_plans.site_orbitals(one_t, [0, 3]), [0, 3])


def _occ(n1, rest, moment=0.0):
    """Both spins of one W: natural orbital z2 with n1 electrons, the other four with `rest` each, and
    `moment` muB spread over the four."""
    n = np.diag([rest, rest, n1, rest, rest])
    m = np.diag([moment / 4, moment / 4, 0, moment / 4, moment / 4])
    return [(0.5 * n + 0.5 * m).tolist(), (0.5 * n - 0.5 * m).tolist()]


def _branch(start, spin, by_U):
    steps = [{"U_eV": U, "lambda_eV": 0.0, "energy_eV": E, "converged": True,
              "occupations": {"0": w1, "3": w2}} for U, (E, w1, w2) in by_U.items()]
    return {"start": start, "spin": spin, "result": {"steps": steps}}


def test_the_lowest_state_decides_each_part_at_each_U(one_t):
    """At 8 eV a disproportionated magnetic state is lowest (all three parts fail); at 3 eV the closed
    shell a1g^2 on both W is lowest (all hold). Energies per f.u. from the lowest state at each U."""
    closed = (_occ(1.9, 0.3), _occ(1.9, 0.3))
    disp = (_occ(1.2, 0.5, 0.6), _occ(1.9, 0.75, 0.6))
    branches = [_branch("d2 a1g² (spin 0)", "restricted", {8.0: (-10.0, *closed), 3.0: (-20.0, *closed)}),
                _branch("d1/d3 (high spin, AFM)", "polarized", {8.0: (-10.4, *disp), 3.0: (-19.9, *disp)})]
    rows = valence_dftu_steps.step_rows(branches, one_t, n_fu=2)
    assert len(rows) == 4
    r8 = [r for r in rows if r["U (eV)"] == 8.0 and r["start"].startswith("d2")][0]
    assert r8["ΔE (meV/f.u.)"] == pytest.approx(200.0) and r8["a1g weight of n1"][0] == pytest.approx(1.0)
    low = {x["U (eV)"]: x for x in valence_dftu_steps.lowest_states(rows)}
    a, b, c = valence_verdicts.VALENCE_PARTS
    assert low[8.0]["lowest"] == "d1/d3 (high spin, AFM)" and not low[8.0][a] and not low[8.0][b] and not low[8.0][c]
    assert low[8.0]["next state above (meV/f.u.)"] == pytest.approx(200.0)
    assert low[3.0]["lowest"] == "d2 a1g² (spin 0)" and low[3.0][a] and low[3.0][b] and low[3.0][c]
    # the spin-restricted reading stands beside it: among restricted states alone, at 8 eV the closed shell
    page = {"branches": branches, "rows": rows, "lowest": valence_dftu_steps.lowest_states(rows), "missing": [], "complete": True,
            "lowest restricted": valence_dftu_steps.lowest_states([r for r in rows if r["spin"] == "restricted"]),
            "U_last": 3.0, "read_at": [8.0, 3.0], "one_t": one_t}
    line = next(l for l in valence_dftu_findings.findings(page).splitlines() if "spin-restricted states alone" in l)
    assert "at 8 eV d2 a1g² (spin 0)" in line and "(a) holds, (b) imposed, (c) holds" in line
    # an unconverged step is not a candidate for the lowest state
    branches[0]["result"]["steps"][1]["converged"] = False
    low = {x["U (eV)"]: x for x in valence_dftu_steps.lowest_states(valence_dftu_steps.step_rows(branches, one_t, n_fu=2))}
    assert low[3.0]["lowest"] == "d1/d3 (high spin, AFM)"


def _hf_slope(occ):
    """dE/dU_eff of a state with these per-W occupations on both W (2 W x 2 spins x Tr[n - n n] / 2), eV per eV."""
    n = np.asarray(occ[0][0])
    return 2 * 2 * 0.5 * np.trace(n - n @ n)


def test_the_dftu_variant_waits_for_every_start_and_then_enters_all_three_parts(one_t):
    closed = (_occ(1.9, 0.3), _occ(1.9, 0.3))
    # annealed from 8 to 3 eV along one state (the Hellmann-Feynman slope): the annealing's own reading names it
    b = [_branch("d2 a1g² (spin 0)", "restricted", {8.0: (-10.0, *closed), 3.0: (-10.0 - 5 * _hf_slope(closed), *closed)})]
    rows = valence_dftu_steps.step_rows(b, one_t, n_fu=2)
    page = {"branches": b + [{"start": "d0/d4 (spin 0)", "result": None}], "rows": rows, "lowest": valence_dftu_steps.lowest_states(rows),
            "missing": ["d0/d4 (spin 0)"], "complete": False, "U_last": 3.0, "read_at": [3.0], "one_t": one_t}
    assert valence_dftu_status.variant(page) is None
    assert valence_dftu_status.status(page) == "not decided: 1 of 2 branches computed, starts and checks together"
    assert valence_dftu_status.scorecard_line(page) == valence_dftu_status.status(page) + "; so far (a) holds; (b) holds; (c) holds"
    assert valence_dftu_status.claim_verdict(page) == "undetermined (not decided: 1 of 2 branches computed, starts and checks together)"
    assert "Not computed yet" in valence_dftu_findings.findings(page) and "lowest of the 1 branches computed, d2 a1g²" in valence_dftu_findings.findings(page)
    # what already holds in the lowest computed state is said, as provisional, not as the verdict
    assert "So far, part (b) holds in the lowest computed state at every U_eff read (3 eV)" in valence_dftu_findings.findings(page)
    page.update(branches=b, missing=[], complete=True)
    assert "lowest, d2 a1g²" in valence_dftu_findings.findings(page)
    v = valence_dftu_status.variant(page)
    assert v["variant"].startswith("DFT+U annealed, read at U_eff = 3 eV") and all(v[p] for p in valence_verdicts.VALENCE_PARTS)
    assert valence_dftu_status.scorecard_line(page).endswith("(a) holds; (b) holds; (c) holds")
    assert valence_dftu_status.claim_verdict(page) == "reproduced"
    # read with the filled t2g threshold at 0.85 the same states would give another outcome: undetermined
    page["threshold checks"] = {0.75: "reproduced", 0.85: "not reproduced"}
    assert valence_dftu_status.claim_verdict(page) == ("undetermined (flips with the threshold of a filled t2g spin-orbital: "
                                                       "reproduced at 0.75, reproduced at 0.8, not reproduced at 0.85)")


def test_the_t2g_filling_is_read_inside_the_t2g_shell(one_t):
    """Covalency puts about one electron in each e_g sigma orbital whatever the valence: read over the
    whole shell it can outweigh a partly filled t2g orbital; read inside t2g it cannot. An e_pi filling
    has no a1g weight."""
    O = valence_dftu_plans.site_orbitals(one_t, [0, 3])[0]
    w = lambda occ: O @ np.diag(occ) @ O.T                         # occupations of a1g, epi+, epi-, esig+, esig-
    n = w([1.3, 0.8, 0.8, 1.45, 1.45])
    t, a1g = valence_dftu_steps.t2g_natural([0.5 * n, 0.5 * n], O)
    assert t[0] == pytest.approx(1.3) and a1g == pytest.approx(1.0)
    assert np.linalg.eigvalsh(n)[-1] == pytest.approx(1.45)        # the whole shell's largest is an e_g
    t, a1g = valence_dftu_steps.t2g_natural([0.5 * w([0.6, 1.8, 0.7, 1.2, 1.2])] * 2, O)
    assert t[0] == pytest.approx(1.8) and a1g == pytest.approx(0.0, abs=1e-12)


def test_an_open_shell_with_no_moment_is_not_spin_zero(one_t):
    """Up in a1g on each W, down in an e_pi orbital: no moment, but not a closed shell; part (b) fails."""
    O = valence_dftu_plans.site_orbitals(one_t, [0, 3])[0]
    up = 0.5 * np.eye(5) * 0.4 + 0.8 * np.outer(O[:, 0], O[:, 0])
    dn = 0.5 * np.eye(5) * 0.4 + 0.8 * np.outer(O[:, 1], O[:, 1])
    w = [up.tolist(), dn.tolist()]
    rows = valence_dftu_steps.step_rows([_branch("unbiased, AFM seed", "polarized", {3.0: (-20.0, w, w)})], one_t, n_fu=2)
    assert max(rows[0]["|m| (μB)"]) < 1e-9 and min(rows[0]["‖n↑ − n↓‖"]) > 1.0
    assert valence_dftu_steps.lowest_states(rows)[0][valence_verdicts.VALENCE_PARTS[1]] is False


def test_the_two_w_get_the_same_orbitals_so_e_pi_starts_are_ferro_or_antiferro_orbital(one_t):
    """The two W of the 1T cell are related by a translation: their mirror-split trigonal orbitals
    coincide (an SVD splits each pair arbitrarily: 30 degrees apart on the relaxed layer), a1g and the t2g span are the same either
    way, and 'e_pi+^2 on both' fills one orbital while 'e_pi+^2 / e_pi-^2' fills orthogonal ones."""
    w1, w2 = [i for i, x in enumerate(one_t.get_chemical_symbols()) if x == "W"]
    O = valence_dftu_plans.site_orbitals(one_t, [w1, w2])
    raw = valence_dftu_plans.site_orbitals(one_t, [w1, w2], split=False)
    assert np.allclose(np.abs(O[0].T @ O[1])[:3, :3], np.eye(3), atol=1e-6)
    for k in (0, 1):
        assert np.allclose(O[k][:, 0], raw[k][:, 0], atol=1e-10)
        assert np.allclose(O[k][:, :3] @ O[k][:, :3].T, raw[k][:, :3] @ raw[k][:, :3].T, atol=1e-10)
    jobs = {j["start"]: j for j in valence_dftu_plans.jobs("paper", one_t)}
    fo, afo = jobs["d2 eπ+² (spin 0)"]["targets"], jobs["d2 eπ+² / eπ−² (spin 0)"]["targets"]
    assert abs(np.dot(fo[w1]["both"][0], fo[w2]["both"][0])) == pytest.approx(1.0, abs=1e-6)
    assert abs(np.dot(afo[w1]["both"][0], afo[w2]["both"][0])) < 1e-6


def test_a_branch_that_follows_one_state_matches_the_hellmann_feynman_integral_and_a_jump_does_not(one_t):
    """dE/dU_eff = sum over W and spin of Tr[n - n n]/2: for fixed occupations E(7) - E(8) = -slope; a
    branch whose energy drops 100 meV/f.u. more than that has jumped to another state."""
    c_part = valence_verdicts.VALENCE_PARTS[2]
    closed = (_occ(1.9, 0.3), _occ(1.9, 0.3))
    n = np.asarray(closed[0][0])
    slope = 2 * 2 * 0.5 * np.trace(n - n @ n)                       # 2 W x 2 spins
    follow = _branch("d2 a1g² (spin 0)", "restricted", {8.0: (-10.0, *closed), 7.0: (-10.0 - slope, *closed)})
    jump = _branch("d2 eπ+² (spin 0)", "restricted", {8.0: (-10.0, *closed), 7.0: (-10.0 - slope - 0.2, *closed)})
    rows = valence_dftu_steps.step_rows([follow, jump], one_t, n_fu=2)
    by = {(r["start"], r["U (eV)"]): r for r in rows}
    assert by[("d2 a1g² (spin 0)", 8.0)]["jump (meV/f.u.)"] is None
    assert by[("d2 a1g² (spin 0)", 7.0)]["jump (meV/f.u.)"] == pytest.approx(0.0, abs=1e-9)
    assert by[("d2 eπ+² (spin 0)", 7.0)]["jump (meV/f.u.)"] == pytest.approx(-100.0)
    page = {"branches": [follow, jump], "rows": rows, "lowest": valence_dftu_steps.lowest_states(rows), "missing": [], "complete": True,
            "U_last": 7.0, "read_at": [7.0], "one_t": one_t}
    text = valence_dftu_findings.findings(page)
    # the annealing's reading: the lowest state at 7 eV was reached by a jump, and the continuous branch lies
    # 100 meV/f.u. above it (outside the margin): no configuration at 8 eV flows to it
    assert valence_dftu_steps.continuous_origins(rows, 7.0) == [] and "is reached without a jump from" not in text
    assert ("the lowest state at U_eff = 7 eV: no state there is reached without a jump (the branches that join it to the "
            "top: d2 eπ+² (spin 0): jump on the way); it names no configuration") in text
    alone = valence_dftu_steps.step_rows([follow], one_t, n_fu=2)
    origin = valence_dftu_steps.continuous_origins(alone, 7.0)
    assert [(o["start"], o["top U (eV)"]) for o in origin] == [("d2 a1g² (spin 0)", 8.0)] and origin[0][c_part]
    assert "d2 a1g² (spin 0): free-energy changes match the Hellmann–Feynman integral of dF/dU_eff within 0 meV/f.u. (anneals continuously)" in text and "d2 eπ+² (spin 0): jumps to another state at 8 → 7 eV (-100)" in text
    # the tolerance on the jumps is a choice of ours: a jump of 12 meV/f.u. is continuous at 15 and 20, not at 10
    small = _branch("d2 a1g² (spin 0)", "restricted", {8.0: (-10.0, *closed), 7.0: (-10.0 - slope - 0.024, *closed)})
    rows = valence_dftu_steps.step_rows([small], one_t, n_fu=2)
    origins = valence_dftu_steps.continuous_origins(rows, 7.0)
    assert [o["start"] for o in origins] == ["d2 a1g² (spin 0)"] and valence_dftu_steps.continuous_origins(rows, 7.0, 10.0) == []
    assert valence_dftu_readings.tolerance_findings(rows, 7.0, origins) == [
        "- The annealing's own reading with other tolerances on the jumps (the page's is 15 meV/f.u.): "
        "10 meV/f.u.: no state there is reached without a jump (the branches that join it to the top: d2 a1g² (spin 0): "
        "jump on the way); 20 meV/f.u.: the same."]
    # a step that did not converge carries an energy off by its residual: the check across it cannot be made, so the
    # branch names no origin, whatever its mismatch, and the reading says why (not that it jumps)
    mid = _branch("d2 a1g² (spin 0)", "restricted", {8.0: (-10.0, *closed), 7.5: (-10.0 - slope / 2, *closed),
                                                      7.0: (-10.0 - slope, *closed)})
    mid["result"]["steps"][1]["converged"] = False
    rows = valence_dftu_steps.step_rows([mid], one_t, n_fu=2)
    assert valence_dftu_steps.continuity([r for r in rows], 15.0) == "unchecked" and valence_dftu_steps.continuous_origins(rows, 7.0) == []
    assert "a step on the way did not converge, so the check cannot be made" in valence_dftu_readings.origin_reading(rows, 7.0)[1]


def test_a_part_is_undetermined_within_the_margin_between_read_points_and_under_an_unconverged_lower_state(one_t):
    closed = (_occ(1.9, 0.3), _occ(1.9, 0.3))
    open_ = (_occ(1.0, 0.75), _occ(1.0, 0.75))                    # no doubly occupied orbital: (c) fails
    a, b, c = valence_verdicts.VALENCE_PARTS

    E3 = -10.0 - _hf_slope(closed)                     # the closed shell annealed along itself from 4 to 3 eV

    def judge(E_open, read_at=(3.0,), converged=True):
        br = [_branch("d2 a1g² (spin 0)", "restricted", {4.0: (-10.0, *closed), 3.0: (E3, *closed)}),
              _branch("unbiased", "restricted", {4.0: (-10.2, *open_), 3.0: (E3 + 20.0 + E_open, *open_)})]
        br[1]["result"]["steps"][1]["converged"] = converged
        rows = valence_dftu_steps.step_rows(br, one_t, n_fu=2)
        page = {"branches": br, "rows": rows, "lowest": valence_dftu_steps.lowest_states(rows), "missing": [], "complete": True,
                "U_last": 3.0, "read_at": list(read_at), "one_t": one_t}
        return valence_dftu_status.variant(page)
    assert judge(-19.0)[c] is True                                  # the open state 500 meV/f.u. above
    assert judge(-19.98)[c] is None                                 # 10 meV/f.u. above: within k_B T at 300 K
    assert judge(-19.98)[a] is None                                 # the open shell has no integer t2g count
    assert judge(-19.0, read_at=(4.0, 3.0))[c] is None              # fails at 4 eV, holds at 3 eV
    assert judge(-21.0, converged=False)[c] is None                 # an unconverged state lies lower, (c) fails on it
    assert judge(-21.0, converged=False)[b] is True                 # ... but it is spin 0 too: (b) stays decided
    assert valence_dftu_status.overall(judge(-19.0)) is True and valence_dftu_status.overall(judge(-19.98)) is None


def test_a_state_far_above_sits_on_the_figure_edge_without_flattening_the_rest(one_t):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    low, far = _occ(1.0, 0.6), _occ(1.0, 0.6)
    rows = valence_dftu_steps.step_rows([_branch("near", "restricted", {8.0: (-10.0, low, low), 3.0: (-20.0, low, low)}),
                                         _branch("far", "restricted", {8.0: (-7.0, far, far), 3.0: (-19.9, far, far)})], one_t, 2)
    fig, ax = plt.subplots()
    assert valence_dftu_figures.plot_branches(ax, rows, top_meV=400.0)
    assert ax.get_ylim()[1] < 450                           # 1500 meV/f.u. does not set the scale
    far_line = next(l for l in ax.lines if l.get_label() == "far")
    assert np.allclose(far_line.get_ydata(), [400.0, 50.0])  # clipped at 8 eV, as computed at 3 eV
    assert [t.get_text() for t in ax.texts] == ["1500"]     # its energy written beside it
    plt.close(fig)


def test_the_spin_polarized_panel_measures_each_magnetic_state_from_the_lowest_spin_0_state(one_t):
    """Panel (b) of the DFT+U figure: a magnetic branch 1 eV per cell (500 meV/f.u.) below the lowest restricted
    state at 8 eV and 20 meV/f.u. above it at 3 eV is drawn at -500 and +20, whatever lies lower overall; the
    restricted panel measures its branches from the lowest restricted state, not from the magnet."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    o = _occ(1.0, 0.6)
    rows = valence_dftu_steps.step_rows([_branch("spin 0", "restricted", {8.0: (-10.0, o, o), 3.0: (-20.0, o, o)}),
                                         _branch("spin 0 above", "restricted", {8.0: (-9.8, o, o), 3.0: (-19.9, o, o)}),
                                         _branch("magnet", "polarized", {8.0: (-11.0, o, o), 3.0: (-19.96, o, o)})], one_t, 2)
    fig, (ax, ax2) = plt.subplots(2)
    assert valence_dftu_figures.plot_spin_gain(ax2, rows)
    line = next(l for l in ax2.lines if l.get_label() == "magnet")
    assert np.allclose(line.get_ydata(), [-500.0, 20.0])
    assert valence_dftu_figures.plot_branches(ax, [r for r in rows if r["spin"] == "restricted"])
    assert np.allclose(next(l for l in ax.lines if l.get_label() == "spin 0 above").get_ydata(), [100.0, 50.0])
    assert not valence_dftu_figures.plot_spin_gain(ax2, [r for r in rows if r["spin"] == "restricted"])
    plt.close(fig)


def _spin_occ(O, up, dn):
    """Both spins of one W: t2g natural spin-orbital occupations `up` and `dn` (a1g, e_pi+, e_pi-) in
    its trigonal orbitals O, and 0.4 per spin in each e_g sigma orbital (covalency)."""
    mats = []
    for f in (up, dn):
        mats.append((O @ np.diag(list(f) + [0.4, 0.4]) @ O.T).tolist())
    return mats


def test_a_uniform_d3_start_is_counted_at_the_top_and_is_not_the_papers_d2(one_t):
    """Part (a) in the annealing's reading asks for two filled t2g spin-orbitals per W at the top, so a
    d3/d3 antiferromagnet that flows without a jump to the lowest state does not pass as d2 because its
    W hold the same d count; a d2 closed shell does."""
    metals = [i for i, s in enumerate(one_t.get_chemical_symbols()) if s == "W"]
    O = valence_dftu_plans.site_orbitals(one_t, metals)
    a_part = valence_verdicts.VALENCE_PARTS[0]
    d3 = (_spin_occ(O[0], (1.05, 0.95, 0.95), (0.1, 0.1, 0.1)), _spin_occ(O[1], (0.1, 0.1, 0.1), (1.05, 0.95, 0.95)))
    d2 = (_spin_occ(O[0], (1.05, 0.15, 0.15), (1.05, 0.15, 0.15)), _spin_occ(O[1], (1.05, 0.15, 0.15), (1.05, 0.15, 0.15)))
    assert [valence_dftu_steps.t2g_filled(w, o) for w, o in zip(d3, O)] == [3, 3]
    assert [valence_dftu_steps.t2g_filled(w, o) for w, o in zip(d2, O)] == [2, 2]
    # the threshold is a parameter: a spin-orbital at 0.83 is filled at 0.8 and leaves no integer count at 0.85
    near = tuple(_spin_occ(o, (1.0, 0.83, 0.1), (0.1, 0.1, 0.1)) for o in O)
    assert [valence_dftu_steps.t2g_filled(w, o) for w, o in zip(near, O)] == [2, 2]
    assert [valence_dftu_steps.t2g_filled(w, o, 0.85) for w, o in zip(near, O)] == [None, None]

    def origin(start, occ, spin):
        slope = 2 * sum(0.5 * np.trace(np.asarray(m) - np.asarray(m) @ np.asarray(m)) for m in occ[0])
        b = _branch(start, spin, {8.0: (-10.0, *occ), 7.0: (-10.0 - slope, *occ)})
        b["result"]["steps"] = [dict(st, occupations={str(metals[0]): occ[0], str(metals[1]): occ[1]})
                                for st in b["result"]["steps"]]
        return valence_dftu_steps.continuous_origins(valence_dftu_steps.step_rows([b], one_t, n_fu=2), 7.0)

    o3, o2 = origin("d3/d3 (high spin, AFM)", d3, "polarized"), origin("d2 a1g² (spin 0)", d2, "restricted")
    assert o3[0]["filled t2g"] == [3, 3] and o3[0][a_part] is False
    assert o2[0]["filled t2g"] == [2, 2] and o2[0][a_part] is True
    # the same per U_eff: a d3/d3 state with integer-like t2g occupations fails (a) although the W agree in d count
    b3 = _branch("d3/d3 (high spin, AFM)", "polarized", {8.0: (-10.0, *d3)})
    b3["result"]["steps"] = [dict(st, occupations={str(metals[0]): d3[0], str(metals[1]): d3[1]}) for st in b3["result"]["steps"]]
    rows3 = valence_dftu_steps.step_rows([b3], one_t, n_fu=2)
    assert rows3[0]["Δd (W2 − W1)"] == pytest.approx(0, abs=1e-9) and valence_dftu_steps.parts(rows3[0])[a_part] is False


def test_a_fractional_t2g_shell_has_no_integer_count_and_leaves_the_annealing_reading_undetermined(one_t):
    """A metallic state whose t2g spin-orbitals hold 0.5 each has no integer t2g count (t2g_filled None, not a
    count decided by a threshold at 0.5): per U_eff part (a) rests on the d-count difference alone, and at the
    top of a branch, where the annealing's reading needs the configuration, it is undetermined."""
    metals = [i for i, s in enumerate(one_t.get_chemical_symbols()) if s == "W"]
    O = valence_dftu_plans.site_orbitals(one_t, metals)
    a_part = valence_verdicts.VALENCE_PARTS[0]
    half = tuple(_spin_occ(o, (0.56, 0.44, 0.43), (0.56, 0.44, 0.43)) for o in O)
    assert [valence_dftu_steps.t2g_filled(w, o) for w, o in zip(half, O)] == [None, None]
    b = _branch("unbiased", "restricted", {8.0: (-10.0, *half)})
    b["result"]["steps"] = [dict(st, occupations={str(metals[0]): half[0], str(metals[1]): half[1]}) for st in b["result"]["steps"]]
    rows = valence_dftu_steps.step_rows([b], one_t, n_fu=2)
    assert valence_dftu_steps.parts(rows[0])[a_part] is None          # no W differs, but a uniform d3 would pass as well
    assert valence_dftu_steps.continuous_origins(rows, 8.0)[0][a_part] is None


def test_spin_polarized_starts_get_the_mixer_that_converges_them_and_restricted_ones_keep_theirs(one_t):
    from helpers.dft import jobs as dft_jobs
    for j in valence_dftu_plans.jobs("paper", one_t):
        if j.get("check_of") and ", mixer " in j["start"]:
            continue                  # a mixer check runs its start with the other mixer on purpose
        assert j["mixer"] == (dft_jobs.PULAY_MIXER if j["spin"] == "restricted"
                              else {"backend": "msr1", "fresh_each_step": True}), j["start"]
        assert dft_jobs.check_mixer(j["mixer"]) == j["mixer"]
    with pytest.raises(ValueError, match="fresh_each_step=1: give True"):
        dft_jobs.check_mixer({"backend": "msr1", "fresh_each_step": 1})
    with pytest.raises(ValueError, match="spin='collinear'"):
        valence_dftu_plans.mixer("collinear")


def test_spin_polarized_starts_are_held_by_a_stronger_bias_and_the_runs_below_start_unbiased(one_t, monkeypatch):
    """Spin-polarized starts begin their release at 5 eV (at 1 eV the high-spin d2 antiferromagnet fills a
    third t2g spin-orbital), restricted ones at 1 eV (their keys unchanged); the high-spin d2 antiferromagnet is
    also released from 1 eV, with the same targets and moments (does its unbiased state depend on it?); the runs of the 'below' plan are
    unbiased, start at 3 eV and go down to plain PBE (U_eff = 0), and a biased start there is refused by name."""
    js = valence_dftu_plans.jobs("paper", one_t)
    for j in js:
        if j["targets"] is None or "bias from" in j["start"]:
            continue
        assert j["release"][0] == (5.0 if j["spin"] == "polarized" else 1.0) and j["release"][-1] == 0.0, j["start"]
    check = next(j for j in js if j["start"] == "d2 high spin, AFM, bias from 1 eV")
    main = next(j for j in js if j["start"] == "d2 high spin, AFM")
    assert check["release"][0] == 1.0 and check["targets"] == main["targets"] and check["magmoms"] == main["magmoms"]
    below = [j for j in js if j["start"].endswith("from 3 eV")]
    assert {j["start"] for j in below} == {"unbiased, from 3 eV", "unbiased, AFM seed, from 3 eV"}
    assert all(j["targets"] is None and j["U_grid"] == [3.0, 2.0, 1.0, 0.0] for j in below)
    assert [j["spin"] for j in below] == ["restricted", "polarized"]
    plan = dict(valence_dftu_plans.SETTINGS["paper"], below=dict(valence_dftu_plans.SETTINGS["paper"]["below"], starts=["d2 a1g² (spin 0)"]))
    monkeypatch.setitem(valence_dftu_plans.SETTINGS, "paper", plan)
    with pytest.raises(ValueError, match="below start 'd2 a1g² \\(spin 0\\)': only unbiased"):
        valence_dftu_plans.jobs("paper", one_t)
    # the 'above' plan follows the AFM-seeded state found at 3 eV up to the top of the annealing, unbiased
    (up,) = [j for j in js if j.get("upward")]
    assert up["start"] == "unbiased, AFM seed, from 3 eV up" and up["targets"] is None and up["spin"] == "polarized"
    assert up["U_grid"] == [3.0, 4.0, 5.0, 6.0, 7.0, 8.0]


def test_a_state_first_reached_below_the_top_is_no_configuration_of_the_annealing(one_t):
    """The annealing's own reading follows the lowest state back to the top U_eff; a run that starts at 3 eV
    (the 'below' plan) has no top there, so it gives no origin even when it is the lowest state."""
    metals = [i for i, s in enumerate(one_t.get_chemical_symbols()) if s == "W"]
    O = valence_dftu_plans.site_orbitals(one_t, metals)
    d2 = (_spin_occ(O[0], (1.05, 0.15, 0.15), (1.05, 0.15, 0.15)), _spin_occ(O[1], (1.05, 0.15, 0.15), (1.05, 0.15, 0.15)))

    def branch(start, by_U):
        b = _branch(start, "restricted", {U: (E, *d2) for U, E in by_U.items()})
        b["result"]["steps"] = [dict(st, occupations={str(metals[0]): d2[0], str(metals[1]): d2[1]}) for st in b["result"]["steps"]]
        return b
    slope = 2 * sum(0.5 * np.trace(np.asarray(m) - np.asarray(m) @ np.asarray(m)) for m in d2[0])
    rows = valence_dftu_steps.step_rows([branch("d2 a1g² (spin 0)", {8.0: -10.0, 3.0: -10.0 - 5 * slope}),
                                         branch("unbiased, from 3 eV", {3.0: -30.0})], one_t, n_fu=2)
    low = {x["U (eV)"]: x for x in valence_dftu_steps.lowest_states(rows)}
    assert low[3.0]["lowest"] == "unbiased, from 3 eV"
    assert valence_dftu_steps.continuous_origins(rows, 3.0) == []


def test_a_start_that_falls_at_the_release_is_named_with_what_it_held_and_what_it_became(one_t):
    """The full-bias line counts the filled t2g spin-orbitals at full bias and after the release: a high-spin d2
    that holds two per W under the bias and three once it is released (as the GPAW branch does) is reported so."""
    metals = [i for i, s in enumerate(one_t.get_chemical_symbols()) if s == "W"]
    O = valence_dftu_plans.site_orbitals(one_t, metals)
    d2 = (_spin_occ(O[0], (1.2, 1.2, 0.03), (0.02, 0.02, 0.02)), _spin_occ(O[1], (0.02, 0.02, 0.02), (1.2, 1.2, 0.03)))
    d3 = (_spin_occ(O[0], (1.15, 1.1, 0.95), (0.05, 0.05, 0.05)), _spin_occ(O[1], (0.05, 0.05, 0.05), (1.15, 1.1, 0.95)))
    steps = [{"U_eV": 8.0, "lambda_eV": lam, "energy_eV": E, "converged": True,
              "occupations": {str(metals[0]): w[0], str(metals[1]): w[1]}} for lam, E, w in ((5.0, -40.0, d2), (0.0, -21.0, d3))]
    page = {"branches": [{"start": "d2 high spin, AFM", "spin": "polarized", "targets": {"0": {}}, "result": {"steps": steps}}],
            "one_t": one_t}
    b = valence_dftu_steps.full_bias(page)[0]
    assert b["filled t2g"] == [2, 2] and b["filled t2g released"] == [3, 3]


def test_a_protocol_check_is_compared_with_its_start_at_every_U(one_t):
    """A start run again with another mixer (or release) is set beside its start: the largest energy difference
    over the U_eff both reached, and whether the filled t2g spin-orbitals agree. The mixer check of the plan runs
    the restricted eπ+² start with MSR1 and fresh steps, everything else equal."""
    js = {j["start"]: j for j in valence_dftu_plans.jobs("paper", one_t)}
    chk, main = js["d2 eπ+² (spin 0), mixer MSR1"], js["d2 eπ+² (spin 0)"]
    assert chk["check_of"] == "d2 eπ+² (spin 0)" and chk["mixer"] == {"backend": "msr1", "fresh_each_step": True}
    assert {k: v for k, v in chk.items() if k not in ("start", "mixer", "check_of")} == \
        {k: v for k, v in main.items() if k not in ("start", "mixer")}
    metals = [i for i, s in enumerate(one_t.get_chemical_symbols()) if s == "W"]
    O = valence_dftu_plans.site_orbitals(one_t, metals)
    d2 = {str(metals[0]): _spin_occ(O[0], (0.95, 0.1, 0.05), (0.95, 0.1, 0.05)),
          str(metals[1]): _spin_occ(O[1], (0.95, 0.1, 0.05), (0.95, 0.1, 0.05))}
    metal = {str(metals[0]): _spin_occ(O[0], (0.6, 0.5, 0.3), (0.6, 0.5, 0.3)),
             str(metals[1]): _spin_occ(O[1], (0.6, 0.5, 0.3), (0.6, 0.5, 0.3))}

    def branch(start, by_U, **kw):
        steps = [{"U_eV": U, "lambda_eV": 0.0, "energy_eV": E, "converged": True, "occupations": occ}
                 for U, (E, occ) in by_U.items()]
        return {"start": start, "spin": "restricted", "result": {"steps": steps}, **kw}

    branches = [branch("d2 eπ+² (spin 0)", {8.0: (-10.0, d2), 7.0: (-11.0, d2)}),
                branch("d2 eπ+² (spin 0), mixer MSR1", {8.0: (-10.001, d2), 7.0: (-11.2, metal)},
                       check_of="d2 eπ+² (spin 0)")]
    page = {"branches": branches, "one_t": one_t, "rows": valence_dftu_steps.step_rows(branches, one_t, n_fu=2)}
    (c,) = valence_dftu_steps.protocol_checks(page)
    assert c["U (eV)"] == [8.0, 7.0] and c["max |ΔE| (meV/f.u.)"] == pytest.approx(100.0)
    assert not c["same state"] and c["unconverged"] == 0
    page["branches"][1]["result"]["steps"][1] = dict(page["branches"][1]["result"]["steps"][1], energy_eV=-11.0, occupations=d2)
    page["rows"] = valence_dftu_steps.step_rows(page["branches"], one_t, n_fu=2)
    (c,) = valence_dftu_steps.protocol_checks(page)
    assert c["same state"] and c["max |ΔE| (meV/f.u.)"] == pytest.approx(0.5)
    # two metallic states: both counts undetermined (None), yet different occupations are not the same state
    page["branches"][0]["result"]["steps"][1] = dict(page["branches"][0]["result"]["steps"][1], occupations=metal)
    wider = {k: _spin_occ(O[i], (0.75, 0.5, 0.3), (0.75, 0.5, 0.3)) for i, k in enumerate(metal)}
    page["branches"][1]["result"]["steps"][1] = dict(page["branches"][1]["result"]["steps"][1], occupations=wider)
    page["rows"] = valence_dftu_steps.step_rows(page["branches"], one_t, n_fu=2)
    (c,) = valence_dftu_steps.protocol_checks(page)
    assert not c["same state"]


def test_the_dftu_valence_verdict_is_decided_only_where_both_spin_treatments_agree(one_t):
    """The spin treatment is a choice of ours: a magnetic open shell lowest among all states and a closed
    shell lowest among the restricted ones disagree on part (c), which is then undetermined; part (b),
    spin 0, is imposed by the restricted treatment and read among all states alone, and decides the claim;
    part (a) is undetermined where the magnetic state has no integer t2g count."""
    closed = (_occ(1.9, 0.3), _occ(1.9, 0.3))
    magnetic = (_occ(1.0, 0.75, moment=1.5), _occ(1.0, 0.75, moment=-1.5))
    b = [_branch("d2 a1g² (spin 0)", "restricted", {3.0: (-20.0, *closed)}),
         _branch("d2 high spin, AFM", "polarized", {3.0: (-21.0, *magnetic)})]
    rows = valence_dftu_steps.step_rows(b, one_t, n_fu=2)
    page = {"branches": b, "rows": rows, "lowest": valence_dftu_steps.lowest_states(rows), "missing": [], "complete": True,
            "lowest restricted": valence_dftu_steps.lowest_states([r for r in rows if r["spin"] == "restricted"]),
            "U_last": 3.0, "read_at": [3.0], "one_t": one_t}
    a_, b_, c_ = valence_verdicts.VALENCE_PARTS
    alone = valence_dftu_status.variant(dict(page, **{"lowest restricted": []}))
    assert alone[b_] is False and alone[c_] is False                   # all states: the antiferromagnet is lowest
    v = valence_dftu_status.variant(page)
    # the antiferromagnet's t2g count is fractional: (a) undetermined among all states, though it holds among restricted
    assert v[c_] is None and v[b_] is False and v[a_] is None and "spin-restricted states alone" in v["variant"]
    # the claim fails spin-polarized and holds spin-restricted ((b) imposed there): no verdict, each treatment's given
    said = valence_dftu_status.claim_verdict(page)
    assert said.startswith("undetermined (flips with the spin treatment: spin-polarized DFT+U")
    assert "Dudarev's U_eff): not reproduced ((a) undetermined, (b) fails, (c) fails)" in said
    assert "the paper labels its configurations): reproduced ((a) holds, (b) imposed, (c) holds)" in said
    assert "by spin treatment: spin-polarized" in valence_dftu_status.scorecard_line(page)
    # a spin-restricted lowest state without a doubly occupied orbital fails (c) there too: then not reproduced
    opened = (_occ(1.0, 0.75), _occ(1.0, 0.75))
    b2 = [_branch("unbiased", "restricted", {3.0: (-20.0, *opened)}), b[1]]
    rows2 = valence_dftu_steps.step_rows(b2, one_t, n_fu=2)
    page2 = dict(page, branches=b2, rows=rows2, lowest=valence_dftu_steps.lowest_states(rows2),
                 **{"lowest restricted": valence_dftu_steps.lowest_states([r for r in rows2 if r["spin"] == "restricted"])})
    assert valence_dftu_status.claim_verdict(page2) == "not reproduced"
    # no converged spin-restricted state: nothing flips, that treatment decides nothing, and the verdict says so
    b3 = [dict(b[0], result={"steps": [dict(b[0]["result"]["steps"][0], converged=False, density_residual=1e-2)]}), b[1]]
    rows3 = valence_dftu_steps.step_rows(b3, one_t, n_fu=2)
    page3 = dict(page, branches=b3, rows=rows3, lowest=valence_dftu_steps.lowest_states(rows3),
                 **{"lowest restricted": valence_dftu_steps.lowest_states([r for r in rows3 if r["spin"] == "restricted"])})
    said3 = valence_dftu_status.claim_verdict(page3)
    assert said3.startswith("undetermined (the spin-restricted treatment has no converged state at the U_eff read")
    assert "(a) no converged state read, (b) imposed, (c) no converged state read" in said3
    # while starts are missing, the provisional lines read the parts exactly as the verdict will: (c) is not
    # said to fail while the restricted states disagree
    early = dict(page, missing=["d3/d3 (high spin, AFM)"], complete=False)
    lines = valence_dftu_findings.provisional_findings(early)
    assert any(l.startswith("- So far, part (b) fails") for l in lines)
    assert any(l.startswith("- So far, part (c) is undetermined") for l in lines)
    # the cause is named: the decided readings disagree (all states against restricted ones), not a k_BT tie
    (cause,) = valence_dftu_status.open_causes(early, c_)
    assert "fails at 3 eV" in cause and "holds at 3 eV (restricted)" in cause
    assert valence_dftu_status.open_causes(early, b_) == []
    # the verdict line and the scorecard carry the same provisional reading while starts are missing
    assert "so far fails in the lowest computed state at every U_eff read (a magnet lies lowest in spin-polarized DFT+U" in valence_dftu_status.status(early, b_)
    assert valence_dftu_status.status(early, c_).endswith("so far undetermined (the readings computed so far differ on it or leave it open)")
    assert valence_dftu_status.scorecard_line(early).endswith("so far (a) undetermined; (b) fails; (c) undetermined")
    rows, _ = valence_verdicts.valence_verdict_rows({}, {}, dftu_status={p: valence_dftu_status.status(early, p) for p in valence_verdicts.VALENCE_PARTS})
    assert [r["DFT+U"].split("; ")[-1].split(" ")[2] for r in rows] == ["undetermined", "fails", "undetermined"]
    assert not any(l.startswith("- So far, part (c) fails") for l in lines)


def test_an_undetermined_valence_part_names_its_cause(one_t):
    """A part left open by judge_parts says why: two converged states within k_BT that disagree on it, or a
    U_eff read with no converged state; the two causes must not print alike."""
    closed = (_occ(1.9, 0.3), _occ(1.9, 0.3))
    magnetic = (_occ(1.0, 0.75, moment=1.5), _occ(1.0, 0.75, moment=-1.5))
    b = [_branch("d2 a1g² (spin 0)", "restricted", {4.0: (-20.0, *closed), 3.0: (-20.0, *closed)}),
         _branch("d2 high spin, AFM", "polarized", {4.0: (-20.0005, *magnetic)})]
    rows = valence_dftu_steps.step_rows(b, one_t, n_fu=2)
    page = {"branches": b, "rows": rows, "lowest": valence_dftu_steps.lowest_states(rows), "missing": [], "complete": True,
            "lowest restricted": [], "U_last": 3.0, "read_at": [4.0, 3.0], "one_t": one_t}
    b_ = valence_verdicts.VALENCE_PARTS[1]
    # at 4 eV the two states lie 0.25 meV/f.u. apart and disagree on spin 0; at 3 eV only the closed shell
    assert valence_dftu_status.open_causes(page, b_) == ["states within k_BT disagree at 4 eV", "holds at 3 eV"]
    page["read_at"] = [5.0, 3.0]
    causes = valence_dftu_status.open_causes(page, b_)
    assert causes == ["no converged state at 5 eV", "holds at 3 eV"]


def test_the_papers_reading_names_no_configuration_for_a_lowest_state_reached_only_from_below_the_top(one_t):
    """The annealing's own reading (the paper's) enters parts (a) and (c): a lowest state reached only by a branch
    begun at the last U_eff has no computed origin, so those parts are undetermined whatever the state holds; once an
    annealed branch reaches the same state without a jump (within the margin), its configuration at the top is read."""
    closed = (_occ(1.9, 0.3), _occ(1.9, 0.3))
    a_, b_, c_ = valence_verdicts.VALENCE_PARTS
    E3 = -10.0 - 5 * _hf_slope(closed)
    low3 = _branch("unbiased, from 3 eV", "restricted", {3.0: (E3 - 1.0, *closed)})       # 500 meV/f.u. lower
    annealed = _branch("d2 a1g² (spin 0)", "restricted", {8.0: (-10.0, *closed), 3.0: (E3, *closed)})

    def page_of(branches):
        rows = valence_dftu_steps.step_rows(branches, one_t, n_fu=2)
        return {"branches": branches, "rows": rows, "lowest": valence_dftu_steps.lowest_states(rows), "missing": [], "complete": True,
                "U_last": 3.0, "read_at": [3.0], "one_t": one_t}
    page = page_of([annealed, low3])
    o, why = valence_dftu_readings.origin_reading(page["rows"], 3.0)
    assert o == {a_: None} and "unbiased, from 3 eV" in why and "not computed" in why
    v = valence_dftu_status.variant(page)
    # the state itself holds all three parts; the valence (a) waits for its origin, (c) is read on the state alone
    assert v[a_] is None and v[c_] is True and v[b_] is True
    assert any("its origin is not computed" in c for c in valence_dftu_status.open_causes(page, a_))
    low3["result"]["steps"][0]["energy_eV"] = E3 - 0.00001                                # the same state, degenerate
    page = page_of([annealed, low3])
    o, why = valence_dftu_readings.origin_reading(page["rows"], 3.0)
    assert o == {a_: True} and why == "reached without a jump from d2 a1g² (spin 0)"
    assert valence_dftu_status.claim_verdict(page) == "reproduced"


def test_a_state_found_below_the_top_is_named_by_the_paper_once_followed_up(one_t):
    """A lowest state found by a run begun at 3 eV has no origin; the same state followed up to the top without
    a jump (an upward branch, within the margin at 3 eV) gives the paper's reading its configuration there."""
    closed = (_occ(1.9, 0.3), _occ(1.9, 0.3))
    a_, b_, c_ = valence_verdicts.VALENCE_PARTS
    k = _hf_slope(closed)
    E8 = -10.0
    annealed = _branch("d2 a1g² (spin 0)", "restricted", {8.0: (E8 + 1.0, *closed), 3.0: (E8 + 1.0 - 5 * k, *closed)})
    found = _branch("unbiased, from 3 eV", "restricted", {3.0: (E8 - 5 * k, *closed)})
    up = _branch("unbiased, from 3 eV up", "restricted", {3.0: (E8 - 5 * k, *closed), 8.0: (E8, *closed)})
    rows = valence_dftu_steps.step_rows([annealed, found], one_t, n_fu=2)
    assert valence_dftu_readings.origin_reading(rows, 3.0)[0][a_] is None
    rows = valence_dftu_steps.step_rows([annealed, found, up], one_t, n_fu=2)
    o, why = valence_dftu_readings.origin_reading(rows, 3.0)
    assert o == {a_: True} and why == "reached without a jump from unbiased, from 3 eV up"
    # followed up, it jumps on the way (100 meV/f.u. off the Hellmann-Feynman integral): the origin is computed, and none
    up["result"]["steps"][1]["energy_eV"] = E8 - 0.2
    o, why = valence_dftu_readings.origin_reading(valence_dftu_steps.step_rows([annealed, found, up], one_t, n_fu=2), 3.0)
    assert o == {a_: None} and why.startswith("no state there is reached without a jump (the branches that join it")
    assert "unbiased, from 3 eV up" in why and "not computed" not in why


def test_a_jump_across_an_unconverged_step_is_seen_from_its_converged_neighbours(one_t):
    """The mismatches summed over an unconverged step need only the converged energies at its ends (its own
    energy cancels): a large jump across it is a jump; a small one leaves the branch unchecked, not continuous."""
    closed = (_occ(1.9, 0.3), _occ(1.9, 0.3))
    n = np.asarray(closed[0][0])
    slope = 2 * 2 * 0.5 * np.trace(n - n @ n)

    def three(E_last, E_mid=-10.0):
        b = _branch("d2 a1g² (spin 0)", "restricted", {8.0: (-10.0, *closed), 7.0: (E_mid, *closed),
                                                        6.0: (E_last, *closed)})
        b["result"]["steps"][1]["converged"] = False
        return [r for r in valence_dftu_steps.step_rows([b], one_t, n_fu=2)]
    # ends 200 meV/f.u. below the integral: a jump, whatever the unconverged middle energy
    assert valence_dftu_steps.continuity(three(-10.0 - 2 * slope - 0.4), 15.0) == "jumps"
    assert valence_dftu_steps.continuity(three(-10.0 - 2 * slope - 0.4, E_mid=-99.0), 15.0) == "jumps"
    # ends that match the integral: the middle step's state is not known, so unchecked
    assert valence_dftu_steps.continuity(three(-10.0 - 2 * slope, E_mid=-99.0), 15.0) == "unchecked"
    # an unconverged first step anchors nothing
    b = _branch("d2 a1g² (spin 0)", "restricted", {8.0: (-50.0, *closed), 7.0: (-10.0 - slope, *closed)})
    b["result"]["steps"][0]["converged"] = False
    assert valence_dftu_steps.continuity(valence_dftu_steps.step_rows([b], one_t, n_fu=2), 15.0) == "unchecked"


def test_the_other_projectors_decide_spin_only_at_their_calibrated_U(one_t):
    """With GPAW's unscaled d projectors the states are another functional: their energies are compared among
    themselves, never with the default ones. At the nominal 3 eV (not calibrated) the line is a sensitivity check;
    at their own calibrated window ('projector read_at') part (b) is read again: a magnet below spin 0 beyond k_BT at
    every U_eff keeps (b) failing, one within k_BT makes (b) undetermined (two starts cannot show spin 0 holds)."""
    closed, magnet = (_occ(1.9, 0.3), _occ(1.9, 0.3)), (_occ(1.9, 0.3, 1.0), _occ(1.9, 0.3, -1.0))

    def with_moments(b, m):
        for st in b["result"]["steps"]:
            st["magnetic_moments_muB"] = [m, 0, 0, -m, 0, 0]
        return b
    main = [_branch("unbiased", "restricted", {3.0: (-10.0, *closed)}),
            with_moments(_branch("unbiased, AFM seed", "polarized", {3.0: (-10.5, *magnet)}), 1.3)]
    b_ = valence_verdicts.VALENCE_PARTS[1]

    def page(E_nm, E_af, E_af6=None):
        other = [dict(_branch("unbiased, 3 eV, unscaled projectors", "restricted", {3.0: (E_nm, *closed)}),
                      projector_scale=False),
                 dict(with_moments(_branch("unbiased, AFM seed, 3 eV, unscaled projectors", "polarized",
                                           {3.0: (E_af, *magnet)}), 0.5), projector_scale=False)]
        if E_af6 is not None:
            other += [dict(_branch("unbiased, 6 eV, unscaled projectors", "restricted", {6.0: (-30.0, *closed)}),
                           projector_scale=False),
                      dict(with_moments(_branch("unbiased, AFM seed, 6 eV, unscaled projectors", "polarized",
                                                {6.0: (E_af6, *magnet)}), 0.9), projector_scale=False)]
        rows = valence_dftu_steps.step_rows(main, one_t, n_fu=2)
        return {"rows": rows, "lowest": valence_dftu_steps.lowest_states(rows), "lowest restricted": [], "read_at": [3.0],
                "U_last": 3.0, "missing": [], "branches": main, "one_t": one_t, "complete": True,
                "projector rows": valence_dftu_steps.step_rows(other, one_t, n_fu=2), "projector branches": other,
                "projector read_at": [6.0] if E_af6 is not None else []}
    # unscaled at the nominal 3 eV: spin 0 lowest by 100 meV/f.u. (an energy 30 eV below the default ones changes
    # nothing: apart); no calibrated window planned, so the default projectors' antiferromagnet decides
    p = page(-40.0, -39.8)
    assert valence_dftu_readings.judge_parts(p)[0][b_] is False
    line, = valence_dftu_readings.projector_findings(p)
    assert "+100 meV/f.u. from the spin-0 state, GPAW's local moment 0.50 μB" in line
    assert "(the same start with the default projectors: -250 meV/f.u., 1.30 μB" in line and "does not decide part (b)" in line
    assert valence_dftu_readings.projector_line(p) == ""
    # at the calibrated 6 eV the magnet lies 200 meV/f.u. below spin 0: (b) still fails, said so
    p = page(-40.0, -39.8, E_af6=-30.4)
    assert valence_dftu_readings.projector_reading(p)[0] is False and valence_dftu_readings.judge_parts(p)[0][b_] is False
    assert "-200 meV/f.u. at 6 eV (|m| 1.00 μB from the d occupations)" in valence_dftu_readings.projector_line(p)
    assert "the two projectors agree on (b)" in valence_dftu_readings.projector_line(p)
    assert len(valence_dftu_readings.projector_findings(p)) == 1            # the nominal 3 eV line only, not one for the window
    # within k_BT (-10 meV/f.u.): this reading leaves (b) open, so the verdict on (b) is undetermined, and says why
    p = page(-40.0, -39.8, E_af6=-30.02)
    assert valence_dftu_readings.projector_reading(p)[0] is None and valence_dftu_readings.judge_parts(p)[0][b_] is None
    assert any("with GPAW's unscaled d projectors: the lowest magnetic state from the lowest spin-0 state (unbiased and "
               "ordered spin-0 starts): -10 meV/f.u. at 6 eV" in c for c in valence_dftu_status.open_causes(p, b_))
    # no converged spin-0 state at 6 eV (missing, or its SCF unconverged): a magnet alone fails nothing
    p = page(-40.0, -39.8, E_af6=-30.4)
    p["projector rows"] = [r for r in p["projector rows"] if not (r["U (eV)"] == 6.0 and r["spin"] == "restricted")]
    assert valence_dftu_readings.projector_reading(p)[0] is None and "not both spin treatments converged at 6 eV" in valence_dftu_readings.projector_line(p)
    p = page(-40.0, -39.8, E_af6=-30.4)
    for r in p["projector rows"]:
        r["converged"] = r["converged"] and not (r["U (eV)"] == 6.0 and r["spin"] == "restricted")
    assert valence_dftu_readings.projector_reading(p)[0] is None
    # an ordered spin-0 state 300 meV/f.u. below the unbiased one: the magnet is measured from it, and lies above
    p = page(-40.0, -39.8, E_af6=-30.4)
    fo = dict(_branch("d2 eπ+² (spin 0), 6 eV, unscaled projectors", "restricted", {6.0: (-31.0, *closed)}),
              projector_scale=False, U_grid=[6.0])
    p["projector branches"] = p["projector branches"] + [fo]
    p["projector rows"] = valence_dftu_steps.step_rows(p["projector branches"], one_t, n_fu=2)
    reading, (x,) = valence_dftu_readings.projector_reading(p)
    assert reading is None and x["dE"] == pytest.approx(300.0)
    # a planned ordered start not computed yet: named, and nothing decided at that U_eff
    p["projector branches"][-1] = dict(fo, result=None)
    reading, (x,) = valence_dftu_readings.projector_reading(p)
    assert reading is None and x["missing"] == ["d2 eπ+² (spin 0), 6 eV, unscaled projectors"]
    assert "not computed yet, so nothing is decided where they run: d2 eπ+² (spin 0), 6 eV, unscaled projectors" in valence_dftu_readings.projector_line(p)
    assert valence_dftu_readings.projector_line(p).endswith("Until they are computed this reading leaves (b) open.")
    # not computed: named
    p = page(-40.0, -39.8, E_af6=-30.4)
    p["projector rows"] = [r for r in p["projector rows"] if r["U (eV)"] != 6.0]
    assert "not both spin treatments converged at 6 eV" in valence_dftu_readings.projector_line(p) and valence_dftu_readings.judge_parts(p)[0][b_] is None
    p["projector rows"] = []
    assert valence_dftu_readings.projector_findings(p)[0].startswith("- Not computed yet: the spin-0 and AFM-seeded states")
    # the jobs: the other projectors only where the profile plans them, one branch per start and grid, named so
    js = {j["start"]: j for j in valence_dftu_plans.jobs("paper", one_t)}
    assert js["unbiased, AFM seed, 3 eV, unscaled projectors"]["projector_scale"] is False
    assert js["unbiased, AFM seed, 12 eV, unscaled projectors"]["U_grid"] == valence_dftu_plans.SETTINGS["paper"]["projector"]["read_at"]
    fo = js["d2 eπ+² (spin 0), 12 eV, unscaled projectors"]
    assert fo["targets"] is not None and fo["release"][0] > 0 and fo["projector_scale"] is False
    assert all(j.get("projector_scale", True) for j in valence_dftu_plans.jobs("smoke", one_t))


def test_a_metal_at_the_realistic_U_leaves_the_valence_to_the_annealing_and_can_pass(one_t):
    """At the U_eff read, a uniform metal has no integer t2g count: its part (a) is silent, not undetermined, so the
    configuration it is reached from without a jump decides (a) (here the a1g² closed shell at 8 eV: d2, holds).
    Without such a reading nothing decides it, and the cause says so."""
    closed, metal = (_occ(1.9, 0.3), _occ(1.9, 0.3)), (_occ(1.2, 0.5), _occ(1.2, 0.5))
    slope = lambda w: sum(0.5 * np.trace(np.asarray(n) - np.asarray(n) @ np.asarray(n)) for s in w for n in s)  # noqa: E731
    E7 = -10.0 - 0.5 * (slope(closed) + slope(metal))
    a_ = valence_verdicts.VALENCE_PARTS[0]

    def page(branches):
        rows = valence_dftu_steps.step_rows(branches, one_t, n_fu=2)
        return {"rows": rows, "lowest": valence_dftu_steps.lowest_states(rows), "lowest restricted": [], "read_at": [7.0], "U_last": 7.0,
                "missing": [], "branches": branches, "one_t": one_t, "complete": True}
    follow = _branch("d2 a1g² (spin 0)", "restricted", {8.0: (-10.0, *closed), 7.0: (E7, *metal)})
    p = page([follow])
    low = valence_dftu_steps.lowest_states(p["rows"])[-1]
    assert low[a_] is None and low["silent"][a_]
    assert valence_dftu_readings.judge_parts(p)[0][a_] is True
    # the same metal reached by a jump: no reading decides (a)
    jump = _branch("d2 a1g² (spin 0)", "restricted", {8.0: (-10.0, *closed), 7.0: (E7 - 0.2, *metal)})
    p = page([jump])
    assert valence_dftu_readings.judge_parts(p)[0][a_] is None
    assert any("no integer t2g count in the lowest states at 7 eV" in c for c in valence_dftu_status.open_causes(p, a_))


def test_the_1t_layer_ranks_the_ordered_configurations_only_while_they_hold_their_order(one_t):
    """orbital_order_1t: per U_eff the FO e_pi+^2 against a1g^2 and the AFO against the FO (meV/f.u.), from converged
    restricted states that still have a doubly occupied orbital; a check branch counts as its start; where the
    states have fallen into one metal the U_eff is left out, and the line says where the gain is reached."""
    closed, metal = (_occ(1.9, 0.3), _occ(1.9, 0.3)), (_occ(1.2, 0.5), _occ(1.2, 0.5))
    bs = [_branch("d2 a1g² (spin 0)", "restricted", {8.0: (-10.0, *closed), 4.0: (-20.0, *metal)}),
          dict(_branch("d2 eπ+² (spin 0), mixer MSR1", "restricted", {8.0: (-10.3, *closed), 4.0: (-20.0, *metal)}),
               check_of="d2 eπ+² (spin 0)"),
          _branch("d2 eπ+² / eπ−² (spin 0)", "restricted", {8.0: (-10.2, *closed), 4.0: (-20.0, *metal)})]
    rows = valence_dftu_steps.step_rows(bs, one_t, n_fu=2)
    page = {"rows": rows, "branches": bs, "one_t": one_t}
    x, = valence_dftu_readings.orbital_order_1t(page)
    assert x["U (eV)"] == 8.0 and x["FO − a²"] == pytest.approx(-150.0) and x["AFO − FO"] == pytest.approx(50.0)
    line = valence_dftu_readings.order_1t_line(page, 100.0)
    assert "by more than the paper's 100 meV/f.u. (150 at 8 eV)" in line and "the AFO never lies below the FO" in line
    assert "by less than" in valence_dftu_readings.order_1t_line(page, 200.0)
    # read at 8 eV: the AFO lies above the FO there, so the two orderings do not both hold where the verdict is read
    assert "At none of the U_eff the valence verdict is read at (8 eV) do both" in valence_dftu_readings.order_1t_line(dict(page, read_at=[8.0]), 100.0)
    # with the AFO below the FO (-10.5 eV per cell): both hold at 8 eV; beating a 130 meV/f.u. gain by 20 is marginal
    low_afo = [dict(b) for b in bs]
    low_afo[2] = _branch("d2 eπ+² / eπ−² (spin 0)", "restricted", {8.0: (-10.5, *closed), 4.0: (-20.0, *metal)})
    p2 = {"rows": valence_dftu_steps.step_rows(low_afo, one_t, n_fu=2), "branches": low_afo, "one_t": one_t, "read_at": [8.0]}
    assert "only at 8 eV, and only marginally: the FO beats the gain there by 20 meV/f.u. at 8 eV" in valence_dftu_readings.order_1t_line(p2, 130.0)
    assert "only at 8 eV." in valence_dftu_readings.order_1t_line(p2, 100.0)          # by 50, beyond k_BT: not marginal
    # a spin-polarized state 250 meV/f.u. below: the restricted states' distance from it is said
    mag = _branch("unbiased, AFM seed", "polarized", {8.0: (-10.8, _occ(1.9, 0.3, 1.0), _occ(1.9, 0.3, -1.0))})
    rows = valence_dftu_steps.step_rows(bs + [mag], one_t, n_fu=2)
    assert valence_dftu_readings.spin_gap_1t({"rows": rows, "branches": bs + [mag], "one_t": one_t}) == [pytest.approx(250.0)]
    assert valence_dftu_readings.order_1t_line({"rows": [], "branches": [], "one_t": one_t}, 100.0) == ""


def test_a_finer_grid_check_adds_no_lowest_state_of_its_own(one_t):
    """A check branch on a finer U_eff grid (steps between the starts' own U_eff) is read for its continuity, but its
    in-between steps have no other state beside them: on_grid leaves them out of the lowest states and the figure."""
    closed = (_occ(1.9, 0.3), _occ(1.9, 0.3))
    main = _branch("d2 eπ+² (spin 0)", "restricted", {8.0: (-10.0, *closed), 7.0: (-10.5, *closed)})
    fine = dict(_branch("d2 eπ+² (spin 0), U_eff steps of 0.5 eV, mixer MSR1", "restricted",
                        {8.0: (-10.0, *closed), 7.5: (-10.2, *closed), 7.0: (-10.5, *closed)}), check_of="d2 eπ+² (spin 0)")
    rows = valence_dftu_steps.step_rows([main, fine], one_t, n_fu=2)
    assert sorted({r["U (eV)"] for r in rows}) == [7.0, 7.5, 8.0]
    assert sorted({r["U (eV)"] for r in valence_dftu_steps.on_grid(rows)}) == [7.0, 8.0]
    assert [x["U (eV)"] for x in valence_dftu_steps.lowest_states(valence_dftu_steps.on_grid(rows))] == [8.0, 7.0]


def test_the_read_windows_are_where_the_measured_U_scale_puts_the_papers_U():
    """The U_eff the valence verdict is read at, for GPAW's default d projectors ('read_at') and for its unscaled
    ones (the projector plan's 'read_at'), against helpers.models.pd.u_scale on the committed LCAO DFT+U runs of the
    relaxed layer (the AFO page's measurement): the default window covers the whole measured range of the paper's
    3 eV, the unscaled one runs from below the range's lower end to above its central estimate."""
    from helpers.models import pd as pd_models
    from helpers.store import params
    from helpers.rungs.afo import claims as afo_claims
    from helpers.rungs.afo import layers as afo_layers
    settings = params.settings("paper")
    grid = tuple(pd_models.HF_GRID["paper"])
    m = afo_layers.layer_models("WTe2", settings, "dzp", grid, -1.5, 0.5, [-8.0, 6.0], moments=True)["relaxed d2"]
    S = valence_dftu_plans.SETTINGS["paper"]
    for scale, read in ((True, S["read_at"]), (False, S["projector"]["read_at"])):
        u = pd_models.u_scale(afo_claims.dftu_occupations("WTe2", settings, "dzp", m, 3.0, grid, projector_scale=scale), 3.0)
        lo, hi = u["GPAW U_eff equivalent range (eV)"]
        assert min(read) <= lo and max(read) >= (hi if scale else u["GPAW U_eff equivalent (eV)"]), (scale, lo, hi, read)


def test_spin_zero_is_read_again_on_a_denser_k_grid_and_a_narrower_smearing(one_t):
    """The k grid and the smearing are choices of ours: part (b) fails only if the magnet stays below the spin-0
    state beyond k_BT on every variant of the 'numerics' plan, each measured among its own two states (another
    discretization: never against the profile's energies); a variant where spin 0 comes out lower, or one not
    computed or not converged, leaves (b) undetermined and says which."""
    closed, magnet = (_occ(1.9, 0.3), _occ(1.9, 0.3)), (_occ(1.9, 0.3, 1.0), _occ(1.9, 0.3, -1.0))
    main = [_branch("unbiased, from 3 eV", "restricted", {3.0: (-10.0, *closed)}),
            _branch("unbiased, AFM seed, from 3 eV", "polarized", {3.0: (-10.6, *magnet)})]
    b_ = valence_verdicts.VALENCE_PARTS[1]

    def page(E_k, E_s):
        other = []
        for label, over, (E_nm, E_af) in (("k density 6 /Å", {"kpt_density": 6.0}, E_k), ("smearing 0.02 eV", {"smearing": 0.02}, E_s)):
            for start, spin, occ, E in (("unbiased", "restricted", closed, E_nm), ("unbiased, AFM seed", "polarized", magnet, E_af)):
                b = dict(_branch(f"{start}, 3 eV, {label}", spin, {3.0: (E, *occ)}), overrides=over, numerics_of=start,
                         U_grid=[3.0])
                other.append(dict(b, result=None) if E is None else b)
        rows = valence_dftu_steps.step_rows(main, one_t, n_fu=2)
        return {"rows": rows, "lowest": valence_dftu_steps.lowest_states(rows), "lowest restricted": [], "read_at": [3.0],
                "U_last": 3.0, "missing": [], "branches": main, "one_t": one_t, "complete": True,
                "numerics branches": other}
    # the magnet 300 meV/f.u. below spin 0 at the profile's numerics, 250 and 150 below on the variants (energies 40 eV
    # apart from the profile's: never compared with them): (b) fails, the line gives each
    p = page((-50.0, -50.5), (-30.0, -30.3))
    v, per = valence_dftu_readings.numerics_reading(p)
    assert v is False and [x["numerics"] for x in per] == ["profile", "k density 6 /Å", "smearing 0.02 eV"]
    assert [round(x["dE"]) for x in per] == [-300, -250, -150]
    assert valence_dftu_readings.judge_parts(p)[0][b_] is False
    assert "k density 6 /Å: -250 meV/f.u." in valence_dftu_readings.numerics_line(p) and "fails whatever these choices" in valence_dftu_readings.numerics_line(p)
    # on the denser grid spin 0 comes out lower: (b) undetermined, the cause named
    p = page((-50.0, -49.9), (-30.0, -30.3))
    assert valence_dftu_readings.numerics_reading(p)[0] is None and valence_dftu_readings.judge_parts(p)[0][b_] is None
    assert any("with another k grid or smearing: k density 6 /Å at 3 eV +50 meV/f.u." in c for c in valence_dftu_status.open_causes(p, b_))
    # within k_BT (-10 meV/f.u.): not a magnet below spin 0 beyond the margin, so nothing confirmed
    p = page((-50.0, -50.02), (-30.0, -30.3))
    assert valence_dftu_readings.numerics_reading(p)[0] is None
    # a variant not computed yet, or its magnet not converged: open, said so
    p = page((-50.0, None), (-30.0, -30.3))
    assert valence_dftu_readings.numerics_reading(p)[0] is None and "k density 6 /Å: not computed yet" in valence_dftu_readings.numerics_line(p)
    p = page((-50.0, -50.5), (-30.0, -30.3))
    p["numerics branches"][3]["result"]["steps"][0]["converged"] = False
    p["numerics branches"][3]["result"]["steps"][0]["density_residual"] = 1e-2
    assert valence_dftu_readings.numerics_reading(p)[0] is None and "smearing 0.02 eV: not both states converged" in valence_dftu_readings.numerics_line(p)
    # the plan: unbiased starts only, each with the setting it changes (and nothing else) and its own start's name
    js = {j["start"]: j for j in valence_dftu_plans.jobs("paper", one_t)}
    assert js["unbiased, AFM seed, 3 eV, k density 6 /Å"]["overrides"] == {"kpt_density": 6.0}
    assert js["unbiased, 3 eV, smearing 0.02 eV"]["targets"] is None and js["unbiased, 3 eV, smearing 0.02 eV"]["spin"] == "restricted"
    assert not any(j.get("overrides") for j in valence_dftu_plans.jobs("smoke", one_t))
    bad = dict(valence_dftu_plans.SETTINGS["paper"], numerics={"U_grid": [3.0], "maxiter": [100, 150, 200], "starts": ["unbiased"],
                                              "variants": [{"ecut": 500.0}]})
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(valence_dftu_plans.SETTINGS, "paper", bad)
        with pytest.raises(ValueError, match="may change only kpt_density, smearing, not ecut"):
            valence_dftu_plans.jobs("paper", one_t)


def test_the_reward_of_occupations_above_one_is_dudarevs_term_on_those_eigenvalues_only():
    """Dudarev's U_eff Tr[n - n n]/2 is negative for a spin-orbital holding more than one electron (GPAW's scaled
    projectors allow it): overfilled_eV keeps exactly that part, in any basis (a rotated matrix gives the same)."""
    n = np.diag([1.1, 0.9, 0.2, 0.0, 1.0])
    R = np.linalg.qr(np.random.default_rng(1).normal(size=(5, 5)))[0]
    step = {"U_eV": 4.0, "occupations": {"0": [n.tolist(), (R @ n @ R.T).tolist()], "3": [np.zeros((5, 5)).tolist()] * 2}}
    assert valence_dftu_treatments.overfilled_eV(step, [0, 3]) == pytest.approx(2 * 0.5 * 4.0 * 1.1 * (1 - 1.1))
    step["occupations"]["0"] = [np.diag([0.99, 0.5, 0, 0, 0]).tolist()] * 2
    assert valence_dftu_treatments.overfilled_eV(step, [0, 3]) == 0.0


def test_one_state_reached_from_several_starts_is_named_once_and_the_next_state_is_another(one_t):
    """Starts that end in the lowest state itself (same t2g filling and occupations, within 1 meV/f.u.) are that
    state reached again, not states within the margin; the next state above is the first that differs."""
    magnet = (_occ(1.0, 0.75, 1.5), _occ(1.0, 0.75, -1.5))
    closed = (_occ(1.9, 0.3), _occ(1.9, 0.3))
    b = [_branch("unbiased, AFM seed", "polarized", {3.0: (-20.0, *magnet)}),
         _branch("d2 high spin, AFM", "polarized", {3.0: (-20.0005, *magnet)}),
         _branch("d2 a1g² (spin 0)", "restricted", {3.0: (-19.97, *closed)}),
         _branch("unbiased", "restricted", {3.0: (-19.0, *closed)})]
    rows = valence_dftu_steps.step_rows(b, one_t, n_fu=2)
    (low,) = valence_dftu_steps.lowest_states(rows)
    assert low["lowest"] == "d2 high spin, AFM" and low["next state above (meV/f.u.)"] == pytest.approx(0.25)
    assert valence_dftu_treatments.margin_said(rows, low) == "; the same state also from unbiased, AFM seed; other states within the margin: d2 a1g² (spin 0)"
    assert valence_dftu_treatments.next_other_state(rows, low) == pytest.approx(15.25)
