"""Wannier90 construction: parsers of its files, its orbital order, Marzari-Vanderbilt centres and
the comparison of two Wannier constructions, on small synthetic inputs with known answers (no GPAW
run), and the committed paper-profile result when it is in the cache."""
import numpy as np
import pytest
from ase import Atoms

from helpers.models import wannier as W
from helpers.models.wannier90 import compare as w90_compare
from helpers.models.wannier90 import files as w90_files
from helpers.models.wannier90 import models as w90_models

SYMBOLS = ["W", "W", "Te", "Te", "Te", "Te"]
WANTED = {"W": 2, "Te": 1}
CELL = np.diag([3.49, 6.31, 18.7])
POS = np.array([[0.0, -0.45, -0.1], [1.75, 3.61, 0.1], [1.75, 1.13, 1.47],
                [0.0, 4.23, 2.09], [0.0, 2.04, -1.48], [1.75, 5.25, -2.09]])

# two orbitals, R = -1, 0, 1 along x; degeneracies 2, 1, 2; H_12 != H_21 at R = +1
HR_TEXT = """ synthetic
2
3
    2    1    2
   -1    0    0    1    1   -0.400000    0.000000
   -1    0    0    2    1    0.300000    0.000000
   -1    0    0    1    2    0.100000    0.000000
   -1    0    0    2    2   -0.200000    0.000000
    0    0    0    1    1    1.000000    0.000000
    0    0    0    2    1    0.050000    0.000000
    0    0    0    1    2    0.050000    0.000000
    0    0    0    2    2    2.000000    0.000000
    1    0    0    1    1   -0.400000    0.000000
    1    0    0    2    1    0.100000    0.000000
    1    0    0    1    2    0.300000    0.000000
    1    0    0    2    2   -0.200000    0.000000
"""


def test_read_hr_index_order_and_degeneracy_weights():
    R, deg, H = w90_files.read_hr(HR_TEXT)
    assert R.tolist() == [[-1, 0, 0], [0, 0, 0], [1, 0, 0]] and deg.tolist() == [2, 1, 2]
    assert H[2, 0, 1] == pytest.approx(0.3) and H[2, 1, 0] == pytest.approx(0.1)   # m runs fastest
    Rm, H_R = w90_models.hr_to_H_R(R, deg, H)
    model = W.TBModel(Rm, H_R, ["a", "b"], np.array([0, 1]), np.array([0, 0]), np.zeros((2, 3)), CELL)
    k = 0.3
    expected = H[1] + (H[0] * np.exp(-2j * np.pi * k) + H[2] * np.exp(2j * np.pi * k)) / 2
    assert np.allclose(model.hk([k, 0, 0])[0], expected)
    assert W.hermiticity_error(model) < 1e-12
    # write_hr is read_hr's inverse
    R2, deg2, H2 = w90_files.read_hr(w90_files.write_hr(R, deg, H))
    assert np.array_equal(R2, R) and np.array_equal(deg2, deg) and np.allclose(H2, H)


def test_ws_distance_shares_a_hopping_among_its_translations():
    R, deg, H = w90_files.read_hr(HR_TEXT)
    ws = {(1, 0, 0, 0, 1): np.array([[0, 0, 0], [-2, 0, 0]])}      # H_12(R=1) also at R=-1
    Rm, H_R = w90_models.hr_to_H_R(R, deg, H, ws)
    model = W.TBModel(Rm, H_R, ["a", "b"], np.array([0, 1]), np.array([0, 0]), np.zeros((2, 3)), CELL)
    k = 0.17
    h12 = (H[1, 0, 1] + H[0, 0, 1] * np.exp(-2j * np.pi * k) / 2
           + H[2, 0, 1] / (2 * 2) * (np.exp(2j * np.pi * k) + np.exp(-2j * np.pi * k)))
    assert model.hk([k, 0, 0])[0][0, 1] == pytest.approx(h12)
    # on the k grid of the supercell (here k = 0, 1/2) the translations change nothing
    plain = W.TBModel(*w90_models.hr_to_H_R(R, deg, H), ["a", "b"], np.array([0, 1]), np.array([0, 0]),
                      np.zeros((2, 3)), CELL)
    for kk in (0.0, 0.5):
        assert np.allclose(model.hk([kk, 0, 0]), plain.hk([kk, 0, 0]))


