"""Structures: space groups, stoichiometry and published distances of the experimental cell."""
import numpy as np
import pytest
import spglib

from helpers.dft import structures as S
from helpers.dft.geometry import metal_metal_distances, octahedra
from helpers.store import reference


def spacegroup(atoms, symprec):
    return spglib.get_spacegroup((atoms.cell, atoms.get_scaled_positions(), atoms.numbers), symprec=symprec)


def test_bulk_Td_is_Pmn21():
    assert spacegroup(S.experimental_bulk("WTe2"), 1e-3) == "Pmn2_1 (31)"


def test_fictitious_1T_is_P3m1_and_undistorted():
    atoms = S.fictitious_1T("WTe2")
    assert spacegroup(atoms, 1e-4) == "P-3m1 (164)"
    for o in octahedra(atoms):
        assert np.allclose(o.offcentre, 0, atol=1e-8)
        assert np.ptp(o.bond_lengths) < 1e-8


def test_1T_keeps_experimental_area_and_bond():
    exp, t = S.monolayer_1Tprime("WTe2"), S.fictitious_1T("WTe2")
    area = lambda a: abs(np.linalg.det(np.array(a.cell)[:2, :2]))
    assert area(t) == pytest.approx(area(exp), rel=1e-10)
    mean_bond = np.mean([o.bond_lengths for o in octahedra(exp)])
    assert np.mean([o.bond_lengths for o in octahedra(t)]) == pytest.approx(mean_bond, rel=1e-10)


def test_monolayer_1Tprime_is_P21m():
    # the layer of the Td bulk is centrosymmetric only to ~0.01 A (its bulk site symmetry is lower)
    assert spacegroup(S.monolayer_1Tprime("WTe2"), 0.02) == "P2_1/m (11)"


@pytest.mark.parametrize("n", [2, 3])
def test_multilayers_are_polar_Pm(n):
    sg = spacegroup(S.slab("WTe2", n), 0.02)
    assert sg == "Pm (6)"


@pytest.mark.parametrize("n", [1, 2, 3])
def test_slabs_keep_stoichiometry_and_vacuum(n):
    atoms = S.slab("WTe2", n, vacuum=12.0)
    sym = atoms.get_chemical_symbols()
    assert sym.count("W") == 2 * n and sym.count("Te") == 4 * n
    z = atoms.positions[:, 2]
    assert atoms.cell[2, 2] - np.ptp(z) == pytest.approx(12.0, abs=1e-6)
    assert len(S.layer_indices(atoms)) == n


def test_experimental_W_W_distances_match_publication():
    ref = reference.get("W_W_distances_A")
    d = metal_metal_distances(S.experimental_bulk("WTe2"))
    assert d.min() == pytest.approx(ref["short"], abs=0.003)
    assert d.max() == pytest.approx(ref["long"], abs=0.003)


def test_experimental_octahedra_are_sane():
    for o in octahedra(S.experimental_bulk("WTe2")):
        assert 2.65 < o.bond_lengths.min() and o.bond_lengths.max() < 2.85
        assert 0.3 < abs(o.offcentre[1]) < 0.6   # off-centring along y, toward a face


def test_bad_inputs_are_refused():
    with pytest.raises(ValueError, match="material"):
        S.experimental_bulk("NbSe2")
    with pytest.raises(ValueError, match="nlayers"):
        S.slab("WTe2", 0)
    with pytest.raises(ValueError, match="vacuum"):
        S.slab("WTe2", 1, vacuum=-1)
    with pytest.raises(ValueError, match="a_hex"):
        S.fictitious_1T("WTe2", a_hex=3.5, bond=1.0)


# --- the structures of the generalization page (helpers.dft.materials registry) ------------------------

@pytest.mark.parametrize("material, refinement, group", [
    ("ReSe2", None, "P-1 (2)"), ("MoS2", None, "P6_3/mmc (194)"),
    ("WTe2", "Brown 1966 (COD 2310355)", "Pmn2_1 (31)"), ("WTe2", "Mar 1992 (WannierTools file)", "Pmn2_1 (31)")])
def test_registry_files_have_their_published_space_group(material, refinement, group):
    assert spacegroup(S.registry_bulk(material, refinement), 1e-3) == group


