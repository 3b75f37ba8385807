"""Orbital-ordered mean-field states of the distorted layer, annealed from large U.

The paper's sub-eV claims: (i) doubly occupying orbital b or c on each W instead of the lowest
orbital a lowers the energy by more than a stated gain per formula unit (its value is in
data/reference/paper_values.json); (ii) of the ordered states
(ferro-orbital FO b2b2 and c2c2, antiferro-orbital AFO b2c2), AFO is lowest. The fair mean-field
test, done here exactly as helpers.valence does for the valence: each pattern is started as a true
d2 configuration on every W (the named orbital doubly occupied, spin 0) at a large U, and followed
down to the realistic U with the spin-unrestricted Hartree-Fock annealing of helpers.manybody
(a state may develop a moment; the anneal module decides where a branch stops existing).

Patterns: 'XnYn' names the orbital doubly occupied on W1 and W2 of the primitive cell ('b2c2': W1 b,
W2 c); in a supercell such a pattern is repeated in every sub-cell, and 'P|Q' gives one primitive
pattern per sub-cell (sub-cells in C order over the repetitions, as helpers.manybody.uhf.supercell
orders them): 'b2b2|c2c2' in the cell doubled along the chains alternates b and c along each chain.
Orbitals a, b, c are columns 0, 1, 2 of a 5x5 matrix per W (in that W's five d functions); by default
the crystal-field orbitals of helpers.valence.layer_models (energy order), but any other definition is
used by passing other matrices (`orbitals_per_site`), which are part of every cache key.
Energies in eV (per cell) or meV per formula unit (one W per formula unit); moments in muB.
"""
from __future__ import annotations

import re

import numpy as np

