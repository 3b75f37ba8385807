"""Reading a valence DFT+U branch step by step: t2g natural orbitals, filled orbitals, the lowest state at each U_eff, continuity."""
from __future__ import annotations

import numpy as np

from helpers.dft import branch_steps
from helpers.models import natural
from .. import verdicts as valence_verdicts
from .plans import site_orbitals


#: Two W differ in d count by at most this (electrons) in a state without disproportionation (the
#: model's tolerance on |d - 2|, helpers.rungs.valence.verdicts.D_TOL).
DISPROPORTION_MAX = 0.25
#: A natural spin-orbital of a W's t2g shell counts as filled above FILLED_MIN and as empty below EMPTY_MAX;
#: one in between leaves the W's integer t2g electron count undetermined (a metallic, fractional state). At
#: large U_eff occupations are near 0 or 1 and the count is the configuration's (the paper's d2: 2).
FILLED_MIN = 0.8
EMPTY_MAX = 0.2
#: The filled threshold the verdict is also read with (a choice of ours: the annealed antiferromagnet's majority
#: t2g natural occupations at 3 eV are 0.83-0.96, near 0.8).
FILLED_CHECKS = (0.75, 0.85)
NOMINAL_T2G = 2

#: A branch is continuous between two U_eff steps when its energy change matches the Hellmann-Feynman
#: integral of dF/dU_eff (F the Fermi-Dirac free energy) = sum over W and spin of Tr[n - n n]/2 (trapezoid, Dudarev's form) within this
#: (meV/f.u.); a jump to another state shows as a larger mismatch.
CONTINUITY_TOL_MEV_PER_FU = 15.0
#: The tolerances the annealing's own reading is also tried with (the tolerance is a choice of ours).
CONTINUITY_TOL_CHECKS = (10.0, 20.0)


def step_rows(branches: list, atoms, n_fu: int, filled_min: float | None = None) -> list:
    """One row per branch and U_eff after the release: energy relative to the lowest state at that
    U_eff (meV/f.u.), and per W the d count, |moment| (muB), the t2g count (a uniform change of valence,
    which the difference between the W cannot see, shows there), the two largest natural occupations of
    n_up + n_dn within the W's t2g shell (a1g, e_pi; the e_g sigma pair holds about one electron each
    from W-Te covalency whatever the valence, so it would mask the t2g filling) and the a1g weight of
    the first; the d-count difference between the W; whether the SCF converged. `filled_min`: the
    threshold of a filled t2g spin-orbital (t2g_filled; default FILLED_MIN)."""
    symbols = atoms.get_chemical_symbols()
    metals = [i for i, s in enumerate(symbols) if s in ("W", "Mo")]
    orbitals = site_orbitals(atoms, metals)
    rows = []
    for b in branches:
        r = b.get("result")
        if r is None:
            continue
        res = branch_steps.step_residuals(r)
        res = res + [None] * (len(r["steps"]) - len(res))
        for st, q in zip(r["steps"], res):
            if st["lambda_eV"] != 0:
                continue
            sites = [natural.natural_orbitals(*[np.asarray(n) for n in st["occupations"][str(a)]]) for a in metals]
            t2g = [t2g_natural(st["occupations"][str(a)], O) for a, O in zip(metals, orbitals)]
            rows.append({"start": b["start"], "check of": b.get("check_of"), "spin": b["spin"], "U (eV)": st["U_eV"],
                         "E_eV": st["energy_eV"], "F_eV": st.get("free_energy_eV", st["energy_eV"]),
                         # GPAW's flag, or capped with the energy met and a density residual <= 1e-4
                         "converged": branch_steps.step_converged(st, q),
                         "‖n↑ − n↓‖": [float(np.linalg.norm(np.subtract(*[np.asarray(n, float) for n in st["occupations"][str(a)]])))
                                       for a in metals],
                         "d counts": [s["d_count"] for s in sites],
                         "|m| (μB)": [abs(s["moment_muB"]) for s in sites],
                         "n1, n2": [(float(w[0]), float(w[1])) for w, _ in t2g],
                         "t2g counts": [float(np.sum(w)) for w, _ in t2g],
                         "filled t2g spin-orbitals": [t2g_filled(st["occupations"][str(a)], O, filled_min)
                                                      for a, O in zip(metals, orbitals)],
                         "a1g weight of n1": [a1g for _, a1g in t2g],
                         "Δd (W2 − W1)": sites[1]["d_count"] - sites[0]["d_count"],
                         "dE/dU (eV/eV)": hubbard_slope(st, metals)})
    for prev, row in zip([None] + rows[:-1], rows):
        row.update(parts(row))
        same = prev is not None and prev["start"] == row["start"]
        row["jump (meV/f.u.)"] = continuity_mismatch(prev, row, n_fu) if same else None
        row["previous U (eV)"] = prev["U (eV)"] if same else None
    for row in rows:
        same = [x["E_eV"] for x in rows if x["U (eV)"] == row["U (eV)"] and x["converged"]]
        row["ΔE (meV/f.u.)"] = 1000 * (row["E_eV"] - min(same)) / n_fu if same else np.nan
    return rows


