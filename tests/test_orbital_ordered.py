"""Orbital-ordered states annealed from large U (helpers.rungs.afo.ordered) on synthetic two-W models:
integer starts, the virtual-hopping answer of a two-site model (AFO with intra-orbital hopping, FO
with inter-orbital hopping), an exact limit, the inversion symmetry of the switching partners, the
cache key, and bad input."""
import numpy as np
import pytest

from helpers.models import wannier as W
from helpers.rungs.afo.ordered import findings as ordered_findings
from helpers.rungs.afo.ordered import patterns as ordered_patterns
from helpers.rungs.afo.ordered import rows as ordered_rows

D = ("dxy", "dyz", "dz2", "dxz", "dx2-y2")
XY, YZ, Z2, XZ, X2 = range(5)
CELL = np.diag([3.5, 6.3, 20.0])


def two_w_model(blocks: dict) -> W.TBModel:
    """Two W atoms with five d orbitals each (10 orbitals); blocks {R: 10x10 H(R)} in eV."""
    R = sorted(blocks)
    pos = np.array([[0.0, 0.0, 10.0], [1.75, 2.3, 10.2]])
    return W.TBModel(np.array(R), np.array([blocks[r] for r in R], complex),
                     [f"W{a}:{d}" for a in (0, 1) for d in D], np.repeat([0, 1], 5), np.full(10, 2), pos, CELL, {})


def models_of(model: W.TBModel, orbitals) -> dict:
    shells = [np.arange(5), np.arange(5, 10)]
    return {"effective": (model, shells, 4.0), "pd": (model, shells, 4.0), "local": [orbitals, orbitals]}


# the dimer: a = xy lowest, b = xz and c = yz degenerate (related by the mirror x <-> y, which the
# Slater interaction respects), eg-like z2, x2-y2 far above; orbitals a, b, c, d, e as columns
DIMER_ORBITALS = np.eye(5)[:, [XY, XZ, YZ, Z2, X2]]
LEVELS = np.diag([0.0, 0.1, 3.0, 0.1, 3.0])          # in the d order xy, yz, z2, xz, x2-y2


def dimer(t_intra: float, t_inter: float) -> dict:
    """Two W (a molecule: only R = 0) with hopping t_intra between like orbitals b-b, c-c (and a-a)
    and t_inter between b and c of the two W (eV)."""
    T = np.zeros((5, 5))
    T[XY, XY] = T[XZ, XZ] = T[YZ, YZ] = t_intra
    T[XZ, YZ] = T[YZ, XZ] = t_inter
    H = np.zeros((10, 10))
    H[:5, :5] = H[5:, 5:] = LEVELS
    H[:5, 5:], H[5:, :5] = T, T.T
    return models_of(two_w_model({(0, 0, 0): H}), DIMER_ORBITALS)


def inversion_chain(seed: int = 5) -> tuple:
    """A chain (cell vector a) of two W per cell related by inversion (d orbitals are even: W1 in
    cell R maps to W2 in cell -R): random on-site levels in random local orbitals, random hoppings,
    symmetrized under inversion and Hermiticity. Returns (models, orbitals)."""
    rng = np.random.default_rng(seed)
    B = np.linalg.qr(rng.normal(size=(5, 5)))[0]
    onsite = B @ np.diag([0.0, 0.15, 0.3, 2.5, 2.8]) @ B.T
    Rs = [(-1, 0, 0), (0, 0, 0), (1, 0, 0)]
    H = {r: np.zeros((10, 10)) for r in Rs}
    for r in Rs:
        H[r][:5, 5:] = 0.15 * rng.normal(size=(5, 5))           # W1 -> W2 in cell r
        H[r][:5, :5] = 0.1 * rng.normal(size=(5, 5)) * (r != (0, 0, 0))
    H[(0, 0, 0)][:5, :5] = onsite
    P = np.zeros((10, 10))
    P[:5, 5:] = P[5:, :5] = np.eye(5)
    neg = {r: tuple(-x for x in r) for r in Rs}
    H = {r: 0.5 * (H[r] + P @ H[neg[r]] @ P) for r in Rs}            # inversion
    H = {r: 0.5 * (H[r] + H[neg[r]].T) for r in Rs}                  # Hermiticity
    return models_of(two_w_model(H), B), B


