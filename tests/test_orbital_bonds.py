"""W-W bonds, second-order virtual hopping and the two-W cluster (helpers.manybody)."""
import numpy as np
import pytest

from helpers.manybody import bond_cluster
from helpers.manybody import bond_table
from helpers.manybody import bonds as manybody_bonds
from helpers.models import wannier as W
from helpers.rungs.afo import figures as afo_figures

U, J = 3.0, 0.3


def random_T(seed=0, scale=1.0):
    return scale * np.random.default_rng(seed).normal(size=(3, 3))


# --- the atom ---------------------------------------------------------------------------------------

def test_kanamori_atom_has_the_closed_form_multiplets():
    s = bond_cluster.atomic_hamiltonian([0.0, 0.0, 0.0], U, J)["spectra"]
    expect = {1: {0.0: 6},
              2: {U - 3 * J: 9, U - J: 5, U + 2 * J: 1},             # 3T1, 1T2 + 1E, 1A1
              3: {3 * U - 9 * J: 4, 3 * U - 6 * J: 10, 3 * U - 4 * J: 6}}   # 4A2, 2E + 2T1, 2T2
    for n, levels in expect.items():
        assert np.allclose(s[n], np.repeat(list(levels), list(levels.values())), atol=1e-10)


def test_one_electron_spectrum_is_the_levels():
    lv = [0.1, -0.2, 0.45]
    s = bond_cluster.atomic_hamiltonian(lv, U, J)["spectra"][1]
    assert np.allclose(s, np.repeat(sorted(lv), 2))


# --- second order: closed forms ---------------------------------------------------------------------

def test_pauli_blocks_intra_orbital_hopping_between_equal_doublons():
    T = np.zeros((3, 3))
    T[1, 1] = 0.4
    assert bond_cluster.second_order_energy([0, 0.1, 0.2], [0, 0.1, 0.2], T, U, J, "b", "b") == pytest.approx(0, abs=1e-14)


def test_afo_with_intra_orbital_hopping_only_at_J0():
    """b2 on i, c2 on j, only t_bb and t_cc: each of the two b electrons of i hops into the empty b
    of j (d1-d3 at U + e_bj - e_bi), each c electron of j into the empty c of i."""
    t, tp = 0.3, -0.2
    T = np.diag([0.0, t, tp])
    li, lj = [0.1, 0.0, 0.2], [0.05, 0.3, -0.1]
    closed = -2 * t**2 / (U + lj[1] - li[1]) - 2 * tp**2 / (U + li[2] - lj[2])
    assert bond_cluster.second_order_energy(li, lj, T, U, 0.0, "b", "c") == pytest.approx(closed, rel=1e-12)


def test_afo_with_pair_hopping_in_the_virtual_d3():
    """J > 0: the virtual d3 c2 b on j is mixed by pair hopping (J) with a2 b only; closed 2x2 form."""
    t = 0.3
    T = np.zeros((3, 3))
    T[1, 1] = t
    li, lj = [0.0, 0.1, 0.3], [0.2, 0.15, 0.0]
    E_phi = 2 * U + 2 * li[1] + 2 * lj[2]
    d3 = np.array([[3 * U - 5 * J + 2 * lj[2] + lj[1], J], [J, 3 * U - 5 * J + 2 * lj[0] + lj[1]]])
    w, v = np.linalg.eigh(d3)
    closed = -2 * t**2 * np.sum(v[0] ** 2 / (w + li[1] - E_phi))
    r = bond_cluster.second_order_terms(li, lj, T, U, J, "b", "c")
    assert r["E_phi_eV"] == pytest.approx(E_phi)
    assert r["E2_eV"] == pytest.approx(closed, rel=1e-12)