def on_grid(rows: list) -> list:
    """The rows at the U_eff of the starts' own grids: a check branch's steps in between (a finer grid, kept for its
    Hellmann-Feynman check) have no other state to be compared with, so they are left out of the lowest states
    and the figure."""
    grid = {r["U (eV)"] for r in rows if not r.get("check of")}
    return [r for r in rows if r["U (eV)"] in grid]


def hubbard_slope(step: dict, metals: list) -> float:
    """dF/dU_eff of a DFT+U state (F the free energy) (eV per eV of U_eff, whole cell): sum over the metals and spins of
    Tr[n - n n]/2, Dudarev's form, from the step's d occupation matrices (Hellmann-Feynman)."""
    out = 0.0
    for a in metals:
        for n in step["occupations"][str(a)]:
            n = np.asarray(n, float)
            out += 0.5 * float(np.trace(n - n @ n))
    return out


def continuity_mismatch(prev: dict, row: dict, n_fu: int) -> float:
    """F(U_k) - F(U_k-1) minus the trapezoid integral of dF/dU_eff between the two steps of one branch
    (meV/f.u.; F the Fermi-Dirac free energy, the functional Hellmann-Feynman holds for): near zero when the
    branch follows one state, large when it jumps."""
    dU = row["U (eV)"] - prev["U (eV)"]
    est = dU * 0.5 * (row["dE/dU (eV/eV)"] + prev["dE/dU (eV/eV)"])
    return 1000 * (row["F_eV"] - prev["F_eV"] - est) / n_fu


def parts(row: dict) -> dict:
    """The three parts of the valence claim (helpers.rungs.valence.verdicts.VALENCE_PARTS) judged on one state (a row
    of step_rows): (a) no disproportionation (|Δd| <= DISPROPORTION_MAX; the PAW d count itself counts
    covalent W-Te weight and is not 2) and NOMINAL_T2G filled t2g spin-orbitals on each W (t2g_filled): False
    when the W differ or an integer-like count is not NOMINAL_T2G, None (undetermined) when no W differs
    but a count is fractional (a uniform metal is as consistent with a uniform d3 as with d2), (b) spin 0 as a closed shell (|m| < helpers.rungs.valence.verdicts.M_TOL and
    ||n_up - n_dn|| <= helpers.rungs.valence.verdicts.SPIN_DENSITY_MAX on both W: an open shell with S_z = 0 has no moment but
    a norm of sqrt(2)), (c) one orbital doubly occupied (largest t2g natural occupation >=
    helpers.models.natural.POLARIZED_MIN and above the next by at least natural.GAP_MIN on both W)."""
    filled = row["filled t2g spin-orbitals"]
    d2 = abs(row["Δd (W2 − W1)"]) <= DISPROPORTION_MAX and not any(f is not None and f != NOMINAL_T2G for f in filled)
    return {valence_verdicts.VALENCE_PARTS[0]: None if d2 and None in filled else d2,
            valence_verdicts.VALENCE_PARTS[1]: all(m < valence_verdicts.M_TOL for m in row["|m| (μB)"])
            and all(x <= valence_verdicts.SPIN_DENSITY_MAX for x in row["‖n↑ − n↓‖"]),
            valence_verdicts.VALENCE_PARTS[2]: all(a >= natural.POLARIZED_MIN and a - b >= natural.GAP_MIN for a, b in row["n1, n2"])}