def run(models, U_grid=(10.0, 8.0, 6.0), grid=(1, 1, 1), patterns=ordered_patterns.PATTERNS, cell=(1, 1, 1), **kw):
    starts = ordered_patterns.pattern_starts(models, patterns=patterns, cell=cell)
    res = ordered_patterns.anneal_patterns("test", "smoke", models, "effective", starts, U_grid, grid, 0.05, cell=cell, **kw)
    return res, ordered_rows.pattern_rows(res, 2 * int(np.prod(cell)))


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPENDIUM_CACHE", str(tmp_path))
    monkeypatch.setenv("COMPENDIUM_REQUIRE_CACHE", "0")
    return tmp_path


def F(rows, branch, U):
    return next(r["F (eV/cell)"] for r in rows if r["branch"] == branch and r["U (eV)"] == U)


def test_starts_are_d2_projectors_on_the_requested_orbital_in_every_cell():
    models, B = inversion_chain()
    for cell in ((1, 1, 1), (2, 1, 1), (1, 2, 1)):
        starts = ordered_patterns.pattern_starts(models, patterns=ordered_patterns.cell_patterns(cell), cell=cell)
        for name, sites in starts.items():
            want = ordered_patterns.pattern_orbitals(name, 2, int(np.prod(cell)))
            assert len(sites) == 2 * int(np.prod(cell))
            for (nu, nd), m in zip(sites, want):
                for n in (nu, nd):
                    assert np.trace(n).real == pytest.approx(1.0)                # 2 electrons per W, spin 0
                    assert np.allclose(n @ n, n, atol=1e-10)                      # integer: a projector
                    assert B[:, m] @ n @ B[:, m] == pytest.approx(1.0)            # onto the requested orbital
    s = ordered_patterns.pattern_starts(models, patterns=["b2b2|c2c2"], cell=(2, 1, 1))["b2b2|c2c2"]
    occ = [[B[:, m] @ nu @ B[:, m] for m in range(3)] for nu, _ in s]
    assert [int(np.argmax(o)) for o in occ] == [1, 1, 2, 2]                       # W1 b, W2 b, W1' c, W2' c
    # p-d starts: the requested orbital doubly occupied on top of the eg-like background
    pd = ordered_patterns.pattern_starts(models, basis="pd", grid=(8, 1, 1))
    bg = (pd["a2a2"][0][0] - ordered_patterns.pattern_starts(models)["a2a2"][0][0])
    assert np.trace(bg).real > 1e-3                                              # eg-like orbitals filled a little
    assert np.allclose(B[:, :3].T @ bg @ B[:, :3], 0, atol=1e-10)                # ... and nothing else


