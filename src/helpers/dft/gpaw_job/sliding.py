"""The sliding stage: energies and dipoles of a bilayer along a path of in-plane shifts (eV, e*Angstrom)."""

import json
import time
from pathlib import Path
import numpy as np
from gpaw import GPAW, PW
from gpaw.mpi import world

from .common import optional_parameters, say


def sliding_path(atoms, job: dict, wd: Path) -> dict:
    """Plane-wave PBE energies of a layered slab along a rigid sliding path: for each in-plane shift
    (Angstrom, job['shifts']) the atoms of job['moving'] are displaced from their input positions and
    the SCF is converged from the previous point's density and wave functions (tight criteria, no
    point-group symmetry, so every point is sampled on the same k points); then job['whole_shift']
    (if given) moves every atom of the unshifted slab together, a displacement that changes no physics
    and so measures the egg-box error of the real-space grid. After every point the record (energy
    extrapolated to zero width and free energy, eV; dipole, e*Angstrom; iterations) is appended to
    steps.json; a rerun skips the points already recorded there."""
    base = atoms.positions.copy()
    moving = [int(i) for i in job["moving"]]
    points = [("path", np.array(v, float)) for v in job["shifts"]]
    if job.get("whole_shift") is not None:
        points.append(("whole", np.array(job["whole_shift"], float)))
    done = []
    if (wd / "steps.json").exists():
        done = json.loads((wd / "steps.json").read_text())
        say(f"resuming after {len(done)} recorded point(s)")
    calc = GPAW(mode=PW(job["ecut"]), xc=job.get("xc", "PBE"), kpts={"size": job["kpts"], "gamma": True},
                symmetry={"point_group": False},
                occupations={"name": "fermi-dirac", "width": job["smearing"]},
                convergence=job["convergence"], txt=str(wd / "gpaw.txt"), **optional_parameters(job))
    atoms.calc = calc
    steps = list(done)
    t0 = time.time()
    for n, (kind, v) in enumerate(points):
        if n < len(done):
            continue
        t1 = time.time()
        pos = base.copy()
        if kind == "path":
            pos[moving] += v
        else:
            pos += v
        atoms.positions = pos
        energy = float(atoms.get_potential_energy())
        rec = {"kind": kind, "shift_A": [float(x) for x in v], "energy_eV": energy,
               "free_energy_eV": float(atoms.get_potential_energy(force_consistent=True)),
               "dipole_eA": [float(x) for x in calc.get_dipole_moment()],
               "iterations": int(calc.dft.scf_loop.niter), "seconds": round(time.time() - t1, 1)}
        steps.append(rec)
        if world.rank == 0:
            (wd / "steps.json").write_text(json.dumps(steps))
        say(f"point {n + 1}/{len(points)} ({kind}, shift {np.round(v, 4).tolist()} A): E = {energy:.6f} eV"
            f"  ({rec['seconds']:.0f} s)")
    return {"steps": steps, "kpts": job["kpts"], "ranks": world.size, "wall_s": round(time.time() - t0, 1)}