def test_registry_files_match_their_published_distances():
    # numbers quoted in the files' headers and in shared/structures/README.md
    re_re = metal_metal_distances(S.registry_bulk("ReSe2"), cutoff=3.1)
    assert re_re.min() == pytest.approx(2.65, abs=0.01) and re_re.max() == pytest.approx(3.08, abs=0.01)
    mos2 = S.registry_bulk("MoS2")
    assert np.mean([o.bond_lengths for o in octahedra(mos2, cutoff=2.6)]) == pytest.approx(2.37, abs=0.01)
    brown = metal_metal_distances(S.registry_bulk("WTe2", "Brown 1966 (COD 2310355)"))
    assert brown.min() == pytest.approx(2.862, abs=0.002) and brown.max() == pytest.approx(4.394, abs=0.002)


def test_refinements_bracket_the_default_file():
    # Table 1 measures of each file, as quoted in shared/structures/README.md (bond, angle)
    from helpers.rungs.afe import structure as afe_structure
    chosen = {"bond": ("sum |d - <d>| (A)",), "angle": ("sum |theta - 90| over 12 cis (deg)",)}
    rows = {r["refinement"]: r for r in afe_structure.refinement_rows(chosen)}
    quoted = {"Mar 1992 (default file)": (0.308, 146.48), "Mar 1992 (WannierTools file)": (0.295, 146.51),
              "Brown 1966 (COD 2310355)": (0.307, 145.90)}
    for label, (bond, angle) in quoted.items():
        assert rows[label]["bond: sum |d - <d>| (A)"] == pytest.approx(bond, abs=0.001)
        assert rows[label]["angle: sum |theta - 90| over 12 cis (deg)"] == pytest.approx(angle, abs=0.01)
    assert rows["spread (max − min)"]["W–W short (Å)"] == pytest.approx(2.862 - 2.849, abs=1e-3)


def test_stacking_axis_is_across_the_van_der_Waals_gap():
    assert S.stacking_axis(S.registry_bulk("ReSe2")) == 0       # the file's axes are permuted (header)
    assert S.stacking_axis(S.registry_bulk("MoS2")) == 2
    assert S.stacking_axis(S.experimental_bulk("WTe2")) == 2


@pytest.mark.parametrize("material, n, group", [("MoS2", 1, "P-6m2 (187)"), ("MoS2", 2, "P-3m1 (164)"),
                                                ("ReSe2", 1, "P-1 (2)"), ("ReSe2", 3, "P-1 (2)")])
def test_cut_layers_keep_stoichiometry_symmetry_and_vacuum(material, n, group):
    bulk = S.registry_bulk(material)
    sl = S.cut_layers(bulk, n, vacuum=12.0)
    per_layer = len(bulk) // (2 if material == "MoS2" else 1)
    assert len(sl) == n * per_layer
    assert sl.get_chemical_symbols().count({"MoS2": "Mo", "ReSe2": "Re"}[material]) * 2 == sl.get_chemical_symbols().count(
        {"MoS2": "S", "ReSe2": "Se"}[material])
    assert sl.cell[2, 2] - np.ptp(sl.positions[:, 2]) == pytest.approx(12.0, abs=1e-6)
    assert spacegroup(sl, 0.02) == group
    assert abs(sl.cell[0, 2]) < 1e-9 and abs(sl.cell[1, 2]) < 1e-9          # layers in the xy plane


def test_prototype_is_the_WTe2_layer_with_the_metal_substituted():
    proto, w = S.prototype_1Tprime("MoTe2"), S.monolayer_1Tprime("WTe2")
    assert proto.get_chemical_symbols().count("Mo") == 2 and "W" not in proto.get_chemical_symbols()
    assert np.allclose(proto.positions, w.positions) and "not an experimental structure" in proto.info["source"]
    with pytest.raises(ValueError, match="mapping"):
        S.substituted(w, {"Nb": "Ta"})
    with pytest.raises(ValueError, match="material"):
        S.registry_bulk("NbSe2")
    with pytest.raises(ValueError, match="no experimental structure"):
        S.registry_bulk("MoTe2")
    with pytest.raises(ValueError, match="refinement"):
        S.registry_bulk("WTe2", "Tao 2020")
