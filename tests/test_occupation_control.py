"""Occupation control for GPAW DFT+U (helpers.dft.occupation_control).

Without GPAW: input checks and the derivative of the bias against finite differences (a wrong
factor there makes the biased SCF oscillate). With GPAW (marker `dft`, a Gamma-point SCF of the
1T' layer on one rank): lambda = 0 changes nothing, a bias fills its target, Hellmann-Feynman,
and two release schedules end in the same state."""
import types

import numpy as np
import pytest

from helpers.dft import occupation_control as oc

SYMBOLS = ["W", "W", "Te", "Te", "Te", "Te"]


def _fake_setup(seed=1):
    rng = np.random.default_rng(seed)
    return types.SimpleNamespace(l_j=[0, 0, 1, 1, 2, 2], n_j=[5, 6, 5, 6, 5, -1], N0_q=rng.uniform(0.2, 1.0, 21))


def _unit(i):
    v = np.zeros(5)
    v[i] = 1.0
    return v


@pytest.mark.parametrize("nspins", [1, 2])
def test_bias_derivative_matches_finite_differences(nspins):
    setup = _fake_setup()
    rng = np.random.default_rng(2)
    D = rng.normal(size=(nspins, 18, 18))
    D = D + D.transpose(0, 2, 1)
    v = (_unit(1) + _unit(2)) / 2**0.5
    targets = {0: {"both": [v]}} if nspins == 1 else {0: {"up": [v], "dn": []}}
    ext = oc.OccupationBias(oc.check_targets(targets, SYMBOLS, nspins == 2,
                                             [1, 0, 0, 0, 0, 0] if nspins == 2 else None), 0.7)
    dH = np.zeros_like(D)
    e = ext.update_non_local_hamiltonian(D, setup, 0, dH)
    X = rng.normal(size=D.shape)
    X = X + X.transpose(0, 2, 1)
    h = 1e-6
    e2 = ext.update_non_local_hamiltonian(D + h * X, setup, 0, np.zeros_like(D))
    assert (e2 - e) / h == pytest.approx((dH * X).sum(), rel=1e-5)
    # the energy is linear in lambda and equals lambda * tr[(1 - 2P) N]
    N = oc.occupation_matrix(D[0], setup)[0]
    B = np.eye(5) - 2 * np.outer(v, v)
    if nspins == 1:
        from ase.units import Ha
        assert e * Ha == pytest.approx(0.7 * np.trace(B @ N))


def test_a_subspace_bias_moves_only_the_orbitals_of_its_subspace():
    """With a subspace Q (here b, c of a rotated frame) the bias operator is Q - 2P: -1 on the target,
    +1 on the rest of Q, 0 on the d orbitals outside Q (left alone); without one it is 1 - 2P. The
    derivative stays exact (finite differences), and the energy is lambda tr[(Q - 2P) N]."""
    from ase.units import Ha
    R, _ = np.linalg.qr(np.random.default_rng(5).normal(size=(5, 5)))
    a, b, c = R[:, 0], R[:, 1], R[:, 2]
    t = oc.check_targets({0: {"both": [b], "subspace": [a, b, c]}}, SYMBOLS, False)
    ext = oc.OccupationBias(t, 0.6)
    B, = ext.bias_matrices(0, 1)
    assert np.sort(np.linalg.eigvalsh(B)) == pytest.approx([-1, 0, 0, 1, 1], abs=1e-12)
    assert B @ b == pytest.approx(-b) and B @ a == pytest.approx(a) and B @ R[:, 3] == pytest.approx(0 * a, abs=1e-12)
    full, = oc.OccupationBias(oc.check_targets({0: {"both": [b]}}, SYMBOLS, False), 0.6).bias_matrices(0, 1)
    assert full == pytest.approx(np.eye(5) - 2 * np.outer(b, b))
    setup = _fake_setup()
    rng = np.random.default_rng(7)
    D = rng.normal(size=(1, 18, 18))
    D = D + D.transpose(0, 2, 1)
    dH = np.zeros_like(D)
    e = ext.update_non_local_hamiltonian(D, setup, 0, dH)
    X = rng.normal(size=D.shape)
    X = X + X.transpose(0, 2, 1)
    e2 = ext.update_non_local_hamiltonian(D + 1e-6 * X, setup, 0, np.zeros_like(D))
    assert (e2 - e) / 1e-6 == pytest.approx((dH * X).sum(), rel=1e-5)
    assert e * Ha == pytest.approx(0.6 * np.trace(B @ oc.occupation_matrix(D[0], setup)[0]))


