"""The orbital patterns (which of a, b, c each W fills), cells, starts and the annealing of the patterns."""
from __future__ import annotations

import re
import numpy as np

from helpers.manybody import configurations as cfg
from helpers.manybody import layer as layer_mf
from helpers.manybody import uhf
from helpers.models import pd as pd_models


#: The primitive-cell patterns: W1 orbital, W2 orbital, each doubly occupied.
PATTERNS = ("a2a2", "b2b2", "c2c2", "b2c2", "c2b2")
LETTERS = "abc"
REFERENCE = "a2a2"
FO = ("b2b2", "c2c2")
#: Antiferro-orbital patterns: W1 and W2 in different orbitals (the paper's), and in the supercells the
#: patterns alternating along the chains and across them.
AFO = ("b2c2", "c2b2", "b2c2|c2b2", "b2b2|c2c2")
#: A W counts as orbitally polarized in its requested orbital only if that orbital holds at least this
#: many electrons (both spins): the crystal-field state has its largest occupation near 1, and the
#: most occupied of a, b, c alone would label it a "pattern".
POLARIZED_MIN = 1.5
#: The cells: primitive (2 W), doubled along the chains (x, 4 W) and across them (y, 4 W).
CELLS = {"primitive": (1, 1, 1), "2x1": (2, 1, 1), "1x2": (1, 2, 1)}
#: Patterns of a longer period added in the supercells: along the chains b and c alternate on each W
#: (FO period doubled), or the AFO pattern alternates with its inversion partner; across the chains
#: AFO alternates with its partner (the orbital counterpart of an antiferroelectric arrangement).
EXTRA_PATTERNS = {(2, 1, 1): ("b2b2|c2c2", "b2c2|c2b2"), (1, 2, 1): ("b2c2|c2b2",)}
#: Annealing settings per profile: U grid (eV), mean-field k grid per cell (the supercells' grids
#: sample the same k density as the primitive one at 'paper'), that of the p-d basis, Fermi-Dirac
#: width (eV), and the k grids and widths of the convergence check (primitive cell, effective basis).
SETTINGS = {
    "smoke": {"U_grid": [10.0, 6.0, 3.0], "grids": {(1, 1, 1): (4, 2, 1), (2, 1, 1): (2, 1, 1), (1, 2, 1): (2, 1, 1)},
              "pd_grid": (2, 1, 1), "width": 0.05, "conv_grids": ((2, 1, 1), (4, 2, 1)), "conv_widths": (0.05, 0.1)},
    "paper": {"U_grid": layer_mf.u_grid(10.0, 3.0, 0.5),
              "grids": {(1, 1, 1): (12, 6, 1), (2, 1, 1): (6, 6, 1), (1, 2, 1): (12, 3, 1)}, "pd_grid": (12, 6, 1),
              "width": 0.05, "conv_grids": ((8, 4, 1), (12, 6, 1), (16, 8, 1)), "conv_widths": (0.02, 0.05, 0.1)},
}


# --- patterns and starts --------------------------------------------------------------------------

def check_cell(cell) -> tuple:
    """The repetitions of the primitive cell as three positive integers, or a ValueError naming `cell`."""
    c = tuple(int(x) for x in cell) if np.ndim(cell) == 1 and len(cell) == 3 else None
    if c is None or any(x < 1 for x in c) or any(float(x) != y for x, y in zip(cell, c)):
        raise ValueError(f"cell={cell!r}: need three positive integers (repetitions along a, b, c)")
    return c


def _check_orbitals(orbitals_per_site, n_sites: int) -> list:
    if orbitals_per_site is None or len(orbitals_per_site) != n_sites:
        raise ValueError(f"orbitals_per_site: need one 5x5 matrix per W of the primitive cell ({n_sites})")
    out = []
    for i, B in enumerate(orbitals_per_site):
        B = np.asarray(B)
        if B.shape != (5, 5) or not np.allclose(B.conj().T @ B, np.eye(5), atol=1e-6):
            raise ValueError(f"orbitals_per_site[{i}]: need a unitary 5x5 matrix (columns a, b, c, ... in the "
                             f"W's five d functions), got shape {B.shape}")
        out.append(B)
    return out