def test_minus_4t2_over_U_and_the_ratio():
    """Degenerate levels, J = 0: AFO gains -4 t_intra^2/U, FO -4 t_inter^2/U (and not the other)."""
    t, tp, lv = 0.3, 0.1, [0.0, 0.0, 0.0]
    intra = np.diag([0.0, t, t])
    inter = np.zeros((3, 3))
    inter[1, 2] = inter[2, 1] = tp
    assert bond_cluster.second_order_energy(lv, lv, intra, U, 0, "b", "c") == pytest.approx(-4 * t**2 / U)
    assert bond_cluster.second_order_energy(lv, lv, intra, U, 0, "b", "b") == pytest.approx(0, abs=1e-14)
    assert bond_cluster.second_order_energy(lv, lv, inter, U, 0, "b", "b") == pytest.approx(-4 * tp**2 / U)
    assert bond_cluster.second_order_energy(lv, lv, inter, U, 0, "b", "c") == pytest.approx(0, abs=1e-14)


def test_fo_gains_nothing_from_b_c_processes_only_from_the_a_channel():
    """FO b2b2: t_bb is Pauli-blocked and t_cc joins two empty orbitals, so with t_bc = t_cb = 0
    the FO energy is exactly that of the a channel alone (t_ab, t_ba), and 0 without it."""
    li, lj = [0.0, 0.1, 0.25], [0.02, 0.12, 0.2]
    T = random_T(1, 0.3)
    T[1, 2] = T[2, 1] = 0.0
    a_only = np.zeros((3, 3))
    a_only[0, 1], a_only[1, 0] = T[0, 1], T[1, 0]
    E = bond_cluster.second_order_energy(li, lj, T, U, J, "b", "b")
    assert E < -1e-4
    assert E == pytest.approx(bond_cluster.second_order_energy(li, lj, a_only, U, J, "b", "b"), rel=1e-12)
    no_a = T.copy()
    no_a[0, :] = no_a[:, 0] = 0.0
    assert bond_cluster.second_order_energy(li, lj, no_a, U, J, "b", "b") == pytest.approx(0, abs=1e-14)


def test_swapping_the_sites_leaves_bond_energies_unchanged():
    li, lj, T = [0.0, 0.1, 0.25], [0.05, 0.3, 0.1], random_T(2, 0.3)
    for ci, cj in [("b", "c"), ("a", "b"), ("c", "c")]:
        assert bond_cluster.second_order_energy(li, lj, T, U, J, ci, cj) == pytest.approx(
            bond_cluster.second_order_energy(lj, li, T.T, U, J, cj, ci), rel=1e-10)
    e1, e2 = bond_cluster.two_site_ed(li, lj, T, U, J), bond_cluster.two_site_ed(lj, li, T.T, U, J)
    assert e1["ground_energy_eV"] == pytest.approx(e2["ground_energy_eV"], abs=1e-10)
    assert e1["orbital_correlation"] == pytest.approx(e2["orbital_correlation"], abs=1e-8)
    assert e1["weights"]["b2c2"] == pytest.approx(e2["weights"]["c2b2"], abs=1e-8)


def test_inversion_symmetric_bond_has_equal_afo_partners():
    """Symmetry check: two ends related by inversion (equal levels, d orbitals even, so T = T^T)
    make b2c2 and c2b2 equal; a bond without that symmetry separates them."""
    lv = [0.0, 0.1, 0.22]
    T = random_T(3, 0.3)
    Ts = 0.5 * (T + T.T)
    assert bond_cluster.second_order_energy(lv, lv, Ts, U, J, "b", "c") == pytest.approx(
        bond_cluster.second_order_energy(lv, lv, Ts, U, J, "c", "b"), rel=1e-10)
    assert abs(bond_cluster.second_order_energy(lv, lv, T, U, J, "b", "c")
               - bond_cluster.second_order_energy(lv, lv, T, U, J, "c", "b")) > 1e-4


# --- exact diagonalization ----------------------------------------------------------------------------

