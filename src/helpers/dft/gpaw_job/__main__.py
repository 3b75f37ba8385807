"""Entry point of the GPAW program: reads the job, runs its stage, writes the result."""

import json
import sys
import time
from pathlib import Path
import numpy as np
from ase.filters import FrechetCellFilter
from ase.io import read
from ase.io.trajectory import Trajectory
from ase.optimize import BFGS
from gpaw.mpi import world

from .common import make_calc, say
from .dftu import dftu_branch
from .lcao import lcao_projections
from .sliding import sliding_path
from .wannier90 import wannier90_run, wannier90_scf


def main(workdir: str, stage: str | None = None) -> None:
    wd = Path(workdir)
    job = json.loads((wd / "job.json").read_text())
    atoms = read(wd / "input.traj")
    if job["task"] == "wannier90":
        if stage == "scf":
            wannier90_scf(atoms, job, wd)
        elif stage == "w90":
            if world.size != 1:
                raise RuntimeError("the w90 stage runs on one rank (GPAW's Wannier90 writer needs all k points)")
            out = wannier90_run(job, wd)
            (wd / "job_result.json").write_text(json.dumps(out))
            say(f"done: Wannier90 stage, {out['wall_stage2_s']:.0f} s")
        else:
            raise ValueError(f"stage={stage!r}: the wannier90 task has stages 'scf' and 'w90'")
        return
    if job["task"] == "dftu_branch":
        out = dftu_branch(atoms, job, wd)
        if world.rank == 0:
            (wd / "job_result.json").write_text(json.dumps(out))
        say(f"done: DFT+U branch, {out['wall_s']:.0f} s")
        return
    if job["task"] == "sliding_path":
        out = sliding_path(atoms, job, wd)
        if world.rank == 0:
            (wd / "job_result.json").write_text(json.dumps(out))
        say(f"done: sliding path, {out['wall_s']:.0f} s")
        return
    if job["task"] == "lcao":
        t0 = time.time()
        out = lcao_projections(atoms, job, wd)
        if world.rank == 0:
            (wd / "job_result.json").write_text(json.dumps(out))
        say(f"done: LCAO E = {out['energy_eV']:.5f} eV, {time.time() - t0:.0f} s")
        return
    traj_path = wd / "relax.traj"
    done = 0
    if job["task"] == "relax" and traj_path.exists() and traj_path.stat().st_size > 0:
        frames = read(traj_path, ":")
        if frames:
            atoms.set_cell(frames[-1].cell)
            atoms.positions = frames[-1].positions
            done = len(frames) - 1
            say(f"resuming from step {done} of {traj_path.name}")
    if job.get("magmoms") is not None:
        atoms.set_initial_magnetic_moments(job["magmoms"])
    atoms.calc = make_calc(job, wd / f"gpaw-{done:03d}.txt")
    t0 = time.time()
    converged = True
    if job["task"] == "relax":
        target = FrechetCellFilter(atoms, mask=[1, 1, 0, 0, 0, 1]) if job["relax_cell"] else atoms
        opt = BFGS(target, restart=str(wd / "bfgs.json"), logfile=str(wd / "bfgs.log"),
                   maxstep=0.1)
        traj = Trajectory(str(traj_path), "a", atoms)
        step = [done]
        restart_point = [done > 0]   # after a restart, the first evaluation is the stored last frame

        def report():
            f = target.get_forces()
            fmax = float(np.sqrt((f**2).sum(axis=1)).max())
            dt = time.time() - t0
            n = step[0] - done + 1
            say(f"step {step[0]:3d}/{job['max_steps']}  E = {atoms.get_potential_energy():.5f} eV"
                f"  fmax = {fmax:.4f} eV/A (target {job['fmax']})  {dt:.0f} s, {dt / n:.0f} s/step"
                + ("  (restart point)" if restart_point[0] else ""))
            if restart_point[0]:
                restart_point[0] = False
                step[0] += 1
                return
            traj.write(atoms)
            step[0] += 1

        opt.attach(report)
        remaining = max(job["max_steps"] - done, 0)
        converged = bool(opt.run(fmax=job["fmax"], steps=remaining))
        traj.close()
    energy = float(atoms.get_potential_energy())
    forces = atoms.get_forces()
    out = {
        "energy_eV": energy,
        "free_energy_eV": float(atoms.get_potential_energy(force_consistent=True)),
        "forces_eV_per_A": forces.tolist(),
        "fmax_eV_per_A": float(np.sqrt((forces**2).sum(axis=1)).max()),
        "converged": converged,
        "steps": (len(read(traj_path, ":")) if traj_path.exists() else 0),
        "fermi_level_eV": float(atoms.calc.get_fermi_level()),
        "kpts": job["kpts"],
        "ranks": world.size,
        "final": {"symbols": atoms.get_chemical_symbols(), "positions": atoms.positions.tolist(),
                  "cell": atoms.cell.tolist(), "pbc": atoms.pbc.tolist()},
    }
    if job.get("spinpol"):
        out["magnetic_moment_muB"] = float(atoms.calc.get_magnetic_moment())
        out["magnetic_moments_muB"] = [float(m) for m in atoms.calc.get_magnetic_moments()]
    if job["task"] == "scf":
        out["dipole_eA"] = [float(v) for v in atoms.calc.get_dipole_moment()]
    if world.rank == 0:
        (wd / "job_result.json").write_text(json.dumps(out))
    say(f"done: E = {energy:.5f} eV, converged = {converged}, {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main(*sys.argv[1:3])