def t2g_natural(occupations, orbitals: np.ndarray) -> tuple[np.ndarray, float]:
    """Natural occupations (descending) of n_up + n_dn within one W's t2g shell (the first three
    columns of its trigonal `orbitals`: a1g, e_pi) and the a1g weight of the first natural orbital."""
    N = np.add(*[np.asarray(n, float) for n in occupations])
    T = orbitals[:, :3]
    w, v = np.linalg.eigh(T.T @ N @ T)
    return w[::-1], float(v[0, -1] ** 2)


def t2g_filled(occupations, orbitals: np.ndarray, filled_min: float | None = None) -> int | None:
    """Number of natural spin-orbitals of n_up and of n_dn within one W's t2g shell (the first three
    columns of its trigonal `orbitals`) occupied above FILLED_MIN: the integer t2g electron count of a
    state whose occupations are near 0 or 1, as at the top of an annealing (2 for d2, 3 for d3). None
    when one lies between EMPTY_MAX and FILLED_MIN (no integer count). `filled_min` replaces FILLED_MIN."""
    top = FILLED_MIN if filled_min is None else filled_min
    T = orbitals[:, :3]
    w = np.concatenate([np.linalg.eigvalsh(T.T @ np.asarray(n, float) @ T) for n in occupations])
    if np.any((w > EMPTY_MAX) & (w < top)):
        return None
    return int(np.sum(w >= top))


def lowest_states(rows: list, margin_meV: float | None = None) -> list:
    """Per U_eff (decreasing): the lowest converged state and what it holds, and each part of the
    valence claim (parts) judged on every converged state within `margin_meV` per f.u. of it (default
    helpers.rungs.valence.verdicts.DEGENERATE_MEV_PER_FU, k_B T at 300 K): True or False where they agree, None
    (undetermined) where they differ, or where a step that did not converge lies below the lowest
    converged state and reads the part otherwise."""
    margin = valence_verdicts.DEGENERATE_MEV_PER_FU if margin_meV is None else margin_meV
    out = []
    for U in sorted({r["U (eV)"] for r in rows}, reverse=True):
        at = [r for r in rows if r["U (eV)"] == U]
        conv = [r for r in at if r["converged"]]
        if not conv:
            continue
        low = min(conv, key=lambda r: r["E_eV"])
        # from this set's own lowest: 'ΔE' of a row is measured from the lowest of all rows at U, and `rows` may be a
        # subset (the spin-restricted states alone)
        second = sorted(r["ΔE (meV/f.u.)"] - low["ΔE (meV/f.u.)"] for r in conv if r is not low)
        near = [r for r in conv if r["ΔE (meV/f.u.)"] - low["ΔE (meV/f.u.)"] <= margin]
        below_rows = [r for r in at if not r["converged"] and r["E_eV"] < low["E_eV"]]
        below = [r["start"] for r in below_rows]
        # an unconverged step below the lowest opens a part only where it reads that part otherwise (or not at all): an
        # unconverged magnet below a converged one cannot undo a failure of spin 0
        judged = {p: (None if len({r[p] for r in near + below_rows}) > 1 else low[p]) for p in valence_verdicts.VALENCE_PARTS}
        out.append({"U (eV)": U, "lowest": low["start"], "next state above (meV/f.u.)": second[0] if second else None,
                    "within the margin": [r["start"] for r in near if r is not low], "unconverged below": below,
                    "lowest alone": {p: low[p] for p in valence_verdicts.VALENCE_PARTS},
                    # no state within the margin decides the part (part (a) of metallic states: no integer t2g count)
                    "silent": {p: all(r[p] is None for r in near) for p in valence_verdicts.VALENCE_PARTS},
                    "d counts": low["d counts"], "|m| (μB)": low["|m| (μB)"], "n1, n2": low["n1, n2"], **judged})
    return out


def lowest_by_U(rows: list, converged_only: bool = False) -> dict:
    """{U_eff: the lowest 'ΔE (meV/f.u.)' among the converged `rows` at that U_eff}; where none converged,
    the lowest of any kind, or (with `converged_only`) no entry."""
    low = {}
    for U in {r["U (eV)"] for r in rows}:
        at = [r for r in rows if r["U (eV)"] == U]
        ok = [r for r in at if r["converged"]] or ([] if converged_only else at)
        if ok:
            low[U] = min(r["ΔE (meV/f.u.)"] for r in ok)
    return low


