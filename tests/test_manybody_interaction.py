"""Slater and Kanamori tensors of helpers.manybody.interaction against textbook values."""
import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from helpers.manybody import interaction as I
from helpers.models import dshell

U, J, R42 = 3.0, 0.6, 0.625
F0, F2 = U, 14 * J / (1 + R42)
F4 = R42 * F2
T2G = [0, 1, 3]          # xy, yz, xz in GPAW's order (xy, yz, z2, xz, x2-y2)


def test_real_d_harmonics_orthonormal_on_quadrature():
    pts, w = dshell.sphere_quadrature()
    Y = dshell.real_d_harmonics(pts)
    assert np.einsum("i,ia,ib->ab", w, Y, Y) == pytest.approx(np.eye(5), abs=1e-12)


def test_slater_t2g_block_gives_kanamori_values():
    T = I.slater_tensor(U, J, R42)[np.ix_(T2G, T2G, T2G, T2G)]
    Uk = F0 + 4 / 49 * F2 + 36 / 441 * F4
    Upk = F0 - 2 / 49 * F2 - 4 / 441 * F4
    Jk = 3 / 49 * F2 + 20 / 441 * F4
    for a in range(3):
        assert T[a, a, a, a] == pytest.approx(Uk, abs=1e-10)
        for b in range(3):
            if a != b:
                assert T[a, b, a, b] == pytest.approx(Upk, abs=1e-10)
                assert T[a, b, b, a] == pytest.approx(Jk, abs=1e-10)      # Hund exchange
                assert T[a, a, b, b] == pytest.approx(Jk, abs=1e-10)      # pair hopping
    # and it is the Kanamori tensor with these U, U', J
    assert T == pytest.approx(I.kanamori_tensor(Uk, Jk, 3, Uprime=Upk), abs=1e-10)


def test_shell_averages():
    assert I.shell_averages(I.slater_tensor(U, J, R42)) == pytest.approx((F0, (F2 + F4) / 14), abs=1e-10)
    assert I.shell_averages(I.slater_tensor(U, J, R42))[1] == pytest.approx(J, abs=1e-10)


def test_slater_tensor_invariant_under_so3():
    T = I.slater_tensor(U, J, R42)
    for seed in range(3):
        R = Rotation.random(random_state=seed).as_matrix()
        D = dshell.d_rotation_matrix(R)
        assert D.T @ D == pytest.approx(np.eye(5), abs=1e-12)
        assert not np.allclose(D, np.eye(5), atol=0.1)
        assert I.rotate_tensor(T, D) == pytest.approx(T, abs=1e-10)
    # a non-rotation unitary (mixing d with nothing physical) does change it
    W = np.linalg.qr(np.random.default_rng(0).normal(size=(5, 5)))[0]
    assert not np.allclose(I.rotate_tensor(T, W), T, atol=1e-3)


def test_potential_is_derivative_of_energy_complex():
    """V^s[a,b] = dE/dn^s[a,b] for complex Hermitian n, every double counting (finite differences)."""
    rng = np.random.default_rng(1)
    W = np.linalg.qr(rng.normal(size=(5, 5)) + 1j * rng.normal(size=(5, 5)))[0]

    def herm(scale):
        A = rng.normal(size=(5, 5)) + 1j * rng.normal(size=(5, 5))
        return scale * (A + A.conj().T)

    nu, nd = 0.3 * np.eye(5) + herm(0.05), 0.2 * np.eye(5) + herm(0.05)
    for inter in [I.Interaction("tensor", U, J, I.rotate_tensor(I.slater_tensor(U, J), W), dc)
                  for dc in ("FLL", "AMF", "none")] + [I.dudarev(U, J)]:
        E, Vu, Vd = I.energy_and_potential(inter, nu, nd)
        d = herm(1e-6)
        Eu = I.energy_and_potential(inter, nu + d, nd)[0] - I.energy_and_potential(inter, nu - d, nd)[0]
        Ed = I.energy_and_potential(inter, nu, nd + d)[0] - I.energy_and_potential(inter, nu, nd - d)[0]
        assert Eu / 2 == pytest.approx(np.sum(Vu * d).real, rel=1e-5)      # central differences
        assert Ed / 2 == pytest.approx(np.sum(Vd * d).real, rel=1e-5)


def test_amf_potential_is_zero_on_average():
    """AMF: E_int - E_dc vanishes at the orbitally averaged occupations."""
    inter = I.slater(U, J, dc="AMF")
    E, _, _ = I.energy_and_potential(inter, 0.4 * np.eye(5), 0.2 * np.eye(5))
    assert E == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("call, word", [
    (lambda: I.slater(-1.0, 0.0), "U="),
    (lambda: I.slater(1.0, 2.0), "J="),
    (lambda: I.kanamori(1.0, -0.1), "J="),
    (lambda: I.Interaction("tensor", 1.0, 0.0, np.zeros((3, 3, 3)), "FLL"), "tensor"),
    (lambda: I.Interaction("slater", 1.0, 0.0, np.zeros((5, 5, 5, 4)), "FLL"), "tensor"),
    (lambda: I.Interaction("slater", 1.0, 0.0, I.slater_tensor(1.0, 0.0), "DFT"), "dc="),
    (lambda: I.Interaction("hubbard", 1.0), "kind="),
])
def test_bad_interaction_input(call, word):
    with pytest.raises(ValueError, match=word):
        call()
