"""Ordering temperature of the Ising pseudo-spin model (helpers.rungs.transition): Onsager's exact T_c
and its inverse, the coupling fit to ordered-pattern energies, the Monte Carlo against exact
results (T_c by Binder crossing, Onsager's energy, Yang's magnetization), hysteresis, bad input.

Monte Carlo tolerances: every simulation is seeded (reproducible), and each comparison with an
exact number allows 3 of the simulation's own error bars (block jackknife; for T_c the bootstrap
and the drift between pairs of sizes in quadrature), while also requiring that error bar to be
small, so the test can fail both ways. Mean-field theory (k_B T_c = 4 J) and the isotropic T_c of
the mean coupling are both outside these bars."""
import math

import numpy as np
import pytest

from helpers.rungs.transition import binder
from helpers.rungs.transition import couplings
from helpers.rungs.transition import hysteresis
from helpers.rungs.transition import lattice
from helpers.rungs.transition import montecarlo
from helpers.rungs.transition import onsager

KB = onsager.K_B_MEV_PER_K
J = 10.0                                         # meV: T_c(isotropic) = 263.3 K


# --- exact results ----------------------------------------------------------------------------

def test_isotropic_limit_and_onsager_equation():
    tc = onsager.critical_temperature_K(J, J)
    assert KB * tc / J == pytest.approx(2 / math.log(1 + math.sqrt(2)), rel=1e-13)   # 2.269185
    assert onsager.isotropic_critical_temperature_K(J) == pytest.approx(tc, rel=1e-13)
    # the anisotropic root is continuous into the isotropic limit and solves Onsager's equation
    assert onsager.critical_temperature_K(J, J * (1 + 1e-9)) == pytest.approx(tc, rel=1e-8)
    for ratio in (1e-6, 1e-3, 0.1, 0.5, 2.0, 37.0):
        T = onsager.critical_temperature_K(J, ratio * J)
        beta = 1 / (KB * T)
        assert math.sinh(2 * J * beta) * math.sinh(2 * ratio * J * beta) == pytest.approx(1, rel=1e-10)
        assert onsager.critical_temperature_K(ratio * J, J) == pytest.approx(T, rel=1e-12)   # x <-> y
    # sign of a coupling is irrelevant on the bipartite lattice; weaker chains order lower
    assert onsager.critical_temperature_K(-J, J) == pytest.approx(tc, rel=1e-13)
    tc_mean = onsager.critical_temperature_K(0.75 * J, 0.75 * J)
    assert onsager.critical_temperature_K(J, 0.5 * J) < tc_mean < tc
    assert onsager.critical_temperature_K(J, 0.0) == 0.0                # decoupled chains never order


def test_couplings_for_a_target_tc():
    for ratio in (0.05, 0.5, 1.0, 4.0):
        Jx, Jy = onsager.couplings_for_tc(350.0, ratio)
        assert Jy == pytest.approx(ratio * Jx, rel=1e-14)
        assert onsager.critical_temperature_K(Jx, Jy) == pytest.approx(350.0, rel=1e-12)
    Jx, Jy = onsager.couplings_for_tc(350.0, 1.0)
    assert Jx == pytest.approx(KB * 350 * math.log(1 + math.sqrt(2)) / 2, rel=1e-12)    # 13.3 meV
    # more anisotropic chains need a larger coupling along them for the same T_c
    assert onsager.couplings_for_tc(350.0, 0.1)[0] > onsager.couplings_for_tc(350.0, 0.5)[0] > Jx


def test_onsager_energy_and_yang_magnetization():
    tc = onsager.critical_temperature_K(J, J)
    assert onsager.energy_per_site_isotropic_meV(tc, J) == pytest.approx(-math.sqrt(2) * J, rel=1e-12)
    # continuous through T_c (the elliptic integral diverges, its prefactor vanishes)
    for f in (1 - 1e-6, 1 + 1e-6):
        assert onsager.energy_per_site_isotropic_meV(f * tc, J) == pytest.approx(-math.sqrt(2) * J, rel=1e-4)
    # high-T loop expansion: u = -2 J t (1 + 2 t^2 + O(t^4)), t = tanh K;
    # low-T expansion: u = -2 J (1 - 4 x^4 + O(x^6)), x = exp(-2K)
    T_hot = 100 * J / KB
    t = math.tanh(0.01)
    u_hot = onsager.energy_per_site_isotropic_meV(T_hot, J)
    assert u_hot == pytest.approx(-2 * J * t * (1 + 2 * t * t), rel=1e-7)
    K = 2.0
    u_cold = onsager.energy_per_site_isotropic_meV(J / (K * KB), J)
    assert u_cold == pytest.approx(-2 * J * (1 - 4 * math.exp(-8 * K)), rel=1e-6)
    # Yang: zero above T_c, 1 - 2 x^4 at low T, m^8 linear in T_c - T near T_c
    assert onsager.spontaneous_magnetization(1.01 * tc, J, J) == 0.0
    m_cold = onsager.spontaneous_magnetization(J / (K * KB), J, J)
    assert m_cold == pytest.approx(1 - 2 * math.exp(-8 * K), abs=1e-9)
    tca = onsager.critical_temperature_K(J, 0.3 * J)
    m8 = [onsager.spontaneous_magnetization(tca * (1 - d), J, 0.3 * J) ** 8 for d in (1e-4, 2e-4)]
    assert m8[1] / m8[0] == pytest.approx(2.0, rel=1e-3)