def test_two_site_model_virtual_hopping_picks_afo_or_fo(tmp_cache):
    """Degenerate b, c: with intra-orbital hopping only, AFO (b2c2) gains kinetic energy that FO
    (b2b2) cannot (Pauli-blocked): AFO lowest, and FO's energy equals that of the model without
    hopping between b, c (an exact mean-field limit). With inter-orbital hopping only, FO is lowest.
    Switching partners and the two FO states are degenerate by symmetry."""
    _, intra = run(dimer(-0.3, 0.0))
    _, inter = run(dimer(0.0, -0.3))
    _, none = run(dimer(0.0, 0.0))
    for rows in (intra, inter, none):
        assert all(r["survives"] for r in rows if r["branch"] == r["pattern"])
    for U in (10.0, 6.0):
        assert F(intra, "b2c2", U) < F(intra, "b2b2", U) - 0.01
        assert F(inter, "b2b2", U) < F(inter, "b2c2", U) - 0.01
        assert F(intra, "b2b2", U) == pytest.approx(F(none, "b2b2", U), abs=1e-6)
        assert F(inter, "b2c2", U) == pytest.approx(F(none, "b2c2", U), abs=1e-6)
        for rows in (intra, inter):
            assert F(rows, "b2c2", U) == pytest.approx(F(rows, "c2b2", U), abs=1e-6)
            assert F(rows, "b2b2", U) == pytest.approx(F(rows, "c2c2", U), abs=1e-6)
    # second order: the AFO gain of the intra-orbital model shrinks with U (about t^2 / U)
    gain = {U: F(intra, "b2b2", U) - F(intra, "b2c2", U) for U in (10.0, 6.0)}
    assert gain[6.0] > gain[10.0] > 0
    c_intra, c_inter = ordered_rows.paper_comparison(intra, 6.0), ordered_rows.paper_comparison(inter, 6.0)
    assert c_intra["(ii) AFO below FO"] is True and c_inter["(ii) AFO below FO"] is False
    assert c_intra["E(AFO) − E(FO) (meV/f.u.)"] < -5 and c_inter["E(AFO) − E(FO) (meV/f.u.)"] > 5
    assert c_intra["lowest surviving pattern"] == "a2a2"        # a is lowest and hops intra-orbitally too


def test_plot_fills_exactly_the_surviving_points(tmp_cache):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    _, rows = run(dimer(-0.3, 0.0), (10.0, 6.0))
    rows[2] = {**rows[2], "survives": False}                    # one point marked as not surviving
    fig, ax = plt.subplots()
    ordered_findings.plot_patterns(ax, rows)
    filled = sum(len(c.get_offsets()) for c in ax.collections if c.get_facecolors().size and c.get_facecolors()[0][3] > 0)
    assert filled == sum(r["survives"] for r in rows if r["branch"] == r["pattern"]) == len(rows) - 1
    plt.close(fig)


def test_inversion_symmetry_switching_partners_are_degenerate(tmp_cache):
    """Symmetry check: in a periodic model with inversion exchanging the two W, the AFO state b2c2 and
    its switching partner c2b2 (the paper's +P and -P) have equal free energies at every U, in the
    primitive cell and repeated in the 2x1 supercell (whose W order the code must get right); the
    supercell of a primitive pattern has twice its energy."""
    models, _ = inversion_chain()
    U = (8.0, 7.0, 6.0)
    _, prim = run(models, U, (6, 1, 1))
    _, sup = run(models, U, (3, 1, 1), patterns=("b2c2", "c2b2"), cell=(2, 1, 1))
    for u in U:
        assert F(prim, "b2c2", u) == pytest.approx(F(prim, "c2b2", u), abs=1e-6)
        assert F(sup, "b2c2", u) == pytest.approx(F(sup, "c2b2", u), abs=1e-6)
        assert F(sup, "b2c2", u) == pytest.approx(2 * F(prim, "b2c2", u), abs=1e-5)
    c = ordered_rows.paper_comparison(prim, 6.0)
    assert abs(c["E(b2c2) − E(c2b2) (meV/f.u.)"]) < 1e-3


def test_cache_key_holds_the_orbitals(tmp_cache):
    """Orbitals a, b, c are part of the key even where the starts do not see them (columns d, e)."""
    models = dimer(-0.3, 0.0)
    swapped = DIMER_ORBITALS[:, [0, 1, 2, 4, 3]]
    starts = ordered_patterns.pattern_starts(models, patterns=["b2b2"])
    r1 = ordered_patterns.anneal_patterns("test", "smoke", models, "effective", starts, [8.0, 6.0], (1, 1, 1), 0.05)
    r2 = ordered_patterns.anneal_patterns("test", "smoke", models, "effective", starts, [8.0, 6.0], (1, 1, 1), 0.05,
                                          orbitals_per_site=[swapped, swapped])
    assert r1["key"] != r2["key"]
    assert r1["branches"]["b2b2"]["steps"][-1]["F"] == pytest.approx(r2["branches"]["b2b2"]["steps"][-1]["F"])