def relative_to_lowest(rows: list) -> list:
    """Copies of `rows` with 'ΔE (meV/f.u.)' measured from the lowest state among them at the same U_eff
    (lowest_by_U)."""
    low = lowest_by_U(rows)
    return [dict(r, **{"ΔE (meV/f.u.)": r["ΔE (meV/f.u.)"] - low[r["U (eV)"]]}) for r in rows]


def max_spin_orbital(branch: dict, metals: list, U: float) -> float | None:
    """The largest eigenvalue of a W's d occupation matrix per spin (electrons in one spin-orbital) at the
    branch's unbiased step at U_eff `U`, over the metals and spins; None without that step."""
    st = _step(branch, U)
    if st is None:
        return None
    return max(float(np.linalg.eigvalsh(np.asarray(n, float))[-1]) for a in metals for n in st["occupations"][str(a)])


def _metals(page: dict) -> list:
    """Indices of the metal atoms of the page's 1T layer."""
    return [i for i, s in enumerate(page["one_t"].get_chemical_symbols()) if s in ("W", "Mo")]


def _step(branch: dict, U: float) -> dict | None:
    """The unbiased step of a branch at U_eff `U`; None without one."""
    return next((x for x in (branch.get("result") or {}).get("steps", []) if x["U_eV"] == U and x["lambda_eV"] == 0), None)

#: Two rows hold the same state when their filled t2g spin-orbitals agree and each W's two largest t2g natural
#: occupations agree within this (electrons): a count alone cannot tell two metallic states apart (None = None).
SAME_T2G_OCC = 0.05


def _same_state(a: dict, b: dict) -> bool:
    """Whether two rows of step_rows hold the same state per W (filled t2g spin-orbitals, two largest t2g natural
    occupations within SAME_T2G_OCC)."""
    return (a["filled t2g spin-orbitals"] == b["filled t2g spin-orbitals"]
            and all(abs(x - y) <= SAME_T2G_OCC for p, q in zip(a["n1, n2"], b["n1, n2"]) for x, y in zip(p, q)))


def protocol_checks(page: dict) -> list:
    """Per computed check branch (a start run again with another release, mixer or grid: 'check_of'), against
    its start at every U_eff both reached: the largest energy difference (meV/f.u.) and whether every step
    holds the same state (_same_state), both over the U_eff where both steps converged (an unconverged step's
    state is not known), and the steps of either that did not converge."""
    n_fu = sum(s in ("W", "Mo") for s in page["one_t"].get_chemical_symbols())
    out = []
    for b in page["branches"]:
        if not b.get("check_of") or b.get("result") is None:
            continue
        mine = {r["U (eV)"]: r for r in page["rows"] if r["start"] == b["start"]}
        ref = {r["U (eV)"]: r for r in page["rows"] if r["start"] == b["check_of"]}
        common = sorted(set(mine) & set(ref), reverse=True)
        both = [U for U in common if mine[U]["converged"] and ref[U]["converged"]]
        if not both:
            continue
        out.append({"check": b["start"], "of": b["check_of"], "U (eV)": common,
                    "max |ΔE| (meV/f.u.)": max(1000 * abs(mine[U]["E_eV"] - ref[U]["E_eV"]) / n_fu for U in both),
                    "same state": all(_same_state(mine[U], ref[U]) for U in both),
                    "unconverged": sum(not x[U]["converged"] for U in common for x in (mine, ref))})
    return out


