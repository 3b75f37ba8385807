"""Exact diagonalization and UHF on toy models with known answers (helpers.manybody.toy)."""
import numpy as np
import pytest

from helpers.manybody import anneal
from helpers.manybody import configurations as C
from helpers.manybody import ed
from helpers.manybody import toy
from helpers.manybody import uhf

T = 1.0                                          # hopping, eV
HK, SHELLS = toy.hubbard_dimer(T)


def hub(U):
    return [toy.hubbard_interaction(U)] * 2


def one(x):
    return x * np.eye(1)


@pytest.mark.parametrize("U", [0.5, 1.0, 2.0, 4.0, 8.0, 20.0])
def test_ed_dimer_matches_closed_form(U):
    r = ed.solve(HK, SHELLS, [i.tensor for i in hub(U)], 2)
    exact = toy.dimer_exact(U, T)
    assert r.ground_energy == pytest.approx(exact["E0"], abs=1e-10)
    for site in (0, 1):
        assert ed.double_occupancy(r, site) == pytest.approx(exact["double_occupancy"], abs=1e-10)
    assert ed.spin_correlation(r, 0, 1) == pytest.approx(exact["spin_correlation"], abs=1e-10)
    # the relation used in the closed form: <S1.S2> = -(3/4)(1 - sum_i <n_i,up n_i,dn>)
    docc = sum(ed.double_occupancy(r, s) for s in (0, 1))
    assert ed.spin_correlation(r, 0, 1) == pytest.approx(-0.75 * (1 - docc), abs=1e-10)
    assert ed.occupations(r) == pytest.approx([1.0, 1.0], abs=1e-10)
    n = ed.density_matrix(r)
    assert n[0] == pytest.approx(n[1], abs=1e-12)                     # singlet: spin symmetric


def test_dimer_uhf_anneal_afm_collapses_at_U_2t():
    """AFM branch annealed from U/t = 20: above ED (variational), E = -2t^2/U at large U, collapses
    into the paramagnetic (restricted) branch at the analytic instability U = 2t; PM is -2t + U/2."""
    U_grid = 20 * 0.9 ** np.arange(26)                                # 20 ... 1.44, steps ~0.2 near 2
    starts = {"AFM": [(one(1), one(0)), (one(0), one(1))], "PM": [(one(0.5), one(0.5))] * 2}
    res = anneal.anneal(HK, SHELLS, hub, 2, starts, U_grid, width=1e-3, verbose=False)
    afm, pm = res["branches"]["AFM"], res["branches"]["PM"]
    assert afm["fate"] == "collapsed into PM"
    spacing = np.max(np.abs(np.diff(U_grid[(U_grid > 1.5) & (U_grid < 2.6)])))
    assert abs(afm["ends_at_U"] - 2 * T) <= spacing
    assert pm["fate"] == "survives to U_min"
    assert anneal.ground_branch(res) == "PM"
    for step in afm["steps"]:
        if step["valid"]:
            U = step["U"]
            assert step["converged"]
            assert step["E"] >= toy.dimer_exact(U, T)["E0"] - 1e-9        # variational
            assert step["E"] == pytest.approx(-2 * T**2 / U, abs=1e-6)     # UHF dimer, U > 2t
            assert step["sites"][0]["moment"] == pytest.approx(-step["sites"][1]["moment"], abs=1e-6)
    assert afm["steps"][0]["E"] == pytest.approx(-2 * T**2 / 20, rel=1e-6)
    for step in pm["steps"]:
        assert step["E"] == pytest.approx(-2 * T + step["U"] / 2, abs=1e-6)
        assert step["E"] >= toy.dimer_exact(step["U"], T)["E0"] - 1e-9


@pytest.mark.parametrize("U", [0.5, 4.0, 20.0])
def test_dimer_one_and_three_electrons_exact(U):
    """1 electron: -t for every U (UHF spin-polarized and ED); 3 electrons: U - t."""
    r1 = uhf.solve(HK, SHELLS, hub(U), 1, [(one(0.5), one(0.0))] * 2, width=1e-3)
    r3 = uhf.solve(HK, SHELLS, hub(U), 3, [(one(1.0), one(0.5))] * 2, width=1e-3)
    assert r1.converged and r3.converged
    assert r1.energy == pytest.approx(-T, abs=1e-8)
    assert r3.energy == pytest.approx(U - T, abs=1e-8)
    assert abs(r1.total_moment) == pytest.approx(1.0, abs=1e-8)
    tensors = [i.tensor for i in hub(U)]
    assert ed.solve(HK, SHELLS, tensors, 1).ground_energy == pytest.approx(-T, abs=1e-10)
    assert ed.solve(HK, SHELLS, tensors, 3).ground_energy == pytest.approx(U - T, abs=1e-10)


U_T2G, J_T2G = 4.0, 0.6


def t2g_ed_ground(hk, shells):
    """ED ground energy of four electrons in the Sz = 0 sector (225 states instead of 495): every
    spin multiplet of an even electron count has an Sz = 0 member, so the sector holds E0."""
    return ed.solve(hk, shells, [toy.t2g_interaction(U_T2G, J_T2G)] * 2, 4, n_up=2).ground_energy


def t2g_best_uhf(hk, shells, names):
    inter = [toy.t2g_interaction(U_T2G, J_T2G)] * 2
    starts = C.enumerate_starts(4, [np.eye(3)] * 2, families=("highspin",), max_disproportionation=0)
    res = [uhf.solve(hk, shells, inter, 4, starts[n], width=1e-3) for n in names]
    assert all(r.converged for r in res)
    return min(r.energy for r in res)


def test_t2g_dimer_atomic_limit_uhf_equals_ed():
    """t = 0, four electrons, Kanamori with U' = U - 2J: both sites Hund d2 (S=1), E = 2(U - 3J)."""
    hk, shells = toy.t2g_dimer(np.zeros((3, 3)))
    e_ed = t2g_ed_ground(hk, shells)
    e_uhf = t2g_best_uhf(hk, shells, ["d2(S=1:ab)/d2(S=1:ab) FM"])
    assert e_ed == pytest.approx(2 * (U_T2G - 3 * J_T2G), abs=1e-10)
    assert e_uhf == pytest.approx(e_ed, abs=1e-8)


def test_t2g_dimer_with_hopping_uhf_above_ed_by_a_superexchange_scale():
    """With hopping, E_UHF >= E_ED (a Slater determinant is a variational state) and the missing
    correlation is at most the second-order scale sum_ab t_ab^2 / (U - 3J): U - 3J is the smallest
    charge gap d2 d2 -> d1 d3 of the Kanamori atom (E(d3) + E(d1) - 2 E(d2)), and the exact kinetic
    gain below the atomic limit is of that order, of which UHF keeps a part."""
    tmat = toy.DEFAULT_T2G_HOPPING
    hk, shells = toy.t2g_dimer(tmat)
    e_ed = t2g_ed_ground(hk, shells)
    e_uhf = t2g_best_uhf(hk, shells, ["d2(S=1:ab)/d2(S=1:bc) FM", "d2(S=1:ab)/d2(S=1:ab) AFM",
                                      "d2(S=1:ab)/d2(S=1:ab) FM"])
    bound = np.sum(tmat**2) / (U_T2G - 3 * J_T2G)
    e_atomic = 2 * (U_T2G - 3 * J_T2G)
    assert e_ed < e_uhf < e_atomic
    assert e_uhf - e_ed <= bound
    assert e_uhf - e_ed <= 0.5 * (e_atomic - e_ed)        # UHF keeps more than half of the gain here
