"""Nominal local dipoles: an octahedron with a known shift, the unit against a charged sheet pair (SI),
and the antiferroelectric pattern of experiment."""
import numpy as np
import pytest

from helpers import afe, structures as S
from helpers.dipoles import dipole_density_uC_cm2, local_dipoles
from test_geometry import octahedron


def test_unit_conversion_against_a_charged_sheet_pair():
    # two sheets of +-1 e per area A, a distance d apart: the polarization is the sheet charge
    # density e / A, whatever d is; computed here in SI (C/m^2 -> 100 microC/cm^2) from CODATA
    from scipy.constants import e
    for area_A2, d_A in ((10.0, 1.0), (21.9, 7.009), (3.3, 0.2)):
        sigma_uC_cm2 = e / (area_A2 * 1e-20) * 100          # C/m^2 = 100 microC/cm^2
        assert dipole_density_uC_cm2(1.0 * d_A, area_A2 * d_A) == pytest.approx(sigma_uC_cm2, rel=1e-9)


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
    from helpers import reference
    assert s["MM_short_A"] == pytest.approx(reference.get("W_W_distances_A")["short"], abs=0.003)   # Mar1992
    assert afe.layer_spacing("WTe2") == pytest.approx(14.018 / 2)
    assert 20 < s["dipole_density_uC_cm2"] < 200
