"""Structures: space groups, stoichiometry and published distances of the experimental cell."""
import numpy as np
import pytest
import spglib

from helpers import reference, structures as S
from helpers.geometry import metal_metal_distances, octahedra


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