def test_fold_z_keeps_the_kz0_hamiltonian():
    R = np.array([[0, 0, -1], [0, 0, 0], [0, 0, 1]])
    H = np.array([[[0.2]], [[1.0]], [[0.2]]], complex)
    Rf, Hf = w90_models.hr_to_H_R(R, np.ones(3, int), H, fold_z=True)
    assert Rf.tolist() == [[0, 0, 0]] and Hf[0, 0, 0] == pytest.approx(1.4)


def test_orbital_order_maps():
    assert w90_files.gpaw_index_of_w90(2) == [2, 3, 1, 4, 0]    # dz2, dxz, dyz, dx2-y2, dxy in GPAW's order
    assert w90_files.gpaw_index_of_w90(1) == [1, 2, 0]          # pz, px, py
    perm = w90_files.w90_to_ours(SYMBOLS, WANTED)
    w90_names = [n for a, l, n in w90_files.w90_orbitals(SYMBOLS, WANTED)]
    ours_names = [n for a, l, n in w90_files.ours_orbitals(SYMBOLS, WANTED)]
    assert [w90_names[i] for i in perm] == ours_names
    assert sorted(perm.tolist()) == list(range(22))


def test_projection_columns_of_gpaw_setups():
    proj_l = {"W": [(0, 5), (0, 6), (1, 5), (1, 6), (2, 5), (2, -1)],
              "Te": [(0, 5), (1, 5), (0, -1), (1, -1), (2, -1)]}
    cols = w90_files.gpaw_projector_columns(SYMBOLS, WANTED, proj_l)
    assert cols[0] == [10, 11, 9, 12, 8]                  # 5d block starts after 5s, 6s, 5p, 6p
    assert cols[2] == [2, 3, 1]
    with pytest.raises(ValueError, match="contiguous"):
        w90_files.gpaw_projector_columns(["W", "Te", "W"], WANTED, proj_l)


def random_model(seed=1, shift=0.0):
    """A 22-orbital W-5d + Te-5p model in helpers.models.wannier's order: Te p near -5 eV, W d near
    +1 eV, weak d-p mixing and d-d hopping along x."""
    rng = np.random.default_rng(seed)
    orbs = w90_files.ours_orbitals(SYMBOLS, WANTED)
    n = len(orbs)
    atom_of = np.array([a for a, l, _ in orbs])
    l_of = np.array([l for a, l, _ in orbs])
    H0 = 0.1 * rng.normal(size=(n, n))
    H0 = H0 + H0.T + np.diag(np.where(l_of == 2, 1.0, -5.0) + 0.3 * rng.normal(size=n))
    T = 0.05 * rng.normal(size=(n, n))
    R = np.array([[-1, 0, 0], [0, 0, 0], [1, 0, 0]])
    H_R = np.array([T.T, H0 + shift * np.eye(n), T]).astype(complex)
    labels = [f"{SYMBOLS[a]}{a}:{nm}" for a, l, nm in orbs]
    return W.TBModel(R, H_R, labels, atom_of, l_of, POS.copy(), CELL.copy(), {"kgrid": [4, 2, 1]})