# --- coupling fit -----------------------------------------------------------------------------

def test_fit_recovers_couplings_from_pattern_energies():
    pats = couplings.doubled_cell_patterns()
    Jx, Jy, E0 = 3.2, -1.1, -250.0                     # ferro along the chains, antiferro across
    E = {n: couplings.pattern_energy_meV(s, Jx, Jy, E0) for n, s in pats.items()}
    assert E["FO"] == pytest.approx(4 * (E0 - Jx - Jy))                   # 2 x 2 cell: 4 sites
    assert E["stripes_across"] == pytest.approx(4 * (E0 - Jx + Jy))
    fit = couplings.fit_couplings(E, pats)
    assert (fit.J_x_meV, fit.J_y_meV, fit.E0_meV) == pytest.approx((Jx, Jy, E0), abs=1e-10)
    assert fit.dof == 1 and fit.rms_residual_meV < 1e-9
    # noisy energies, patterns in cells of different sizes (energies per cell of each array):
    # recovered within the fit's own standard errors, residual at the noise level
    pats = dict(pats, double_stripes=np.array([[1, 1, -1, -1]] * 2),
                cell_3x1=np.array([[1], [1], [-1]]))
    rng = np.random.default_rng(7)
    noise = 0.05
    E = {n: couplings.pattern_energy_meV(s, Jx, Jy, E0) + rng.normal(0, noise) for n, s in pats.items()}
    fit = couplings.fit_couplings(E, pats)
    assert fit.dof == 3
    assert abs(fit.J_x_meV - Jx) < 3 * fit.J_x_err_meV and fit.J_x_err_meV < 0.05
    assert abs(fit.J_y_meV - Jy) < 3 * fit.J_y_err_meV and fit.J_y_err_meV < 0.05
    assert 0 < fit.rms_residual_meV < 4 * noise
    assert sum(fit.residuals_meV.values()) != 0.0 and set(fit.residuals_meV) == set(pats)


def test_fit_refuses_underdetermined_patterns():
    pats = couplings.doubled_cell_patterns()
    with pytest.raises(couplings.UnderdeterminedFit, match="span only 2"):
        couplings.fit_couplings({"FO": -10.0, "stripes_along": -9.0}, pats)
    # three patterns, but their bond averages (1,1), (-1,-1), (0,0) lie on one line
    a = np.array([1, 1, -1, -1])
    pats["double_both"] = np.outer(a, a)
    with pytest.raises(couplings.UnderdeterminedFit):
        couplings.fit_couplings({"FO": -10.0, "checkerboard": -9.0, "double_both": -9.5}, pats)
    with pytest.raises(ValueError, match="no pattern of that name"):
        couplings.fit_couplings({"AFO": -1.0}, pats)
    with pytest.raises(ValueError, match="finite energy"):
        couplings.fit_couplings({"FO": float("nan"), "checkerboard": 1.0, "stripes_along": 0.0}, pats)
    with pytest.raises(ValueError, match=r"\+1/-1"):
        couplings.fit_couplings({"x": 1.0}, {"x": [[1, 0]]})


# --- Monte Carlo against exact results ---------------------------------------------------------

def _check_tc(J_x, J_y, seed, geometry="square"):
    exact = onsager.critical_temperature_K(J_x, J_y)
    res = binder.binder_tc([8, 16, 32], exact * np.linspace(0.96, 1.04, 5), J_x, J_y,
                           n_sweeps=2000, n_thermalize=100, seed=seed, geometry=geometry)
    assert res.error_K < 0.025 * exact                         # a measurement, not a wide net
    assert abs(res.T_c_K - exact) < 3 * res.error_K, (res.T_c_K, res.error_K, exact)
    return res


