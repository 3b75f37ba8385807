"""Annealing in U: follow branches of UHF states from large to small interaction.

At the first (largest) U every branch starts from its controlled start (helpers.manybody.
configurations); at every later U it starts from its own converged state at the previous U. A
branch stops existing at the first U where, in this order of checks,
    - it does not converge ('not converged'; a step that fails is first retried, see RETRIES), or
    - it has no continuous continuation: the converged state at U differs from the branch's state
      at the previous U by more than `jump_tol` (max abs element of the occupation matrices) even
      after the step is halved `refine` times: the configuration became unstable and the
      self-consistency fell into another state ('no continuous continuation'), or
    - it collapses into another branch: its occupation matrices (every shell, both spins) come
      within `collapse_tol` of those of a living branch of lower F at the same U
      ('collapsed into X'), or
    - it changes identity: a site's d count departs from its reference by more than `count_tol`, or
      its |moment| from the reference |moment| by more than `moment_tol` ('changed identity').
With `follow_fallen`, the converged state that a branch falls into when it ends without a
continuous continuation (or changes identity) is followed from there on as a new branch named
'X → fallen at U eV', so that the states reached at U_min include those not connected to any start.
The reference is the controlled start (`identity_from='start'`), or the branch's own converged
state at the first U (`identity_from='first'`): in a basis where the integer start relaxes at once
to non-integer counts (the W-5d functions of a p-d model, which take up covalent charge), the
branch is then the state that start converges to at U_max. A moment that shrinks continuously to
zero ends as a collapse into the non-magnetic branch (when one is followed), which is why
moment_tol is generous by default. Energies in eV per cell.
"""
from __future__ import annotations

import numpy as np

from . import uhf


#: Solver settings tried in turn when a step does not converge, each continuing from where the
#: previous attempt stopped: Anderson mixing can stall with a stale history (residual frozen at
#: ~1e-4 on metallic d-shell models, along soft charge or orbital modes); linear mixing moves on,
#: and a fresh Anderson run ({} = the step's own settings) then converges. Seen on the 1T layer:
#: a high-spin branch left at dn = 4e-4 after 1600 iterations converged in 55 fresh ones.
RETRIES = ({"mixer": "anderson", "mixing": 0.1, "history": 10},
           {"mixer": "linear", "mixing": 0.2, "max_iter": 300}, {})


def solve_with_retries(hk, shells, interactions, n_electrons, start, width: float, solver_kw: dict,
                       retries=RETRIES) -> uhf.UHFResult:
    """uhf.solve from `start`; if it does not converge, continue from where it stopped with each of
    `retries` in turn (a stalled Anderson history is the usual cause, see RETRIES)."""
    r = uhf.solve(hk, shells, interactions, n_electrons, start, width=width, **solver_kw)
    for fallback in retries:
        if r.converged:
            break
        r = uhf.solve(hk, shells, interactions, n_electrons, r.occupations, width=width,
                      **{**solver_kw, **fallback})
    return r


def _identity(occ) -> list:
    return [(s["d_count"], abs(s["moment"])) for s in (uhf.site_summary(u, d) for u, d in occ)]


def _distance(occ_a, occ_b) -> float:
    return max(float(np.abs(x - y).max()) for pa, pb in zip(occ_a, occ_b) for x, y in zip(pa, pb))


