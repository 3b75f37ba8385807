"""Out-of-plane dipoles the orbitals a, b, c carry in each definition (e*Angstrom per W), and their normalizations (microC/cm2, per cell and per area)."""
from __future__ import annotations

import numpy as np

from helpers.dft.dipoles import dipole_density_uC_cm2
from helpers.dft.materials import metal_indices
from helpers.models import moments as mom
from helpers.models import pd as pd_models
from .layers import readings


#: The two definitions of an orbital whose dipole is compared with the paper's (which does not say how
#: its effective orbitals are built): the downfolded effective W-5d orbitals (with the Te-5p tails the
#: downfolding gives them) and the W-5d functions of the p-d model (intra-atomic d-p mixing, no Te tails).
DEFINITIONS = ("effective orbitals (Te tails)", "p–d model W-5d functions")

#: Column of orbital_dipole_rows for each definition.
DEFINITION_COLUMN = {DEFINITIONS[0]: "p_z (e·Å)", DEFINITIONS[1]: "p_z p–d W-5d (e·Å)"}


def pd_onsite_z(m: dict) -> np.ndarray:
    """Home-cell z matrix (Angstrom) of the p-d model's Wannier functions of layer model `m`
    (helpers.models.moments.z_model of its LCAO run with z matrices, R = 0)."""
    zmod = mom.z_model(m["lcao"], m["pd"])
    return zmod.H_R[np.where((zmod.R == 0).all(axis=1))[0][0]]


def orbital_dipole_rows(m: dict, volume_A3: float, readings_: dict | None = None) -> list:
    """Out-of-plane dipole of each orbital a, b, c (doubly occupied) of both W under each reading,
    from the z matrices (PAW included) of the effective orbitals and, for comparison, from the
    tight-binding position operator; e*Angstrom and microC/cm^2 over `volume_A3`. Beside them the same
    orbital (the same five coefficients) built from the W-5d functions of the p-d model instead of the
    effective orbitals (DEFINITIONS). W2's orbitals are the inversion image of W1's (the same
    coefficients: d orbitals are even)."""
    eff, pd = m["eff"], m["pd"]
    s = m["settings"]
    keep = np.concatenate(pd_models.d_shells(pd))
    z_full = mom.effective_z(mom.z_model(m["lcao"], pd), pd, keep, s["grid"], s["e_low"], s["width"])
    z_tb = mom.effective_z(mom.tb_z_model(pd), pd, keep, s["grid"], s["e_low"], s["width"])
    z_pd = pd_onsite_z(m)
    shells, atoms = pd_models.d_shells(eff), pd_models.metal_atoms(eff)
    rows = []
    for r, x in (readings_ or readings(m)).items():
        orbs = [x["orbitals"]] * len(shells)
        full = mom.orbital_dipoles_z(z_full, eff, shells, atoms, orbs)
        tb = mom.orbital_dipoles_z(z_tb, eff, shells, atoms, orbs)
        bare = mom.orbital_dipoles_z(z_pd, pd, pd_models.d_shells(pd), pd_models.metal_atoms(pd), orbs)
        for site in range(len(shells)):
            for i, o in enumerate("abc"):
                rows.append({"reading": r, "W": site + 1, "orbital": o, "p_z (e·Å)": full[site][i],
                             "p_z TB (e·Å)": tb[site][i], "p_z p–d W-5d (e·Å)": bare[site][i],
                             "P_z (μC/cm²)": float(dipole_density_uC_cm2(full[site][i], volume_A3))})
    return rows


# --- the FE page: dipoles ---------------------------------------------------------------------------
def normalizations(p_eA: float, atoms, spacing_A: float) -> dict:
    """One dipole p (e*Angstrom) expressed in the normalizations a reader may use: per formula-unit
    volume (area per W x interlayer spacing), per two-W layer cell volume, per four-W Td bulk cell
    (two layers), in microC/cm^2, and per area per W (2D, pC/m)."""
    area = abs(np.linalg.det(np.array(atoms.cell)[:2, :2]))
    n_w = len(metal_indices(atoms))
    e_per_A = 1.602176634e-19 / 1e-10           # C/m for 1 e/Angstrom
    return {"per f.u. volume (μC/cm²)": float(dipole_density_uC_cm2(p_eA, area / n_w * spacing_A)),
            "per layer cell volume (μC/cm²)": float(dipole_density_uC_cm2(p_eA, area * spacing_A)),
            "per Td bulk cell, 4 f.u. (μC/cm²)": float(dipole_density_uC_cm2(p_eA, area * 2 * spacing_A)),
            "per area per W, 2D (pC/m)": float(p_eA / (area / n_w) * e_per_A * 1e12)}


def cell_dipole_normalizations(p_cell_eA: float, atoms, spacing_A: float) -> dict:
    """The dipole of a whole cell (e*Angstrom, e.g. a DFT density's) as a density: per f.u. volume, p_cell over
    the cell's volume (n_W f.u. volumes, microC/cm^2), and the 2D polarization per area (pC/m), the keys of
    normalizations that hold for it (those apply to a dipole per W: here p_cell / n_W)."""
    per_w = normalizations(p_cell_eA / len(metal_indices(atoms)), atoms, spacing_A)
    return {k: per_w[k] for k in ("per f.u. volume (μC/cm²)", "per area per W, 2D (pC/m)")}