def test_model_written_in_wannier90_order_reads_back():
    ours = random_model()
    perm = w90_files.w90_to_ours(SYMBOLS, WANTED)
    inv = np.argsort(perm)                                 # our index of each Wannier90 orbital
    H_w90 = ours.H_R[:, inv][:, :, inv]
    text = w90_files.write_hr(ours.R, np.ones(len(ours.R), int), H_w90)
    back = w90_models.model_from_hr(text, symbols=SYMBOLS, positions=POS, cell=CELL, fermi_level_eV=0.25,
                                    wanted=WANTED)
    assert back.labels == ours.labels
    assert np.allclose(back.onsite(), ours.onsite() - 0.25 * np.eye(22), atol=1e-6)
    assert np.allclose(back.hopping([1, 0, 0], 0, 7), ours.hopping([1, 0, 0], 0, 7), atol=1e-6)
    # a crystal field on dz2 alone, written in Wannier90's order, lands on our dz2
    H = np.zeros((1, 22, 22), complex)
    H[0, 0, 0] = 1.0                                       # Wannier90's first orbital: W0 dz2
    m = w90_models.model_from_hr((np.zeros((1, 3), int), np.ones(1, int), H), symbols=SYMBOLS, positions=POS,
                                 cell=CELL, fermi_level_eV=0.0, wanted=WANTED)
    assert m.labels[int(np.argmax(np.abs(np.diag(m.onsite()))))] == "W0:dz2"


def test_compare_identical_and_shifted_models():
    ours = random_model()
    ours.info["centres_A"] = POS[ours.atom_of].tolist()
    rows = w90_compare.compare(ours, random_model(), grid=(4, 2, 1), e_low=-2.5, width=0.1)
    assert max(abs(r["difference"]) for r in rows) < 1e-10
    shifted = random_model(shift=0.05)
    c = POS[shifted.atom_of].copy()
    c[:, 2] += 0.02
    shifted.info["centres_A"] = c.tolist()
    rows = {r["quantity"]: r for r in w90_compare.compare(ours, shifted, grid=(4, 2, 1), e_low=-2.5, width=0.1)}
    levels = [r for q, r in rows.items() if "level" in q]
    assert len(levels) == 20 and all(r["difference"] == pytest.approx(0.05, abs=1e-6) for r in levels)
    assert all(abs(r["difference"]) < 1e-6 for q, r in rows.items() if "splitting" in q or "||T" in q)
    assert any("||T_dd|| W0-W0 d=3.490" in q for q in rows)
    assert rows["W1 d-shell mean z offset"]["difference"] == pytest.approx(0.02)


def test_mlwf_functions_are_given_to_atoms_by_their_centres():
    ours = random_model()
    perm = w90_files.w90_to_ours(SYMBOLS, WANTED)
    inv = np.argsort(perm)
    centres = POS[ours.atom_of][inv] + 0.05
    centres[3] += CELL[0]                                  # one function a lattice vector away:
    L = np.zeros((22, 3), int)                             # its H(R) in that gauge
    L[3, 0] = 1
    R_d, H_d = w90_models._rehome(ours.R, ours.H_R[:, inv][:, :, inv], -L)
    H_w90 = ours.H_R[:, inv][:, :, inv]
    m = w90_models.model_from_hr((R_d, np.ones(len(R_d), int), H_d), symbols=SYMBOLS, positions=POS, cell=CELL,
                                 fermi_level_eV=0.0, wanted=WANTED, centres=centres, atomic=False)
    assert m.info["moved_by_lattice_vectors"] == 1
    assert [int((m.atom_of == a).sum()) for a in range(6)] == [5, 5, 3, 3, 3, 3]
    k = np.array([[0.1, 0.2, 0.0], [0.37, 0.0, 0.0]])
    assert np.allclose(m.bands(k), ours.bands(k), atol=1e-9)  # moving a function is a gauge change
    assert np.allclose(w90_compare.shell_levels(m), w90_compare.shell_levels(ours), atol=1e-9)
    bad = centres.copy()
    bad[:5] = POS[2]                                       # five functions on one Te
    with pytest.raises(ValueError, match="2l\\+1"):
        w90_models.model_from_hr((ours.R, np.ones(3, int), H_w90), symbols=SYMBOLS, positions=POS, cell=CELL,
                                 fermi_level_eV=0.0, wanted=WANTED, centres=bad, atomic=False)