def test_bad_input_names_the_parameter(tmp_cache):
    models = dimer(-0.3, 0.0)
    with pytest.raises(ValueError, match="patterns"):
        ordered_patterns.pattern_starts(models, patterns=["x2a2"])
    with pytest.raises(ValueError, match="patterns"):
        ordered_patterns.pattern_starts(models, patterns=["b2b2|c2c2"])                  # two sub-cells in a primitive cell
    with pytest.raises(ValueError, match="cell"):
        ordered_patterns.pattern_starts(models, cell=(0, 1, 1))
    with pytest.raises(ValueError, match="orbitals_per_site"):
        ordered_patterns.pattern_starts(models, orbitals_per_site=[np.ones((5, 5))] * 2)
    with pytest.raises(ValueError, match="basis"):
        ordered_patterns.pattern_starts(models, basis="dft")
    with pytest.raises(ValueError, match="grid"):
        ordered_patterns.pattern_starts(models, basis="pd")
    starts = ordered_patterns.pattern_starts(models)
    with pytest.raises(ValueError, match="starts"):
        ordered_patterns.anneal_patterns("test", "smoke", models, "effective", starts, [8.0, 6.0], (1, 1, 1), cell=(2, 1, 1))
    with pytest.raises(ValueError, match="U_grid"):
        ordered_patterns.anneal_patterns("test", "smoke", models, "effective", starts, [6.0, 8.0], (1, 1, 1))
    with pytest.raises(ValueError, match="width"):
        ordered_patterns.anneal_patterns("test", "smoke", models, "effective", starts, [8.0, 6.0], (1, 1, 1), 0.0)
    with pytest.raises(ValueError, match="interaction"):
        ordered_patterns.anneal_patterns("test", "smoke", models, "effective", starts, [8.0, 6.0], (1, 1, 1), interaction="hub")
    res, rows = run(models, (8.0, 6.0), patterns=("a2a2", "b2c2"))
    with pytest.raises(ValueError, match="n_fu"):
        ordered_rows.pattern_rows(res, 0)
    with pytest.raises(ValueError, match="U"):
        ordered_rows.paper_comparison(rows, 3.0)


# --- states read by natural orbitals ----------------------------------------------------------------

def _synthetic(states: dict, orbitals) -> dict:
    """An anneal_patterns-like result: {branch: {U: (F per cell, [(n_up, n_dn) per W])}} recorded with
    od.occupation_matrices, a, b, c = columns of `orbitals` on both W."""
    from helpers.manybody import uhf
    branches = {}
    for name, by_U in states.items():
        steps = []
        for U, (F_, occ) in by_U.items():
            steps.append({"U": U, "F": F_, "valid": True, "sites": [uhf.site_summary(u, d) for u, d in occ],
                          "observed": {"occupation_matrices": [[u.tolist(), d.tolist()] for u, d in occ]}})
        branches[name] = {"steps": steps, "fate": "survives to U_min"}
    U_grid = sorted({U for b in states.values() for U in b}, reverse=True)
    return {"U_grid": U_grid, "branches": branches,
            "inputs": {"orbitals_per_site": [orbitals.tolist()] * 2, "cell": [1, 1, 1], "basis": "effective"}}


def _filled(*vectors, spin_split=False):
    """(n_up, n_dn) with one electron per spin in each given orbital (vector), or, with spin_split,
    the first vector spin up and the second spin down (an open-shell S_z = 0 pair)."""
    if spin_split:
        return np.outer(vectors[0], vectors[0]), np.outer(vectors[1], vectors[1])
    n = sum(np.outer(v, v) for v in vectors)
    return n, n.copy()