def test_untargeted_atoms_and_zero_strength_change_nothing():
    setup = _fake_setup()
    D = np.ones((1, 18, 18))
    ext = oc.OccupationBias(oc.check_targets({0: {"both": [_unit(0)]}}, SYMBOLS, False), 0.0)
    dH = np.zeros_like(D)
    assert ext.update_non_local_hamiltonian(D, setup, 0, dH) == 0 and not dH.any()
    ext.set_strength(1.0)
    assert ext.update_non_local_hamiltonian(D, setup, 1, dH) == 0 and not dH.any()


@pytest.mark.parametrize("targets, spinpol, magmoms, match", [
    ({0: {"both": [[1, 0, 0, 0]]}}, False, None, "5-vector"),
    ({0: {"both": [[1, 0, 0, 0, 0], [1, 0, 0, 0, 0]]}}, False, None, "orthonormal"),
    ({0: {"both": [[2, 0, 0, 0, 0]]}}, False, None, "orthonormal"),
    ({2: {"both": [[1, 0, 0, 0, 0]]}}, False, None, "not a metal"),
    ({9: {"both": [[1, 0, 0, 0, 0]]}}, False, None, "not an atom"),
    ({0: {"both": np.eye(5)[:4].tolist()}, 1: {"both": np.eye(5)[:3].tolist()}}, False, None, "valence electrons"),
    ({0: {"up": [[1, 0, 0, 0, 0]]}}, False, None, "keys must be"),
    ({0: {"both": [[1, 0, 0, 0, 0]]}}, True, [0] * 6, "keys must be"),
    ({0: {"up": [[1, 0, 0, 0, 0]], "dn": []}}, True, [-1, 0, 0, 0, 0, 0], "sign"),
    ({0: {"up": [[1, 0, 0, 0, 0]], "dn": []}}, True, None, "one initial moment"),
    ({0: {"both": [[1, 0, 0, 0, 0]]}}, False, [1, 0, 0, 0, 0, 0], "no initial moments"),
    ({0: {"both": [[1, 0, 0, 0, 0]], "subspace": [[0, 1, 0, 0, 0], [0, 0, 1, 0, 0]]}}, False, None, "must contain"),
    ({0: {"both": [[1, 0, 0, 0, 0]], "subspace": [[1, 0, 0, 0, 0], [1, 0, 0, 0, 0]]}}, False, None, "orthonormal"),
])
def test_bad_targets_are_refused(targets, spinpol, magmoms, match):
    with pytest.raises(ValueError, match=match):
        oc.check_targets(targets, SYMBOLS, spinpol, magmoms)


def test_a_valence_above_the_nominal_one_is_a_start_not_bad_input():
    # W3+ on both W (d3/d3, 6 target spin-orbitals against the nominal 4) is a valence the annealing
    # must be able to start from; 12 (the W's valence electrons) is the bound, 13 is refused
    t = {0: {"up": np.eye(5)[:3].tolist(), "dn": []}, 1: {"up": [], "dn": np.eye(5)[:3].tolist()}}
    out = oc.check_targets(t, SYMBOLS, True, [3, -3, 0, 0, 0, 0])
    assert out[0]["up"].shape == (5, 3) and out[1]["dn"].shape == (5, 3)
    full = {a: {"up": np.eye(5).tolist(), "dn": [[1, 0, 0, 0, 0]]} for a in (0, 1)}
    assert oc.check_targets(full, SYMBOLS, True, [4, 4, 0, 0, 0, 0])
    full[1]["dn"] = np.eye(5)[:2].tolist()
    with pytest.raises(ValueError, match="13 target spin-orbitals, more than the 12 valence electrons"):
        oc.check_targets(full, SYMBOLS, True, [4, 3, 0, 0, 0, 0])


