"""The DFT+U stage: Dudarev's U_eff on the W-5d projectors stepped along a schedule, with an occupation bias released step by step, resumable from the last finished step."""

import json
import time
from pathlib import Path
import numpy as np
from gpaw import GPAW, KohnShamConvergenceError
from gpaw.mpi import world

from .common import grid_parameters, say


def set_hubbard_U(calc, atoms_: list, U_eV: float) -> None:
    """Set GPAW's Dudarev U_eff (eV) on the d shells of atoms `atoms_` of a live calculation, for the
    next SCF. The potential calculator holds its own setups (GPAW 26.x: calc.dft.setups are other
    objects), and the U term is evaluated there, so both are set; the energy after the next SCF equals
    that of a fresh calculation at U_eV (tests/test_occupation_control.py)."""
    from ase.units import Ha
    for a in atoms_:
        for setups in (calc.dft.setups, calc.dft.pot_calc.setups):
            if setups[a].hubbard_u is None:
                raise ValueError(f"atom {a} has no DFT+U term to change (start the calculation with U on it)")
            setups[a].hubbard_u.U = [U_eV / Ha]


def dftu_branch(atoms, job: dict, wd: Path) -> dict:
    """DFT+U (Dudarev U_eff on the metal d shells, LCAO) with occupation control
    (helpers.dft.occupation_control): converge at U_grid[0] with the bias toward the job's targets,
    release the bias through `release` (eV, ending at 0), then anneal U through the rest of U_grid
    unbiased, each step continuing from the current density and wave functions. After every step
    the record (energy, bias energy, per-metal d occupation matrices per spin, moments, dipole) is
    appended to steps.json and the state (density and wave functions) written to step.gpw; a rerun
    of a killed job resumes after the last recorded step from that state (resume_point), with the
    GPAW log cut back to the end of that step."""
    from helpers.dft.occupation_control import OccupationBias
    from helpers.dft.occupation_control import check_targets
    symbols = atoms.get_chemical_symbols()
    spinpol = bool(job.get("spinpol", False))
    targets = {int(a): t for a, t in (job.get("targets") or {}).items()}
    if spinpol:
        atoms.set_initial_magnetic_moments(job["magmoms"])
    checked = check_targets(targets, symbols, spinpol, job.get("magmoms")) if targets else {}
    scale = bool(job.get("hubbard_scale", True))
    bias = OccupationBias(checked, job["release"][0], scale) if checked else None
    metal = job["metal"]
    U_grid = job["U_grid"]
    schedule = [(U_grid[0], lam) for lam in (job["release"] if bias else [0.0])]
    schedule += [(U, 0.0) for U in U_grid[1:]]
    steps = resume_point(wd, schedule)
    if steps:
        return _dftu_steps(*_resumed_calc(wd, len(steps), bias), job, wd, schedule, steps)
    calc = GPAW(mode="lcao", basis=job["basis"], xc=job.get("xc", "PBE"),
                kpts={"size": job["kpts"], "gamma": True},
                occupations={"name": "fermi-dirac", "width": job["smearing"]},
                spinpol=spinpol, setups={metal: f":d,{U_grid[0]}" + ("" if scale else ",0")},
                convergence={"energy": 1e-5, "density": 1e-5, "minimum iterations": 3},
                mixer=gpaw_mixer(job["mixer"]), maxiter=job["maxiter"][0],
                poissonsolver={"dipolelayer": "xy"} if job.get("dipole_correction") else None,
                extensions=[bias] if bias else [], txt=str(wd / "gpaw.txt"), **grid_parameters(job))
    atoms.calc = calc
    return _dftu_steps(atoms, calc, bias, job, wd, schedule, [])


def gpaw_mixer(mixer: dict) -> dict:
    """The part of a job's mixer dict (helpers.dft.jobs.check_mixer) that is GPAW's parameter."""
    return {k: v for k, v in mixer.items() if k != "fresh_each_step"}