def test_rotated_afo_is_read_by_natural_orbitals_not_by_diagonals():
    """W1 doubly fills b, W2 c, but a, b, c are given rotated by 45 degrees in the b-c plane: the
    diagonals of a, b, c are then equal on both W (1, 1) and would call the state unpolarized; the
    natural orbitals see two doubly occupied, orthogonal orbitals (AFO, overlap 0). Controls: the FO
    state (both W fill b; overlap 1) and an unpolarized one (each spin half in b and c: largest natural
    occupation 1); an open-shell S_z = 0 state (up in b, down in c) is not a doubly occupied orbital."""
    e = np.eye(5)
    a, b, c = e[:, XY], e[:, XZ], e[:, YZ]
    rot = DIMER_ORBITALS.copy()
    rot[:, 1], rot[:, 2] = (b + c) / np.sqrt(2), (b - c) / np.sqrt(2)
    half = 0.5 * (np.outer(b, b) + np.outer(c, c))
    res = _synthetic({"b2c2": {6.0: (-1.0, [_filled(b), _filled(c)])},
                      "b2b2": {6.0: (-0.9, [_filled(b), _filled(b)])},
                      "a2a2": {6.0: (-0.8, [(half, half), (half, half)])},
                      "c2c2": {6.0: (-0.7, [_filled(b, c, spin_split=True), _filled(b, c, spin_split=True)])}}, rot)
    rows = {r["branch"]: r for r in ordered_rows.pattern_rows(res, 2)}
    afo = rows["b2c2"]
    assert afo["W1 n(a, b, c)"] == afo["W2 n(a, b, c)"] == "0.00, 1.00, 1.00"       # diagonals blind
    assert afo["kind"] == "AFO" and afo["W1–W2 overlap"] == pytest.approx(0, abs=1e-12)
    assert afo["W1 largest natural occ."] == pytest.approx(2.0)
    assert afo["W1 fills a, b, c"] == "0.00, 0.50, 0.50" and afo["b, c share"] == pytest.approx(1.0)
    assert rows["b2b2"]["kind"] == "FO" and rows["b2b2"]["W1–W2 overlap"] == pytest.approx(1.0)
    assert rows["a2a2"]["kind"] == "unpolarized" and rows["a2a2"]["W1 largest natural occ."] == pytest.approx(1.0)
    shell = rows["c2c2"]
    assert shell["kind"] == "unpolarized" and shell["W1 m (μB)"] == pytest.approx(0)
    assert shell["W1 largest natural occ."] == pytest.approx(1.0) and shell["W1 up–down overlap"] == pytest.approx(0)
    c = ordered_rows.paper_comparison(list(rows.values()), 6.0, threshold_meV=10.0)
    assert c["lowest state kind"] == "AFO" and c["lowest state b/c polarized"] is True


