"""Orbital-order helpers: symmetry bookkeeping of ordered-state dipoles, orbital matching."""
import numpy as np
import pytest

from helpers import orbital_order as oo


def inversion_pair(p_b, p_c, p_a=(0.0, 0.01, 0.02)):
    """Orbital dipoles of two W related by inversion: W2's are the negatives of W1's."""
    w1 = np.array([p_a, p_b, p_c], float)
    return [w1, -w1]


def test_fo_cancels_and_afo_does_not():
    dips = inversion_pair(p_b=(0.0, 0.3, 0.05), p_c=(0.0, -0.2, -0.02))
    net = oo.state_dipoles(dips)
    assert np.allclose(net["FO b-b"], 0) and np.allclose(net["FO c-c"], 0)
    assert net["AFO b-c"][2] == pytest.approx(0.05 - (-0.02))
    assert np.allclose(net["AFO c-b"], -net["AFO b-c"])          # switching partner: opposite dipole


def test_td_bilayer_cancels_in_plane_and_adds_out_of_plane():
    p = np.array([0.1, -0.4, 0.07])
    assert np.allclose(oo.td_bilayer(p), [0, 0, 0.14])


def test_match_to_reorders_and_resigns():
    rng = np.random.default_rng(3)
    ref = np.linalg.qr(rng.normal(size=(5, 5)))[0]
    perm = ref[:, [2, 0, 4, 1, 3]] * np.array([1, -1, 1, -1, 1])
    assert np.allclose(oo.match_to(ref, perm), ref)


def test_virtual_gain_favours_the_larger_hopping():
    g = oo.virtual_gain(t_intra=0.3, t_inter=0.1, U=3.0)
    assert g["AFO_meV"] < g["FO_meV"] < 0
    assert g["ratio"] == pytest.approx(9.0)