def test_monte_carlo_tc_isotropic_agrees_with_onsager():
    res = _check_tc(J, J, seed=1)
    assert res.T_c_K < 0.9 * 4 * J / KB                         # far below mean field
    # every pair of sizes crosses near T_c (the crossings drift little in 2D Ising)
    for T, err in res.pair_crossings.values():
        assert abs(T / onsager.critical_temperature_K(J, J) - 1) < 0.02


def test_monte_carlo_tc_anisotropic_agrees_with_exact_formula():
    res = _check_tc(J, 0.5 * J, seed=2)
    # and tells the exact anisotropic T_c from that of the mean coupling (197.5 K against 190.4 K)
    naive = onsager.isotropic_critical_temperature_K(0.75 * J)
    assert abs(res.T_c_K - naive) > abs(res.T_c_K - onsager.critical_temperature_K(J, 0.5 * J))


def test_zigzag_network_has_onsagers_tc():
    # the 1T' metal network (zigzag and interchain bonds side by side on each plaquette) is not the
    # anisotropic square lattice, but the doubly-periodic criterion gives it the same critical
    # equation; a wrong bond layout (e.g. all four bonds of a site equal) would miss it
    res = _check_tc(J, 0.3 * J, seed=3, geometry="zigzag")
    naive = onsager.isotropic_critical_temperature_K(0.65 * J)
    assert abs(res.T_c_K - naive) > 3 * res.error_K


def test_zigzag_bonds_are_laid_out_as_the_network():
    Jr, Jd = montecarlo.bond_couplings(8, 3.0, 1.0, "zigzag")
    # every site: two bonds of each kind (right/down from it, left/up into it)
    left, up = np.roll(Jr, 1, axis=1), np.roll(Jd, 1, axis=0)
    bonds = np.stack([Jr, Jd, left, up])
    assert np.all((bonds == 3.0).sum(axis=0) == 2) and np.all((bonds == 1.0).sum(axis=0) == 2)
    # the two bonds of one kind at a site are adjacent (right and down, or left and up): plaquettes zzii
    assert np.all(Jr == Jd) and np.all(left == up)
    with pytest.raises(ValueError, match="geometry"):
        montecarlo.simulate(8, 100.0, J, J, geometry="honeycomb")


def test_monte_carlo_energy_and_magnetization_against_exact():
    tc = onsager.critical_temperature_K(J, J)
    for run in montecarlo.scan(32, [0.8 * tc, 1.3 * tc], J, J, n_sweeps=1000, seed=5):
        u, du = run.energy_meV()
        assert du < 0.05 and abs(u - onsager.energy_per_site_isotropic_meV(run.T_K, J)) < 3 * du
    # anisotropic, antiferro across the chains (gauge), local dynamics: Yang's magnetization
    tca = onsager.critical_temperature_K(J, 0.5 * J)
    run = montecarlo.simulate(32, 0.85 * tca, J, -0.5 * J, n_sweeps=1000, algorithm="metropolis", seed=6)
    m, dm = run.abs_magnetization()
    assert dm < 0.005 and abs(m - onsager.spontaneous_magnetization(0.85 * tca, J, 0.5 * J)) < 3 * dm + 0.002


def test_field_metropolis_and_clusters_agree():
    """Both updates sample exp(-H/kT) with the field term -h sum s (detailed balance): same <m>."""
    tc = onsager.critical_temperature_K(J, J)
    m = [montecarlo.simulate(16, 1.5 * tc, J, J, h_meV=2.0, n_sweeps=3000, algorithm=a,
                             seed=2).magnetization() for a in ("cluster", "metropolis")]
    assert m[0][0] > 0.2                                        # the field polarizes
    assert abs(m[0][0] - m[1][0]) < 3 * math.hypot(m[0][1], m[1][1])


def test_seeded_and_reproducible():
    a = montecarlo.scan(8, [200.0, 250.0], J, J, n_sweeps=40, seed=3)
    b = montecarlo.scan(8, [200.0, 250.0], J, J, n_sweeps=40, seed=3)
    c = montecarlo.scan(8, [200.0, 250.0], J, J, n_sweeps=40, seed=4)
    assert all(np.array_equal(x.m, y.m) and np.array_equal(x.e_meV, y.e_meV) for x, y in zip(a, b))
    assert not all(np.array_equal(x.m, y.m) for x, y in zip(a, c))


# --- hysteresis -------------------------------------------------------------------------------

