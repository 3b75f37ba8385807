"""UHF solver: exact two-site and doublet results, invariances, the Dudarev limit against an independent
spin-restricted loop, the U = 0 band filling, mixing, supercells, input checks."""
import json

import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from helpers.manybody import configurations as C
from helpers.manybody import interaction as I
from helpers.manybody import toy
from helpers.manybody import uhf
from helpers.models import dshell
from helpers.models import pd as pd_models
from helpers.models import wannier as W

RNG = np.random.default_rng(7)
D5 = [np.arange(5), np.arange(5, 10)]


def two_d_shell_model(nk=4, complex_hop=True, seed=3):
    """Two d shells (10 orbitals) with random Hermitian on-site and inter-shell hoppings, on a 1D
    k grid of nk points (eV). Real when complex_hop=False."""
    rng = np.random.default_rng(seed)

    def rnd(shape):
        a = rng.normal(size=shape)
        return a + 1j * rng.normal(size=shape) if complex_hop else a

    h0 = rnd((10, 10)) * 0.3
    h0 = 0.5 * (h0 + h0.conj().T)
    t1 = rnd((10, 10)) * 0.3                     # hopping to the next cell
    ks = np.arange(nk) / nk
    return np.array([h0 + t1 * np.exp(2j * np.pi * k) + t1.conj().T * np.exp(-2j * np.pi * k) for k in ks])


def polarized_start():
    u = C.site_occupations([0, 2], [0], np.eye(5))
    d = C.site_occupations([1], [1, 3], np.eye(5))
    return [u, d]


def block(Wm, nother=5):
    B = np.eye(5 + nother, dtype=complex)
    B[:5, :5] = Wm
    return B


def test_complex_unitary_rotation_of_a_shell_leaves_energies_unchanged():
    """Rotate shell 1's orbitals by a random complex unitary W in the model (h -> B^H h B), the
    tensor (rotate_tensor) and the start (n -> W^T n W*): F, E, moments unchanged. A transposed
    potential or occupation convention would fail here."""
    hk = two_d_shell_model()
    inter = [I.slater(3.0, 0.7), I.slater(3.0, 0.7, dc="AMF")]
    start = polarized_start()
    ref = uhf.solve(hk, D5, inter, 9.0, start, width=0.05)
    Wm = np.linalg.qr(RNG.normal(size=(5, 5)) + 1j * RNG.normal(size=(5, 5)))[0]
    B = block(Wm)
    hk_rot = np.einsum("am,kab,bn->kmn", B.conj(), hk, B)
    inter_rot = [I.Interaction("tensor", 3.0, 0.7, I.rotate_tensor(inter[0].tensor, Wm), "FLL"), inter[1]]
    start_rot = [tuple(Wm.T @ n @ Wm.conj() for n in start[0]), start[1]]
    rot = uhf.solve(hk_rot, D5, inter_rot, 9.0, start_rot, width=0.05)
    assert ref.converged and rot.converged
    assert rot.free_energy == pytest.approx(ref.free_energy, abs=1e-7)
    assert rot.energy == pytest.approx(ref.energy, abs=1e-7)
    assert rot.total_moment == pytest.approx(ref.total_moment, abs=1e-6)
    n_back = Wm.conj() @ rot.occupations[0][0] @ Wm.T
    assert n_back == pytest.approx(ref.occupations[0][0], abs=1e-5)
    assert np.abs(rot.occupations[0][0].imag).max() > 1e-2        # the test really is complex


def _converged(hk, inter, n_el, start, restarts: int = 3):
    """A converged state of this random model: the solver restarted from where it stopped (which
    fixed point a slow run reaches first depends on round-off of the linear-algebra library)."""
    r = uhf.solve(hk, D5, inter, n_el, start, width=0.05)
    for _ in range(restarts):
        if r.converged:
            break
        r = uhf.solve(hk, D5, inter, n_el, r.occupations, width=0.05)
    assert r.converged
    return r