@pytest.mark.parametrize("release, match", [([-0.1, 0], "lambda"), ([1.0, 0.5], "end at 0"),
                                            ([0.5, 1.0, 0], "not increase"), ([], "lambda")])
def test_bad_release_is_refused(release, match):
    with pytest.raises(ValueError, match=match):
        oc.check_schedule(release)


@pytest.mark.parametrize("U_grid", [[3.0, 6.0], [6.0, 6.0], [], [25.0], [float("nan")]])
def test_bad_U_grid_is_refused(U_grid):
    with pytest.raises(ValueError, match="U_grid"):
        oc.check_U_grid(U_grid)


def test_an_upward_annealing_needs_an_increasing_grid_and_no_bias():
    assert oc.check_U_grid([3.0, 4.0], upward=True) == [3.0, 4.0]
    with pytest.raises(ValueError, match="upward=True U must increase"):
        oc.check_U_grid([4.0, 3.0], upward=True)


def test_driver_refuses_before_any_scf(tmp_path, monkeypatch):
    from ase import Atoms
    from helpers.dft import jobs as dft_jobs
    from helpers.store import params
    monkeypatch.setenv("COMPENDIUM_CACHE", str(tmp_path))
    monkeypatch.setattr(dft_jobs, "_launch", lambda *a, **k: pytest.fail("GPAW started"))
    atoms = Atoms("W2Te4", positions=np.random.default_rng(0).normal(size=(6, 3)), cell=[3, 6, 15], pbc=[1, 1, 0])
    s = params.settings("smoke")
    with pytest.raises(ValueError, match="U_grid"):
        dft_jobs.dftu_branch(atoms, s, "bad", [3.0, 4.0])
    with pytest.raises(ValueError, match="not a metal"):
        dft_jobs.dftu_branch(atoms, s, "bad", [3.0], targets={3: {"both": [_unit(0)]}})
    with pytest.raises(ValueError, match="metal="):
        dft_jobs.dftu_branch(atoms, s, "bad", [3.0], metal="Mo")
    with pytest.raises(ValueError, match="backend='broyden'"):
        dft_jobs.dftu_branch(atoms, s, "bad", [3.0], mixer={"backend": "broyden"})
    with pytest.raises(ValueError, match="beta"):
        dft_jobs.dftu_branch(atoms, s, "bad", [3.0], mixer={"backend": "pulay", "beta": 0.0})
    with pytest.raises(ValueError, match="keys among"):
        dft_jobs.dftu_branch(atoms, s, "bad", [3.0], mixer={"name": "pulay"})
    with pytest.raises(ValueError, match="upward annealing follows an unbiased state"):
        dft_jobs.dftu_branch(atoms, s, "bad", [3.0, 4.0], targets={0: {"both": [_unit(0)]}}, upward=True)
    with pytest.raises(ValueError, match="projector_scale=0"):
        dft_jobs.dftu_branch(atoms, s, "bad", [3.0], projector_scale=0)
    assert not any(tmp_path.iterdir())
    # the unscaled projectors enter the job only when asked for: a scaled branch keeps the key it had
    seen = []
    monkeypatch.setattr(dft_jobs, "_submit", lambda job, *a, **k: seen.append(job))
    dft_jobs.dftu_branch(atoms, s, "ok", [3.0])
    dft_jobs.dftu_branch(atoms, s, "ok", [3.0], projector_scale=False)
    assert "hubbard_scale" not in seen[0] and seen[1]["hubbard_scale"] is False


