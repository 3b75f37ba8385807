"""The transition page's helpers: the sliding path between the polar stackings (its shift from the
structure, its input checks), and the ordering-temperature rung on made-up fits (verdict rules,
pseudo-spins from what states fill, the couplings a target T_c needs)."""
import numpy as np
import pytest

from helpers import sliding, structures
from helpers.transition import onsager, ordering


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
    assert ordering.verdict(_fits([(6.0, 900.0), (3.0, 400.0)]), 3.0, 350)["verdict"] == "reproduced"
    assert ordering.verdict(_fits([(6.0, 900.0), (3.0, 200.0)]), 3.0, 350)["verdict"] == "not reproduced"
    v = ordering.verdict(_fits([(10.0, 1700.0), (6.0, 3100.0), (3.0, np.nan)]), 3.0, 350)
    assert v["verdict"] == "undetermined" and "1700–3100 K" in v["why"] and "U = 6–10 eV" in v["why"]


def test_pseudo_spins_come_from_what_states_fill():
    assert ordering.pseudo_spins("b2c2|c2b2", 2, 2) == [1, -1, -1, 1]
    assert ordering.pseudo_spins("b2c2", 2, 2) == [1, -1, 1, -1]
    assert ordering.pseudo_spins("a2c2", 2, 1) is None


def test_needed_couplings_solve_onsagers_equation():
    kT = onsager.K_B_MEV_PER_K * 350.0
    iso, *aniso = ordering.needed_couplings(350.0)
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
    conf = ordering.configurations(rows, 6.0)
    (only,) = conf.values()
    assert only["n"] == 3 and only["E (meV/W)"] == pytest.approx(100.5) and only["spread (meV/W)"] == pytest.approx(1.0)


def test_supercell_states_sit_on_the_models_sites(monkeypatch):
    """The doubled cells are built from the mean-field model's sites, which put WTe2's W1 and W2 of one
    cell on a zigzag bond (the structure's W1 and W2 of one cell are on an interchain bond): the
    pseudo-spins must be placed there, or zigzag and interchain couplings trade places."""
    monkeypatch.setenv("COMPENDIUM_REQUIRE_CACHE", "1")
    lr = ordering.layer_runs("WTe2", "paper", "local octahedral frame")
    w = lr["atoms"].positions
    # independent of the positions' bookkeeping: the model's largest W1-W2 hopping block spans the
    # short (zigzag) bond, inside one cell
    hop = ordering.strongest_metal_hopping(lr["models"]["effective"][0])
    assert hop["length_A"] == pytest.approx(2.86, abs=0.02) and hop["R"] == [0, 0, 0]
    assert np.linalg.norm(w[1] - w[0]) == pytest.approx(hop["length_A"], abs=1e-6)
    rows = ordering.states(lr["runs"], lr["atoms"])
    fit = next(r for r in ordering.couplings_by_U(rows) if r["U (eV)"] == 10.0)
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


def _dftu_row(start, state, U, dE, converged=True, bc=0.9, spin="restricted", ec=float("nan")):
    return {"reading": "energy order", "spin": spin, "U (eV)": U, "numerics": "profile's", "start": start,
            "state": state, "converged": converged, "b + c in filled orbitals": bc, "ΔE (meV/f.u.)": dE,
            "ΔE constrained, full bias (meV/f.u.)": ec}


def test_dftu_couplings_only_from_converged_bc_ordered_states():
    rows = [_dftu_row("unbiased", "unpolarized", 6.0, 0.0),
            _dftu_row("b2b2", "FO", 6.0, 40.0, ec=900.0), _dftu_row("b2c2", "AFO", 6.0, 25.0, ec=850.0),
            _dftu_row("c2c2", "FO", 6.0, -80.0, converged=False),          # not converged: not a state
            _dftu_row("unbiased", "unpolarized", 3.0, 0.0),
            _dftu_row("b2b2", "FO", 3.0, 10.0, bc=0.3),                    # fills a: not b/c-ordered
            _dftu_row("b2c2", "unpolarized", 3.0, 0.0)]
    d = ordering.dftu_coupling_groups(rows)
    g = {x["U (eV)"]: x for x in d["groups"]}
    assert g[6.0]["E_FO - E_AFO (meV/f.u.)"] == pytest.approx(15.0)
    assert g[3.0]["ordered"] == [] and np.isnan(g[3.0]["E_FO - E_AFO (meV/f.u.)"])
    assert d["constrained (meV/f.u.)"] == (850.0, 900.0)
    assert "+15 meV/f.u." in ordering.dftu_findings(d)


def test_dftu_without_ordered_states_supplies_no_couplings():
    d = ordering.dftu_coupling_groups([_dftu_row("unbiased", "unpolarized", 4.0, 0.0),
                                       _dftu_row("b2c2", "unpolarized", 4.0, 0.0, ec=700.0)])
    text = ordering.dftu_findings(d)
    assert "supplies no couplings" in text and "restricted at U = 4 eV" in text and "700–700" in text
    assert "no branch computed" in ordering.dftu_findings({"groups": []})
    assert ordering.dftu_scorecard_line(d) == "no b/c-ordered state after the bias is released (restricted, U = 4 eV): no couplings"