def test_ed_contains_the_half_filled_hubbard_dimer():
    """a of site i far below (a2 frozen), a and c of j and c of i far above, J = 0: the two b
    orbitals hold two electrons; b on j is raised by 2U to balance the repulsion of b_i with
    a_i^2, so both doubly occupied b states cost U: E0 = const + U/2 - sqrt(U^2/4 + 4t^2)."""
    t = 0.4
    T = np.zeros((3, 3))
    T[1, 1] = -t
    e = bond_cluster.two_site_ed([-40.0, 0.0, 40.0], [40.0, 2 * U, 40.0], T, U, 0.0)
    const = -80 + U + 4 * U
    assert e["ground_energy_eV"] == pytest.approx(const + U / 2 - np.sqrt(U**2 / 4 + 4 * t**2), abs=1e-9)
    assert e["S_total(S+1)"] == pytest.approx(0, abs=1e-9)          # the dimer's singlet


def test_second_order_agrees_with_ed_to_fourth_order():
    """J = 0 and levels making b2c2 the non-degenerate ground state of the atoms: E_ED = E_phi + E2
    + O(t^4) (odd orders vanish: a return to d2-d2 takes an even number of hops)."""
    li, lj, T = [0.8, 0.0, 0.4], [0.8, 0.4, 0.0], random_T(0)
    err = []
    for t in (0.02, 0.04):
        r = bond_cluster.second_order_terms(li, lj, t * T, U, 0.0, "b", "c")
        err.append(bond_cluster.two_site_ed(li, lj, t * T, U, 0.0)["ground_energy_eV"] - r["E_phi_eV"] - r["E2_eV"])
        assert abs(err[-1]) < 0.01 * abs(r["E2_eV"])
    assert err[1] / err[0] == pytest.approx(16, rel=0.1)


def test_ed_orbital_correlation_follows_the_hopping():
    """b, c degenerate (a 1 eV above): intra-orbital hopping only makes the cluster AFO-like
    (correlation < 0, weight on b2c2 and c2b2, none on b2b2), inter-orbital only FO-like, and the
    two are mirror images (b <-> c on site j maps one onto the other)."""
    lv = [1.0, 0.0, 0.0]
    inter = np.zeros((3, 3))
    inter[1, 2] = inter[2, 1] = 0.3
    for J_ in (0.0, 0.3):
        afo = bond_cluster.two_site_ed(lv, lv, np.diag([0.0, 0.3, 0.3]), U, J_)
        fo = bond_cluster.two_site_ed(lv, lv, inter, U, J_)
        assert afo["orbital_correlation"] < -0.05 and fo["orbital_correlation"] == pytest.approx(-afo["orbital_correlation"])
        assert afo["weights"]["b2c2"] > 10 * afo["weights"]["b2b2"]
        assert fo["weights"]["b2b2"] == pytest.approx(afo["weights"]["b2c2"])
        assert afo["ground_energy_eV"] == pytest.approx(fo["ground_energy_eV"])


def test_pinned_energies_are_variational_and_close_to_second_order():
    li, lj, T = [0.0, 0.1, 0.2], [0.0, 0.12, 0.18], random_T(4, 0.05)
    pin = bond_cluster.pinned_energies(li, lj, T, U, 0.0, h=-0.5)
    E0 = bond_cluster.two_site_ed(li, lj, T, U, 0.0)["ground_energy_eV"]
    for name, (ci, cj) in manybody_bonds.CONFIGS.items():
        p = pin[name]
        assert p["E_var_eV"] >= E0 - 1e-12                          # <psi_h|H|psi_h> >= E0
        assert p["n_pinned"] > 3.9
        E2 = bond_cluster.second_order_energy(li, lj, T, U, 0.0, ci, cj)
        assert p["gain_eV"] == pytest.approx(E2, rel=0.2)          # field-shifted denominators
    zero = bond_cluster.pinned_energies(li, lj, np.zeros((3, 3)), U, 0.0, h=-0.5)
    assert zero["b2c2"]["gain_eV"] == pytest.approx(0, abs=1e-12) and zero["b2c2"]["n_pinned"] == pytest.approx(4)