def continuous_origins(rows: list, U: float, tol_meV: float = CONTINUITY_TOL_MEV_PER_FU) -> list:
    """The annealing's own reading at U_eff = `U`: for the lowest converged state there and each
    converged state within the thermal margin (lowest_states), whether its branch reached it from its
    first U_eff without a jump (continuity: every step converged, every continuity_mismatch within `tol_meV`
    per f.u.), and if so
    the configuration it started from: [{'start', 'top U (eV)', 'n1, n2', 'filled t2g' and the parts
    at the top, part (a) undetermined there when a W's t2g count is not integer (t2g_filled None)}]."""
    low = next((x for x in lowest_states(rows) if x["U (eV)"] == U), None)
    if low is None:
        return []
    out = []
    top_U = max(r["U (eV)"] for r in rows)
    for start in [low["lowest"], *low["within the margin"]]:
        sub = [r for r in rows if r["start"] == start and r["U (eV)"] >= U]
        if max(r["U (eV)"] for r in sub) < top_U:
            continue                      # started below the top (SETTINGS 'below'): not an annealed configuration
        if continuity(sub, tol_meV) == "continuous":
            top = max(sub, key=lambda r: r["U (eV)"])
            judged = parts(top)
            a = valence_verdicts.VALENCE_PARTS[0]     # d2 on each W: counted at the top, where it needs integer-like occupations
            if judged[a] and None in top["filled t2g spin-orbitals"]:
                judged[a] = None
            out.append({"start": start, "of": top.get("check of"), "top U (eV)": top["U (eV)"], "n1, n2": top["n1, n2"],
                        "filled t2g": top["filled t2g spin-orbitals"], **judged})
    return out


def melting(rows: list, start: str, U: float) -> str:
    """A sentence when the orbital order of branch `start` (n1 - n2 of its t2g natural occupations, smaller W) melts on
    the way from its top to U_eff `U` (below natural.GAP_MIN there, above it at the top): '' otherwise."""
    sub = sorted((r for r in rows if r["start"] == start), key=lambda r: -r["U (eV)"])
    gap = lambda r: min(a - b for a, b in r["n1, n2"])          # noqa: E731
    top, end = sub[0], next((r for r in sub if r["U (eV)"] == U), None)
    if end is None or gap(top) < natural.GAP_MIN or gap(end) >= natural.GAP_MIN:
        return ""
    return (f" Its orbital order melts on the way (n1 − n2 {gap(top):.2f} at {top['U (eV)']:g} eV, {gap(end):.2f} at "
            f"{U:g} eV) without a jump, so (c) is read on the state, not carried from the top.")


def continuity(sub: list, tol_meV: float = CONTINUITY_TOL_MEV_PER_FU) -> str:
    """Whether the rows `sub` of one branch (step_rows in step order, its unbiased steps down to the U_eff read)
    join without a jump: 'jumps' where the mismatch between two converged steps exceeds `tol_meV` (meV/f.u.), the
    mismatches summed over any unconverged steps between them (the sum needs only the converged energies and the
    occupations on the way: an unconverged step's energy, off by its residual, cancels); 'unchecked' where none
    does but a step did not converge (then the state on the way is not known); else 'continuous'."""
    acc, anchored = 0.0, False          # anchored: a converged step lies above, so the sum starts from a known energy
    for r in sub:
        acc += r["jump (meV/f.u.)"] or 0.0
        if not r["converged"]:
            continue
        if anchored and abs(acc) > tol_meV:
            return "jumps"
        acc, anchored = 0.0, True
    return "unchecked" if any(not r["converged"] for r in sub) else "continuous"


def full_bias(page: dict) -> list:
    """Per biased start: what it holds at its first step, the bias at full strength (does the start
    reach the configuration it names?): d counts, |moment| (muB), the three t2g natural occupations and
    the filled t2g spin-orbitals per W, and the filled t2g spin-orbitals once the bias is released (does
    the configuration survive?)."""
    one_t = page["one_t"]
    metals = [i for i, s in enumerate(one_t.get_chemical_symbols()) if s in ("W", "Mo")]
    orbitals = site_orbitals(one_t, metals)
    out = []
    for b in page["branches"]:
        r = b.get("result")
        if r is None or not b.get("targets"):
            continue
        st = r["steps"][0]
        released = next(x for x in r["steps"] if x["lambda_eV"] == 0)
        sites = [natural.natural_orbitals(*[np.asarray(n) for n in st["occupations"][str(a)]]) for a in metals]
        out.append({"start": b["start"], "λ (eV)": st["lambda_eV"], "U (eV)": st["U_eV"],
                    "d counts": [x["d_count"] for x in sites], "|m| (μB)": [abs(x["moment_muB"]) for x in sites],
                    "t2g": [t2g_natural(st["occupations"][str(a)], O)[0] for a, O in zip(metals, orbitals)],
                    "filled t2g": [t2g_filled(st["occupations"][str(a)], O) for a, O in zip(metals, orbitals)],
                    "filled t2g released": [t2g_filled(released["occupations"][str(a)], O) for a, O in zip(metals, orbitals)]})
    return out
