"""Orbital identity: site symmetry, local frames and the readings of a, b, c (helpers.models.identity)."""
import numpy as np
import pytest
from ase.build import mx2

from helpers.models import identity as idt
from helpers.models.dshell import real_d_harmonics


def one_t(a=3.5, thickness=3.6):
    at = mx2("WTe2", kind="1T", a=a, thickness=thickness, vacuum=8.0)
    return at


def two_h():
    return mx2("MoS2", kind="2H", a=3.16, thickness=3.17, vacuum=8.0)


def test_site_symmetry_of_1T_is_D3d_with_its_degeneracies_and_no_dipole():
    s = idt.site_symmetry(one_t(), 0)
    assert s["order"] == 12 and s["inversion"]
    assert sorted(s["d degeneracies forced"]) == [1, 2, 2]
    assert s["dipole allowed along"] == []


def test_2H_has_no_inversion_yet_forbids_every_dipole():
    # D3h: no inversion at the metal, but sigma_h kills p_z and C3 kills p_x, p_y. The two tests
    # (inversion, allowed dipole) are independent: this structure tells them apart.
    s = idt.site_symmetry(two_h(), 0)
    assert not s["inversion"] and s["order"] == 12
    assert s["dipole allowed along"] == []
    assert sorted(s["d degeneracies forced"]) == [1, 2, 2]


def test_a_displaced_metal_loses_inversion_and_gains_a_dipole_axis():
    at = one_t()
    at.positions[0, 2] += 0.1            # push W along the three-fold axis: C3v
    s = idt.site_symmetry(at, 0)
    assert not s["inversion"]
    assert s["dipole allowed along"] == ["z"]
    assert sorted(s["d degeneracies forced"]) == [1, 2, 2]


def test_octahedral_frame_points_at_the_ligands():
    at = one_t()
    R = idt.octahedral_frame(at, 0)
    assert np.allclose(R.T @ R, np.eye(3), atol=1e-10) and np.linalg.det(R) > 0
    u = idt.ligand_vectors(at, 0)
    u /= np.linalg.norm(u, axis=1)[:, None]
    # every ligand lies along +-one frame axis (ideal octahedron: 1T with c/a chosen cubic)
    cos = np.abs(u @ R).max(axis=1)
    assert cos.min() > 0.9


def test_frame_orbitals_are_the_rotated_harmonics():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.linalg.det(q))
    V = idt.frame_orbitals(q)
    r = rng.normal(size=(7, 3))
    r /= np.linalg.norm(r, axis=1)[:, None]
    # phi'_m(r) = Y_m(q^T r) = sum_n Y_n(r) V[n, m]
    assert np.allclose(real_d_harmonics(r @ q), real_d_harmonics(r) @ V, atol=1e-10)


def test_trigonal_a1g_is_z2_along_the_layer_normal_in_1T():
    at = one_t()
    T, names = idt.trigonal_orbitals(idt.octahedral_frame(at, 0), idt.site_operations(at, 0))
    assert names[0] == "a1g"
    assert abs(T[2, 0]) > 0.99               # cell-frame z2 component


def test_follow_keeps_labels_through_a_crossing_of_different_parity():
    # mirror x -> -x: xy and xz odd, yz, z2, x2-y2 even. An odd level crosses an even one.
    ops = [np.eye(3), np.diag([-1.0, 1.0, 1.0])]
    blocks = []
    for lam in np.linspace(0, 1, 5):
        h = np.diag([0.0, 0.5, 1.0, 2.0, 3.0])
        h[0, 0] = 2.0 * lam                    # xy (odd) rises through yz (0.5) and z2 (1.0)
        h[1, 2] = h[2, 1] = 0.05               # even-even mixing, an avoided crossing is not crossed
        blocks.append(h)
    steps = idt.follow(blocks, ops)
    first = steps[0]["vectors"][:, 0]          # the lowest at lam = 0 is xy
    last = steps[-1]["vectors"][:, 0]
    assert abs(first[0]) > 0.99 and abs(last[0]) > 0.99
    assert steps[-1]["energies"][0] == pytest.approx(2.0, abs=1e-9)
    assert min(s["min_overlap"] for s in steps) > 0.99


def test_readings_on_a_trigonal_field():
    at = one_t()
    ops = idt.site_operations(at, 0)
    T, names = idt.trigonal_orbitals(idt.octahedral_frame(at, 0), ops)
    e = np.array([0.1, 0.3, 0.3, 2.0, 2.0])              # a1g below the e_pi pair
    h5 = T @ np.diag(e) @ T.T
    for name in idt.READINGS:
        x = idt.reading(h5, at, 0, name)
        assert x["degenerate"], name
        assert x["forced by symmetry"], name            # D3d forces it: a check, not evidence
    x = idt.reading(h5, at, 0, "continuity from 1T")
    assert np.allclose(x["energies_eV"], [0.1, 0.3, 0.3])


def test_a_field_that_splits_the_pair_is_read_as_split_and_not_forced():
    at = one_t()
    at.positions[0, 1] += 0.15               # W off-centre in the plane: only a mirror survives
    ops = idt.site_operations(at, 0)
    assert len(ops) == 2
    rng = np.random.default_rng(3)
    h5 = idt.generic_field(ops, seed=5)
    x = idt.reading(h5, at, 0, "energy order")
    assert not x["forced by symmetry"]
    assert x["bc_splitting_eV"] > idt.DEGENERACY_TOL or not x["degenerate"]


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="reading="):
        idt.reading(np.eye(5), one_t(), 0, "by vibes")
    with pytest.raises(ValueError, match="index="):
        idt.site_operations(one_t(), 7)
    with pytest.raises(ValueError, match="lam="):
        idt.interpolate(one_t(), one_t(), 1.5)