def test_so3_rotation_of_the_model_leaves_slater_energies_unchanged():
    """Rotating shell 1's d orbitals by a real SO(3) rotation of the harmonics, model and state
    only (the Slater tensor is invariant), leaves F and E unchanged: the rotated converged state
    is a converged state of the rotated model (this random model has several HF solutions, so two
    independent runs may part through round-off; the fixed point is what must map)."""
    hk = two_d_shell_model(complex_hop=False)
    inter = [I.slater(2.5, 0.5), I.slater(2.5, 0.5)]
    ref = _converged(hk, inter, 8.0, polarized_start())
    D = dshell.d_rotation_matrix(Rotation.random(random_state=11).as_matrix())
    B = block(D)
    hk_rot = np.einsum("am,kab,bn->kmn", B.conj(), hk, B)
    start_rot = [tuple(D.T @ n @ D for n in ref.occupations[0]), ref.occupations[1]]
    rot = uhf.solve(hk_rot, D5, inter, 8.0, start_rot, width=0.05)
    assert rot.iterations <= 3
    assert ref.converged and rot.converged
    assert rot.free_energy == pytest.approx(ref.free_energy, abs=1e-7)
    assert rot.energy == pytest.approx(ref.energy, abs=1e-7)


def _restricted_dudarev(hk, shells, n_electrons, U_eff, n_init, width, tol=1e-10, max_iter=2000, mixing=0.3, real=True):
    """Independent spin-restricted Hartree-Fock with Dudarev's U_eff (eV): V = U_eff (1/2 - n) on each shell,
    E = band - 2 sum Tr(V n) + U_eff sum Tr[n (1 - n)] (both spins); the reference of the Dudarev limit."""
    weight = 1.0 / len(hk)

    def density(V):
        h = hk.copy()
        for idx, v in zip(shells, V):
            h[:, idx[:, None], idx[None, :]] += v
        e, c = np.linalg.eigh(h)
        lo, hi = e.min() - 1, e.max() + 1
        for _ in range(200):
            mu = 0.5 * (lo + hi)
            lo, hi = (lo, mu) if 2 * weight * (1 / (np.exp(np.clip((e - mu) / width, -60, 60)) + 1)).sum() > n_electrons \
                else (mu, hi)
        f = 1 / (np.exp(np.clip((e - mu) / width, -60, 60)) + 1)
        occ = [np.einsum("kin,kn,kjn->ij", c[:, i, :], f, c[:, i, :].conj()) * weight for i in shells]
        occ = [o.real for o in occ] if real else occ
        return occ, 2 * weight * (f * e).sum()

    n = [np.array(x, float if real else complex) for x in n_init]
    for _ in range(max_iter):
        V = [U_eff * (0.5 * np.eye(len(x)) - x) for x in n]
        out, band = density(V)
        diff = max(float(np.abs(a - b).max()) for a, b in zip(out, n))
        n = [(1 - mixing) * a + mixing * b for a, b in zip(n, out)]
        if diff < tol:
            n = out
            break
    V = [U_eff * (0.5 * np.eye(len(x)) - x) for x in n]
    out, band = density(V)
    e_u = sum(U_eff * np.trace(x @ (np.eye(len(x)) - x)).real for x in out)
    return band - 2 * sum(np.trace(v @ x).real for v, x in zip(V, out)) + e_u, out


def test_dudarev_spin_symmetric_reproduces_restricted_hartree_fock():
    hk = two_d_shell_model(complex_hop=False).real
    n0 = [np.diag([0.6, 0.3, 0.2, 0.1, 0.2]), np.diag([0.2, 0.5, 0.1, 0.3, 0.1])]
    U, J = 2.0, 0.4
    ref_energy, ref_occ = _restricted_dudarev(hk, D5, 8.0, U - J, n0, width=0.05)
    new = uhf.solve(hk, D5, [I.dudarev(U, J)] * 2, 8.0, [(n, n) for n in n0], width=0.05, n_tol=1e-10)
    assert new.converged
    assert new.energy == pytest.approx(ref_energy, abs=1e-8)
    assert new.total_moment == pytest.approx(0.0, abs=1e-10)
    for (u, d), n in zip(new.occupations, ref_occ):
        assert u == pytest.approx(n, abs=1e-8)
        assert d == pytest.approx(n, abs=1e-8)


