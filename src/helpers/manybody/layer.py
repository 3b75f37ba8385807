"""Mean-field annealing of a layer's p-d model: the interactions at each U, the starting states (d counts, spins), the solver and the U grid (eV)."""
from __future__ import annotations

import numpy as np

from . import anneal as mb_anneal
from . import configurations as cfg
from . import interaction as I
from ..models import pd as pd_models
from ..models import wannier as W
from ..models.fingerprint import model_fingerprint
from ..store import cache


BASES = ("effective", "pd")
#: What a branch's identity (d counts, moments) is measured against: the integer start in the
#: effective basis; in the p-d basis, where integer starts take up covalent charge at once, the state
#: the start converges to at U_max (helpers.manybody.anneal).
IDENTITY = {"effective": "start", "pd": "first"}
#: Convergence of every UHF step: |dF| < 1e-7 eV per cell and max |dn| < 1e-5 (occupation
#: matrices), at most 300 iterations before the driver's retries (helpers.manybody.anneal.RETRIES).
SOLVER = {"n_tol": 1e-5, "e_tol": 1e-7, "max_iter": 300}
#: At `smoke` (numbers not meaningful) a step that does not converge within SOLVER's cap is not retried: it then costs
#: one solve, not four (most of the smoke profile's mean-field time went to such steps).
SMOKE_RETRIES = ()


def solver_for(profile: str) -> tuple:
    """(solver settings, retries) of the mean field at `profile`: SOLVER and helpers.manybody.anneal.RETRIES,
    except at smoke (SMOKE_RETRIES)."""
    if profile == "smoke":
        return SOLVER, SMOKE_RETRIES
    return SOLVER, mb_anneal.RETRIES


#: Continuity of the annealing (helpers.manybody.anneal): a step whose occupations move by more than
#: jump_tol is halved `refine` times before the branch is declared to have no continuous continuation.
CONTINUITY = {"jump_tol": 0.2, "refine": 1}
INTERACTIONS = ("slater", "dudarev")
DOUBLE_COUNTINGS = ("FLL", "AMF")


def interactions_at(kind: str, J: float, dc: str, f4_over_f2: float = 0.625, n_shells: int = 2):
    """U -> one Interaction per W shell (`n_shells`, two in the primitive cell): the full Slater d
    shell (U, J, the stated F4/F2, double counting `dc`) or Dudarev's U_eff = U - J
    (helpers.manybody.interaction)."""
    if kind not in INTERACTIONS:
        raise ValueError(f"interaction={kind!r} is not allowed; choose from {list(INTERACTIONS)}")
    if dc not in DOUBLE_COUNTINGS:
        raise ValueError(f"double_counting={dc!r} is not allowed; choose from {list(DOUBLE_COUNTINGS)}")
    if not (isinstance(n_shells, int) and n_shells >= 1):
        raise ValueError(f"n_shells={n_shells!r}: need a positive integer")
    if kind == "slater":
        return lambda U: [I.slater(U, J, dc=dc, f4_over_f2=f4_over_f2)] * n_shells
    return lambda U: [I.dudarev(U, J)] * n_shells

#: The families of starts: counts (N1, N2) per W in the t2g-like orbitals a, b, c.
EFFECTIVE_COUNTS = ((2, 2), (1, 3), (0, 4))
PD_COUNTS = ((1, 1), (2, 2), (3, 3), (4, 4), (1, 3))


def valence_starts(bases: list, counts=EFFECTIVE_COUNTS, orbitals=(0, 1, 2), every_orbital=((2, 2),),
                   first_only: bool = False, background=None, equivalent_sites: bool = True) -> dict:
    """Controlled starts of the two-W cell: name -> per W (n_up, n_dn), integer occupations of the
    local orbitals (columns of `bases`, in each W's d functions) plus `background`.

    For each (N1, N2) of `counts`, N electrons in the t2g-like `orbitals`: every spin-0 and
    high-spin configuration (helpers.manybody.configurations.site_configurations), moments ferro
    or antiferro (names ' FM', ' AFM'). Equal counts put the same configuration on both W, except
    the counts in `every_orbital` (by default d2/d2), whose spin-0 configurations are combined in
    every way (ferro- and antiferro-orbital). Unequal counts (disproportionated pairs) combine the
    lower count's configurations with the higher count's lowest spin-0 and high-spin ones.
    `first_only` keeps only the first configuration of each family and count (fewer branches).
    `background` (per W, a d x d matrix per spin, default zero) is added to both spins: the p-d
    basis keeps its eg-like orbitals at their covalent (U = 0) filling, see `eg_background`.
    `equivalent_sites` (the two W of the 1T layer are related by inversion) keeps one of the
    site-swapped pairs x/y and y/x."""
    starts = {}
    for N1, N2 in counts:
        if N1 > N2 or N1 < 0 or N2 > 2 * len(orbitals):
            raise ValueError(f"counts: ({N1}, {N2}) needs 0 <= N1 <= N2 <= {2 * len(orbitals)}")
        c1s = cfg.site_configurations(N1, orbitals)
        c2s = cfg.site_configurations(N2, orbitals)
        if first_only:
            c1s, c2s = _lowest_and_highest_spin(c1s), _lowest_and_highest_spin(c2s)
        if N1 != N2:
            c2s = _lowest_and_highest_spin(c2s)
        for c1 in c1s:
            for c2 in c2s:
                same = c1[1:] == c2[1:]
                every = ((N1, N2) in every_orbital and c1[3] == c2[3] == 0
                         and not (equivalent_sites and c1s.index(c1) > c2s.index(c2)))
                if N1 != N2 or same or every:
                    cfg.add_pair(starts, c1, c2, bases, background=background)
    return starts