# --- with GPAW --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def layer():
    from helpers.dft import jobs as dft_jobs
    from helpers.dft import layers as dft_layers
    import os
    os.environ["COMPENDIUM_REQUIRE_CACHE"] = "1"
    atoms = dft_layers.layer_structures("WTe2", "paper", 15.0)["relaxed d2"]
    atoms.center(vacuum=3.0, axis=2)        # a thin vacuum: these tests check the extension, not the layer's physics
    return atoms


def _scf(atoms, ext=None, lambdas=(0.0,)):
    """Gamma-point single-zeta LCAO DFT+U (U_eff = 3 eV on W, grid spacing 0.25 Angstrom) of `atoms` on one rank; for
    each lambda in turn (continuing from the previous density) the energy (eV) and W1's total d occupation matrix."""
    from gpaw import GPAW
    calc = GPAW(mode="lcao", basis="sz(dzp)", xc="PBE", kpts={"size": [1, 1, 1], "gamma": True}, h=0.25,
                occupations={"name": "fermi-dirac", "width": 0.1}, setups={"W": ":d,3.0"},
                convergence={"energy": 1e-6, "density": 1e-6, "minimum iterations": 3},
                extensions=[ext] if ext else [], txt=None)
    atoms = atoms.copy()
    atoms.calc = calc
    out = []
    for i, lam in enumerate(lambdas):
        if ext is not None:
            ext.set_strength(lam)
        if i:
            calc.dft.results.clear()
        e = atoms.get_potential_energy()
        D = calc.dft.density.D_asii.gather(broadcast=True)
        n_up, n_dn = oc.site_occupations(D[0], calc.dft.setups[0])
        out.append((e, n_up + n_dn, ext.energy(D, calc.dft.setups) if ext else 0.0))
    return out


@pytest.fixture(scope="module")
def plain(layer):
    """The unbiased SCF of the layer: energy (eV) and W1's d occupation matrix."""
    (e0, n0, _), = _scf(layer)
    return e0, n0


@pytest.mark.dft
def test_gpaw_bias_zero_is_plain_dftu_and_a_bias_fills_its_target(layer, plain):
    e0, n0 = plain
    w, V = np.linalg.eigh(n0)
    target = V[:, -2]                       # the second natural orbital: filling it changes the state
    ext = oc.OccupationBias(oc.check_targets({0: {"both": [target]}}, SYMBOLS, False), 0.0)
    (e1, n1, _), (e2, n2, eb) = _scf(layer, ext, (0.0, 1.0))
    assert e1 == pytest.approx(e0, abs=2e-4)
    assert np.abs(n1 - n0).max() < 2e-3
    w2, V2 = np.linalg.eigh(n2)
    assert abs(V2[:, -1] @ target) ** 2 > 0.9
    assert eb != 0


@pytest.mark.dft
def test_gpaw_hellmann_feynman_and_release_schedules(layer, plain):
    """dE/dlambda = E_bias/lambda at lambda = 0.5 (central difference), then that run released slowly
    (0.5 -> 0.3 -> 0) ends where a sudden release from lambda = 1 ends."""
    target = np.linalg.eigh(plain[1])[1][:, -2]
    tg = oc.check_targets({0: {"both": [target]}}, SYMBOLS, False)
    lam, d = 0.5, 0.05
    (em, _, _), (e, _, eb), (ep, _, _), _, slow = _scf(layer, oc.OccupationBias(tg, 0.0),
                                                       (lam - d, lam, lam + d, 0.3, 0.0))
    assert (ep - em) / (2 * d) == pytest.approx(eb / lam, rel=0.03)
    fast = _scf(layer, oc.OccupationBias(tg, 0.0), (1.0, 0.0))[-1]
    assert fast[0] == pytest.approx(slow[0], abs=2e-3)
    assert np.abs(fast[1] - slow[1]).max() < 0.02