def two_site_hk(t=1.0):
    """Two one-orbital sites (a molecule): H = -t (c1^+ c2 + h.c.), as a one-k model (eV)."""
    return np.array([[[0.0, -t], [-t, 0.0]]])


@pytest.mark.parametrize("U", [0.0, 1.0, 3.0])
def test_two_site_hubbard_spin_symmetric_energy(U):
    """Spin-symmetric mean field of the two-site Hubbard model at half filling: E = -2t + U/2, n = 1/2."""
    r = uhf.solve(two_site_hk(1.0), [np.array([0]), np.array([1])], [I.dudarev(U)] * 2, 2.0,
                  [(0.5 * np.eye(1), 0.5 * np.eye(1))] * 2, width=1e-3)
    assert r.converged
    assert r.energy == pytest.approx(-2.0 + U / 2, abs=1e-4)
    for up, dn in r.occupations:
        assert up[0, 0].real == pytest.approx(0.5, abs=1e-6) and dn[0, 0].real == pytest.approx(0.5, abs=1e-6)


def test_degenerate_doublet_doubly_occupies_one_orbital():
    """An isolated site with two degenerate orbitals and two electrons: with U_eff = U - J > 0 the mean field
    doubly occupies one orbital (E = 0) rather than spreading over both (E = (U - J)/2)."""
    hk = np.zeros((1, 2, 2))
    shell = [np.array([0, 1])]
    U, J = 3.0, 0.5
    spread = uhf.solve(hk, shell, [I.dudarev(U, J)], 2.0, [(0.5 * np.eye(2), 0.5 * np.eye(2))], max_iter=1,
                       width=1e-3)
    assert spread.energy == pytest.approx((U - J) / 2, abs=1e-6)
    n = np.diag([0.6, 0.4])
    pol = uhf.solve(hk, shell, [I.dudarev(U, J)], 2.0, [(n, n)], width=1e-3)
    assert pol.converged and pol.energy == pytest.approx(0.0, abs=1e-5)
    up = np.real(pol.occupations[0][0])
    assert np.sort(np.linalg.eigvalsh(up))[::-1] == pytest.approx([1.0, 0.0], abs=1e-4)
    assert up[0, 0] == pytest.approx(1.0, abs=1e-4)          # the orbital the start favoured


def test_dudarev_refuses_J_above_U():
    with pytest.raises(ValueError, match="J"):
        I.dudarev(1.0, 2.0)


def test_band_filling_is_the_U0_mean_field_and_counts_the_electrons():
    """models' U = 0 band filling equals one UHF map at U = 0 and, with shells covering every orbital, holds
    the electrons it was given (both spins)."""
    hk = two_d_shell_model(complex_hop=False).real
    occ = pd_models.band_occupations(hk, D5, 8.0, width=0.05)
    zero = uhf.solve(hk, D5, [I.dudarev(0.0)] * 2, 8.0, [(n, n) for n in occ], width=0.05, max_iter=1)
    for n, (up, dn) in zip(occ, zero.occupations):
        assert n == pytest.approx(np.real(up), abs=1e-10) and n == pytest.approx(np.real(dn), abs=1e-10)
    assert 2 * sum(np.trace(n) for n in occ) == pytest.approx(8.0, abs=1e-9)


