"""Projected Wannier functions and centres on models with known answers."""
import numpy as np
import pytest

from helpers.models import wannier as W


def chain_model(seed=0):
    """A random Hermitian two-orbital chain with hoppings to first neighbours only."""
    rng = np.random.default_rng(seed)
    H0 = rng.normal(size=(2, 2)); H0 = H0 + H0.T
    H1 = rng.normal(size=(2, 2))
    R = np.array([[-1, 0, 0], [0, 0, 0], [1, 0, 0]])
    H_R = np.array([H1.T, H0, H1]).astype(complex)
    return W.TBModel(R, H_R, ["A:s", "B:s"], np.array([0, 1]), np.array([0, 0]),
                     np.array([[0.0, 0, 0], [1.0, 0, 0]]), np.diag([2.0, 10, 10]))


def test_projection_onto_complete_basis_recovers_H_R():
    model = chain_model()
    grid = (8, 1, 1)
    k = W.kgrid_points(grid)
    e, V = np.linalg.eigh(model.hk(k))
    A = np.conj(np.transpose(V, (0, 2, 1)))
    Hk, info = W.projected_wannier(e, A)
    R = W.lattice_vectors(grid)
    H_R = W.fourier_to_real_space(Hk, k, R)
    for r, H in zip(model.R, model.H_R):
        idx = np.where((R == r).all(axis=1))[0][0]
        assert np.allclose(H_R[idx], H, atol=1e-12)
    others = [i for i, r in enumerate(R) if abs(r[0]) > 1]
    assert np.abs(H_R[others]).max() < 1e-12
    rebuilt = W.TBModel(R, H_R, model.labels, model.atom_of, model.l_of, model.positions, model.cell)
    assert W.hermiticity_error(rebuilt) < 1e-12
    assert info["min_projectability"] == pytest.approx(1.0)


def test_heteropolar_dimer_centre():
    """Antibonding orbital of a heteropolar dimer (site energies -D, +D, hopping t, distance d):
    downfolding onto the upper site B with a window that keeps only states above 0 eV gives the
    antibonding state, whose weight on B is (1 + D/sqrt(D^2 + t^2))/2: its centre lies that
    fraction of d from A, and its energy is +sqrt(D^2 + t^2)."""
    D, t, d = 0.7, 1.3, 2.5
    H_R = np.array([[[-D, -t], [-t, D]]], complex)
    model = W.TBModel(np.zeros((1, 3), int), H_R, ["A:s", "B:s"], np.array([0, 1]), np.array([0, 0]),
                      np.array([[0.0, 0, 0], [d, 0, 0]]), np.diag([50.0, 50, 50]))
    eff, coeff, R = W.effective_orbitals(model, [1], (1, 1, 1), e_low=0.0, width=1e-3)
    centre = W.centres(model, coeff, R)[0]
    assert centre[0] == pytest.approx(d * (1 + D / np.hypot(D, t)) / 2, abs=1e-9)
    assert eff.onsite()[0, 0].real == pytest.approx(np.hypot(D, t), abs=1e-9)
    # with the window wide open the effective orbital is B itself: no tail, centre on B
    eff, coeff, R = W.effective_orbitals(model, [1], (1, 1, 1), e_low=-50.0, width=1e-3)
    assert W.centres(model, coeff, R)[0][0] == pytest.approx(d, abs=1e-9)


def test_orbital_signs_under_mirror_x():
    assert W.orbital_signs(1, (-1, 1, 1)) == [1, 1, -1]                 # py, pz even; px odd
    assert W.orbital_signs(2, (-1, 1, 1)) == [-1, 1, 1, -1, 1]          # dxy, dxz odd


def test_symmetry_error_holds_and_detects_breaking():
    model = chain_model()          # atoms at x = 0 and x = a/2 on a chain along x
    assert W.symmetry_error(model, np.diag([1, 1, -1]), np.zeros(3)) < 1e-12    # mirror z: holds
    assert W.symmetry_error(model, np.diag([-1, 1, 1]), np.zeros(3)) > 0.1      # mirror x: broken
