"""helpers.rungs.fe.dftu_dipoles on made-up branches: rows per biased step, the inversion check, the findings."""
import numpy as np
import pytest

from helpers.rungs.fe import dftu_dipoles as dd

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
    # by the state, not the start's name: the local frame's b2b2 that ends in that frame's AFO is forced too; its FO is not
    assert dd.mirror_forced({"start": "b2b2", "reading": "local octahedral frame", "state": "AFO"})
    assert not dd.mirror_forced({"start": "b2b2", "reading": "local octahedral frame", "state": "FO"})
    assert not dd.mirror_forced({"start": "b2b2", "reading": "energy order", "state": "AFO"})
    text = dd.findings(rows)
    polar = next(line for line in text.splitlines() if line.startswith("- The polar AFO"))
    assert "-0.0136" in polar and "local octahedral" not in polar and "change with the bias strength" in polar
    assert "forced by symmetry, a check of the code, not a polar state" in text
    # the check can fail: a dipole there beyond the tolerance is reported as a broken symmetry, not as zero
    page["annealed"][1] = _branch("b2c2", -0.0136, local, "local octahedral frame")
    text = dd.findings(dd.dipole_rows(page))
    assert "Check failed" in text and "forced by symmetry" not in text


def _path(pz, states, converged=None):
    lams = [1.0, 0.5, 0.25, 0.1, 0.0][:len(pz)]
    converged = converged or [True] * len(pz)
    return [{"start": "b2c2", "protocol": "annealed from 8 eV", "reading": "energy order", "U (eV)": 8.0, "λ (eV)": lam,
             "state": s, "p_z (e·Å)": p, "converged": c} for lam, p, s, c in zip(lams, pz, states, converged)]


def test_a_release_path_names_a_sign_change_only_beyond_the_noise_and_the_paper_is_compared_only_with_a_state():
    """Along a release p_z of a biased density can reverse: said where two values beyond SYMMETRY_ZERO_EA differ in
    sign (values below it read as zero); the paper's AFO dipole is set beside released converged AFO states only."""
    ref = {"orbital_1": 0.5, "orbital_2": 0.25}          # made-up orbital dipoles (microC/cm2)
    rows = _path([-0.0150, -0.0069, +0.0012, +0.0081, +0.0088], ["AFO"] * 5, [True, True, False, False, False])
    line, = dd.release_paths(rows)
    assert "the sign changes at λ = 0.1 eV" in line and "+0.0088 (AFO, not converged)" in line
    assert "none of them is compared with it" in dd.paper_line(ref, rows)
    # noise around zero is not a reversal
    quiet = _path([-0.0151, -0.0035, +0.0011, -0.0001], ["AFO", "mixed", "unpolarized", "unpolarized"])
    assert "sign changes" not in dd.release_paths(quiet)[0]
    # a released, converged AFO state: the paper's number is set beside it
    held = _path([-0.0150, -0.0140, -0.0130], ["AFO"] * 3)
    held[-1]["λ (eV)"] = 0.0
    assert "the released AFO states above are the ones to compare with it" in dd.paper_line(ref, held)
    # one W in each orbital: per f.u. volume the mean of the two, their sum only if they add over one f.u. volume
    assert "0.375 μC/cm² per f.u. volume (the mean" in dd.paper_line(ref, held) and "or 0.750 μC/cm²" in dd.paper_line(ref, rows)
    assert dd.release_paths(held[:2]) == []          # fewer than three steps: no path


def test_the_frozen_orbital_dipole_is_set_beside_the_self_consistent_densities():
    held = _path([-0.0150, -0.0140], ["AFO", "AFO"])
    line = dd.frozen_line(-0.15, held)
    assert "carry -0.0150 to -0.0150 e·Å per cell, 10 to 10 times less than these frozen orbitals" in line
    assert dd.frozen_line(-0.15, []) == ""
