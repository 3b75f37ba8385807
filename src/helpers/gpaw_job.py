"""Run one GPAW job described by `<workdir>/job.json`; started by helpers.dft under MPI.

    mpiexec -n 2 gpaw python -m helpers.gpaw_job WORKDIR

Tasks: `scf` (energy and forces of the input structure) and `relax` (BFGS on the atomic
positions, and on the in-plane cell when `relax_cell`). A relaxation appends every step to
`relax.traj` and keeps the BFGS Hessian in `bfgs.json`, so an interrupted job restarts from
its last step. Prints one line per step for the parent process to show.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np
from ase.filters import FrechetCellFilter
from ase.io import read
from ase.io.trajectory import Trajectory
from ase.optimize import BFGS
from gpaw import GPAW, PW
from gpaw.mpi import world


def say(msg: str) -> None:
    if world.rank == 0:
        print(msg, flush=True)


def make_calc(job: dict, txt: Path) -> GPAW:
    """GPAW plane-wave PBE calculator from the settings in `job`."""
    return GPAW(
        mode=PW(job["ecut"]),
        xc=job.get("xc", "PBE"),
        kpts={"size": job["kpts"], "gamma": True},
        occupations={"name": "fermi-dirac", "width": job["smearing"]},
        charge=job.get("charge", 0),
        spinpol=job.get("spinpol", False),
        convergence={"energy": 1e-5, "density": 1e-5},
        txt=str(txt),
        **({"poissonsolver": {"dipolelayer": "xy"}} if job.get("dipole_correction") else {}),
    )


def lcao_projections(atoms, job: dict, wd: Path) -> dict:
    """LCAO SCF on the full k grid; store eigenvalues and projections <psi_nk|phi_m> onto every
    first-zeta ('sz') basis function in lcao.npz, and LCAO bands along a path."""
    from scipy.linalg import eigh
    from gpaw.lcao.tools import get_lcao_hamiltonian
    hubbard = {sym: f":d,{U}" for sym, U in (job.get("hubbard_U") or {}).items()}
    calc = GPAW(mode="lcao", basis=job["basis"], xc=job.get("xc", "PBE"),
                **({"setups": hubbard} if hubbard else {}),
                kpts={"size": job["kpts"], "gamma": True},
                symmetry={"point_group": False, "time_reversal": False},
                occupations={"name": "fermi-dirac", "width": job["smearing"]},
                charge=job.get("charge", 0), convergence={"energy": 1e-5, "density": 1e-5},
                txt=str(wd / "gpaw-lcao.txt"))
    atoms.calc = calc
    energy = atoms.get_potential_energy()
    efermi = float(calc.get_fermi_level())
    H_skMM, S_kMM = get_lcao_hamiltonian(calc)
    kpts = calc.get_ibz_k_points()
    basis, sz, M = [], [], 0
    for a, setup in enumerate(calc.setups):
        bfs = [(int(bf.l), str(bf.type)) for bf in setup.basis.bf_j]
        basis.append(bfs)
        for l, kind in bfs:
            if "sz" in kind:
                sz += list(range(M, M + 2 * l + 1))
            M += 2 * l + 1
    # special points of the rectangular cell, named explicitly: ASE would classify the 1T cell
    # (b = sqrt(3) a) as hexagonal and rename them
    special = {"G": [0, 0, 0], "X": [0.5, 0, 0], "S": [0.5, 0.5, 0], "Y": [0, 0.5, 0]}
    path = atoms.cell.bandpath(job["path"], npoints=job["npath"], special_points=special, pbc=atoms.pbc)
    bandcalc = calc.fixed_density(kpts=path.kpts, symmetry="off", txt=str(wd / "gpaw-bands.txt"))
    e_path = np.array([bandcalc.get_eigenvalues(kpt=i) for i in range(len(path.kpts))])
    if world.rank == 0:
        eps, proj = [], []
        for H, S in zip(H_skMM[0], S_kMM):
            H = np.tril(H) + np.tril(H, -1).conj().T   # GPAW fills the lower triangle
            S = np.tril(S) + np.tril(S, -1).conj().T
            e, C = eigh(H, S)
            eps.append(e)
            proj.append((C.conj().T @ S)[:, sz])
        np.savez_compressed(wd / "lcao.npz", eps_kn=np.array(eps), A_knm=np.array(proj).astype(np.complex64),
                            kpts=kpts, e_path=e_path, path_kpts=path.kpts, sz_index=np.array(sz))
    return {"energy_eV": float(energy), "fermi_level_eV": efermi, "basis": basis,
            "n_electrons": float(calc.get_number_of_electrons()), "path": job["path"],
            "path_labels": path.get_linear_kpoint_axis()[2],
            "path_x": path.get_linear_kpoint_axis()[0].tolist(),
            "path_special_x": path.get_linear_kpoint_axis()[1].tolist(),
            "kpts": job["kpts"], "ranks": world.size, "npz": "lcao.npz"}


def main(workdir: str) -> None:
    wd = Path(workdir)
    job = json.loads((wd / "job.json").read_text())
    atoms = read(wd / "input.traj")
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
    if job["task"] == "scf":
        out["dipole_eA"] = [float(v) for v in atoms.calc.get_dipole_moment()]
    if world.rank == 0:
        (wd / "job_result.json").write_text(json.dumps(out))
    say(f"done: E = {energy:.5f} eV, converged = {converged}, {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main(sys.argv[1])