@pytest.mark.dft
def test_changing_U_in_place_gives_the_energy_of_a_fresh_calculation():
    """The annealing changes U_eff between SCFs of one live calculation (helpers.dft.gpaw_job.dftu.set_hubbard_U); GPAW
    evaluates U in its potential calculator's own setups, and a change made only in calc.dft.setups
    leaves the energy at the old U. Bulk bcc W, single-zeta LCAO, 2x2x2 k points: seconds. The same SCF
    with the Pulay and the MSR1 mixer reaches the same energy (a state's identity is not the mixer's)."""
    from ase.build import bulk
    from gpaw import GPAW
    from helpers.dft.gpaw_job.dftu import set_hubbard_U

    def calc(U, mixer):
        return GPAW(mode="lcao", basis="sz(dzp)", kpts=(2, 2, 2), setups={"W": f":d,{U}"}, mixer=mixer,
                    convergence={"energy": 1e-6, "density": 1e-6}, txt=None)
    a = bulk("W")
    a.calc = calc(6.0, {"backend": "pulay", "beta": 0.05, "nmaxold": 8, "weight": 50.0})
    e6 = a.get_potential_energy()
    set_hubbard_U(a.calc, [0], 3.0)
    a.calc.dft.results.clear()
    e3_annealed = a.get_potential_energy()
    b = bulk("W")
    b.calc = calc(3.0, {"backend": "pulay", "beta": 0.05, "nmaxold": 8, "weight": 50.0})
    e3 = b.get_potential_energy()
    c = bulk("W")
    c.calc = calc(3.0, {"beta": 0.02, "nmaxold": 8, "weight": 100.0})       # MSR1
    assert abs(e6 - e3) > 1.0                     # U matters here (3.7 eV per atom)
    assert e3_annealed == pytest.approx(e3, abs=1e-4)
    assert c.get_potential_energy() == pytest.approx(e3, abs=1e-4)


@pytest.mark.dft
def test_a_killed_branch_resumes_after_its_last_step_with_the_same_energies(tmp_path):
    """helpers.dft.gpaw_job.dftu.dftu_branch stopped after its first step (bias on, U_eff = 6 eV) and run again resumes from
    the state written after that step: the released and annealed steps give the energies of an uninterrupted
    run (bulk bcc W, single-zeta LCAO, 2x2x2 k points); the log keeps one SCF table per step."""
    from ase.build import bulk
    from helpers.dft.gpaw_job import dftu as gpaw_job_dftu
    v = _unit(2)
    job = {"task": "dftu_branch", "basis": "sz(dzp)", "xc": "PBE", "kpts": [2, 2, 2], "smearing": 0.1, "metal": "W",
           "U_grid": [6.0, 3.0], "release": [1.0, 0.0], "targets": {"0": {"both": [v.tolist()]}},
           "mixer": {"backend": "pulay", "beta": 0.05, "nmaxold": 8, "weight": 50.0}, "maxiter": [60, 60],
           "dipole_correction": False, "spinpol": False}
    (a := tmp_path / "a").mkdir()
    (b := tmp_path / "b").mkdir()
    full = gpaw_job_dftu.dftu_branch(bulk("W"), dict(job), a)

    class Killed(Exception):
        pass

    said = []

    def say(msg):
        said.append(msg)
        if msg.startswith("step 1/"):
            raise Killed
    gj_say, gpaw_job_dftu.say = gpaw_job_dftu.say, say       # the name the DFT+U stage prints with
    try:
        with pytest.raises(Killed):
            gpaw_job_dftu.dftu_branch(bulk("W"), dict(job), b)
        assert gpaw_job_dftu.resume_point(b, [(6.0, 1.0), (6.0, 0.0), (3.0, 0.0)]) and (b / "step.gpw").is_file()
        assert gpaw_job_dftu.resume_point(b, [(6.0, 0.5), (6.0, 0.0), (3.0, 0.0)]) == []      # another schedule: start again
        resumed = gpaw_job_dftu.dftu_branch(bulk("W"), dict(job), b)
    finally:
        gpaw_job_dftu.say = gj_say
    assert any(m.startswith("resuming after step 1") for m in said)
    assert [s["energy_eV"] for s in resumed["steps"]] == pytest.approx([s["energy_eV"] for s in full["steps"]], abs=1e-4)
    assert (b / "gpaw.txt").read_text().count("|iter:   1|") == 3 and not (b / "step.gpw").exists()
    # the final state is kept beside the cache's entries for checks that continue from it
    assert gpaw_job_dftu.final_state_path(b).is_file() and gpaw_job_dftu.final_state_path(b).parent.name == ".states"