def test_where_the_model_orders_critical_U_gain_and_dipole():
    """order_by_U / order_summary on a two-U result: at U = 10 eV the AFO state (b on W1, c on W2) is
    lowest, 50 meV per formula unit below the unpolarized one; at 6 eV the unpolarized state is lowest
    and the AFO costs 20 meV/f.u. The critical U is 10 eV. Dipole: W2's z block is the inversion image
    of W1's (-Z); with z_b = 0.3 and z_c = -0.1 Angstrom on W1 the AFO state carries
    -2 (z_b - z_c) = -0.8 e*Angstrom per cell, the FO and unpolarized states none."""
    e = np.eye(5)
    b, c = e[:, XZ], e[:, YZ]
    half = 0.5 * (np.outer(b, b) + np.outer(c, c))
    unp = [(half, half), (half, half)]
    afo = [_filled(b), _filled(c)]
    res = _synthetic({"a2a2": {10.0: (0.0, unp), 6.0: (0.0, unp)},
                      "b2c2": {10.0: (-0.1, afo), 6.0: (0.04, afo)},
                      "b2b2": {10.0: (0.5, [_filled(b), _filled(b)])}}, DIMER_ORBITALS)
    Z1 = np.diag([0.0, 0.0, 0.0, 0.0, 0.0])
    Z1[XZ, XZ], Z1[YZ, YZ] = 0.3, -0.1
    blocks = [Z1, -Z1]
    by_U = ordered_findings.order_by_U(res, 2, blocks)
    hi, lo = by_U
    assert hi["lowest is ordered"] and hi["lowest kind"] == "AFO"
    assert hi["gain F(ordered) − F(unpolarized) (meV/f.u.)"] == pytest.approx(-50.0)
    assert hi["ordered p_z (e·Å/cell)"] == pytest.approx(-0.8)
    assert not lo["lowest is ordered"] and lo["lowest p_z (e·Å/cell)"] == pytest.approx(0.0)
    s = ordered_findings.order_summary(by_U)
    assert s["critical U (eV)"] == 10.0 and s["ordered lowest at U (eV)"] == "10"
    assert s["kind at critical U"] == "AFO" and s["smallest cost where not lowest (meV/f.u.)"] == pytest.approx(20.0)
    fo = ordered_rows.state_dipole(res["branches"]["b2b2"]["steps"][0], blocks)
    assert fo == pytest.approx(0.0)


def test_merged_runs_decide_the_lowest_state_among_every_run():
    """Two runs of one model with different starts: merged, the lowest state at each U is the lower of
    the two runs' states; runs of different interactions refuse to merge."""
    e = np.eye(5)
    b, c = e[:, XZ], e[:, YZ]
    half = 0.5 * (np.outer(b, b) + np.outer(c, c))
    r1 = _synthetic({"a2a2": {6.0: (0.0, [(half, half), (half, half)])}}, DIMER_ORBITALS)
    r2 = _synthetic({"b2c2": {6.0: (-0.1, [_filled(b), _filled(c)])}}, DIMER_ORBITALS)
    for r in (r1, r2):
        r["inputs"].update({"model": "m", "interaction": "slater", "J": 0.5})
    m = ordered_findings.merged_runs({"one": r1, "two": r2})
    assert set(m["branches"]) == {"a2a2 → from one", "b2c2 → from two"}
    (row,) = ordered_findings.order_by_U(m, 2)
    assert row["lowest state"] == "b2c2 → from two" and row["lowest is ordered"]
    assert row["gain F(ordered) − F(unpolarized) (meV/f.u.)"] == pytest.approx(-50.0)
    r2["inputs"]["J"] = 0.8
    with pytest.raises(ValueError, match="results"):
        ordered_findings.merged_runs({"one": r1, "two": r2})


def test_mean_field_afo_ranking_needs_both_ordered_states_like_dftu():
    """'AFO lowest' ranks ordered states: where FO and AFO do not both survive to U, the mean field leaves it
    undecided (as DFT+U does), while an unpolarized lowest state still fails the polarization claim."""
    from helpers.rungs.afo.claims import _mean_field_outcome
    gone = {ordered_rows.CLAIM_I: None, "(ii) AFO below FO": None, "lowest state": "unpolarized",
            "lowest state b/c polarized": False, "lowest state kind": "unpolarized"}
    assert _mean_field_outcome(gone, "(ii) AFO below FO", "AFO lowest (mean field)") is None
    assert _mean_field_outcome(gone, ordered_rows.CLAIM_I, "polarization gain") is False
    polarized = dict(gone, **{"lowest state b/c polarized": True, "lowest state kind": "AFO"})
    assert _mean_field_outcome(polarized, "(ii) AFO below FO", "AFO lowest (mean field)") is None
    assert _mean_field_outcome(polarized, ordered_rows.CLAIM_I, "polarization gain") is None
    ranked = dict(gone, **{"(ii) AFO below FO": False})
    assert _mean_field_outcome(ranked, "(ii) AFO below FO", "AFO lowest (mean field)") is False