def anneal(hk, shells, interactions_at, n_electrons, starts: dict, U_grid, width: float = 0.02,
           collapse_tol: float = 1e-3, count_tol: float = 0.5, moment_tol: float = 0.75,
           solver_kw: dict | None = None, retries=RETRIES, identity_from: str = "start",
           jump_tol: float = 0.2, refine: int = 2, follow_fallen: bool = True,
           verbose: bool = True, observe=None) -> dict:
    """Follow every start of `starts` (name -> per-shell (n_up, n_dn)) along U_grid (eV, strictly
    decreasing). interactions_at(U) returns the per-shell Interactions at U. Returns a JSON-able
    dict: {'U_grid', 'settings', 'branches': {name: {'steps', 'fate', 'ends_at_U', 'final'}}}, each
    step {U, F, E, converged, iterations, total_moment, sites (uhf.site_summary per shell),
    valid}; a step that does not converge is retried with each of `retries` (solver settings)
    before the branch is declared not converged; 'ends_at_U' is the U of the last step, where the fate was decided (U_min for survivors),
    'final' the last UHF state (UHFResult.to_dict). With `observe` (a function of the UHFResult
    returning JSON-able data, e.g. occupations of chosen orbitals), every step also holds
    'observed': observe(result)."""
    U_grid = [float(u) for u in U_grid]
    if len(U_grid) == 0 or any(b >= a for a, b in zip(U_grid, U_grid[1:])):
        raise ValueError(f"U_grid: need a non-empty, strictly decreasing list, got {U_grid}")
    if not starts:
        raise ValueError("starts: no branch to follow")
    kw = dict(solver_kw or {})
    for idx, (name, st) in enumerate(starts.items()):
        if idx == 0:
            uhf.validate(hk, shells, interactions_at(U_grid[0]), n_electrons, st, kw.get("mixer", "anderson"), width)
        elif len(st) != len(shells):
            raise ValueError(f"starts[{name!r}]: {len(st)} entries for {len(shells)} shells")
    if identity_from not in ("start", "first"):
        raise ValueError(f"identity_from={identity_from!r}: choose 'start' or 'first'")
    ident0 = {name: _identity(st) for name, st in starts.items()}
    state = {name: st for name, st in starts.items()}
    branches = {name: {"steps": [], "fate": None, "ends_at_U": None, "final": None} for name in starts}
    def converge(U, start, retry=True):
        return solve_with_retries(hk, shells, interactions_at(U), n_electrons, start, width, kw,
                                  retries if retry else ())

    def follow(U_from, U_to, start, depth):
        """The state at U_to reached continuously from `start` (converged at U_from): a step whose
        occupations move by more than jump_tol is split in two, `depth` times at most. Returns
        (result, substeps used, continuous)."""
        # retries only where no further halving is possible: a failing step is split first
        r = converge(U_to, start, retry=depth == 0 or U_from is None)
        if U_from is None or (r.converged and _distance(r.occupations, start) <= jump_tol):
            return r, 0, True
        if depth == 0:
            return r, 0, False
        mid, n1, ok1 = follow(U_from, 0.5 * (U_from + U_to), start, depth - 1)
        if not (ok1 and mid.converged):
            return mid, n1 + 1, False
        r, n2, ok2 = follow(0.5 * (U_from + U_to), U_to, mid.occupations, depth - 1)
        return r, n1 + n2 + 1, ok2

    U_prev = None
    for U in U_grid:
        results, jumped = {}, set()
        for name in list(state):
            r, nsub, continuous = follow(U_prev, U, state[name], refine)
            if not continuous and r.converged:
                jumped.add(name)
            results[name] = r
            branches[name]["steps"].append({"U": U, "F": r.free_energy, "E": r.energy, "converged": r.converged,
                                            "iterations": r.iterations, "dF": r.dF, "dn": r.dn, "total_moment": r.total_moment,
                                            "substeps": nsub, "sites": r.sites(), "valid": True})
            if observe is not None:
                branches[name]["steps"][-1]["observed"] = observe(r)
            branches[name]["final"] = r.to_dict()
        U_prev = U
        ended = {}
        for name, r in results.items():
            if not r.converged:
                ended[name] = "not converged"
            elif name in jumped:
                ended[name] = "no continuous continuation"
        alive = sorted((n for n in results if n not in ended), key=lambda n: results[n].free_energy)
        kept = []
        for name in alive:
            target = next((o for o in kept if _distance(results[name].occupations, results[o].occupations)
                           < collapse_tol), None)
            if target is not None:
                ended[name] = f"collapsed into {target}"
                continue
            now = _identity(results[name].occupations)
            if identity_from == "first" and U == U_grid[0]:
                ident0[name] = now
            if any(abs(d - d0) > count_tol or abs(m - m0) > moment_tol
                   for (d, m), (d0, m0) in zip(now, ident0[name])):
                ended[name] = "changed identity"
                continue
            kept.append(name)
        for name, fate in ended.items():
            branches[name]["fate"] = fate
            branches[name]["ends_at_U"] = U
            branches[name]["steps"][-1]["valid"] = False
            del state[name]
            r = results[name]
            if follow_fallen and r.converged and fate in ("no continuous continuation", "changed identity") \
                    and U != U_grid[-1] and not any(_distance(r.occupations, results[o].occupations) < collapse_tol
                                                    for o in kept):
                # the state it fell into is a stationary state too: follow it as a branch of its own
                new = f"{name} → fallen at {U:g} eV"
                branches[new] = {"steps": [{**branches[name]["steps"][-1], "valid": True}], "fate": None,
                                 "ends_at_U": None, "final": r.to_dict(), "born_at_U": U}
                state[new] = r.occupations
                ident0[new] = _identity(r.occupations)
        for name in kept:
            state[name] = results[name].occupations
        if verbose:
            best = min(kept, key=lambda n: results[n].free_energy) if kept else None
            line = f"U = {U:7.3f} eV: {len(kept)} branches alive"
            if best is not None:
                line += f", lowest F {results[best].free_energy:.6f} eV ({best})"
            if ended:
                line += "; ended: " + ", ".join(f"{n} ({f})" for n, f in ended.items())
            print(line, flush=True)
        if not state:
            break
    for name in state:
        branches[name]["fate"] = "survives to U_min"
        branches[name]["ends_at_U"] = U_grid[-1]
    for name, br in branches.items():
        br["reference_identity"] = [list(map(float, x)) for x in ident0[name]]
    return {"U_grid": U_grid, "branches": branches,
            "settings": {"width": width, "collapse_tol": collapse_tol, "count_tol": count_tol,
                         "moment_tol": moment_tol, "n_electrons": float(n_electrons),
                         "identity_from": identity_from, "jump_tol": jump_tol, "refine": refine}}


def ground_branch(result: dict) -> str:
    """Name of the branch that reaches the lowest U (its last valid step) with the lowest F there."""
    best, key = None, None
    for name, br in result["branches"].items():
        valid = [s for s in br["steps"] if s["valid"]]
        if not valid:
            continue
        k = (valid[-1]["U"], valid[-1]["F"])
        if key is None or k < key:
            best, key = name, k
    if best is None:
        raise ValueError("result: no branch has a valid (converged, itself) step")
    return best
