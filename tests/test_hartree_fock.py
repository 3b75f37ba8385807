"""Hartree-Fock solver against toy models with known answers."""
import numpy as np
import pytest

from helpers import hartree_fock as hf


def two_site_hk(t=1.0, nk=1):
    """Two one-orbital sites (a molecule): H = -t (c1^+ c2 + h.c.), as a 1-k model."""
    return np.array([[[0.0, -t], [-t, 0.0]]] * nk)


@pytest.mark.parametrize("U", [0.0, 1.0, 3.0])
def test_two_site_hubbard_restricted_hf_energy(U):
    # restricted (non-magnetic) HF of the two-site Hubbard model at half filling: E = -2t + U/2
    r = hf.solve(two_site_hk(1.0), [np.array([0]), np.array([1])], 2.0, U, width=1e-3)
    assert r.converged
    assert r.energy == pytest.approx(-2.0 + U / 2, abs=1e-4)
    for n in r.occupations:
        assert n[0, 0] == pytest.approx(0.5, abs=1e-6)


def test_degenerate_doublet_polarizes():
    """An isolated site with two degenerate orbitals and two electrons: HF with U > J doubly
    occupies one orbital (E = 0) rather than spreading over both (E = (U - J)/2)."""
    hk = np.zeros((1, 2, 2))
    shell = [np.array([0, 1])]
    U, J = 3.0, 0.5
    spread = hf.solve(hk, shell, 2.0, U, J, n_init=[0.5 * np.eye(2)], max_iter=1, width=1e-3)
    assert spread.energy == pytest.approx((U - J) / 2, abs=1e-6)
    pol = hf.solve(hk, shell, 2.0, U, J, n_init=[np.diag([0.6, 0.4])], width=1e-3)
    assert pol.converged and pol.energy == pytest.approx(0.0, abs=1e-5)
    assert pol.natural_occupations()[0] == pytest.approx([1.0, 0.0], abs=1e-4)
    assert hf.dominant_overlap(pol, [[1, 0]])[0] == pytest.approx(1.0, abs=1e-4)


def test_bad_interaction_refused():
    with pytest.raises(ValueError, match="U="):
        hf.solve(two_site_hk(), [np.array([0])], 2.0, U=1.0, J=2.0)
