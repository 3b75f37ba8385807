"""Dipoles of bilayers and their convergence in the vacuum (e*Angstrom)."""
from __future__ import annotations

import numpy as np

from helpers.dft import jobs as dft_jobs
from helpers.dft import structures
from helpers.dft.dipoles import dipole_density_uC_cm2


#: Vacuum sizes of the bilayer beyond the profile's own (Angstrom added to settings['vacuum']).
EXTRA_VACUUM_A = {"smoke": [], "paper": [5.0, 10.0]}
#: Largest change of p_z (e*Angstrom per cell) between the two largest vacua of a converged dipole.
VACUUM_TOL_EA = 1e-3


def bilayer_dipoles(material: str, settings: dict, spacing_A: float) -> tuple[list, list]:
    """The dipole-corrected Td bilayer at the profile's vacuum and the larger ones of EXTRA_VACUUM_A:
    per vacuum (Angstrom) p_z (e*Angstrom per cell), P_z over the two layers' volume (microC/cm^2,
    `spacing_A` the interlayer spacing) and per area (pC/m). Returns (rows, cache results)."""
    vacua = [float(settings["vacuum"])] + [settings["vacuum"] + x for x in EXTRA_VACUUM_A.get(settings["profile"], [])]
    rows, results = [], []
    for vac in vacua:
        bl = structures.slab(material, 2, vacuum=vac)
        area = abs(np.linalg.det(np.array(bl.cell)[:2, :2]))
        label = f"{material}-Td-bilayer-dipcorr" + ("" if vac == settings["vacuum"] else f"-vac{vac:g}")
        r = dft_jobs.single_point(bl, settings, label, dipole_correction=True)
        results.append(r)
        pz = float(r["dipole_eA"][2])
        rows.append({"vacuum (Å)": vac, "p_z (e·Å per cell)": pz,
                     "P_z over two layers (μC/cm²)": float(dipole_density_uC_cm2(pz, area * 2 * spacing_A)),
                     "P_z per area, 2D (pC/m)": pz / area * 1.602176634e-19 / 1e-10 * 1e12})
    return rows, results


def vacuum_convergence(rows: list) -> str:
    """Whether p_z is converged in the vacuum: the change between the two largest vacua against
    VACUUM_TOL_EA, or 'not tested: one vacuum size'."""
    if len(rows) < 2:
        return "not tested: one vacuum size"
    rows = sorted(rows, key=lambda r: r["vacuum (Å)"])
    a, b = rows[-2:]
    d = abs(b["p_z (e·Å per cell)"] - a["p_z (e·Å per cell)"])
    text = (f"{'converged' if d <= VACUUM_TOL_EA else 'not converged'}: p_z changes by {d:.1e} e·Å per cell "
            f"from {a['vacuum (Å)']:g} to {b['vacuum (Å)']:g} Å (tolerance {VACUUM_TOL_EA:g} e·Å per cell)")
    pz = [r["p_z (e·Å per cell)"] for r in rows]
    if d <= VACUUM_TOL_EA and max(abs(x) for x in pz) <= VACUUM_TOL_EA:
        text += ("; every value is within that tolerance of zero" + (" and the sign changes with the vacuum"
                 if min(pz) < 0 < max(pz) else "") + ": p_z is zero within the resolution of these calculations")
    return text
