"""Small pieces shared by the GPAW jobs: GPAW's version, k grids from a k density (1/Angstrom), atoms to and from JSON records, MPI ranks, the label of a job's numerics (k density, smearing)."""
from __future__ import annotations

import os
import sys
import numpy as np
from ase import Atoms
from ase.calculators.calculator import kptdensity2monkhorstpack


def gpaw_version() -> str:
    from importlib.metadata import version
    return version("gpaw")


def kpts_for(atoms: Atoms, density: float) -> list[int]:
    """Monkhorst-Pack grid with `density` points per 1/Angstrom along periodic directions."""
    return [int(n) for n in kptdensity2monkhorstpack(atoms, kptdensity=density, even=False)]


def atoms_record(atoms: Atoms) -> dict:
    """JSON-able description of a structure (positions rounded to 1e-6 Angstrom for hashing)."""
    return {"symbols": atoms.get_chemical_symbols(),
            "positions": np.round(atoms.positions, 6).tolist(),
            "cell": np.round(np.array(atoms.cell), 6).tolist(),
            "pbc": [bool(p) for p in atoms.pbc]}


def atoms_from(record: dict) -> Atoms:
    """The Atoms stored in a result's `final` (or an inputs' `atoms`) record."""
    return Atoms(record["symbols"], positions=record["positions"], cell=record["cell"],
                 pbc=record["pbc"])


def ranks() -> int:
    """MPI ranks for GPAW: $COMPENDIUM_RANKS, else the number of cores."""
    return int(os.environ.get("COMPENDIUM_RANKS", os.cpu_count() or 1))


def die_with_parent() -> None:
    """In a child process before it runs (Popen's preexec_fn): on Linux, ask for SIGTERM when the
    thread that started it dies, so a killed worker leaves no GPAW run behind in its work directory."""
    if sys.platform.startswith("linux"):
        import ctypes
        import signal
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)     # PR_SET_PDEATHSIG


#: Numerical settings a protocol may change from the profile's (helpers.store.params names), for convergence checks.
NUMERICS = ("kpt_density", "smearing")


def numerics_label(protocol: dict) -> str:
    """'' for a protocol on the profile's numerics, else what it changes, e.g. 'k density 6 /Å'
    (points per reciprocal Angstrom) or 'smearing 0.1 eV'."""
    names = {"kpt_density": ("k density", "/Å"), "smearing": ("smearing", "eV")}
    return ", ".join(f"{names[k][0]} {protocol[k]:g} {names[k][1]}" for k in NUMERICS if protocol.get(k) is not None)
