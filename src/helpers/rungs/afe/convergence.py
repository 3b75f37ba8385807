"""Convergence of an energy difference with the plane-wave cutoff and the k-point density."""
from __future__ import annotations

from helpers.dft import jobs as dft_jobs
from helpers.dft import process as dft_process


def energy_difference_sweep(structures: dict, settings: dict, label: str, ecuts=(), kpt_densities=(),
                            charge: float = 0.0, n_fu: int = 2) -> list[dict]:
    """E(structures['distorted']) - E(structures['1T']) per formula unit (eV) at each cutoff
    (eV, at the profile's k density) and each k density (1/A, at the profile's cutoff).

    Single-point energies at fixed geometries; each one is a cached GPAW job.
    """
    grid = [(float(e), float(settings["kpt_density"])) for e in ecuts]
    grid += [(float(settings["ecut"]), float(k)) for k in kpt_densities]
    rows = []
    for ecut, kd in dict.fromkeys(grid):
        s = dict(settings, ecut=ecut, kpt_density=kd)
        e = {name: dft_jobs.single_point(atoms, s, label=f"{label}-{name}", charge=charge)["energy_eV"]
             for name, atoms in structures.items()}
        rows.append({"ecut_eV": ecut, "kpt_density": kd,
                     "kpts": dft_process.kpts_for(structures["1T"], kd),
                     "dE_per_fu_eV": (e["distorted"] - e["1T"]) / n_fu})
    return rows