def restart_mixer(mixer) -> None:
    """Put a GPAW 26 density mixer (gpaw.mixer; a MultiMixer's parts too) in the state a new calculation
    starts it in. GPAW's own reset at the start of every SCF empties the density histories only; MSR1
    also adapts its step lengths (A, B) and a trust radius, which shrink as an SCF converges, and would
    carry them into the next step of a branch, where the density then hardly moves."""
    from gpaw.mixer.msr1 import MSR1Mixer
    mixer.reset()
    for m in [mixer, getattr(mixer, "mixer_a", None), *getattr(mixer, "mixers_b", [])]:
        if isinstance(m, MSR1Mixer):
            m.A, m.B, m.trust_radius, m.last_dNt = 0.0, 1.0, None, np.inf


def restart_step(dft) -> None:
    """Start the next SCF of a DFT+U branch (GPAW 26's DFT object `dft`, U_eff and bias already changed) as a
    new calculation from the current density would: the potential recomputed from that density with the
    new U_eff and bias, and the mixer restarted (restart_mixer). Without it the first iteration
    diagonalizes the old Hamiltonian, its density residual is tiny, and MSR1, which rejects a step whose
    residual grows past a multiple of the last, then holds the density fixed for tens of iterations."""
    dft.potential, dft.energies, _ = dft.pot_calc.calculate(dft.density, dft.ibzwfs, dft.potential.vHt_x)
    restart_mixer(dft.scf_loop.mixer)


def resume_point(wd: Path, schedule: list) -> list:
    """The steps already recorded in `wd` (steps.json) when their state is there to continue from
    (step.gpw written after the last of them, step.json naming how many) and they are the first steps
    of `schedule` [(U_eV, lambda_eV), ...]; [] otherwise (start from the beginning)."""
    try:
        steps = json.loads((wd / "steps.json").read_text())
        mark = json.loads((wd / "step.json").read_text())
    except (OSError, ValueError):
        return []
    n = len(steps)
    if not (0 < n < len(schedule)) or mark.get("steps") != n or not (wd / "step.gpw").is_file():
        return []
    if [(s["U_eV"], s["lambda_eV"]) for s in steps] != [tuple(x) for x in schedule[:n]]:
        return []
    return steps


def _cut_log(log: Path, n_steps: int) -> None:
    """Cut a GPAW log back to the end of its first n_steps SCF tables (the tables of the steps kept;
    what follows belongs to a step that did not finish)."""
    if world.rank != 0 or not log.is_file():
        return
    lines = log.read_text().splitlines(keepends=True)
    starts = [i for i, l in enumerate(lines) if l.startswith("|iter:") and int(l.split("|")[1].split(":")[1]) == 1]
    if len(starts) > n_steps:
        log.write_text("".join(lines[:starts[n_steps]]))


def _resumed_calc(wd: Path, n_steps: int, bias):
    """The calculation of a branch read back from step.gpw (written after step n_steps), its bias
    extension rebuilt with this job's targets, logging on after the kept steps' SCF tables."""
    from helpers.dft.occupation_control import OccupationBias
    _cut_log(wd / "gpaw.txt", n_steps)
    world.barrier()

    def extensions(dicts):
        return [bias for d in dicts if d.get("name") == OccupationBias.name] if bias is not None else []

    txt = open(wd / "gpaw.txt", "a") if world.rank == 0 else None
    calc = GPAW(str(wd / "step.gpw"), txt=txt, object_hooks={"extensions": extensions})
    say(f"resuming after step {n_steps} from step.gpw")
    atoms = calc.atoms.copy()
    atoms.calc = calc
    return atoms, calc, bias