# --- bonds of a model ---------------------------------------------------------------------------------

def synthetic_model(seed=5):
    """Two 'W' (five d orbitals each) in a rectangular cell, random Hermitian H(R) on a 4x4 grid."""
    rng = np.random.default_rng(seed)
    cell = np.diag([3.0, 5.0, 20.0])
    pos = np.array([[0.0, 0.0, 0.0], [1.5, 1.3, 0.1]])
    R = W.lattice_vectors((4, 4, 1))
    A = rng.normal(size=(len(R), 10, 10)) * 0.1
    index = {tuple(r): n for n, r in enumerate(R)}
    H = np.empty_like(A)
    for n, r in enumerate(R):
        m = index.get(tuple(-r))
        H[n] = A[n] + A[m].T if m is not None else A[n]
    return W.TBModel(R, H.astype(complex), [f"W{a}:d{k}" for a in (0, 1) for k in range(5)],
                     np.repeat([0, 1], 5), np.full(10, 2), pos, cell)


def test_bonds_are_listed_once_and_hopping_reverses_to_its_adjoint():
    eff = synthetic_model()
    bonds = manybody_bonds.metal_bonds(eff, 4.0)
    keys = {(b["i"], b["j"], tuple(b["R"])) for b in bonds}
    assert not any((j, i, tuple(-np.array(R))) in keys for i, j, R in keys if (i, j, R) != (j, i, tuple(-np.array(R))))
    assert len(keys) == len(bonds)
    assert [b["length_A"] for b in bonds] == sorted(b["length_A"] for b in bonds)
    assert {b["name"] for b in bonds if b["i"] == b["j"]} == {"chain (same sublattice, along a)"}
    rng = np.random.default_rng(0)
    O = [np.linalg.qr(rng.normal(size=(5, 5)))[0] for _ in range(2)]
    for b in bonds + [{"i": 0, "j": 1, "R": [2, 0, 0]}]:        # (-2, 0, 0) is not stored: uses H(2)^H
        rev = {"i": b["j"], "j": b["i"], "R": [-x for x in b["R"]]}
        T = manybody_bonds.bond_hopping(eff, b, O[b["i"]], O[b["j"]])
        assert np.allclose(manybody_bonds.bond_hopping(eff, rev, O[b["j"]], O[b["i"]]), T.conj().T)


@pytest.fixture(scope="module")
def synthetic_rows():
    eff = synthetic_model()
    O = [np.linalg.eigh(eff.onsite()[s][:, s])[1] for s in (slice(0, 5), slice(5, 10))]
    return bond_table.bond_table(eff, O, U, J, max_length=3.2)


def test_bond_table_same_sublattice_bonds_cannot_decide(synthetic_rows):
    rows = synthetic_rows
    chain = [r for r in rows if r["i"] == r["j"]]
    assert chain and all(r["E2 AFO - FO (meV)"] == pytest.approx(0, abs=1e-9) for r in chain)
    hetero = [r for r in rows if r["i"] != r["j"]]
    assert hetero and all(r["E2 AFO b-c (meV)"] == r["E2 b2c2 (meV)"] for r in hetero)
    pf = bond_table.per_formula_unit(rows)
    assert pf["E2 (meV/f.u.)"]["FO b-b"] == pytest.approx(sum(r["E2 b2b2 (meV)"] for r in rows) / 2)


