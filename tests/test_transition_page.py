"""The transition page's helpers: the sliding path between the polar stackings (its shift from the
structure, its input checks), and the ordering-temperature rung on made-up fits (verdict rules,
pseudo-spins from what states fill, the couplings a target T_c needs)."""
import numpy as np
import pytest

from helpers.dft import structures
from helpers.rungs.transition import dftu as transition_dftu
from helpers.rungs.transition import findings as transition_findings
from helpers.rungs.transition import mechanism as transition_mechanism
from helpers.rungs.transition import onsager
from helpers.rungs.transition import sliding
from helpers.rungs.transition import states as transition_states


def _mirror_match(a, b, tol):
    """Every atom of `b` has an atom of the same species in `a` within tol (Angstrom), in-plane periodic."""
    cell = np.array(a.cell)[:2, :2]
    for sym, p in zip(b.get_chemical_symbols(), b.positions):
        d = a.positions - p
        frac = np.linalg.solve(cell.T, d[:, :2].T).T
        d[:, :2] = (frac - np.round(frac)) @ cell
        same = [i for i, s in enumerate(a.get_chemical_symbols()) if s == sym]
        if np.min(np.linalg.norm(d[same], axis=1)) > tol:
            return False
    return True


def test_switching_shift_reaches_the_mirror_stacking():
    bl = structures.slab("WTe2", 2, vacuum=15.0)
    d = sliding.switching_shift_A(bl)
    assert d[0] == pytest.approx(0.0, abs=1e-9)                    # perpendicular to the chains
    assert abs(d[1]) == pytest.approx(0.760, abs=0.002)            # 2 D_y reduced by b (6.249 A)
    end = bl.copy()
    up = structures.layer_indices(bl)[1]
    end.positions[up] += d
    mirror = bl.copy()
    mirror.positions[:, 2] = bl.positions[:, 2].mean() * 2 - bl.positions[:, 2]
    # align the mirrored structure on the end point by the lower layers' metal centres
    c_end, c_mir = sliding.layer_centres(end)[0], sliding.layer_centres(mirror)[0]
    mirror.positions += c_end - c_mir
    # the layers of the experimental Td bulk are only nearly centrosymmetric: within 0.02 A
    assert _mirror_match(mirror, end, 0.02)
    # while a wrong shift (half of it, or the same shift along the chains) misses by far more
    wrong = bl.copy()
    wrong.positions[up] += 0.5 * d
    assert not _mirror_match(mirror, wrong, 0.1)


@pytest.mark.parametrize("points", [[0.0, 1.0], [0.0, 0.5, 0.5], [0.0, 0.5, 1.2], "0,0.5,1"])
def test_a_path_needs_three_increasing_fractions(points):
    with pytest.raises(ValueError, match="points"):
        sliding.check_points(points)


def _fits(Ts):
    return [{"U (eV)": U, "T_c Onsager (K)": T} for U, T in Ts]


def test_verdict_at_the_realistic_U_and_undetermined_without_states():
    assert transition_findings.verdict(_fits([(6.0, 900.0), (3.0, 400.0)]), 3.0, 350)["verdict"] == "reproduced"
    assert transition_findings.verdict(_fits([(6.0, 900.0), (3.0, 200.0)]), 3.0, 350)["verdict"] == "not reproduced"
    v = transition_findings.verdict(_fits([(10.0, 1700.0), (6.0, 3100.0), (3.0, np.nan)]), 3.0, 350)
    assert v["verdict"] == "undetermined" and "1700–3100 K" in v["why"] and "U = 6–10 eV" in v["why"]


def test_pseudo_spins_come_from_what_states_fill():
    assert transition_states.pseudo_spins("b2c2|c2b2", 2, 2) == [1, -1, -1, 1]
    assert transition_states.pseudo_spins("b2c2", 2, 2) == [1, -1, 1, -1]
    assert transition_states.pseudo_spins("a2c2", 2, 1) is None