from .. import valence
from ..manybody import configurations as cfg
from ..manybody import uhf
from . import natural

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
    "paper": {"U_grid": valence.u_grid(10.0, 3.0, 0.5),
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

    'effective' basis (nominal two electrons per W, helpers.valence.layer_models): on each W the
    pattern's orbital (a column of `orbitals_per_site`, default models['local']) doubly occupied,
    both spins, nothing else: projectors with trace 2 per W. 'pd' basis: covalency puts about five
    electrons into the W-5d functions, so a d2 start does not exist there; as helpers.valence does
    for its p-d starts, the pattern's orbital is doubly occupied on top of the eg-like background
    (helpers.valence.eg_background: the U = 0 filling of the local orbitals d, e, from the primitive
    p-d model on k grid `grid` with width `width` eV, repeated in every sub-cell)."""
    if basis not in valence.BASES:
        raise ValueError(f"basis={basis!r} is not allowed; choose from {list(valence.BASES)}")
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
        bg = valence.eg_background(model, n_el, orbs, grid, width)
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
    from .. import orbital_order as oo
    cell = check_cell(cell)
    if cell == (1, 1, 1):
        return {basis: models[basis]}
    model, _, n_el = models[basis]
    sc = uhf.supercell(model, cell)
    return {basis: (sc, oo.d_shells(sc), float(n_el) * int(np.prod(cell)))}


def occupation_matrices(r) -> dict:
    """What every annealing step records (a function of a helpers.manybody.uhf.UHFResult): per W shell
    of the cell its occupation matrices [n_up, n_dn] (real parts, in the W's five d functions,
    rounded to 1e-8) and the largest imaginary part dropped (zero for these time-reversal-symmetric
    models). The states are read from them by natural orbitals (helpers.orbitals.natural)."""
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
    basis of `models` (helpers.valence.layer_models, primitive cell; the supercell model is built
    here), U from U_grid[0] down to U_grid[-1] (eV), mean-field k grid `grid` of the cell, Fermi-Dirac
    width `width` (eV). helpers.valence.anneal_layer does the work (same solver, retries, continuity
    and identity rules, spin-unrestricted), cached as kind 'ordered-<label>-<basis>[-<cell>]', keyed by
    every input including the cell and the orbitals a, b, c; every step also records the local-orbital
    occupations (`local_occupations`)."""
    if basis not in valence.BASES:
        raise ValueError(f"basis={basis!r} is not allowed; choose from {list(valence.BASES)}")
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
    valence.interactions_at(interaction, J, dc, f4_over_f2)
    m = cell_models(models, cell, basis)
    extra = {"cell": list(cell), "orbitals_per_site": [np.round(np.real(B), 8).tolist() for B in orbs],
             "observed": "occupation_matrices"}
    tag = label if cell == (1, 1, 1) else f"{label}-{'x'.join(map(str, cell))}"
    return valence.anneal_layer(tag, profile, m, basis, starts, U_grid, grid, interaction, J, dc, f4_over_f2,
                                width, force, kind="ordered", extra_inputs=extra,
                                observe=occupation_matrices)


def _local_diagonals(step: dict, orbs: list) -> list:
    """Per W of a step, <m|n_up + n_dn|m> for the local orbitals m (columns of the W's matrix)."""
    obs = step["observed"]
    if "local_occupations" in obs:
        return [np.add(*site) for site in obs["local_occupations"]]
    return [np.real(np.einsum("am,ab,bm->m", orbs[i % len(orbs)], u + d, orbs[i % len(orbs)]))
            for i, (u, d) in enumerate(step_matrices(step))]


# --- tables -----------------------------------------------------------------------------------------

def step_state(step: dict, orbs: list) -> dict:
    """What the state of one annealing step is, from its occupation matrices (helpers.orbitals.natural):
    per W the natural orbitals of n_up + n_dn, and the classification of the cell (identity map between
    every pair of W: the two W of the primitive cell are related by inversion, and the d functions are
    even, so in the common Cartesian d frame the map is the identity; W of different sub-cells by a
    translation). Adds 'fills': per W the weights |<o|v>|^2 of the dominant natural orbital v on a, b, c
    (columns 0-2 of the W's matrix of `orbs`)."""
    sites = [natural.natural_orbitals(u, d) for u, d in step_matrices(step)]
    c = natural.classify(sites)
    c["fills"] = [natural.filled_orbital_overlaps(x, orbs[i % len(orbs)][:, :3]) for i, x in enumerate(sites)]
    c["sites"] = sites
    return c


def _bc_share(fills) -> float:
    """Smallest, over the W, weight of b and c together in the dominant natural orbital."""
    return float(min(f[1] + f[2] for f in fills))


def pattern_rows(result: dict, n_fu: int) -> list:
    """One row per branch and U step of an anneal_patterns result: pattern (the start it comes from),
    branch, U (eV), fate, 'valid' (converged, continuous, not collapsed, same d counts and moments:
    helpers.manybody.anneal), what the state is by its natural orbitals (helpers.orbitals.natural:
    'kind' unpolarized / FO / AFO / mixed / partly polarized, per W the largest natural occupation of
    n_up + n_dn, the overlap of the two spins' dominant natural orbitals, the W1–W2 overlap of the
    dominant natural orbitals, and what the dominant one is made of, |<a|v>|^2, |<b|v>|^2, |<c|v>|^2),
    'pattern now' (per W the one of a, b, c with the largest weight in its dominant natural orbital),
    'kept pattern' (every W polarized, largest natural occupation at least POLARIZED_MIN, and its
    dominant natural orbital mostly the requested orbital), 'survives' (valid and kept), F per cell
    (eV), F - F(a2a2) at that U (meV per formula unit; NaN where the a2a2 branch is not valid), and per
    W (order of the cell) the d count, moment (muB) and the diagonal occupations of a, b, c (both
    spins; for reference only: a rotated orbital order has equal diagonals on both W)."""
    if not (isinstance(n_fu, int) and n_fu >= 1):
        raise ValueError(f"n_fu={n_fu!r}: need the positive number of formula units per cell")
    n_sites = len(result["inputs"]["orbitals_per_site"])
    n_cells = int(np.prod(result["inputs"]["cell"]))
    ref = {s["U"]: s["F"] for s in result["branches"].get(REFERENCE, {"steps": []})["steps"] if s["valid"]}
    orbs = [np.array(B) for B in result["inputs"]["orbitals_per_site"]]
    rows = []
    for name, br in result["branches"].items():
        pat = pattern_of(name)
        want = pattern_orbitals(pat, n_sites, n_cells)
        for s in br["steps"]:
            occ = _local_diagonals(s, orbs)
            st = step_state(s, orbs)
            now = [int(np.argmax(f)) for f in st["fills"]]
            kept = all(st["polarized"]) and now == want
            row = {"pattern": pat, "branch": name, "U (eV)": s["U"], "fate": br["fate"], "valid": bool(s["valid"]),
                   "n_fu": n_fu, "kind": st["kind"], "kept pattern": kept, "survives": bool(s["valid"] and kept),
                   "pattern now": pattern_name(now, n_sites), "F (eV/cell)": s["F"],
                   "F − F(a2a2) (meV/f.u.)": 1000 * (s["F"] - ref[s["U"]]) / n_fu if s["U"] in ref else np.nan,
                   "W1–W2 overlap": st["overlaps"][0] if st["overlaps"] else np.nan,
                   "b, c share": _bc_share(st["fills"]), "disproportionation": st["disproportionation"]}
            for i, (site, o, x, f) in enumerate(zip(s["sites"], occ, st["sites"], st["fills"]), 1):
                row[f"W{i} d count"] = site["d_count"]
                row[f"W{i} m (μB)"] = site["moment"]
                row[f"W{i} largest natural occ."] = float(x["occupations"][0])
                row[f"W{i} up–down overlap"] = x["up_down_overlap"]
                row[f"W{i} fills a, b, c"] = ", ".join(f"{v:.2f}" for v in f)
                row[f"W{i} n(a, b, c)"] = ", ".join(f"{v:.2f}" for v in o[:3])
            rows.append(row)
    return rows


#: Key of claim (i) in paper_comparison's rows.
CLAIM_I = "(i) b/c polarization lowers E by more than the paper's gain"


def paper_gain_meV() -> float:
    """The paper's orbital-polarization gain (meV per formula unit), the threshold of claim (i),
    from data/reference/paper_values.json."""
    from .. import reference
    return float(reference.get("orbital_polarization_gain_meV_per_fu")["value"])


def _bc_polarized(row: dict) -> bool:
    """Whether a pattern_rows row is an orbitally polarized state in the paper's sense, whatever its
    start and whatever its orbitals: every W polarized (largest natural occupation of n_up + n_dn at
    least POLARIZED_MIN) and its dominant natural orbital made more of b and c than of a."""
    return bool(row["kind"] in ("FO", "AFO", "mixed") and row["b, c share"] > 0.5)


def _at(rows: list, U: float) -> dict:
    return {r["branch"]: r for r in rows if abs(r["U (eV)"] - U) < 1e-9}


def paper_comparison(rows: list, U: float = 3.0, threshold_meV: float | None = None, U_grid=None) -> dict:
    """The paper's two sub-eV claims at U (eV) from pattern_rows: E(b2b2) - E(a2a2), E(c2c2) - E(a2a2),
    E(AFO) - E(FO) (lower of b2c2, c2b2 minus lower of b2b2, c2c2), meV per formula unit, each over
    surviving states only (NaN otherwise); the lowest valid state at U among every branch (fallen
    ones included) and the lowest surviving pattern. U must be a step of the run: of `U_grid` (the
    run's grid; then a run whose branches all ended above U gives a row with nothing valid) or,
    without it, of some row. (i) holds when the lowest surviving b/c pattern
    lies more than `threshold_meV` below a surviving a2a2; (ii) when the surviving AFO lies below the
    surviving FO states. None: undetermined (a state needed does not survive to U)."""
    if threshold_meV is None:
        threshold_meV = paper_gain_meV()
    at = _at(rows, U)
    if not at and not (U_grid is not None and any(abs(float(u) - U) < 1e-9 for u in U_grid)):
        raise ValueError(f"U={U!r}: no step at this U; the rows hold U = {sorted({r['U (eV)'] for r in rows})}")
    E = {p: (at[p]["F − F(a2a2) (meV/f.u.)"] if p in at and at[p]["survives"] else np.nan) for p in at}
    if not (REFERENCE in at and at[REFERENCE]["survives"]):
        E = {p: np.nan for p in E}

    def low(names):
        v = [E[p] for p in names if p in E and np.isfinite(E[p])]
        return min(v) if v else np.nan

    bc = low([p for p in E if p == pattern_of(p) and p != REFERENCE])
    # AFO against FO needs no a2a2 reference: from F itself, over surviving states
    n_fu = next(iter(at.values()))["n_fu"] if at else 1      # no branch reached U: every difference is NaN
    F = {p: at[p]["F (eV/cell)"] for p in at if at[p]["survives"] and at[p]["branch"] == at[p]["pattern"]}
    f_fo = min([F[p] for p in FO if p in F], default=np.nan)
    f_afo = min([F[p] for p in AFO if p in F], default=np.nan)
    fo, afo = f_fo, f_afo
    afo_unconverged = any(r["pattern"] in AFO and r["branch"] == r["pattern"] and r["fate"] == "not converged"
                          and not r["survives"] for r in at.values())
    valid = [r for r in at.values() if r["valid"]]
    lowest = min(valid, key=lambda r: r["F (eV/cell)"]) if valid else None
    surv = [r for r in at.values() if r["survives"] and r["branch"] == r["pattern"]]
    best = min(surv, key=lambda r: r["F (eV/cell)"]) if surv else None
    return {"U (eV)": float(U),
            "E(b2b2) − E(a2a2) (meV/f.u.)": E.get("b2b2", np.nan),
            "E(c2c2) − E(a2a2) (meV/f.u.)": E.get("c2c2", np.nan),
            "E(AFO) − E(FO) (meV/f.u.)": 1000 * (afo - fo) / n_fu,
            "an AFO start ended unconverged": afo_unconverged,
            "E(b2c2) − E(c2b2) (meV/f.u.)": E.get("b2c2", np.nan) - E.get("c2b2", np.nan),
            "lowest b/c pattern − E(a2a2) (meV/f.u.)": bc,
            "lowest state": lowest["branch"] if lowest else None,
            "lowest state kept its pattern": lowest["kept pattern"] if lowest else None,
            "lowest state's pattern now": lowest["pattern now"] if lowest else None,
            "lowest state n(a, b, c) of W1": lowest["W1 n(a, b, c)"] if lowest else None,
            "lowest state |m| max (μB)": (max(abs(v) for k, v in lowest.items() if k.endswith("m (μB)"))
                                          if lowest else np.nan),
            "lowest state b/c polarized": bool(lowest and _bc_polarized(lowest)),
            "lowest state kind": lowest["kind"] if lowest else None,
            "lowest state largest natural occ.": (min(v for k, v in lowest.items() if k.endswith("largest natural occ."))
                                                  if lowest else np.nan),
            "lowest surviving pattern": best["pattern"] if best else None,
            CLAIM_I: None if not np.isfinite(bc) else bool(bc < -threshold_meV),
            "(ii) AFO below FO": None if not (np.isfinite(afo) and np.isfinite(fo)) else bool(afo < fo)}


# --- where the model orders: natural orbitals along U ------------------------------------------------

#: Kinds of a state (helpers.orbitals.natural.classify) with every W polarized; an orbital order in the
#: paper's sense is one of them whose dominant natural orbitals are mostly b and c (_bc_polarized).
ORDERED_KINDS = ("FO", "AFO", "mixed")


def dipole_blocks(lcao_result: dict, pd_model, eff_model, basis: str) -> list:
    """Per W of the primitive cell, Z_site - z_W (5x5, Angstrom) in the d functions of the basis the
    states are written in: the on-site z matrix of the effective orbitals ('effective',
    helpers.orbitals.moments.effective_z on the effective model's own grid and window) or of the W-5d
    functions of the p-d model ('pd'), from the z matrices of the LCAO Bloch states (PAW included);
    `lcao_result` must hold them (helpers.dft.lcao(..., moments=True)) and be the calculation the
    p-d model was projected from."""
    from .. import orbital_order as oo
    from . import moments as mom
    if basis not in valence.BASES:
        raise ValueError(f"basis={basis!r} is not allowed; choose from {list(valence.BASES)}")
    zpd = mom.z_model(lcao_result, pd_model)
    if basis == "pd":
        Z, model = zpd.onsite(), pd_model
    else:
        keep = np.concatenate(oo.d_shells(pd_model))
        info = eff_model.info
        Z = mom.effective_z(zpd, pd_model, keep, tuple(info["kgrid"]), info["e_low_eV"], info["width_eV"])
        model = eff_model
    out = []
    for shell, atom in zip(oo.d_shells(model), oo.metal_atoms(model)):
        out.append(np.real(Z[np.ix_(shell, shell)]) - model.positions[atom, 2] * np.eye(len(shell)))
    return out


def state_dipole(step: dict, blocks: list) -> float:
    """Out-of-plane dipole of the d electrons of one annealing step's state (e*Angstrom per primitive
    cell, relative to the W nuclei): -sum over W and spins of Tr[n_s (Z_site - z_W)] (`blocks`,
    dipole_blocks; a supercell's W take the block of their primitive W), divided by the number of
    sub-cells. An inversion-symmetric state (FO, unpolarized) has none; an AFO state of orbitals with
    different dipoles has one."""
    mats = step_matrices(step)
    n_cells = len(mats) // len(blocks)
    p = 0.0
    for i, pair in enumerate(mats):
        Zs = blocks[i % len(blocks)]
        for n in pair:
            p -= float(np.sum(np.asarray(n) * Zs))
    return p / n_cells


def order_by_U(result: dict, n_fu: int, blocks: list | None = None) -> list:
    """At every U of the run: the lowest valid state (any branch, fallen ones included) and its kind by
    natural orbitals; the lowest orbitally ordered state in the paper's sense (every W polarized, its
    dominant natural orbital mostly b and c: _bc_polarized) and the lowest other state (the reference:
    unpolarized, or the crystal-field state with a doubly occupied, a2a2-like), the ordered state's gain
    F(ordered) - F(reference) (meV per formula unit; negative: the order lowers F; the column keeps the
    name 'unpolarized' for the reference), its kind,
    what its dominant natural orbital is made of on W1 (|<a|v>|^2, |<b|v>|^2, |<c|v>|^2), the W1–W2
    overlap of the dominant natural orbitals, and with `blocks` (dipole_blocks) the net out-of-plane
    dipole of the ordered state and of the lowest state (e*Angstrom per primitive cell)."""
    rows = pattern_rows(result, n_fu)
    steps = {(b, s["U"]): s for b, br in result["branches"].items() for s in br["steps"]}
    out = []
    for U in result["U_grid"]:
        at = [r for r in rows if abs(r["U (eV)"] - U) < 1e-9 and r["valid"]]
        if not at:
            out.append({"U (eV)": U, "lowest state": None})
            continue
        low = min(at, key=lambda r: r["F (eV/cell)"])
        ordd = [r for r in at if _bc_polarized(r)]
        unp = [r for r in at if not _bc_polarized(r)]
        u = min(unp, key=lambda r: r["F (eV/cell)"]) if unp else None
        o = min(ordd, key=lambda r: r["F (eV/cell)"]) if ordd else None
        row = {"U (eV)": U, "lowest state": low["branch"], "lowest kind": low["kind"],
               "lowest is ordered": _bc_polarized(low),
               "reference state": u["branch"] if u else None, "reference kind": u["kind"] if u else None,
               "ordered state": o["branch"] if o else None, "ordered kind": o["kind"] if o else None,
               "gain F(ordered) − F(unpolarized) (meV/f.u.)":
                   1000 * (o["F (eV/cell)"] - u["F (eV/cell)"]) / n_fu if (o and u) else np.nan,
               "ordered W1 fills a, b, c": o["W1 fills a, b, c"] if o else None,
               "ordered W1–W2 overlap": o["W1–W2 overlap"] if o else np.nan,
               "ordered largest natural occ.": min(v for k, v in o.items() if k.endswith("largest natural occ."))
               if o else np.nan,
               "ordered |m| max (μB)": max(abs(v) for k, v in o.items() if k.endswith("m (μB)")) if o else np.nan}
        if blocks is not None:
            row["lowest p_z (e·Å/cell)"] = state_dipole(steps[(low["branch"], U)], blocks)
            row["ordered p_z (e·Å/cell)"] = state_dipole(steps[(o["branch"], U)], blocks) if o else np.nan
        out.append(row)
    return out


def order_summary(by_U: list) -> dict:
    """Where a run orders, from order_by_U: the U (eV) at which an orbitally ordered state is the lowest
    (their range, and the critical U: the smallest U of the run's grid at which it still is), the U at
    which the lowest state is AFO or FO whatever orbitals it fills (basis-free), and at
    the critical U the gain against the lowest unpolarized state, the kind, the orbitals it fills and
    its dipole; at U values where an ordered state exists but is not the lowest, the smallest cost."""
    lows = [r for r in by_U if r.get("lowest is ordered")]
    exist = [r for r in by_U if r.get("ordered state")]
    U_ord = sorted(r["U (eV)"] for r in lows)
    out = {"ordered lowest at U (eV)": ", ".join(f"{u:g}" for u in U_ord) if U_ord else "nowhere",
           "U range (eV)": f"{U_ord[0]:g}–{U_ord[-1]:g}" if U_ord else "—",
           "critical U (eV)": U_ord[0] if U_ord else np.nan,
           "ordered state exists at U (eV)": (f"{min(r['U (eV)'] for r in exist):g}–{max(r['U (eV)'] for r in exist):g}"
                                              if exist else "nowhere")}
    for kind in ("AFO", "FO"):      # basis-free: every W polarized, dominant natural orbitals orthogonal / equal
        us = sorted(r["U (eV)"] for r in by_U if r.get("lowest kind") == kind)
        out[f"lowest is {kind} (any orbitals) at U (eV)"] = ", ".join(f"{u:g}" for u in us) if us else "nowhere"
    c = min(lows, key=lambda r: r["U (eV)"]) if lows else None
    cost = [r["gain F(ordered) − F(unpolarized) (meV/f.u.)"] for r in exist if not r["lowest is ordered"]
            and np.isfinite(r["gain F(ordered) − F(unpolarized) (meV/f.u.)"])]
    out.update({"kind at critical U": c["ordered kind"] if c else None,
                "gain at critical U (meV/f.u.)": c["gain F(ordered) − F(unpolarized) (meV/f.u.)"] if c else np.nan,
                "largest gain (meV/f.u.)": min((r["gain F(ordered) − F(unpolarized) (meV/f.u.)"] for r in lows),
                                               default=np.nan),
                "W1 fills a, b, c at critical U": c["ordered W1 fills a, b, c"] if c else None,
                "W1–W2 overlap at critical U": c["ordered W1–W2 overlap"] if c else np.nan,
                "p_z at critical U (e·Å/cell)": c.get("ordered p_z (e·Å/cell)", np.nan) if c else np.nan,
                "smallest cost where not lowest (meV/f.u.)": min(cost) if cost else np.nan})
    return out


def order_rows(runs: dict, blocks: dict | None = None) -> list:
    """order_summary of every run {name: (result, formula units per cell)}; `blocks` {basis: dipole_blocks}."""
    rows = []
    for name, (res, n_fu) in runs.items():
        b = (blocks or {}).get(res["inputs"]["basis"])
        rows.append({"run": name, **order_summary(order_by_U(res, n_fu, b))})
    return rows


def merged_runs(results: dict) -> dict:
    """One result holding the branches of several runs of the same model, interaction, cell, k grid and
    U grid whose starts differ (e.g. the patterns of every reading of a, b, c): {label: result} ->
    an anneal_patterns-like result with branches named '<branch> → from <label>' and the first run's
    orbitals a, b, c (the reading in which what the states fill is stated). Which state is lowest at each
    U is then decided among every state any of the runs found."""
    items = list(results.items())
    if not items:
        raise ValueError("results: need at least one run")
    first = items[0][1]
    keys = ("model", "basis", "interaction", "J", "dc", "grid", "width", "cell", "n_electrons")
    for label, r in items[1:]:
        if [float(u) for u in r["U_grid"]] != [float(u) for u in first["U_grid"]] or \
                any(r["inputs"].get(k) != first["inputs"].get(k) for k in keys):
            raise ValueError(f"results[{label!r}]: not the same model, interaction, cell, grids as the first run")
    branches = {f"{b} → from {label}": br for label, r in items for b, br in r["branches"].items()}
    return {"U_grid": first["U_grid"], "branches": branches, "inputs": first["inputs"]}


def order_findings(rows: list, U_grid) -> str:
    """Markdown lines from order_rows: for each run where an orbitally ordered state (b/c polarized on
    every W, by natural orbitals) is the lowest state, its U range, critical U, kind, what W1 fills, its
    gain and dipole; for the others that no ordered state is lowest anywhere from U_grid[0] to
    U_grid[-1] eV, and what an ordered state costs where it exists."""
    out = []
    for r in rows:
        if r["ordered lowest at U (eV)"] != "nowhere":
            g = r["gain at critical U (meV/f.u.)"]
            out.append(f"- *{r['run']}*: an ordered state is the lowest at U = {r['U range (eV)']} eV (critical U "
                       f"{r['critical U (eV)']:g} eV); there it is {r['kind at critical U']} (W1–W2 overlap of the "
                       f"dominant natural orbitals {r['W1–W2 overlap at critical U']:.2f}), W1's dominant orbital is "
                       f"a, b, c = {r['W1 fills a, b, c at critical U']}, net p_z {r['p_z at critical U (e·Å/cell)']:+.3f} "
                       f"e·Å per cell, "
                       + (f"{g:+.0f} meV/f.u. against the lowest other state." if np.isfinite(g) else
                          "and no other state is left at that U to compare with."))
        else:
            c = r["smallest cost where not lowest (meV/f.u.)"]
            out.append(f"- *{r['run']}*: no ordered state is the lowest at any U from {U_grid[0]:g} to {U_grid[-1]:g} eV"
                       + (f"; where one exists (U = {r['ordered state exists at U (eV)']} eV) it lies at least "
                          f"{c:.0f} meV/f.u. above the lowest other state." if np.isfinite(c) else
                          "; none exists along the run."))
        afo = r.get("lowest is AFO (any orbitals) at U (eV)", "nowhere")
        if afo != "nowhere":
            out[-1] += (f" Whatever orbitals it fills, the lowest state is antiferro-orbital (the dominant natural "
                        f"orbitals of W1 and W2 nearly orthogonal) at U = {afo} eV.")
    return "\n".join(out)


def convergence_rows(label: str, profile: str, models: dict, starts: dict, U_grid, grids, widths, grid,
                     width: float = 0.05, interaction: str = "slater", J: float = 0.5, dc: str = "FLL",
                     orbitals_per_site=None, U: float | None = None) -> list:
    """paper_comparison at U (default U_grid[-1], eV) of the primitive-cell effective-basis annealing
    for every k grid of `grids` at width `width`, and every width of `widths` (eV) at k grid `grid`;
    each run cached (anneal_patterns). The effective model itself is not recomputed (its downfolding
    grid is that of `models`)."""
    U = float(U_grid[-1] if U is None else U)
    settings = [(tuple(g), float(width)) for g in grids] + [(tuple(grid), float(w)) for w in widths]
    rows, seen = [], set()
    for g, w in settings:
        if (g, w) in seen:
            continue
        seen.add((g, w))
        res = anneal_patterns(label, profile, models, "effective", starts, U_grid, g, w, interaction, J, dc,
                              orbitals_per_site)
        rows.append({"k grid": "×".join(map(str, g[:2])), "width (eV)": w,
                     **paper_comparison(pattern_rows(res, len(models["effective"][1])), U, U_grid=res["U_grid"])})
    return rows


def plot_patterns(ax, rows: list, title: str = "") -> None:
    """F - F(a2a2) (meV per formula unit) against U (eV) of every start pattern: filled markers where
    the pattern survives (valid and kept), open where it does not; branches fallen into are left out."""
    pats = list(dict.fromkeys(r["pattern"] for r in rows if r["branch"] == r["pattern"]))
    for i, p in enumerate(pats):
        pts = sorted((r["U (eV)"], r["F − F(a2a2) (meV/f.u.)"], r["survives"]) for r in rows if r["branch"] == p)
        pts = [x for x in pts if np.isfinite(x[1])]
        if not pts:
            continue
        U, dF, ok = zip(*pts)
        col = f"C{i % 10}"
        ls = "-" if p in AFO or "|" in p and p.split("|")[0] in AFO else "--" if p in FO else ":"
        ax.plot(U, dF, ls, color=col, lw=1.2, label=p)
        ax.scatter([u for u, _, o in pts if o], [d for _, d, o in pts if o], color=col, s=22, zorder=3)
        ax.scatter([u for u, _, o in pts if not o], [d for _, d, o in pts if not o], facecolors="none",
                   edgecolors=col, s=22, zorder=3)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_xlabel("U (eV)")
    ax.set_ylabel("F − F(a2a2) (meV per formula unit)")
    ax.invert_xaxis()
    ax.legend(fontsize=7, ncol=2)
    ax.set_title(title or "ordered states: filled where the pattern survives", fontsize=9)


# --- the whole set ----------------------------------------------------------------------------------

def page_results(material: str = "WTe2", profile: str = "paper", interaction: str = "slater", J: float = 0.5,
                 dc: str = "FLL", orbitals_per_site=None, e_low: float = -1.5, window_width: float = 0.5,
                 parts=("primitive", "direct", "robustness", "convergence", "supercells", "pd"), verbose: bool = True,
                 models: dict | None = None, label: str | None = None) -> dict:
    """Every run of the sub-eV ordered states of the relaxed d2 layer (cached): the effective basis in
    the primitive cell ('primitive'), the same starts converged directly at U_min without annealing
    ('direct': does an ordered state exist there at all?), robustness variants ('robustness': Dudarev J = 0 and Slater
    J + 0.3 eV), the k-grid and width check ('convergence'), the 2x1 and 1x2 supercells ('supercells'),
    the p-d basis in the primitive cell ('pd'), with the annealing settings of `profile` (SETTINGS).
    The models are those of the layer's cached LCAO (helpers.valence.layer_models), unless `models`
    (same form) and their `label` are given. Returns {models, U_grid, label, runs {name: (result,
    formula units per cell)}, convergence (rows)}."""
    from .. import afe, dft, params
    from .. import orbital_order as oo
    if profile not in SETTINGS:
        raise ValueError(f"profile={profile!r} is not allowed; choose from {list(SETTINGS)}")
    unknown = set(parts) - {"primitive", "direct", "robustness", "convergence", "supercells", "pd"}
    if unknown:
        raise ValueError(f"parts: unknown {sorted(unknown)}")
    valence.interactions_at(interaction, J, dc)
    st = SETTINGS[profile]
    if models is None:
        settings = params.settings(profile)
        lattice = afe.relax_layer(material, "d2", settings)
        at = dft.atoms_from(lattice["distorted"]["final"])
        label = f"{material}-relaxed-d2"
        lc = dft.lcao(at, settings, label, basis="dzp")
        models = valence.layer_models(lc, oo.HF_GRID[profile], e_low, window_width)
    elif not label:
        raise ValueError("label: name the given models (it is part of the cache entry names)")
    orbs = models["local"] if orbitals_per_site is None else orbitals_per_site
    U_grid, width = st["U_grid"], st["width"]
    g1 = st["grids"][(1, 1, 1)]
    prim = pattern_starts(models, orbs)
    runs, conv = {}, []
    main = f"{interaction}, J = {J:g} eV, {dc}"

    def run(name, *args, **kw):
        if verbose:
            print(f"--- {name}", flush=True)
        runs[name] = anneal_patterns(label, profile, models, *args, **kw)

    if "primitive" in parts:
        run(f"primitive, effective, {main}", "effective", prim, U_grid, g1, width, interaction, J, dc, orbs)
    if "direct" in parts:
        run(f"primitive, effective, {main}, directly at U = {U_grid[-1]:g} eV", "effective", prim, U_grid[-1:], g1,
            width, interaction, J, dc, orbs)
    if "robustness" in parts:
        run("primitive, effective, dudarev, J = 0 eV, FLL", "effective", prim, U_grid, g1, width, "dudarev", 0.0,
            "FLL", orbs)
        run(f"primitive, effective, {interaction}, J = {J + 0.3:g} eV, {dc}", "effective", prim, U_grid, g1, width,
            interaction, J + 0.3, dc, orbs)
    if "convergence" in parts:
        conv = convergence_rows(label, profile, models, prim, U_grid, st["conv_grids"], st["conv_widths"], g1,
                                width, interaction, J, dc, orbs)
    if "supercells" in parts:
        for cname in ("2x1", "1x2"):
            cell = CELLS[cname]
            s = pattern_starts(models, orbs, cell_patterns(cell), cell)
            run(f"{cname}, effective, {main}", "effective", s, U_grid, st["grids"][cell], width, interaction, J, dc,
                orbs, cell)
    if "pd" in parts:
        gp = st["pd_grid"]
        s = pattern_starts(models, orbs, basis="pd", grid=gp, width=width)
        run(f"primitive, pd, {main}", "pd", s, U_grid, gp, width, interaction, J, dc, orbs)
    n_w = len(models["effective"][1])
    return {"models": models, "U_grid": U_grid, "label": label, "convergence": conv,
            "runs": {k: (v, n_w * int(np.prod(v["inputs"]["cell"]))) for k, v in runs.items()}}