def pattern_orbitals(pattern: str, n_sites: int, n_cells: int = 1) -> list:
    """Index (0, 1, 2 for a, b, c) of the doubly occupied orbital on every W of a cell of `n_cells`
    primitive cells with `n_sites` W each (sub-cell-major order). A primitive pattern is repeated in
    every sub-cell; 'P|Q|...' gives one primitive pattern per sub-cell."""
    one = f"(?:[{LETTERS}]2){{{n_sites}}}"
    if not isinstance(pattern, str) or not re.fullmatch(rf"{one}(?:\|{one})*", pattern):
        raise ValueError(f"patterns: {pattern!r} is not a pattern of {n_sites} W (e.g. 'b2c2', or 'b2b2|c2c2' "
                         f"in a supercell; orbitals {list(LETTERS)})")
    parts = pattern.split("|")
    if len(parts) == 1:
        parts = parts * n_cells
    if len(parts) != n_cells:
        raise ValueError(f"patterns: {pattern!r} lists {len(parts)} sub-cells, the cell has {n_cells}")
    return [LETTERS.index(ch) for p in parts for ch in p[::2]]


def pattern_name(orbitals: list, n_sites: int) -> str:
    """The pattern name of orbital indices per W (inverse of pattern_orbitals; '|' between sub-cells
    unless every sub-cell repeats the first)."""
    parts = ["".join(f"{LETTERS[m]}2" for m in orbitals[i:i + n_sites]) for i in range(0, len(orbitals), n_sites)]
    return parts[0] if len(set(parts)) == 1 else "|".join(parts)


def pattern_of(branch: str) -> str:
    """The start pattern a branch comes from (a branch fallen into is named 'X → fallen at U eV')."""
    return branch.split(" → ")[0]


def cell_patterns(cell=(1, 1, 1)) -> tuple:
    """The patterns of a cell: the primitive ones, plus those of a longer period (EXTRA_PATTERNS)."""
    return PATTERNS + EXTRA_PATTERNS.get(check_cell(cell), ())


def pattern_starts(models: dict, orbitals_per_site=None, patterns=PATTERNS, cell=(1, 1, 1),
                   basis: str = "effective", grid=None, width: float = 0.05) -> dict:
    """Integer d2 starts of each pattern: name -> per W of the cell (n_up, n_dn), W order as in
    helpers.manybody.uhf.supercell (sub-cell-major).

    'effective' basis (nominal two electrons per W, helpers.models.layer.layer_models): on each W the
    pattern's orbital (a column of `orbitals_per_site`, default models['local']) doubly occupied,
    both spins, nothing else: projectors with trace 2 per W. 'pd' basis: covalency puts about five
    electrons into the W-5d functions, so a d2 start does not exist there; as helpers.rungs.valence does
    for its p-d starts, the pattern's orbital is doubly occupied on top of the eg-like background
    (helpers.manybody.layer.eg_background: the U = 0 filling of the local orbitals d, e, from the primitive
    p-d model on k grid `grid` with width `width` eV, repeated in every sub-cell)."""
    if basis not in layer_mf.BASES:
        raise ValueError(f"basis={basis!r} is not allowed; choose from {list(layer_mf.BASES)}")
    cell = check_cell(cell)
    n_sites = len(models[basis][1])
    orbs = _check_orbitals(models["local"] if orbitals_per_site is None else orbitals_per_site, n_sites)
    if isinstance(patterns, str) or not patterns:
        raise ValueError(f"patterns={patterns!r}: need a non-empty list of pattern names")
    n_cells = int(np.prod(cell))
    index = {p: pattern_orbitals(p, n_sites, n_cells) for p in patterns}
    if basis == "pd":
        if grid is None:
            raise ValueError("grid: the p-d starts need the k grid of their eg-like background")
        model, _, n_el = models["pd"]
        bg = layer_mf.eg_background(model, n_el, orbs, grid, width)
    else:
        bg = [np.zeros((5, 5))] * n_sites
    starts = {}
    for p, idx in index.items():
        sites = []
        for i, m in enumerate(idx):
            nu, nd = cfg.site_occupations([m], [m], orbs[i % n_sites])
            sites.append((nu + bg[i % n_sites], nd + bg[i % n_sites]))
        starts[p] = sites
    return starts


def cell_models(models: dict, cell, basis: str = "effective") -> dict:
    """{basis: (model, d shells, electrons)} of the cell `cell` (helpers.manybody.uhf.supercell of
    the primitive model, electrons times the number of sub-cells); the primitive models unchanged
    for (1, 1, 1)."""
    cell = check_cell(cell)
    if cell == (1, 1, 1):
        return {basis: models[basis]}
    model, _, n_el = models[basis]
    sc = uhf.supercell(model, cell)
    return {basis: (sc, pd_models.d_shells(sc), float(n_el) * int(np.prod(cell)))}