def test_needed_couplings_solve_onsagers_equation():
    kT = onsager.K_B_MEV_PER_K * 350.0
    iso, *aniso = transition_findings.needed_couplings(350.0)
    # isotropic: the closed form k_B T_c = 2 J / ln(1 + sqrt 2), not the solver
    assert iso["J strong bond (meV)"] == pytest.approx(kT * np.log(1 + np.sqrt(2)) / 2, rel=1e-12)
    for n in aniso:
        a, b = n["J strong bond (meV)"], n["J weak bond (meV)"]
        assert np.sinh(2 * a / kT) * np.sinh(2 * b / kT) == pytest.approx(1.0, rel=1e-9)
        assert b / a == pytest.approx(n["J weak / J strong"])


def test_configurations_merge_one_configuration_met_in_several_cells():
    rows = [{"U (eV)": 6.0, "m": 0.0, "zigzag": -1.0, "interchain": -1.0, "row": 1.0, "F (meV/W)": E,
             "pattern now": p, "cell": c} for E, p, c in ((100.0, "b2c2", "primitive"), (101.0, "b2c2", "2x1"),
                                                           (100.5, "c2b2", "1x2"))]
    conf = transition_states.configurations(rows, 6.0)
    (only,) = conf.values()
    assert only["n"] == 3 and only["E (meV/W)"] == pytest.approx(100.5) and only["spread (meV/W)"] == pytest.approx(1.0)


def test_supercell_states_sit_on_the_models_sites(monkeypatch):
    """The doubled cells are built from the mean-field model's sites, which put WTe2's W1 and W2 of one
    cell on a zigzag bond (the structure's W1 and W2 of one cell are on an interchain bond): the
    pseudo-spins must be placed there, or zigzag and interchain couplings trade places."""
    monkeypatch.setenv("COMPENDIUM_REQUIRE_CACHE", "1")
    lr = transition_findings.layer_runs("WTe2", "paper", "local octahedral frame")
    w = lr["atoms"].positions
    # independent of the positions' bookkeeping: the model's largest W1-W2 hopping block spans the
    # short (zigzag) bond, inside one cell
    hop = transition_mechanism.strongest_metal_hopping(lr["models"]["effective"][0])
    assert hop["length_A"] == pytest.approx(2.86, abs=0.02) and hop["R"] == [0, 0, 0]
    assert np.linalg.norm(w[1] - w[0]) == pytest.approx(hop["length_A"], abs=1e-6)
    rows = transition_states.states(lr["runs"], lr["atoms"])
    fit = next(r for r in transition_states.couplings_by_U(rows) if r["U (eV)"] == 10.0)
    # the short bond carries the coupling; the fit is exact to the spread between cells
    assert abs(fit["J zigzag (meV)"]) > 10 * abs(fit["J interchain (meV)"])
    assert fit["rms residual (meV/W)"] < 2 * fit["largest spread between cells (meV/W)"]


def test_barrier_is_the_span_of_the_path_even_when_the_start_is_not_lowest():
    rows = [{"s": s, "ΔE PBE+D3 (meV/cell)": e, "ΔE PBE (meV/cell)": e + 0.05, "f.u. per cell": 4,
             "p_z (e·Å per cell)": p} for s, e, p in ((0.0, 0.0, 1e-3), (0.5, -0.2, 0.0), (1.0, 0.1, -1e-3))]
    b = sliding.barrier(rows)
    assert b["barrier (meV/cell)"] == pytest.approx(0.3) and b["barrier (meV/f.u.)"] == pytest.approx(0.075)
    assert (b["at s"], b["lowest at s"]) == (1.0, 0.5)
    assert b["mirror check E(1) − E(0) (meV/cell)"] == pytest.approx(0.1)
    assert sliding.temperature_K(0.3) == pytest.approx(3.48, abs=0.01)


def _dftu_row(start, state, U, dE, converged=True, spin="restricted", controlled=True):
    return {"reading": "energy order", "spin": spin, "U (eV)": U, "numerics": "profile's", "start": start,
            "state": state, "converged": converged, "ΔE (meV/f.u.)": dE, "release controlled": controlled}