def _lowest_and_highest_spin(configs: list) -> list:
    """The first configuration of lowest spin and the first of highest spin (one if they agree)."""
    lo = min(configs, key=lambda c: c[3])
    hi = max(configs, key=lambda c: c[3])
    return [lo] if lo is hi else [lo, hi]


def eg_background(model: W.TBModel, n_electrons: float, bases: list, grid, width: float = 0.05) -> list:
    """Per W, the U = 0 occupation (per spin) of the model's d shell projected on the eg-like local
    orbitals (columns 3, 4 of `bases`): the covalent filling those orbitals keep in the p-d starts."""
    out = []
    for n0, B in zip(pd_models.d_occupations(model, n_electrons, grid, width), bases):
        P = B[:, 3:] @ B[:, 3:].conj().T
        out.append(np.real(P @ n0 @ P))
    return out


def anneal_layer(label: str, profile: str, models: dict, basis: str, starts: dict, U_grid, grid,
                 interaction: str = "slater", J: float = 0.5, dc: str = "FLL", f4_over_f2: float = 0.625,
                 width: float = 0.05, force: bool = False, kind: str = "anneal", extra_inputs: dict | None = None,
                 observe=None) -> dict:
    """Interaction annealing of `starts` on one basis of `layer_models`, cached (kind 'anneal'):
    U from U_grid[0] down to U_grid[-1] (eV), k grid `grid`, Fermi-Dirac width `width` (eV).
    Returns helpers.manybody.anneal.anneal's result (branches with every step).
    Other callers (helpers.rungs.afo.ordered) name their own cache `kind`, add what else defines
    their run to the key (`extra_inputs`, absent from the valence keys) and may record
    `observe(UHFResult)` at every step (helpers.manybody.anneal.anneal). Every W shell of the
    model (any number, e.g. in a supercell) gets the same interaction."""
    if basis not in BASES:
        raise ValueError(f"basis={basis!r} is not allowed; choose from {list(BASES)}")
    U_grid = [float(u) for u in U_grid]
    if any(u < 0 for u in U_grid) or any(b >= a for a, b in zip(U_grid, U_grid[1:])):
        raise ValueError(f"U_grid={U_grid}: must be non-negative and strictly decreasing (eV)")
    if not (isinstance(J, (int, float)) and 0 <= J <= min(U_grid)):
        raise ValueError(f"J={J!r}: must be a number of eV in [0, min(U_grid)]")
    model, shells, n_el = models[basis]
    inters = interactions_at(interaction, J, dc, f4_over_f2, len(shells))
    solver, retries = solver_for(profile)
    inputs = {"model": model_fingerprint(model), "basis": basis, "n_electrons": float(n_el),
              "grid": list(grid), "U_grid": U_grid, "interaction": interaction, "J": float(J), "dc": dc,
              "f4_over_f2": float(f4_over_f2), "width": float(width), "solver": solver,
              "retries": list(retries), "identity_from": IDENTITY[basis], "continuity": CONTINUITY,
              "starts": {k: [[np.round(np.real(x), 8).tolist() for x in site] for site in v]
                         for k, v in sorted(starts.items())}}
    if extra_inputs:
        inputs.update(extra_inputs)
    hk = model.hk(W.kgrid_points(grid))

    def compute(workdir):
        return mb_anneal.anneal(hk, shells, inters, n_el, starts, U_grid, width=width, solver_kw=solver,
                                retries=retries, identity_from=IDENTITY[basis], observe=observe, **CONTINUITY)

    return cache.cached(f"{kind}-{label}-{basis}", profile, inputs, compute, force=force)


def u_grid(U_max: float, U_min: float, step: float) -> list:
    """Decreasing interactions U_max, U_max - step, ..., down to U_min included (eV)."""
    for name, v in (("U_max", U_max), ("U_min", U_min), ("U_step", step)):
        if not (isinstance(v, (int, float)) and 0 < v <= 40):
            raise ValueError(f"{name}={v!r}: must be a number of eV in (0, 40]")
    if U_min >= U_max:
        raise ValueError(f"U_min={U_min} must be below U_max={U_max} (eV)")
    n = int(np.floor((U_max - U_min) / step + 1e-9))
    grid = [round(U_max - i * step, 6) for i in range(n + 1)]
    return grid if abs(grid[-1] - U_min) < 1e-9 else grid + [float(U_min)]