def test_slater_with_J0_and_FLL_equals_dudarev_with_Ueff_U():
    """Same functional (energy and potential on random complex occupations) and so the same
    self-consistent states: Slater started from the converged Dudarev state stays there."""
    rng = np.random.default_rng(2)
    for _ in range(3):
        A = rng.normal(size=(5, 5)) + 1j * rng.normal(size=(5, 5))
        n = [0.1 * (A + A.conj().T) + 0.4 * np.eye(5), 0.3 * np.eye(5)]
        ea, *va = I.energy_and_potential(I.slater(2.5, 0.0), *n)
        eb, *vb = I.energy_and_potential(I.dudarev(2.5, 0.0), *n)
        assert ea == pytest.approx(eb, abs=1e-12)
        assert va[0] == pytest.approx(vb[0], abs=1e-12) and va[1] == pytest.approx(vb[1], abs=1e-12)
    hk = two_d_shell_model()
    b = _converged(hk, [I.dudarev(2.5, 0.0)] * 2, 9.0, polarized_start())
    a = uhf.solve(hk, D5, [I.slater(2.5, 0.0)] * 2, 9.0, b.occupations, width=0.05)
    assert a.converged and b.converged and a.iterations <= 3
    # both states converged to the solver's density tolerance: energies agree to its square, ~1e-8
    assert a.free_energy == pytest.approx(b.free_energy, abs=1e-7)
    assert a.energy == pytest.approx(b.energy, abs=1e-7)
    for pa, pb in zip(a.occupations, b.occupations):
        for x, y in zip(pa, pb):
            assert x == pytest.approx(y, abs=1e-6)


def test_anderson_beats_linear_mixing():
    """Hubbard dimer at U = 2.1 t, just above the AFM instability (slow, nearly marginal mode):
    same step 0.3; Anderson converges in < 30 iterations, linear mixing needs > 5 times more."""
    hk, shells = toy.hubbard_dimer(1.0)
    inter = [toy.hubbard_interaction(2.1)] * 2
    start = [(np.eye(1), 0 * np.eye(1)), (0 * np.eye(1), np.eye(1))]
    a = uhf.solve(hk, shells, inter, 2, start, width=1e-3, mixer="anderson")
    lin = uhf.solve(hk, shells, inter, 2, start, width=1e-3, mixer="linear")
    assert a.converged and a.iterations < 30
    assert (not lin.converged) or lin.iterations > 5 * a.iterations
    assert a.energy == pytest.approx(-2 / 2.1, abs=1e-8)


def test_result_json_round_trip_and_site_summaries():
    hk = two_d_shell_model()
    r = uhf.solve(hk, D5, [I.kanamori(2.0, 0.4, 5)] * 2, 9.0, polarized_start(), width=0.05)
    d = json.loads(json.dumps(r.to_dict()))
    back = uhf.UHFResult.from_dict(d)
    assert back.free_energy == r.free_energy and back.converged == r.converged
    assert back.occupations[0][0] == pytest.approx(r.occupations[0][0], abs=1e-14)
    s = r.sites()
    assert sum(x["d_count"] for x in s) <= 9.0 + 1e-9
    for x, (u, dn) in zip(s, r.occupations):
        assert x["moment"] == pytest.approx(np.trace(u).real - np.trace(dn).real)
        tot = np.sort(np.linalg.eigvalsh(u + dn))[::-1]
        assert x["orbital_polarization"] == pytest.approx(tot[0] - tot[1])
    assert r.free_energy == pytest.approx(r.energy - 0.05 * r.entropy)


def test_site_occupations_are_projectors_in_the_local_basis():
    Bm = np.linalg.qr(RNG.normal(size=(3, 3)) + 1j * RNG.normal(size=(3, 3)))[0]
    u, d = C.site_occupations([0, 1], [0], Bm)
    assert u @ u == pytest.approx(u, abs=1e-12) and np.trace(u).real == pytest.approx(2)
    # n[a,b] = <c^+_a c_b>: orbital 0 is an eigenvector of n^T (the density matrix) with occupation 1
    assert d.T @ Bm[:, 0] == pytest.approx(Bm[:, 0], abs=1e-12)
    names = C.enumerate_starts(4, [np.eye(3)] * 2)
    assert {"d2(a^2)/d2(a^2)", "d2(S=1:ab)/d2(S=1:ab) FM", "d2(S=1:ab)/d2(S=1:ab) AFM",
            "d1(a)/d3(S=3/2) AFM", "d2(b^2)/d2(c^2)"} <= set(names)
    assert all(abs(sum(np.trace(n).real for p in st for n in p) - 4) < 1e-12 for st in names.values())


