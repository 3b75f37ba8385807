"""Nominal local dipoles: toy values, units, and the antiferroelectric pattern of experiment."""
import numpy as np
import pytest

from helpers import afe, structures as S
from helpers.dipoles import E_PER_A2_IN_UC_PER_CM2, dipole_density_uC_cm2, local_dipoles
from test_geometry import octahedron


def test_unit_conversion():
    # 1 e per Angstrom^2 = 1.602e-19 C / 1e-16 cm^2 = 1602 microC/cm^2
    assert E_PER_A2_IN_UC_PER_CM2 == pytest.approx(1602.176634)
    assert dipole_density_uC_cm2(2.0, 4.0) == pytest.approx(0.5 * 1602.176634)


def test_dipole_is_valence_times_offcentring():
    p = local_dipoles(octahedron(shift=(0.1, -0.2, 0.05)), valence=4)
    assert np.allclose(p, [[0.4, -0.8, 0.2]])


def test_experimental_layer_is_antiferroelectric():
    layer = S.monolayer_1Tprime("WTe2")
    p = local_dipoles(layer)
    assert len(p) == 2
    assert np.all(np.linalg.norm(p, axis=1) > 1.0)            # large local dipoles (e A)
    assert np.sign(p[0, 1]) == -np.sign(p[1, 1])              # antiparallel along y
    assert abs(p[:, 1].sum()) < 0.05 * np.abs(p[:, 1]).sum()   # compensated


def test_structure_summary_of_experiment():
    s = afe.structure_summary(S.monolayer_1Tprime("WTe2"), 4.0, afe.layer_spacing("WTe2"))
    assert s["MM_short_A"] == pytest.approx(2.849, abs=0.003)
    assert afe.layer_spacing("WTe2") == pytest.approx(14.018 / 2)
    assert 20 < s["dipole_density_uC_cm2"] < 200