def occupation_matrices(r) -> dict:
    """What every annealing step records (a function of a helpers.manybody.uhf.UHFResult): per W shell
    of the cell its occupation matrices [n_up, n_dn] (real parts, in the W's five d functions,
    rounded to 1e-8) and the largest imaginary part dropped (zero for these time-reversal-symmetric
    models). The states are read from them by natural orbitals (helpers.models.natural)."""
    imag = max(float(np.abs(np.imag(n)).max()) for pair in r.occupations for n in pair)
    return {"occupation_matrices": [[np.round(np.real(n), 8).tolist() for n in pair] for pair in r.occupations],
            "max_imag": imag}


def step_matrices(step: dict) -> list:
    """Per W shell (n_up, n_dn) of one annealing step recorded with `occupation_matrices`."""
    obs = step.get("observed", {})
    if "occupation_matrices" not in obs:
        raise ValueError("step: no occupation matrices recorded (a result made before they were kept); "
                         "recompute it with anneal_patterns")
    return [(np.array(u), np.array(d)) for u, d in obs["occupation_matrices"]]


def local_occupations(orbitals_per_site: list):
    """A function of a UHF state (helpers.manybody.uhf.UHFResult): per W shell of the cell, the
    occupations <m|n_s|m> of its local orbitals m (columns of that W's matrix, repeated over the
    sub-cells) per spin, as [[up...], [dn...]]."""
    orbs = [np.asarray(B) for B in orbitals_per_site]

    def observe(r) -> dict:
        out = []
        for i, (nu, nd) in enumerate(r.occupations):
            B = orbs[i % len(orbs)]
            out.append([np.round(np.real(np.einsum("am,ab,bm->m", B, n, B.conj())), 8).tolist() for n in (nu, nd)])
        return {"local_occupations": out}

    return observe


# --- annealing --------------------------------------------------------------------------------------

def anneal_patterns(label: str, profile: str, models: dict, basis: str, starts: dict, U_grid, grid,
                    width: float = 0.05, interaction: str = "slater", J: float = 0.5, dc: str = "FLL",
                    orbitals_per_site=None, cell=(1, 1, 1), f4_over_f2: float = 0.625,
                    force: bool = False) -> dict:
    """Interaction annealing of the pattern `starts` (pattern_starts, same `cell` and orbitals) on one
    basis of `models` (helpers.models.layer.layer_models, primitive cell; the supercell model is built
    here), U from U_grid[0] down to U_grid[-1] (eV), mean-field k grid `grid` of the cell, Fermi-Dirac
    width `width` (eV). helpers.manybody.layer.anneal_layer does the work (same solver, retries, continuity
    and identity rules, spin-unrestricted), cached as kind 'ordered-<label>-<basis>[-<cell>]', keyed by
    every input including the cell and the orbitals a, b, c; every step also records the local-orbital
    occupations (`local_occupations`)."""
    if basis not in layer_mf.BASES:
        raise ValueError(f"basis={basis!r} is not allowed; choose from {list(layer_mf.BASES)}")
    cell = check_cell(cell)
    n_sites = len(models[basis][1])
    orbs = _check_orbitals(models["local"] if orbitals_per_site is None else orbitals_per_site, n_sites)
    if not starts:
        raise ValueError("starts: no pattern to follow")
    for name, st in starts.items():
        if len(st) != n_sites * int(np.prod(cell)):
            raise ValueError(f"starts[{name!r}]: {len(st)} W shells, the cell {cell} has {n_sites * int(np.prod(cell))}")
        pattern_orbitals(pattern_of(name), n_sites, int(np.prod(cell)))
    grid = tuple(int(g) for g in grid)
    if len(grid) != 3 or min(grid) < 1:
        raise ValueError(f"grid={grid}: need three positive integers")
    if not (isinstance(width, (int, float)) and 0 < width <= 0.5):
        raise ValueError(f"width={width!r}: need a Fermi-Dirac width in (0, 0.5] eV")
    layer_mf.interactions_at(interaction, J, dc, f4_over_f2)
    m = cell_models(models, cell, basis)
    extra = {"cell": list(cell), "orbitals_per_site": [np.round(np.real(B), 8).tolist() for B in orbs],
             "observed": "occupation_matrices"}
    tag = label if cell == (1, 1, 1) else f"{label}-{'x'.join(map(str, cell))}"
    return layer_mf.anneal_layer(tag, profile, m, basis, starts, U_grid, grid, interaction, J, dc, f4_over_f2,
                                 width, force, kind="ordered", extra_inputs=extra,
                                 observe=occupation_matrices)