def test_dftu_couplings_only_from_converged_ordered_states():
    rows = [_dftu_row("unbiased", "unpolarized", 6.0, 0.0),
            _dftu_row("b2b2", "FO", 6.0, 40.0), _dftu_row("b2c2", "AFO", 6.0, 25.0),
            _dftu_row("c2c2", "FO", 6.0, -80.0, converged=False),          # not converged: not a state
            _dftu_row("unbiased", "unpolarized", 3.0, 0.0),
            _dftu_row("b2c2", "unpolarized", 3.0, 0.0), _dftu_row("c2c2", "unpolarized", 3.0, 0.0, controlled=False)]
    d = transition_dftu.dftu_coupling_groups(rows)
    g = {x["U (eV)"]: x for x in d["groups"]}
    assert g[6.0]["E_FO - E_AFO (meV/f.u.)"] == pytest.approx(15.0)
    assert g[3.0]["ordered"] == [] and np.isnan(g[3.0]["E_FO - E_AFO (meV/f.u.)"])
    assert g[3.0]["controlled"] == ["b2c2"] and g[3.0]["not controlled"] == ["c2c2"] and d["U_max (eV)"] == 6.0
    assert "+15 meV/f.u." in transition_dftu.dftu_findings(d)
    # a converged mixed state (an order of rotated orbitals) is named beside the FO and AFO, not fitted
    mixed = dict(_dftu_row("c2c2", "mixed", 6.0, -6.4), **{"overlap W1-W2": 0.42})
    d = transition_dftu.dftu_coupling_groups(rows + [mixed, dict(mixed, start="b2b2")])
    assert "+15 meV/f.u." in transition_dftu.dftu_findings(d)
    assert "(c2c2, b2b2 at W1–W2 overlap 0.42, -6.4 meV/f.u. from the reference)" in transition_dftu.dftu_findings(d)


def test_dftu_without_ordered_states_supplies_no_couplings_in_its_range_only():
    d = transition_dftu.dftu_coupling_groups([_dftu_row("unbiased", "unpolarized", 4.0, 0.0),
                                              _dftu_row("b2c2", "unpolarized", 4.0, 0.0),
                                              _dftu_row("c2c2", "unpolarized", 4.0, 0.0, controlled=False)])
    text = transition_dftu.dftu_findings(d, ordered_U=(6.0, 8.0))
    assert "no converged orbitally ordered state survives" in text and "restricted at U = 4 eV" in text
    assert "released under control (b2c2)" in text and "without control (c2c2)" in text and "no ordered state whose" in text
    loose = transition_dftu.dftu_coupling_groups([_dftu_row("unbiased", "unpolarized", 4.0, 0.0),
                                                  _dftu_row("b2c2", "unpolarized", 4.0, 0.0, controlled=False)])
    assert "No ordered start was released under control" in transition_dftu.dftu_findings(loose)
    assert "not decided" in transition_dftu.dftu_findings(loose)
    assert "neither supplies nor excludes couplings" in text and "6–8 eV" in text and "above 4 eV" in text
    assert "neither supplies" not in transition_dftu.dftu_findings(d, ordered_U=(3.0, 4.0))
    assert "no branch computed" in transition_dftu.dftu_findings({"groups": [], "U_max (eV)": None})
    assert transition_dftu.dftu_scorecard_line(d).startswith("no converged orbitally ordered state after the bias is released (restricted, U = 4 eV")


