"""Nominal local dipoles: an octahedron with a known shift, the unit against a charged sheet pair (SI),
and the antiferroelectric pattern of experiment."""
import numpy as np
import pytest

from helpers.dft import layers as dft_layers
from helpers.dft import structures as S
from helpers.dft.dipoles import dipole_density_uC_cm2, local_dipoles
from helpers.rungs.afe import structure as afe_structure
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
    s = afe_structure.structure_summary(S.monolayer_1Tprime("WTe2"), 4.0, dft_layers.layer_spacing("WTe2"))
    from helpers.store import reference
    assert s["MM_short_A"] == pytest.approx(reference.get("W_W_distances_A")["short"], abs=0.003)   # Mar1992
    assert dft_layers.layer_spacing("WTe2") == pytest.approx(14.018 / 2)
    assert 20 < s["dipole_density_uC_cm2"] < 200


# ---- orbital dipoles under both definitions (effective orbitals; W-5d functions of the p-d model) ----

def _layer(name):
    from helpers.store import params
    from helpers.rungs.afo import dipoles as afo_dipoles
    from helpers.rungs.afo import layers as afo_layers
    return afo_layers.layer_models("WTe2", params.settings("paper"), "dzp", (8, 4, 1), -1.5, 0.5, moments=True, names=(name,))[name]


def test_both_definitions_obey_the_site_symmetries():
    from helpers.rungs.afo import dipoles as afo_dipoles
    from helpers.rungs.afo import layers as afo_layers
    rows = afo_dipoles.orbital_dipole_rows(_layer("relaxed d2"), 1.0)
    for col in afo_dipoles.DEFINITION_COLUMN.values():
        p = {(x["reading"], x["W"], x["orbital"]): x[col] for x in rows}
        for (r, w, o), v in p.items():
            if w == 1:
                assert v == pytest.approx(-p[r, 2, o], abs=0.01)           # inversion maps W1 onto W2
        # the site mirror exchanges b and c of the local octahedral frame and keeps z
        assert p["local octahedral frame", 1, "b"] == pytest.approx(p["local octahedral frame", 1, "c"], abs=0.01)
    # the Te tails carry most of the dipole: the p-d model's W-5d functions are less polar, not zero
    eff = max(abs(x["p_z (e·Å)"]) for x in rows)
    bare = max(abs(x["p_z p–d W-5d (e·Å)"]) for x in rows)
    assert 0.02 < bare < eff


def test_no_dipole_of_the_p_d_W5d_functions_where_the_site_has_inversion():
    from helpers.rungs.afo import dipoles as afo_dipoles
    from helpers.rungs.afo import layers as afo_layers
    rows = afo_dipoles.orbital_dipole_rows(_layer("1T"), 1.0)                     # D3d at W
    assert max(abs(x["p_z p–d W-5d (e·Å)"]) for x in rows) < 0.005


def test_bilayer_vacuum_convergence_is_judged_on_the_two_largest_vacua():
    from helpers.rungs.fe import bilayer
    row = lambda v, p: {"vacuum (Å)": v, "p_z (e·Å per cell)": p}
    assert bilayer.vacuum_convergence([row(15, 0.1)]) == "not tested: one vacuum size"
    ok = bilayer.vacuum_convergence([row(25, 0.0101), row(15, 0.05), row(20, 0.0100)])
    assert ok.startswith("converged") and "from 20 to 25 Å" in ok
    assert bilayer.vacuum_convergence([row(15, 0.010), row(20, 0.013)]).startswith("not converged")
    tiny = bilayer.vacuum_convergence([row(15, 0.0009), row(20, 0.0003), row(25, -0.0002)])
    assert tiny.startswith("converged") and "sign changes" in tiny and "zero within the resolution" in tiny
    assert bilayer.EXTRA_VACUUM_A["smoke"] == []          # the test suite computes one vacuum only


def test_a_cell_dipole_is_a_density_over_the_whole_cell():
    """A two-W cell whose dipole is 2p holds p per formula unit: its density per f.u. volume equals that of a
    dipole p per W, i.e. p_cell over the cell's volume, not over one f.u.'s."""
    from ase import Atoms
    from helpers.dft.dipoles import dipole_density_uC_cm2
    from helpers.rungs.afo import dipoles as afo_dipoles
    from helpers.rungs.afo import layers as afo_layers
    at = Atoms("W2Te4", positions=np.zeros((6, 3)), cell=[3.5, 6.3, 20.0], pbc=[1, 1, 0])
    cell = afo_dipoles.cell_dipole_normalizations(0.02, at, 7.0)
    assert cell["per f.u. volume (μC/cm²)"] == pytest.approx(afo_dipoles.normalizations(0.01, at, 7.0)["per f.u. volume (μC/cm²)"])
    assert cell["per f.u. volume (μC/cm²)"] == pytest.approx(dipole_density_uC_cm2(0.02, 3.5 * 6.3 * 7.0))
    assert cell["per area per W, 2D (pC/m)"] == pytest.approx(0.02 / (3.5 * 6.3) * 1.602176634e-9 * 1e12)   # e/Å = 1.602e-9 C/m
