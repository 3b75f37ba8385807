"""Calculation profiles and validation of notebook parameters.

A profile fixes every numerical setting of the DFT calculations. `smoke` exercises every
code path in minutes and its numbers are not meaningful; `paper` holds the converged
settings chosen by the convergence check shown in the AFE-lattice notebook.
Any setting can be overridden from a notebook's parameters cell.
"""
from __future__ import annotations

PROFILES = {
    "smoke": dict(
        ecut=200.0,          # plane-wave cutoff, eV
        kpt_density=1.0,     # Monkhorst-Pack points per reciprocal Angstrom (ASE convention)
        smearing=0.1,        # Fermi-Dirac width, eV
        fmax=0.5,            # force tolerance of relaxations, eV/Angstrom
        max_steps=3,         # relaxation steps at most
        relax_cell=True,     # relax the in-plane lattice too
        vacuum=8.0,          # vacuum between periodic images, Angstrom
        grid_spacing=0.3,    # real-space grid of the LCAO calculations, Angstrom
    ),
    "paper": dict(
        ecut=400.0,
        kpt_density=4.0,
        smearing=0.05,
        fmax=0.03,
        max_steps=150,
        relax_cell=True,
        vacuum=15.0,
        grid_spacing=0.2,    # GPAW's default
    ),
}

#: Cutoffs (eV) and k-point densities (1/Angstrom) of each profile's convergence check.
CONVERGENCE = {
    "smoke": {"ecuts": [200.0, 250.0], "kpt_densities": [1.5]},
    "paper": {"ecuts": [300.0, 400.0, 500.0], "kpt_densities": [3.0, 5.0]},
}

#: What each setting may be: (type check, human-readable description of the allowed values).
RULES = {
    "ecut": (lambda v: isinstance(v, (int, float)) and 150 <= v <= 1500, "a number of eV in [150, 1500]"),
    "kpt_density": (lambda v: isinstance(v, (int, float)) and 0.5 <= v <= 20, "points per 1/Angstrom in [0.5, 20]"),
    "smearing": (lambda v: isinstance(v, (int, float)) and 0 < v <= 0.5, "a width in eV in (0, 0.5]"),
    "fmax": (lambda v: isinstance(v, (int, float)) and 0.001 <= v <= 5, "eV/Angstrom in [0.001, 5]"),
    "max_steps": (lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 1000, "an integer in [1, 1000]"),
    "relax_cell": (lambda v: isinstance(v, bool), "True or False"),
    "vacuum": (lambda v: isinstance(v, (int, float)) and 5 <= v <= 40, "Angstrom in [5, 40]"),
    "grid_spacing": (lambda v: isinstance(v, (int, float)) and 0.1 <= v <= 0.35, "Angstrom in [0.1, 0.35]"),
}


def settings(profile: str, **overrides) -> dict:
    """The settings of `profile` with every non-None override applied, validated.

    Raises ValueError naming the offending parameter and what is allowed, before any
    calculation starts.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile={profile!r} is not defined; allowed: {sorted(PROFILES)}")
    out = dict(PROFILES[profile])
    for name, value in overrides.items():
        if value is None:
            continue
        if name not in RULES:
            raise ValueError(f"unknown setting {name!r}; known settings: {sorted(RULES)}")
        out[name] = value
    for name, value in out.items():
        ok, allowed = RULES[name]
        if not ok(value):
            raise ValueError(f"{name}={value!r} is not allowed: must be {allowed}")
    out["profile"] = profile
    return out


def overridden(base: dict, overrides: dict) -> dict:
    """`base` (a profile's settings, possibly already overridden) with `overrides` applied on top, validated (settings)."""
    return settings(base["profile"], **({k: v for k, v in base.items() if k != "profile"} | overrides))


def check_choice(name: str, value, allowed) -> None:
    """Raise ValueError unless `value` is one of `allowed` (for string-valued parameters)."""
    if value not in allowed:
        raise ValueError(f"{name}={value!r} is not allowed; choose from {list(allowed)}")