def test_mechanism_couplings_are_per_W_sums_of_half_the_bond_afo_fo_difference(monkeypatch):
    """Two zigzag bonds per cell of two W, each with E_AFO - E_FO = -20 meV (pinned), give J_zigzag = -10 meV
    per W as the fit defines it (E/W = -sum_k J_k <s s>_k); a bond of no known kind is left out; Onsager's T_c
    of the result; the closing sentence follows the sign and size of the coupling."""
    from helpers.manybody import bond_table
    fake = [{"length_A": 2.86, "E2 AFO - FO (meV)": -30.0, "pinned AFO - FO (meV)": -20.0, "t_intra_eV": 1.0,
             "t_inter_eV": 0.1}] * 2 + [{"length_A": 4.42, "E2 AFO - FO (meV)": -2.0, "pinned AFO - FO (meV)": -1.0,
                                          "t_intra_eV": 0.15, "t_inter_eV": 0.04}] * 2 + \
           [{"length_A": 3.9, "E2 AFO - FO (meV)": -99.0, "pinned AFO - FO (meV)": -99.0, "t_intra_eV": 0, "t_inter_eV": 0}]
    monkeypatch.setattr(bond_table, "bond_table", lambda *a, **k: fake)
    monkeypatch.setattr(bond_table, "second_order_valid", lambda r: True)
    from helpers.rungs.transition import network
    monkeypatch.setattr(network, "bond_lengths_A", lambda atoms: {"zigzag": 2.86, "interchain": 4.42, "row": 3.49})
    lr = {"models": {"effective": [None]}, "orbitals": [None, None], "atoms": None}
    m = transition_mechanism.mechanism_couplings(lr, 3.0, 0.5)
    assert m["kinds"]["zigzag"]["pinned (meV)"] == pytest.approx(-10.0)
    assert m["kinds"]["interchain"]["pinned (meV)"] == pytest.approx(-0.5)
    assert m["kinds"]["row"]["bonds"] == 0 and m["kinds"]["zigzag"]["second order (meV)"] == pytest.approx(-15.0)
    assert m["T_c pinned (K)"] == pytest.approx(onsager.critical_temperature_K(10.0, 0.5))
    needed = transition_findings.needed_couplings(350.0)
    assert "does not turn it into" in transition_mechanism.mechanism_findings(m, needed, 350.0)     # 10 meV < 13.3 meV
    for k in fake[:2]:
        k["pinned AFO - FO (meV)"] = -40.0
    m = transition_mechanism.mechanism_couplings(lr, 3.0, 0.5)
    assert "turns it into an antiferro-orbital coupling of the needed size" in transition_mechanism.mechanism_findings(m, needed, 350.0)


def test_sliding_shift_direction_is_read_from_the_vector():
    assert sliding._direction([0.0, 0.76, 0.0]) == "perpendicular to the chains"
    assert sliding._direction([0.5, 0.0, 0.0]) == "along the chains"
    assert sliding._direction([1.0, 1.0, 0.0]) == "at 45° to the chains"


def test_sliding_convergence_is_judged_on_the_variants_points():
    """The variants are compared with the main path on their own three points, not with its five-point span."""
    page = {"barrier on the variants' points": {"barrier (meV/cell)": 1.10},
            "variants": {"k": {"barrier": {"barrier (meV/cell)": 1.11}}, "vac": {"barrier": {"barrier (meV/cell)": 1.08}}}}
    text = sliding._convergence_text(page, [None, None, None])
    assert "spans 1.10 meV" in text and "at most 0.02 meV" in text
    assert "not tested" in sliding._convergence_text(page, [None])


def test_pair_couplings_read_one_bond_kind_from_configurations_differing_only_there():
    base = {"m": 0.0, "zigzag": -1.0, "row": 1.0}
    conf = {"A": {"E (meV/W)": 0.0, "correlations": base | {"interchain": -1.0}},
            "B": {"E (meV/W)": -4.0, "correlations": base | {"interchain": 1.0}},       # J = -(-4 - 0)/(1 - -1) = 2
            "C": {"E (meV/W)": 9.0, "correlations": base | {"zigzag": 1.0, "interchain": 0.0}}}
    pairs = transition_states.pair_couplings(conf, "interchain")
    assert [p["pair"] for p in pairs] == ["A / B"] and pairs[0]["J (meV)"] == pytest.approx(2.0)


def test_an_ordered_start_whose_scf_does_not_converge_is_named_but_not_fitted():
    d = transition_dftu.dftu_coupling_groups([_dftu_row("unbiased", "unpolarized", 8.0, 0.0, converged=False),
                                              _dftu_row("b2c2", "AFO", 8.0, 340.0, converged=False, controlled=False)])
    assert d["groups"][0]["ordered"] == [] and d["groups"][0]["unconverged ordered"] == [("b2c2", "AFO")]
    text = transition_dftu.dftu_findings(d)
    assert "AFO from b2c2" in text and "none enters a fit" in text
