"""helpers.dftu_dipoles on made-up branches: rows per biased step, the inversion check, the findings."""
import numpy as np
import pytest

from helpers import dftu_dipoles as dd

Q, _ = np.linalg.qr(np.random.default_rng(7).normal(size=(5, 5)))


def _occ(v1, v2):
    site = lambda v: ((0.5 * (0.8 * np.eye(5) + 0.8 * np.outer(v, v))).tolist(),) * 2   # noqa: E731
    return {"0": list(site(v1)), "1": list(site(v2))}


def _branch(state, pz_biased, protocol="annealed from 6 eV, bias on a, b, c", reading="energy order"):
    b, c = Q[:, 1], Q[:, 2]
    pat = {"b2c2": (b, c), "c2b2": (c, b), "b2b2": (b, b)}[state]
    flat = Q[:, 0] * 0.0 + 0.2
    steps = [{"U_eV": 6.0, "lambda_eV": 1.0, "energy_eV": -1.0, "converged": True, "occupations": _occ(*pat),
              "dipole_eA": [0, 0, pz_biased]},
             {"U_eV": 6.0, "lambda_eV": 0.0, "energy_eV": -2.0, "converged": True, "occupations": _occ(flat, flat),
              "dipole_eA": [0, 0, 0.0]},
             {"U_eV": 3.0, "lambda_eV": 0.0, "energy_eV": -3.0, "converged": True, "occupations": _occ(flat, flat),
              "dipole_eA": [0, 0, 0.0]}]
    return {"state": state, "protocol": protocol, "reading": reading, "orbitals": Q, "result": {"steps": steps}}


def test_rows_follow_the_release_at_the_first_U_and_the_inversion_check_can_fail():
    page = {"jobs": [], "annealed": [_branch("b2c2", -0.0136), _branch("c2b2", +0.0137), _branch("b2b2", 0.0)]}
    rows = dd.dipole_rows(page)
    assert len(rows) == 6 and {r["U (eV)"] for r in rows} == {6.0}        # the 3 eV steps are not release steps
    fb = {r["start"]: r for r in dd.full_bias(rows)}
    assert fb["b2c2"]["state"] == "AFO" and fb["b2b2"]["state"] == "FO" and fb["b2c2"]["p_z (e·Å)"] == -0.0136
    assert dd.inversion_check(rows) == pytest.approx(0.0001)
    bad = {"jobs": [], "annealed": [_branch("b2c2", -0.0136), _branch("c2b2", -0.0136)]}
    assert dd.inversion_check(dd.dipole_rows(bad)) == pytest.approx(0.0272)
    text = dd.findings(rows, per_fu=lambda p: 10 * p)
    assert "b2c2 -0.0136 e·Å (-0.136 μC/cm²), AFO" in text and "|p_z(b2c2) + p_z(c2b2)| = 0.0001 e·Å" in text
    assert "Ferro-orbital densities at full bias: |p_z| ≤ 0.0000 e·Å" in text
    assert dd.findings([]) == "No DFT+U branch computed at this profile."


def test_the_polar_afo_of_a_reading_whose_b_and_c_the_mirror_exchanges_is_labelled_symmetry_forced():
    """In the local octahedral frame the site mirror exchanges b and c while keeping z, and the inversion maps
    b2c2 onto c2b2 with p_z reversed: its p_z is zero by symmetry, said so, and not listed as a polar state."""
    local = "annealed from 6 eV, bias on a, b, c, local octahedral frame reading"
    page = {"jobs": [], "annealed": [_branch("b2c2", -0.0136), _branch("b2c2", -0.0002, local, "local octahedral frame")]}
    rows = dd.dipole_rows(page)
    assert [dd.mirror_forced(r) for r in dd.full_bias(rows)] == [False, True]
    text = dd.findings(rows)
    polar = next(line for line in text.splitlines() if line.startswith("- The polar AFO"))
    assert "-0.0136" in polar and "local octahedral" not in polar and "change with the bias strength" in polar
    assert "forced by symmetry, a check of the code, not a polar state" in text
    # the check can fail: a dipole there beyond the tolerance is reported as a broken symmetry, not as zero
    page["annealed"][1] = _branch("b2c2", -0.0136, local, "local octahedral frame")
    text = dd.findings(dd.dipole_rows(page))
    assert "Check failed" in text and "forced by symmetry" not in text