def _scalar_state(mixer) -> dict:
    """The plain-number attributes of a GPAW mixer (its adaptive state) and its histories' lengths."""
    out = {k: v for k, v in vars(mixer).items() if isinstance(v, (int, float, type(None)))}
    out["histories"] = [h.nold for h in mixer.histories]
    return out


@pytest.mark.dft
@pytest.mark.parametrize("mixer", [{"backend": "msr1"}, {"backend": "pulay", "beta": 0.05, "nmaxold": 8, "weight": 50.0}])
def test_a_restarted_mixer_is_the_mixer_of_a_new_calculation(mixer):
    """helpers.dft.gpaw_job.dftu.restart_mixer (a branch's mixer with fresh_each_step) leaves the mixer of a converged SCF in the
    state of a new calculation's mixer: GPAW's own reset empties the histories but keeps MSR1's step lengths
    and trust radius (shrunk by convergence), which froze a continued release step. Spin-polarized H2, LCAO:
    a second."""
    from ase import Atoms
    from gpaw import GPAW
    from helpers.dft.gpaw_job.dftu import gpaw_mixer, restart_mixer

    def h2():
        a = Atoms("H2", positions=[[0, 0, 0], [0, 0, 0.74]], cell=[4, 4, 4.5])
        a.center()
        a.set_initial_magnetic_moments([0.5, -0.5])
        a.calc = GPAW(mode="lcao", basis="sz(dzp)", h=0.25, spinpol=True, txt=None,
                      mixer=gpaw_mixer(dict(mixer, fresh_each_step=True)))
        return a
    used, new = h2(), h2()
    used.get_potential_energy()
    m = used.calc.dft.scf_loop.mixer
    before = _scalar_state(m)
    restart_mixer(m)
    new.calc.create_new_calculation(new)
    fresh = _scalar_state(new.calc.dft.scf_loop.mixer)
    assert _scalar_state(m) == fresh and fresh["histories"] == [0] * len(m.histories)
    if mixer["backend"] == "msr1":
        assert before != fresh                  # what GPAW's reset alone keeps: the converged SCF's trust radius


@pytest.mark.dft
def test_a_restarted_step_diagonalizes_the_new_hamiltonian_from_its_first_iteration():
    """helpers.dft.gpaw_job.dftu.restart_step after a change of U_eff: the potential is recomputed from the current density with
    the new U (the atomic Hamiltonians change; without it the first SCF iteration of the step diagonalizes the
    old one and MSR1 takes the tiny first residual as its yardstick), recomputing it with nothing changed moves
    nothing, and the continued step converges to the energy of a fresh calculation at the new U. Bulk bcc W,
    single-zeta LCAO, 2x2x2 k points, MSR1: seconds."""
    from ase.build import bulk
    from gpaw import GPAW
    from helpers.dft.gpaw_job.dftu import restart_step, set_hubbard_U

    def calc(U):
        return GPAW(mode="lcao", basis="sz(dzp)", kpts=(2, 2, 2), setups={"W": f":d,{U}"}, mixer={"backend": "msr1"},
                    convergence={"energy": 1e-6, "density": 1e-6}, txt=None)
    a = bulk("W")
    a.calc = calc(6.0)
    a.get_potential_energy()
    dft = a.calc.dft
    dH = dft.potential.dH_asii.data.copy()
    restart_step(dft)
    assert np.abs(dft.potential.dH_asii.data - dH).max() < 1e-10
    set_hubbard_U(a.calc, [0], 3.0)
    restart_step(dft)
    assert np.abs(dft.potential.dH_asii.data - dH).max() > 1e-3
    assert dft.scf_loop.mixer.trust_radius is None
    a.calc.dft.results.clear()
    b = bulk("W")
    b.calc = calc(3.0)
    assert a.get_potential_energy() == pytest.approx(b.get_potential_energy(), abs=1e-4)


