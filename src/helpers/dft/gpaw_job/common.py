"""GPAW calculators from a job's settings (plane waves or LCAO, grid, smearing, convergence), and progress lines."""

from pathlib import Path
from gpaw import GPAW, PW
from gpaw.mpi import world


def say(msg: str) -> None:
    if world.rank == 0:
        print(msg, flush=True)


def optional_parameters(job: dict) -> dict:
    """GPAW keywords for the optional parts of a job: DFT+U (Dudarev, `hubbard_U` = {symbol: U_eff
    in eV} on the d shell; unscaled projectors where `hubbard_scale` is False), a jellium slab (`jellium` = {charge, z1, z2}: a positive background of
    `charge` e between heights z1 and z2 in Angstrom, so that the extra electrons of a charged
    layer are compensated inside the layer and not in the vacuum) and the dipole layer."""
    out = {}
    if job.get("hubbard_U"):
        unscaled = "" if job.get("hubbard_scale", True) else ",0"
        out["setups"] = {sym: f":d,{U}{unscaled}" for sym, U in job["hubbard_U"].items()}
    if job.get("jellium"):
        from gpaw.jellium import JelliumSlab
        out["background_charge"] = JelliumSlab(**job["jellium"])
    if job.get("dipole_correction"):
        out["poissonsolver"] = {"dipolelayer": "xy"}
    return out


def grid_parameters(job: dict) -> dict:
    """GPAW's `h` (real-space grid spacing, Angstrom) of an LCAO job that sets one; GPAW's default otherwise."""
    return {"h": job["h"]} if "h" in job else {}


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
        **optional_parameters(job),
    )


def lcao_calc(job: dict, txt: Path, **extra) -> GPAW:
    """GPAW LCAO calculator from the settings in `job`: full k grid without symmetry reduction (the
    Wannier constructions need every k), Fermi-Dirac smearing; `extra` keywords are passed on."""
    return GPAW(mode="lcao", basis=job["basis"], xc=job.get("xc", "PBE"),
                kpts={"size": job["kpts"], "gamma": True},
                symmetry={"point_group": False, "time_reversal": False},
                occupations={"name": "fermi-dirac", "width": job["smearing"]},
                charge=job.get("charge", 0), convergence={"energy": 1e-5, "density": 1e-5},
                txt=str(txt), **grid_parameters(job), **extra)
