"""Natural-orbital identification of states: cases with a known answer."""
import numpy as np
import pytest

from helpers.models import natural as nat


def _rot(seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(5, 5)))
    return q


def _closed(v):
    """A closed-shell d2: orbital v doubly occupied (one electron per spin)."""
    p = np.outer(v, v.conj())
    return p, p


def test_rotated_afo_is_seen_where_diagonals_are_equal():
    # W1 fills (b + c)/sqrt2, W2 fills (b - c)/sqrt2: equal diagonals in the b, c basis, orthogonal orbitals
    Q = _rot(1)
    b, c = Q[:, 1], Q[:, 2]
    s1 = nat.natural_orbitals(*_closed((b + c) / 2**0.5))
    s2 = nat.natural_orbitals(*_closed((b - c) / 2**0.5))
    diag1 = [np.real(q @ (2 * np.outer((b + c), (b + c)) / 2) @ q) for q in (b, c)]
    diag2 = [np.real(q @ (2 * np.outer((b - c), (b - c)) / 2) @ q) for q in (b, c)]
    assert np.allclose(diag1, diag2)                      # a diagonal reading cannot tell them apart
    out = nat.classify([s1, s2])
    assert out["kind"] == "AFO" and out["overlaps"][0] < 1e-8
    assert np.allclose(out["largest"], 2.0) and out["disproportionation"] < 1e-12


def test_fo_and_unpolarized():
    Q = _rot(2)
    s = nat.natural_orbitals(*_closed(Q[:, 0]))
    assert nat.classify([s, s])["kind"] == "FO"
    half = 0.5 * (np.outer(Q[:, 0], Q[:, 0]) + np.outer(Q[:, 1], Q[:, 1]))   # 1 e in each of two orbitals
    u = nat.natural_orbitals(half, half)
    assert nat.classify([u, u])["kind"] == "unpolarized"


def test_open_shell_sz0_is_not_a_doubly_occupied_orbital():
    # up electron in orbital 0, down electron in orbital 1: S_z = 0, d2, but no orbital doubly occupied
    Q = _rot(3)
    up, dn = np.outer(Q[:, 0], Q[:, 0]), np.outer(Q[:, 1], Q[:, 1])
    s = nat.natural_orbitals(up, dn)
    assert s["moment_muB"] == pytest.approx(0, abs=1e-12)
    assert s["d_count"] == pytest.approx(2)
    assert s["occupations"][0] == pytest.approx(1.0)     # the sum of the spins' largest would say 2
    assert s["largest_up"] + s["largest_dn"] == pytest.approx(2.0)
    assert s["up_down_overlap"] < 1e-8


def test_mapping_through_the_operation_relating_the_sites():
    # site 2 is site 1 rotated by R: identical orbitals after the map, FO; without the map they differ
    Q, R = _rot(4), _rot(5)
    s1 = nat.natural_orbitals(*_closed(Q[:, 0]))
    s2 = nat.natural_orbitals(*_closed(R.T @ Q[:, 0]))
    assert nat.classify([s1, s2], rotations=[R])["kind"] == "FO"
    assert nat.dominant_overlap(s1, s2) < 0.99


def test_bad_input():
    with pytest.raises(ValueError, match="5x5"):
        nat.natural_orbitals(np.eye(4))
    with pytest.raises(ValueError, match="Hermitian"):
        nat.natural_orbitals(np.triu(np.ones((5, 5))))
    s = nat.natural_orbitals(np.eye(5))
    with pytest.raises(ValueError, match="rotations"):
        nat.classify([s, s], rotations=[None, None])


def test_gap_criterion_for_projector_occupations():
    # covalent d counts: the filled orbital holds 1.6 against 0.9 for the rest, no orbital reaches 1.5 + ...
    Q = _rot(6)
    n = Q @ np.diag([1.6, 0.9, 0.9, 0.6, 0.4]) @ Q.T
    flat = Q @ np.diag([1.18, 1.16, 0.88, 0.62, 0.55]) @ Q.T
    s, f = nat.natural_orbitals(n), nat.natural_orbitals(flat)
    assert s["polarization"] == pytest.approx(0.7)
    assert nat.classify([s, s], gap_min=nat.GAP_MIN)["kind"] == "FO"
    assert nat.classify([f, f], gap_min=nat.GAP_MIN)["kind"] == "unpolarized"


def test_equal_spins_are_a_closed_shell_even_with_degenerate_orbitals():
    Q = _rot(7)
    n = Q @ np.diag([0.6, 0.6, 0.3, 0.2, 0.1]) @ Q.T          # two degenerate largest occupations
    assert nat.natural_orbitals(n, n)["up_down_overlap"] == pytest.approx(1.0)