def test_supercell_bands_fold():
    rng = np.random.default_rng(5)
    R = np.array([[0, 0, 0], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [1, 1, 0], [-1, -1, 0]])
    H = rng.normal(size=(7, 2, 2)) + 1j * rng.normal(size=(7, 2, 2))
    H[0] = H[0] + H[0].conj().T
    for a, b in [(1, 2), (3, 4), (5, 6)]:
        H[b] = H[a].conj().T
    model = W.TBModel(R, H, ["A:s", "B:s"], np.array([0, 1]), np.array([0, 0]),
                      np.array([[0, 0, 0], [0.5, 0.5, 0]]), np.eye(3))
    reps = (2, 3, 1)
    sc = uhf.supercell(model, reps)
    assert sc.norb == 12 and len(sc.positions) == 12 // 2 * 2
    for K in rng.random((3, 3)) * [1, 1, 0]:
        ks = [(K + np.array([g1, g2, 0])) / reps for g1 in range(2) for g2 in range(3)]
        prim = np.sort(np.concatenate([model.bands(k)[0] for k in ks]))
        assert sc.bands(K)[0] == pytest.approx(prim, abs=1e-10)


@pytest.mark.parametrize("kw, word", [
    (dict(n_electrons=-1), "n_electrons"),
    (dict(n_electrons=21), "n_electrons"),
    (dict(mixer="broyden"), "mixer"),
    (dict(interactions=[I.slater(2.0, 0.5), I.kanamori(2.0, 0.5, 3)]), "tensor"),
    (dict(interactions=[I.slater(2.0, 0.5)]), "interactions"),
    (dict(start=[polarized_start()[0]]), "start"),
    (dict(width=0.0), "width"),
])
def test_bad_input_refused_before_iterating(kw, word):
    args = dict(hk=two_d_shell_model(), shells=D5, interactions=[I.slater(2.0, 0.5)] * 2, n_electrons=8.0,
                start=polarized_start(), width=0.05)
    args.update(kw)
    with pytest.raises(ValueError, match=word):
        uhf.solve(**args)


def test_spin_restricted_mean_field_with_complex_hoppings_matches_the_restricted_loop():
    """The AFO page's spin-restricted Dudarev solve (uhf.spin_restricted) on a model with complex hoppings, where the
    on-site densities are complex: the same state and energy as an independent restricted loop on the full complex
    density (n = rho^T)."""
    hk = two_d_shell_model(complex_hop=True)
    start = [np.diag([0.6, 0.3, 0.2, 0.1, 0.2]), np.diag([0.2, 0.5, 0.1, 0.3, 0.1])]
    r = uhf.spin_restricted(hk, D5, [I.dudarev(1.6)] * 2, 8.0, start, width=0.05, n_tol=1e-10, max_iter=4000)
    ref_energy, ref_occ = _restricted_dudarev(hk, D5, 8.0, 1.6, start, width=0.05, mixing=0.15, max_iter=4000, real=False)
    assert r.converged
    assert max(float(np.abs(u.imag).max()) for u, _ in r.occupations) > 1e-4        # complex densities: a real test
    for (u, d), rho in zip(r.occupations, ref_occ):      # the loop's density matrix is rho = n^T
        assert u == pytest.approx(rho.T, abs=1e-7) and d == pytest.approx(rho.T, abs=1e-7)
    assert r.energy == pytest.approx(ref_energy, abs=1e-7)