def test_plot_draws_one_bar_per_bond_and_pattern(synthetic_rows):
    """Bars of a bond where second order holds are its energies; a bond where it does not is
    drawn as a hatched band with no bars, and the axis spans the valid bars only."""
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    ax, ax2 = afo_figures.plot_bond_energies(ax, synthetic_rows)
    bars = [p for c in ax.containers for p in c]
    valid = [bond_table.second_order_valid(r) for r in synthetic_rows]
    assert len(bars) == len(synthetic_rows) * len(manybody_bonds.PATTERNS)
    assert np.allclose(sorted(p.get_height() for p in bars),
                       sorted(r[f"E2 {p} (meV)"] if ok else 0.0 for r, ok in zip(synthetic_rows, valid) for p in manybody_bonds.PATTERNS))
    assert len([p for p in ax.patches if p.get_hatch()]) == valid.count(False)
    lo, hi = ax.get_ylim()
    assert all(lo <= r[f"E2 {p} (meV)"] <= hi for r, ok in zip(synthetic_rows, valid) if ok for p in manybody_bonds.PATTERNS)
    assert "(meV)" in ax.get_ylabel()
    plt.close(fig)


def test_a_bond_whose_gap_closes_is_not_second_order():
    row = {"min gap (eV)": 0.5, "perturbative": True, **{f"t_{x}{y}": 0.01 for x in "abc" for y in "abc"}}
    assert bond_table.second_order_valid(row)
    assert not bond_table.second_order_valid({**row, "t_bc": 0.5 * bond_table.MAX_T_OVER_GAP * 10})
    assert not bond_table.second_order_valid({**row, "min gap (eV)": -0.1, "perturbative": False})


def test_relaxed_d2_layer_bonds():
    from helpers.dft import layers as dft_layers
    from helpers.dft import jobs as dft_jobs
    from helpers.dft import process as dft_process
    from helpers.store import params
    from helpers.models import pd as pd_models
    settings = params.settings("paper")
    lattice = dft_layers.relax_layer("WTe2", "d2", settings)
    at = dft_process.atoms_from(lattice["distorted"]["final"])
    eff = pd_models.downfold_d(pd_models.pd_model(dft_jobs.lcao(at, settings, "WTe2-relaxed-d2", basis="dzp")), (12, 6, 1), -1.5, 0.5)[0]
    bonds = manybody_bonds.metal_bonds(eff, 5.0)
    zig = [b for b in bonds if b["name"] == "W1-W2 short (zigzag)"]
    assert len(zig) == 2 and 2.8 < zig[0]["length_A"] < 2.9
    chain = [b for b in bonds if b["name"].startswith("chain")]
    assert len(chain) == 2
    assert all(b["length_A"] == pytest.approx(np.linalg.norm(eff.cell[0]), abs=1e-9) for b in chain)


# --- bad input ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("kw, match", [
    ({"U": 0.0}, "U="), ({"U": -1.0}, "U="), ({"J": -0.1}, "J="), ({"J": 1.2}, "J="),
    ({"levels_i": [0, 1]}, "levels_i"), ({"T": np.zeros((3, 2))}, "T:"), ({"config_i": "d"}, "config_i"),
])
def test_bad_input_names_the_parameter(kw, match):
    args = {"levels_i": [0, 0, 0], "levels_j": [0, 0, 0], "T": np.zeros((3, 3)), "U": 3.0, "J": 0.5,
            "config_i": "b", "config_j": "c"}
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        bond_cluster.second_order_energy(**args)


def test_bad_input_elsewhere():
    with pytest.raises(ValueError, match="J="):
        bond_cluster.atomic_hamiltonian([0, 0, 0], 3.0, 1.01)
    with pytest.raises(ValueError, match="levels"):
        bond_cluster.atomic_hamiltonian([0, 0, 0, 0], 3.0, 0.5)
    with pytest.raises(ValueError, match="h="):
        bond_cluster.pinned_energies([0, 0, 0], [0, 0, 0], np.zeros((3, 3)), 3.0, 0.5, h=0.1)
    with pytest.raises(ValueError, match="max_length"):
        manybody_bonds.metal_bonds(synthetic_model(), 0.0)
    with pytest.raises(ValueError, match="orbitals_i"):
        manybody_bonds.bond_hopping(synthetic_model(), {"i": 0, "j": 1, "R": [0, 0, 0]}, np.eye(3), np.eye(5))