def _dftu_steps(atoms, calc, bias, job: dict, wd: Path, schedule: list, steps: list) -> dict:
    """The steps of a dftu_branch from len(steps) on (the earlier ones recorded in `steps`)."""
    from ase.units import Ha
    from helpers.dft.occupation_control import site_occupations
    symbols = atoms.get_chemical_symbols()
    spinpol = bool(job.get("spinpol", False))
    metals = [i for i, s in enumerate(symbols) if s == job["metal"]]
    for n, (U, lam) in enumerate(schedule):
        if n < len(steps):
            continue
        t1 = time.time()
        if bias is not None:
            bias.set_strength(lam)
        last = n == len(schedule) - 1
        if n:
            set_hubbard_U(calc, metals, U)
            calc.dft.results.clear()
            calc.dft.scf_loop.maxiter = step_maxiter(job["maxiter"], U == job["U_grid"][0], last)
            if job["mixer"].get("fresh_each_step"):
                restart_step(calc.dft)
        try:
            atoms.get_potential_energy()
            converged = True
        except KohnShamConvergenceError:
            # an intermediate step may stop short (its density still starts the next one); the last
            # step's state counts only if it converged
            converged = False
            calc.dft.calculate_energy()
        energy = float(calc.dft.results["energy"] * Ha)
        D_asii = calc.dft.density.D_asii.gather(broadcast=True)
        occ = {str(a): [n_s.tolist() for n_s in site_occupations(D_asii[a], calc.dft.setups[a],
                                                                  scale=job.get("hubbard_scale", True))]
               for a in metals}
        e_bias = bias.energy(D_asii, calc.dft.setups) if bias is not None else 0.0
        calc.dft.calculate_dipole()
        rec = {"U_eV": U, "lambda_eV": lam, "energy_eV": energy, "converged": converged,
               "free_energy_eV": float(calc.dft.results["free_energy"] * Ha),
               "bias_energy_eV": e_bias, "occupations": occ,
               "dipole_eA": [float(x) for x in calc.get_dipole_moment()],
               "fermi_level_eV": float(calc.get_fermi_level()),
               "iterations": int(calc.dft.scf_loop.niter),
               "seconds": round(time.time() - t1, 1)}
        if spinpol:
            mm_v, mm_av = calc.dft.density.calculate_magnetic_moments()
            rec["magnetic_moments_muB"] = [float(m) for m in mm_av[:, 2]]
            rec["magnetic_moment_muB"] = float(mm_v[2])
        steps.append(rec)
        if not last:
            # the state to resume from: written whole, then steps.json and step.json name it
            calc.write(str(wd / "step-new.gpw"), mode="all")
            world.barrier()
        if world.rank == 0:
            if not last:
                (wd / "step-new.gpw").replace(wd / "step.gpw")
            (wd / "steps.json").write_text(json.dumps(steps))
            (wd / "step.json").write_text(json.dumps({"steps": len(steps)}))
        world.barrier()
        say(f"step {n + 1}/{len(schedule)}  U = {U:g} eV  lambda = {lam:g} eV  E = {energy:.5f} eV"
            f"  ({rec['seconds']:.0f} s)")
    # the final state, kept beside the cache (not in the entry, not committed) for checks that continue
    # from it: spin-polarized restarts, denser k grids (final_state_path)
    final = final_state_path(wd)
    final.parent.mkdir(parents=True, exist_ok=True)
    calc.write(str(final), mode="all")
    world.barrier()
    if world.rank == 0:
        (wd / "step.gpw").unlink(missing_ok=True)
    return {"steps": steps, "converged": steps[-1]["converged"], "metal_indices": metals, "kpts": job["kpts"], "ranks": world.size,
            "n_electrons": float(calc.get_number_of_electrons()), "wall_s": round(sum(s["seconds"] for s in steps), 1)}


def step_maxiter(maxiter: list, releasing: bool, last: bool) -> int:
    """The SCF iteration cap of one step of a DFT+U branch: maxiter = [steps at the first U_eff (the
    bias release), the last step] or [release steps, annealing steps at lower U_eff, the last step]."""
    if last:
        return maxiter[-1]
    return maxiter[0] if releasing or len(maxiter) == 2 else maxiter[1]


def final_state_path(wd: Path) -> Path:
    """Where a DFT+U branch computed in the work directory `wd` (<cache>/.work/<entry>) leaves its final
    state (density and wave functions): <cache>/.states/<entry>.gpw, a file of this machine only."""
    return wd.parent.parent / ".states" / f"{wd.name}.gpw"
