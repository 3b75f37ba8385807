"""Dipoles of Wannier orbitals from the z matrices of the Bloch states (helpers.models.moments),
checked on the committed paper LCAO runs, and the verdict logic of helpers.rungs.afo."""
import json
from pathlib import Path

import numpy as np
import pytest

from helpers.dft import layers as dft_layers
from helpers.models import moments as mom
from helpers.models import pd as pd_models
from helpers.rungs import robustness
from helpers.rungs.afo import dipoles as afo_dipoles
from helpers.rungs.afo import layers as afo_layers
from helpers.store import params

CACHE = Path(__file__).resolve().parents[1] / "data" / "cache"


def moment_entries():
    out = []
    for p in sorted(CACHE.glob("lcao-*-paper-*/result.json")):
        r = json.loads(p.read_text())
        if "moments" in r:
            out.append(r)
    return out


@pytest.mark.parametrize("result", moment_entries(), ids=lambda r: Path(r["cache_entry"]).name if "cache_entry" in r else "?")
def test_z_matrices_reproduce_gpaws_dipole_and_overlap(result):
    # sum rule: ions at their nuclei minus the occupied Bloch states' <z> must give GPAW's density dipole;
    # the overlap computed on the grid like Z must match GPAW's two-centre overlap
    m = result["moments"]
    assert m["overlap_error_max"] < 1e-3
    # 1e-5 Angstrom per valence electron (grid integration; 5e-4 e*A for the ~50 electrons of the WTe2
    # cell, 1e-3 for ReSe2's 100), far below the orbital dipoles of 0.05-0.4 e*A the pages compare
    tol = 1e-5 * result["n_electrons"] + 0.05 * abs(m["dipole_z_gpaw_eA"])
    assert abs(m["dipole_z_from_moments_eA"] - m["dipole_z_gpaw_eA"]) < tol


@pytest.fixture(scope="module")
def d2():
    s = params.settings("paper")
    return afo_layers.layer_models("WTe2", s, "dzp", (8, 4, 1), -1.5, 0.5, moments=True, names=("relaxed d2",))["relaxed d2"]


def test_inversion_maps_the_dipoles_of_W1_onto_minus_those_of_W2(d2):
    # a consistency check of the z matrices and the downfolding: the layer is centrosymmetric
    rows = afo_dipoles.orbital_dipole_rows(d2, 1.0)
    for r in ("energy order", "continuity from 1T"):
        p1 = {x["orbital"]: x["p_z (e·Å)"] for x in rows if x["reading"] == r and x["W"] == 1}
        p2 = {x["orbital"]: x["p_z (e·Å)"] for x in rows if x["reading"] == r and x["W"] == 2}
        for o in "abc":
            assert p1[o] == pytest.approx(-p2[o], abs=0.01)
    assert max(abs(x["p_z (e·Å)"]) for x in rows) > 0.05         # and they are not all zero


def test_no_orbital_dipole_where_the_metal_site_has_inversion():
    # 1T: D3d at W. A consistency check of the z matrices, the projection and the downfolding.
    s = params.settings("paper")
    one_t = afo_layers.layer_models("WTe2", s, "dzp", (8, 4, 1), -1.5, 0.5, moments=True, names=("1T",))["1T"]
    assert max(abs(x["p_z (e·Å)"]) for x in afo_dipoles.orbital_dipole_rows(one_t, 1.0)) < 0.005


def test_z_operator_of_the_wannier_functions_is_hermitian_and_centred_on_the_layer(d2):
    Z = mom.z_model(d2["lcao"], d2["pd"])
    home = np.where((Z.R == 0).all(axis=1))[0][0]
    assert np.abs(Z.H_R[home] - Z.H_R[home].conj().T).max() < 1e-4
    centres = np.real(np.diag(Z.H_R[home]))
    z_atoms = d2["pd"].positions[d2["pd"].atom_of, 2]
    assert np.abs(centres - z_atoms).max() < 0.5                 # each Wannier function near its atom


def test_tight_binding_z_has_no_intra_atomic_terms(d2):
    Z = mom.tb_z_model(d2["pd"])
    home = np.where((Z.R == 0).all(axis=1))[0][0]
    assert np.allclose(Z.H_R[home], np.diag(np.diag(Z.H_R[home])))


def test_state_dipole_of_one_doubly_occupied_orbital_matches_the_orbital_dipole(d2):
    eff = d2["eff"]
    s = d2["settings"]
    pd = d2["pd"]
    Zeff = mom.effective_z(mom.z_model(d2["lcao"], pd), pd, np.concatenate(pd_models.d_shells(pd)), s["grid"], s["e_low"], s["width"])
    v = np.linalg.eigh(afo_layers.onsite_block(eff))[1][:, 1]
    shells, atoms = pd_models.d_shells(eff), pd_models.metal_atoms(eff)
    n = np.outer(v, v)
    p_state = mom.state_dipole_z(Zeff, eff, shells[:1], atoms[:1], [[n, n]])
    p_orb = mom.orbital_dipoles_z(Zeff, eff, shells[:1], atoms[:1], [v[:, None]])[0][0]
    assert p_state == pytest.approx(p_orb, rel=1e-10)


def test_robust_verdict_flips_to_undetermined():
    assert robustness.robust_verdict({"a": True, "b": True, "c": None})["verdict"] == "reproduced"
    assert robustness.robust_verdict({"a": False, "b": False})["verdict"] == "not reproduced"
    v = robustness.robust_verdict({"a": True, "b": False})
    assert v["verdict"] == "undetermined" and v["holds in"] == ["a"] and v["fails in"] == ["b"]
    assert robustness.robust_verdict({"a": None})["verdict"] == "undetermined"          # computed, but no variant decides
    assert robustness.robust_verdict({})["verdict"] == "not computed here"


def test_an_unbounded_window_lets_a_bad_1T_model_through_and_the_check_stops_it():
    from helpers.dft import jobs as dft_jobs
    s = params.settings("paper")
    at = dft_layers.layer_structures("WTe2", "paper", s["vacuum"])["1T"]
    lc = dft_jobs.lcao(at, s, "WTe2-1T", basis="dzp")
    with pytest.raises(pd_models.ModelQualityError, match="electrons"):
        pd_models.check_model(pd_models.pd_model(lc, (-1e9, 1e9)), lc, at)
    pd_models.check_model(pd_models.pd_model(lc), lc, at)                       # the bounded window passes