def neighbours(grid):
    """Nearest neighbours (+-x, +-y, +-z) of every k of a Gamma-centred grid: kb, G, k points."""
    k = W.kgrid_points(grid)
    index = {tuple(np.round(p * grid).astype(int) % grid): i for i, p in enumerate(k)}
    kb, G = [], []
    for p in k:
        row, gs = [], []
        for d in ([1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]):
            q = np.round(p * grid).astype(int) + d
            row.append(index[tuple(q % grid)])
            gs.append(q // grid)
        kb.append(row)
        G.append(gs)
    return np.array(kb), np.array(G), k


def test_b_weights_of_an_orthorhombic_mesh():
    b = np.array([[1, 0, 0], [-1, 0, 0], [0, 2, 0], [0, -2, 0], [0, 0, 3], [0, 0, -3]], float)
    assert np.allclose(w90_files.b_weights(b), [0.5, 0.5, 1 / 8, 1 / 8, 1 / 18, 1 / 18])
    with pytest.raises(ValueError):
        w90_files.b_weights(b[:4])                               # no b along z: incomplete


def test_mv_centre_of_a_localized_function_and_the_branch_near_pi():
    """A function at r0 has M(k, b) = exp(-i b.r0). A layer in the middle of the cell (z0 near
    c/2) sits at a phase near pi along z: without a guide its centre comes out on the other side,
    z0 - c; with a guide near z0 it is z0."""
    grid = (4, 2, 1)
    kb, G, k = neighbours(grid)
    recip = 2 * np.pi * np.linalg.inv(CELL).T
    b = (k[kb] + G - k[:, None, :]) @ recip

    def centre(r0, guide=None):
        M = np.exp(-1j * b @ r0)[:, :, None, None]
        return w90_files.mv_centres(M, kb, G, k, recip, np.ones((len(k), 1, 1)), guide)[0]

    r0 = np.array([0.3, -0.8, 0.4])
    assert np.allclose(centre(r0), r0)
    mid = np.array([0.3, -0.8, 0.5 * CELL[2, 2] + 0.2])
    assert centre(mid)[2] == pytest.approx(mid[2] - CELL[2, 2])
    assert np.allclose(centre(mid, guide=[[0, 0, 0.5 * CELL[2, 2]]]), mid)


def test_read_mmn_and_umat_conventions():
    mmn = "header\n    2    1    1\n  1  1  0  0  0\n" + "\n".join(
        f"{v:.3f} 0.0" for v in (11, 21, 12, 22)) + "\n"
    M, kb, G = w90_files.read_mmn(mmn)
    assert M[0, 0, 1, 0] == 21 and M[0, 0, 0, 1] == 12 and kb.tolist() == [[0]]   # m runs fastest
    umat = "header\n 1 2 3\n\n 0.0 0.0 0.0\n" + "\n".join(f"{v} 0.0" for v in (11, 21, 31, 12, 22, 32)) + "\n"
    U = w90_files.read_umat(umat)
    assert U.shape == (1, 3, 2) and U[0, 2, 0] == 31 and U[0, 0, 1] == 12


WOUT = """
 Final State
  WF centre and spread    1  (  0.006533,  5.769866, 18.680474 )     2.75620718
  WF centre and spread    2  (  1.749201,  3.704422,  0.019738 )     3.00000000
  Sum of centres and spreads (  1.755734,  9.474288, 18.700212 )     5.75620718

         Spreads (Ang^2)       Omega I      =     4.000000000
        ================       Omega D      =     0.718178908
                               Omega OD     =     1.038029272
    Final Spread (Ang^2)       Omega Total  =     5.756208180
"""


def test_read_wout_final_state():
    w = w90_files.read_wout(WOUT)
    assert w["centres_A"].shape == (2, 3) and w["centres_A"][1, 2] == pytest.approx(0.019738)
    assert w["spreads_A2"].tolist() == [2.75620718, 3.0]
    assert w["Omega_Total"] == pytest.approx(5.75620818, abs=1e-5) and w["Omega_I"] == 4.0


def test_win_is_read_by_gpaws_writer(tmp_path):
    from gpaw.wannier.wannier90 import get_bands
    k = W.kgrid_points((2, 1, 1))
    text = w90_files.win_text(CELL, SYMBOLS, POS @ np.linalg.inv(CELL), k, (2, 1, 1), WANTED, num_bands=30,
                              exclude=12, froz_max_eV=1.0, num_iter=0, dis_num_iter=100)
    (tmp_path / "x.win").write_text(text)
    assert list(get_bands(str(tmp_path / "x"))) == list(range(12, 42))
    assert "num_wann = 22" in text and "W: d" in text and "Te: p" in text
    with pytest.raises(ValueError, match="num_bands"):
        w90_files.win_text(CELL, SYMBOLS, POS, k, (2, 1, 1), WANTED, 20, 12, 1.0, 0, 100)


def test_layer_at_origin_and_bad_input():
    from helpers.dft import jobs as dft_jobs
    from helpers.dft import process as dft_process
    from helpers.store import params
    at = Atoms(SYMBOLS, positions=POS + [0, 0, 9.3], cell=CELL, pbc=[True, True, False])
    moved = dft_jobs.layer_at_origin(at)
    z = moved.positions[:, 2]
    assert z.min() == pytest.approx(-z.max()) and moved.pbc.all()
    s = params.settings("smoke")
    for kw in ({"num_bands": 20}, {"froz_max_eV": 0.0}, {"projections": {"W": 3}},
               {"exclude_bands": 40, "num_bands": 30}, {"projections": {"Mo": 2}}):
        with pytest.raises(ValueError):
            dft_jobs.wannier90(at, s, "test", **kw)


@pytest.fixture(scope="module")
def paper_result():
    """The committed paper-profile Wannier90 result of the relaxed d2 layer (skip if absent)."""
    from helpers.dft import layers as dft_layers
    from helpers.store import cache
    from helpers.dft import jobs as dft_jobs
    from helpers.dft import process as dft_process
    from helpers.store import params
    settings = params.settings("paper")
    try:
        lattice = dft_layers.relax_layer("WTe2", "d2", settings)
        at = dft_process.atoms_from(lattice["distorted"]["final"])
        return dft_jobs.wannier90(at, settings, "WTe2-relaxed-d2"), dft_jobs.lcao(at, settings, "WTe2-relaxed-d2", basis="dzp")
    except cache.CacheMiss:
        pytest.skip("paper-profile Wannier90 entry not in the cache")


def test_paper_entry_is_consistent(paper_result):
    result, lcao = paper_result
    ms = w90_models.models(result)
    proj, ours, mlwf = ms["proj"], ms["ours"], ms["mlwf"]
    # our recipe on the job's Bloch states (periodic z, layer moved) gives the compendium's model
    from helpers.models import pd as pd_models
    assert np.allclose(w90_compare.shell_levels(ours), w90_compare.shell_levels(pd_models.pd_model(lcao)), atol=1e-3)
    for tag in ("proj", "mlwf"):                             # our centre formula reproduces Wannier90's
        assert result[tag]["mv_centres_check_max_A"] < 1e-3
    assert sum(result["mlwf"]["spreads_A2"]) < sum(result["proj"]["spreads_A2"])   # localization lowers Omega
    # inside the frozen window both constructions reproduce the DFT bands on the k grid
    k = W.kgrid_points(result["inputs"]["kpts"])
    top = result["inputs"]["froz_max_eV"] - 0.3
    for model in (proj, mlwf):
        e, e0 = model.bands(k), ours.bands(k)
        assert np.abs(np.where(e0 < top, e - e0, 0)).max() < 2e-3
        assert W.hermiticity_error(model) < 1e-5
    # the layer has inversion symmetry (to the relaxation's tolerance, and the localization's
    # convergence): the two W carry the same levels, opposite z offsets
    for model in (proj, mlwf, ours):
        a, b = w90_compare.shell_levels(model)
        assert np.allclose(a, b, atol=5e-3)
        za, zb = w90_compare.z_offsets(model)
        assert np.mean(za) == pytest.approx(-np.mean(zb), abs=2e-3)