def test_unscaled_projectors_give_the_plain_sphere_occupations_and_the_bias_follows_them():
    """GPAW's ':d,U,0': the occupation matrix is the density matrix weighted by the plain inner products N0
    within the sphere, not divided by the bounded partial wave's norm; on a positive density matrix of a
    setup with N0 < 1 its trace is smaller than the scaled one. The bias built with scale=False acts on that
    matrix (its energy is lambda tr[(1 - 2P) N] of the unscaled N, its derivative exact)."""
    from ase.units import Ha
    setup = _fake_setup(3)
    rng = np.random.default_rng(4)
    A = rng.normal(size=(18, 18))
    D = A @ A.T / 18                                   # positive semidefinite, like a density matrix
    Ns, Nu = oc.occupation_matrix(D, setup)[0], oc.occupation_matrix(D, setup, scale=False)[0]
    assert not np.allclose(Ns, Nu) and np.trace(Nu) < np.trace(Ns)
    # the bounded-bounded block alone: scaled is the raw block, unscaled is N0 times it
    q1 = 4 * 6 - 3 * 4 // 2
    assert oc.occupation_matrix(D, setup, scale=False)[1][12, 12] == pytest.approx(setup.N0_q[q1])
    v = _unit(1)
    ext = oc.OccupationBias(oc.check_targets({0: {"both": [v]}}, SYMBOLS, False), 0.5, scale=False)
    dH = np.zeros((1, 18, 18))
    e = ext.update_non_local_hamiltonian(D[None], setup, 0, dH)
    assert e * Ha == pytest.approx(0.5 * np.trace((np.eye(5) - 2 * np.outer(v, v)) @ Nu))
    X = rng.normal(size=(1, 18, 18))
    X = X + X.transpose(0, 2, 1)
    e2 = ext.update_non_local_hamiltonian(D[None] + 1e-6 * X, setup, 0, np.zeros_like(dH))
    assert (e2 - e) / 1e-6 == pytest.approx((dH * X).sum(), rel=1e-5)
    assert [n.tolist() for n in oc.site_occupations(D[None], setup, scale=False)] == [(0.5 * Nu).tolist()] * 2


def test_a_page_read_from_the_cache_never_starts_gpaw_whatever_the_environment(tmp_path, monkeypatch):
    """helpers.dft.jobs.dftu_branch_or_none(only_cached=True) names a branch missing from the cache (None) without computing it,
    also where COMPENDIUM_REQUIRE_CACHE is not set; without only_cached the same call would start GPAW."""
    from ase import Atoms
    from helpers.dft import jobs as dft_jobs
    from helpers.store import params
    monkeypatch.setenv("COMPENDIUM_CACHE", str(tmp_path))
    monkeypatch.setenv("COMPENDIUM_REQUIRE_CACHE", "0")
    started = []
    monkeypatch.setattr(dft_jobs, "_launch", lambda *a, **k: started.append(1) or pytest.fail("GPAW started"))
    atoms = Atoms("W2Te4", positions=np.random.default_rng(0).normal(size=(6, 3)), cell=[3, 6, 15], pbc=[1, 1, 0])
    s = params.settings("smoke")
    assert dft_jobs.dftu_branch_or_none(True, atoms, s, "missing", [3.0]) is None and not started
    with pytest.raises(pytest.fail.Exception, match="GPAW started"):
        dft_jobs.dftu_branch_or_none(False, atoms, s, "missing", [3.0])