def test_hysteresis_open_and_symmetric_below_tc_closed_above():
    tc = onsager.critical_temperature_K(J, J)
    kw = dict(n_fields=41, sweeps_per_field=10, dipole_per_site=0.5)
    below = hysteresis.hysteresis_loop(16, 0.7 * tc, J, J, 40.0, seed=1, **kw)
    c = hysteresis.coercivity(below)
    step = 80.0 / 40
    assert c.h_c_down_meV < -step and c.h_c_up_meV > step           # open loop
    assert abs(c.h_c_down_meV + c.h_c_up_meV) < 2 * step             # symmetric under h, m -> -h, -m
    assert c.remanence_down == pytest.approx(-c.remanence_up, abs=0.05) and c.remanence_down > 0.9
    assert below.P_down[0] == pytest.approx(0.5 * below.m_down[0])  # polarization = m * dipole
    above = hysteresis.hysteresis_loop(16, 1.5 * tc, J, J, 40.0, seed=1, **kw)
    ca = hysteresis.coercivity(above)
    assert abs(ca.coercive_meV) < step and abs(ca.area_meV) < 0.1 * c.area_meV
    assert np.allclose(above.m_down, above.m_up, atol=0.35)           # one curve within noise


def test_field_units():
    # 1 V/nm on 0.01 e*A: 1e9 V/m * 1.602e-19 C * 1e-12 m = 1.602e-22 J = 1 meV
    assert hysteresis.field_energy_meV(1.0, 0.01) == pytest.approx(1.0, rel=1e-12)
    assert hysteresis.field_V_per_nm(hysteresis.field_energy_meV(0.37, 0.02), 0.02) == pytest.approx(0.37)
    with pytest.raises(ValueError, match="dipole_e_angstrom"):
        hysteresis.field_V_per_nm(1.0, 0.0)


# --- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("call, match", [
    (lambda: montecarlo.simulate(6, 200.0, J, J), "lattice size"),
    (lambda: montecarlo.simulate(17, 200.0, J, J), "lattice size"),
    (lambda: montecarlo.simulate(16, 0.0, J, J), "T_K"),
    (lambda: montecarlo.simulate(16, -5.0, J, J), "T_K"),
    (lambda: montecarlo.scan(16, [], J, J), "temperatures_K"),
    (lambda: montecarlo.scan(16, [250.0, 200.0], J, J), "strictly increasing"),
    (lambda: montecarlo.scan(16, [200.0, 200.0], J, J), "strictly increasing"),
    (lambda: montecarlo.scan(16, [0.0, 200.0], J, J), "> 0"),
    (lambda: montecarlo.scan(16, ["hot"], J, J), "temperatures_K"),
    (lambda: montecarlo.scan(16, [[200.0, 300.0]], J, J), "temperatures_K"),
    (lambda: montecarlo.simulate(16, 200.0, float("nan"), J), "J_x_meV"),
    (lambda: montecarlo.simulate(16, 200.0, J, float("inf")), "J_y_meV"),
    (lambda: montecarlo.simulate(16, 200.0, J, J, n_sweeps=-1), "n_sweeps"),
    (lambda: montecarlo.simulate(16, 200.0, J, J, n_thermalize=-5), "n_thermalize"),
    (lambda: montecarlo.simulate(16, 200.0, J, J, algorithm="wolf"), "algorithm"),
    (lambda: montecarlo.simulate(16, 200.0, J, J, seed=-1), "seed"),
    (lambda: binder.binder_tc([16, 8], [200.0, 300.0], J, J), "sizes"),
    (lambda: binder.binder_tc([8, 16, 4], [200.0, 300.0], J, J), "lattice size"),
    (lambda: binder.binder_tc([8, 16], [300.0, 200.0], J, J), "strictly increasing"),
    (lambda: hysteresis.hysteresis_loop(4, 200.0, J, J, 10.0), "lattice size"),
    (lambda: hysteresis.hysteresis_loop(16, 200.0, J, J, 0.0), "h_max_meV"),
    (lambda: hysteresis.hysteresis_loop(16, 200.0, J, J, 10.0, sweeps_per_field=-1), "sweeps_per_field"),
    (lambda: hysteresis.hysteresis_loop(16, 200.0, J, J, 10.0, dipole_per_site=float("nan")), "dipole"),
    (lambda: onsager.critical_temperature_K(float("nan"), J), "J_x_meV"),
    (lambda: onsager.couplings_for_tc(-350.0, 0.5), "T_c_K"),
    (lambda: onsager.couplings_for_tc(350.0, 0.0), "ratio"),
    (lambda: onsager.spontaneous_magnetization(0.0, J, J), "T_K"),
])
def test_bad_input_is_refused_before_any_work(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_binder_reports_a_crossing_outside_the_grid():
    tc = onsager.critical_temperature_K(J, J)
    with pytest.raises(binder.NoCrossing, match="widen"):
        binder.binder_tc([8, 16], tc * np.array([0.6, 0.7, 0.8]), J, J, n_sweeps=200, seed=1)
