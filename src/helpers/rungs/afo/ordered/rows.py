"""Reading an ordered mean-field state: its pattern, b/c polarization, gain against the paper's, dipoles."""
from __future__ import annotations

import numpy as np

from helpers.manybody import layer as layer_mf
from helpers.models import moments as mom
from helpers.models import natural
from helpers.models import pd as pd_models
from helpers.store.reference import paper_gain_meV
from .patterns import AFO, FO, REFERENCE, pattern_name, pattern_of, pattern_orbitals, step_matrices


def _local_diagonals(step: dict, orbs: list) -> list:
    """Per W of a step, <m|n_up + n_dn|m> for the local orbitals m (columns of the W's matrix)."""
    obs = step["observed"]
    if "local_occupations" in obs:
        return [np.add(*site) for site in obs["local_occupations"]]
    return [np.real(np.einsum("am,ab,bm->m", orbs[i % len(orbs)], u + d, orbs[i % len(orbs)]))
            for i, (u, d) in enumerate(step_matrices(step))]


# --- tables -----------------------------------------------------------------------------------------

def step_state(step: dict, orbs: list) -> dict:
    """What the state of one annealing step is, from its occupation matrices (helpers.models.natural):
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
    helpers.manybody.anneal), what the state is by its natural orbitals (helpers.models.natural:
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


# --- dipoles of the ordered states --------------------------------------------------------------------

#: Kinds of a state (helpers.models.natural.classify) with every W polarized; an orbital order in the
#: paper's sense is one of them whose dominant natural orbitals are mostly b and c (_bc_polarized).
ORDERED_KINDS = ("FO", "AFO", "mixed")


def dipole_blocks(lcao_result: dict, pd_model, eff_model, basis: str) -> list:
    """Per W of the primitive cell, Z_site - z_W (5x5, Angstrom) in the d functions of the basis the
    states are written in: the on-site z matrix of the effective orbitals ('effective',
    helpers.models.moments.effective_z on the effective model's own grid and window) or of the W-5d
    functions of the p-d model ('pd'), from the z matrices of the LCAO Bloch states (PAW included);
    `lcao_result` must hold them (helpers.dft.jobs.lcao(..., moments=True)) and be the calculation the
    p-d model was projected from."""
    if basis not in layer_mf.BASES:
        raise ValueError(f"basis={basis!r} is not allowed; choose from {list(layer_mf.BASES)}")
    zpd = mom.z_model(lcao_result, pd_model)
    if basis == "pd":
        Z, model = zpd.onsite(), pd_model
    else:
        keep = np.concatenate(pd_models.d_shells(pd_model))
        info = eff_model.info
        Z = mom.effective_z(zpd, pd_model, keep, tuple(info["kgrid"]), info["e_low_eV"], info["width_eV"])
        model = eff_model
    out = []
    for shell, atom in zip(pd_models.d_shells(model), pd_models.metal_atoms(model)):
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
