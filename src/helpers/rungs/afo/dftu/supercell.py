"""DFT+U ordered states in the cell doubled along the W chains (4 W), the paper's method on orders of a
longer period than the primitive cell allows.

Patterns as in helpers.rungs.afo.ordered: 'P|Q' gives one primitive pattern per sub-cell, sub-cells in C
order over the repetitions (as ASE's Atoms.repeat orders its copies): 'b2b2|c2c2' alternates b and c
along each chain, 'b2c2|c2b2' alternates the polar AFO with its inversion partner; a pattern without
'|' is repeated in every sub-cell. Each start is biased within a, b, c (helpers.rungs.afo.dftu.plans.pattern_targets
with subspace) at U_eff, released to zero there, and read from its natural orbitals: which of a, b, c
each W fills, never the start's name. Energies per formula unit (one W) from the unbiased state of the
same cell, U_eff and numerics.
"""
from __future__ import annotations

import numpy as np

from helpers.dft import branch_steps
from helpers.dft import jobs as dft_jobs
from helpers.models import natural as nat
from helpers.store import cache
from . import plans as afo_dftu_plans
from . import states as afo_dftu_states
from ..ordered.patterns import check_cell


#: Per profile: the repetitions of the primitive cell, U_eff (eV), release schedule (eV), SCF caps
#: [biased steps, last], the starts; None where the profile computes no supercell.
SETTINGS = {
    "smoke": None,
    # at 6 eV, where the primitive cell's ordered starts end near lambda = 0.3 eV (at 3 eV they are long gone);
    # the fine release of the primitive cell's b2b2 and b2c2
    "paper": {"cell": [2, 1, 1], "U_eV": 6.0, **afo_dftu_plans.FINE_RELEASE, "starts": ["unbiased", "b2b2|c2c2", "b2c2|c2b2"],
              # with the fine release both ordered starts stopped at the cap in the lambda = 0.25 eV step (density
              # residual 10^-3.2) while still partly ordered, so neither release is controlled. The same starts again
              # with steps of 0.05 eV through that region and each step a new SCF from the current density with
              # MSR1 (which converged the 1T layer's stalled release steps): a release that converges decides
              "second_release": {"label": "finer steps, MSR1", "release": [1.0, 0.5, 0.35, 0.3, 0.25, 0.2, 0.15, 0.1,
                                                                          0.05, 0.0],
                                 "maxiter": [200, 200], "mixer": {"backend": "msr1", "fresh_each_step": True},
                                 "starts": ["b2b2|c2c2", "b2c2|c2b2"]}},
}
#: Two W whose largest natural occupations and d counts each differ by at most this (electrons, as rounded in
#: the rows) hold the same state.
SAME_OCCUPATION = 0.01
#: The letter read for a W whose natural orbitals are not polarized (gap below natural.GAP_MIN).
UNPOLARIZED = "·"


def sub_patterns(pattern: str, n_cells: int) -> list:
    """The primitive pattern of each sub-cell of 'P|Q|...' (one per sub-cell) or of a plain 'P' (repeated)."""
    parts = pattern.split("|")
    if len(parts) == 1:
        parts = parts * n_cells
    if len(parts) != n_cells or any(p not in afo_dftu_plans.PATTERNS for p in parts):
        raise ValueError(f"pattern={pattern!r}: need one of {list(afo_dftu_plans.PATTERNS)} or {n_cells} of them joined "
                         f"by '|' (one per sub-cell)")
    return parts


def pattern_targets(pattern: str, orbitals: np.ndarray, metals: list, cell) -> dict:
    """Occupation-control targets (spin-restricted, bias within a, b, c) of a supercell pattern on the
    supercell's metals `metals` (in Atoms.repeat order: the primitive cell's metals, copy after copy):
    each sub-cell's pattern through helpers.rungs.afo.dftu.plans.pattern_targets."""
    n = int(np.prod(check_cell(cell)))
    if len(metals) % n:
        raise ValueError(f"metals={metals!r}: not the same number of metals in each of {n} sub-cells")
    per = len(metals) // n
    out = {}
    for i, p in enumerate(sub_patterns(pattern, n)):
        out.update(afo_dftu_plans.pattern_targets(p, orbitals, metals[i * per:(i + 1) * per], subspace=True))
    return out


def jobs(profile: str, orbitals: np.ndarray, metals: list) -> list:
    """The supercell starts of a profile ([] where it computes none): per start its targets (None for
    the unbiased one), U_eff, release, caps, mixer (None: GPAW's Pulay, helpers.dft.jobs.PULAY_MIXER) and cell,
    'schedule' '' for the profile's release and the second release's label for the starts run again with it
    ('second_release'); 'name' is the start's name with that label, the workflow's key."""
    S = SETTINGS.get(profile)
    if S is None:
        return []
    cell = check_cell(S["cell"])
    plans = [("", S, S["starts"])]
    if S.get("second_release"):
        R = S["second_release"]
        plans.append((R["label"], R, R["starts"]))
    out = []
    for label, R, starts in plans:
        for st in starts:
            if st not in S["starts"]:
                raise ValueError(f"start {st!r} of the second release of {profile!r}: not one of {S['starts']}")
            out.append({"state": st, "name": st + (f", {label}" if label else ""), "schedule": label, "spin": "restricted",
                        "U_eV": float(S["U_eV"]), "cell": list(cell),
                        "targets": None if st == "unbiased" else pattern_targets(st, orbitals, metals, cell),
                        "release": list(R["release"]), "maxiter": list(R["maxiter"]), "mixer": R.get("mixer")})
    return out


def supercell(atoms, cell):
    """The primitive layer repeated (ASE's Atoms.repeat) and its metal indices."""
    big = atoms.repeat(check_cell(cell))
    return big, [i for i, s in enumerate(big.get_chemical_symbols()) if s in ("W", "Mo", "Re")]


def run(atoms, settings: dict, material: str, orbitals: np.ndarray, only_cached: bool = False,
        select=None) -> list:
    """Every supercell start of the profile (with `select`, those it accepts) through
    helpers.dft.jobs.dftu_branch with the Pulay mixer, on the primitive layer `atoms` repeated; cached
    (`only_cached`: those not in the cache get result None)."""
    S = SETTINGS.get(settings["profile"])
    if S is None:
        return []
    big, metals = supercell(atoms, S["cell"])
    out = [j for j in jobs(settings["profile"], orbitals, metals) if select is None or select(j)]
    tag = "x".join(str(x) for x in S["cell"])
    for j in out:
        j["result"] = dft_jobs.dftu_branch_or_none(only_cached, big, settings, f"{material}-relaxed-d2-{tag}-U{j['U_eV']:g}-NM",
                                                   [j["U_eV"]], targets=j["targets"], release=j["release"],
                                                   metal=big.get_chemical_symbols()[metals[0]], maxiter=j["maxiter"],
                                                   mixer=j["mixer"] or dft_jobs.PULAY_MIXER)
    return out


def read_pattern(step: dict, metals: list, orbitals: np.ndarray, per_cell: int) -> tuple[str, list]:
    """What a step's state is, per W: the letter (a, b, c) carrying most of the W's filled natural
    orbital when the W is polarized (helpers.models.natural: its two largest natural occupations apart
    by at least GAP_MIN), else UNPOLARIZED; as a pattern 'b2c2|c2b2' (sub-cells of `per_cell` metals),
    or 'unpolarized' when no W is polarized. Also the per-W natural-orbital records."""
    sites = [nat.natural_orbitals(*[np.asarray(n) for n in step["occupations"][str(a)]]) for a in metals]
    letters = []
    for s in sites:
        if s["polarization"] < nat.GAP_MIN:
            letters.append(UNPOLARIZED)
        else:
            letters.append("abc"[int(np.argmax(nat.filled_orbital_overlaps(s, np.asarray(orbitals)[:, :3])))])
    if all(x == UNPOLARIZED for x in letters):
        return "unpolarized", sites
    cells = ["".join(f"{x}2" for x in letters[i:i + per_cell]) for i in range(0, len(letters), per_cell)]
    return "|".join(cells), sites


def state_rows(jobs_: list, metals: list, orbitals: np.ndarray) -> list:
    """One row per computed start at its final, unbiased step: the pattern read (read_pattern), per W the
    largest natural occupation and d count, ΔE from the unbiased state of the cell (meV per f.u., one W),
    the constrained energy at full bias (E - E_bias, same reference), whether the SCF converged and the
    release was controlled (helpers.rungs.afo.dftu.states.release_controlled: every step before converged, the bias dropped to
    zero from at most RELEASE_LAST_MAX, order not lost only when the bias went), and p_z (e·Å per cell)."""
    per_cell = len(metals) // int(np.prod(jobs_[0]["cell"])) if jobs_ else 2
    rows = []
    for j in jobs_:
        r = j.get("result")
        if r is None:
            continue
        st, first = r["steps"][-1], r["steps"][0]
        pattern, sites = read_pattern(st, metals, orbitals, per_cell)
        res = branch_steps.step_residuals(r)
        res = res + [None] * (len(r["steps"]) - len(res))
        rows.append({"start": j["state"], "release": j.get("schedule") or "profile's", "U (eV)": st["U_eV"], "state read": pattern,
                     "largest natural occupation per W": ", ".join(f"{s['occupations'][0]:.2f}" for s in sites),
                     "d counts": ", ".join(f"{s['d_count']:.2f}" for s in sites),
                     "E_eV": st["energy_eV"],
                     "_E_constrained": (first["energy_eV"] - first.get("bias_energy_eV", 0.0)
                                        if first.get("lambda_eV", 0) > 0 else None),
                     "converged": branch_steps.step_converged(st, res[-1]),
                     "release controlled": afo_dftu_states.release_controlled(
                         r, res, lambda x: read_pattern(x, metals, orbitals, per_cell)[0] != "unpolarized")[0],
                     "p_z (e·Å)": st["dipole_eA"][2]})
    ref = [x["E_eV"] for x in rows if x["start"] == "unbiased" and x["converged"]]   # a stalled SCF is no reference
    n_fu = len(metals)
    for x in rows:
        ec = x.pop("_E_constrained")
        x["ΔE (meV/f.u.)"] = 1000 * (x["E_eV"] - ref[0]) / n_fu if ref else np.nan
        x["ΔE constrained, full bias (meV/f.u.)"] = 1000 * (ec - ref[0]) / n_fu if ref and ec is not None else np.nan
    return rows


def verdict(rows: list, gain_meV: float, starts: list) -> dict:
    """A test of longer-period orders (not a second verdict on the primitive cell's claims): 'found' when a
    converged state with b or c filled on every W lies at least `gain_meV` (meV/f.u., the paper's gain)
    below the unbiased one; 'none found' when every planned start is computed, every release controlled
    and none does; else 'undetermined'. {outcome, evidence}."""
    done = {r["start"] for r in rows}
    ordered = [r for r in rows if r["converged"] and r["state read"] != "unpolarized"
               and all(c in "bc" for c in r["state read"].replace("2", "").replace("|", ""))]
    best = min(ordered, key=lambda r: r["ΔE (meV/f.u.)"]) if ordered else None
    tail = (f"lowest ordered state: {best['state read']} from {best['start']}, {best['ΔE (meV/f.u.)']:+.0f} meV/f.u."
            if best else "no ordered state of b and c survives the release")
    if best is not None and -best["ΔE (meV/f.u.)"] >= gain_meV:
        return {"outcome": "found", "evidence": tail}
    if not set(starts) <= done:
        return {"outcome": "undetermined", "evidence": f"starts not computed: {', '.join(s for s in starts if s not in done)}; " + tail}
    # a start counts once one of its releases (the profile's, or the second one) is controlled and settled: its
    # final step converged, or back in the unpolarized state (one that ended unconverged and ordered is unknown)
    loose = sorted({r["start"] for r in rows if r["start"] != "unbiased"}
                   - {r["start"] for r in rows if r["start"] != "unbiased" and r["release controlled"]
                      and (r["converged"] or r["state read"] == "unpolarized")})
    if loose:
        return {"outcome": "undetermined", "evidence": f"no release controlled for {', '.join(loose)}; " + tail}
    return {"outcome": "none found", "evidence": tail}


def cell_check(rows: list, primitive_rows: list) -> float | None:
    """The unbiased supercell energy per f.u. minus the unbiased primitive-cell one at the same U_eff
    and numerics (meV/f.u.; None when either is missing): the same k density makes them equal to the
    k-sampling error, a check of the cell, not of the paper."""
    sc = [r for r in rows if r["start"] == "unbiased" and r["converged"]]
    if not sc:
        return None
    prim = [r for r in primitive_rows if r["start"] == "unbiased" and r["spin"] == "restricted" and r["converged"]
            and r["U (eV)"] == sc[0]["U (eV)"] and r.get("numerics", afo_dftu_plans.PROFILE_NUMERICS) == afo_dftu_plans.PROFILE_NUMERICS]
    if not prim:
        return None
    n_sc = len(sc[0]["d counts"].split(", "))          # one W per f.u.
    return 1000 * (sc[0]["E_eV"] / n_sc - prim[0]["E_eV"] / 2)


def page_results(material: str, settings: dict, atoms, orbitals: np.ndarray, gain_meV: float,
                 primitive_rows: list, only_cached: bool | None = None) -> dict:
    """What the AFO page shows of the supercell: its starts on the primitive layer `atoms` repeated
    (computed, or with COMPENDIUM_REQUIRE_CACHE=1 read from the cache only, the others named in
    'missing'), their rows, the verdict on the paper's gain `gain_meV` (meV/f.u.), the cell check
    against the primitive cell's rows (helpers.rungs.afo.dftu.states.state_table) and the results read."""
    import contextlib
    import os

    S = SETTINGS.get(settings["profile"])
    if S is None:
        return {"planned": False, "rows": [], "missing": [], "results": []}
    if only_cached is None:
        only_cached = os.environ.get("COMPENDIUM_REQUIRE_CACHE") == "1"
    with cache.cache_only() if only_cached else contextlib.nullcontext():
        branches = run(atoms, settings, material, orbitals, only_cached=only_cached)
    _, metals = supercell(atoms, S["cell"])
    rows = state_rows(branches, metals, orbitals)
    return {"planned": True, "cell": S["cell"], "U_eV": S["U_eV"], "rows": rows,
            "verdict": verdict(rows, gain_meV, S["starts"]), "cell check (meV/f.u.)": cell_check(rows, primitive_rows),
            "primitive, full bias (meV/f.u.)": primitive_full_bias(primitive_rows, S["U_eV"]),
            "missing": [b["name"] for b in branches if b.get("result") is None],
            "results": [b["result"] for b in branches if b.get("result") is not None]}


def primitive_full_bias(primitive_rows: list, U_eV: float) -> dict:
    """{start: constrained energy with the bias at full strength, meV/f.u. from the unpolarized state} of the
    primitive cell's b2b2, c2c2 and b2c2 biased within a, b, c and released at `U_eV` (the annealed protocol
    of helpers.rungs.afo.dftu that starts there, main reading, profile's numerics): the same bias, in the smaller cell."""
    protocol = afo_dftu_plans.annealed_protocol(U_eV, True, "b2b2")
    out = {}
    for r in primitive_rows:
        if (r["protocol"] == protocol and r["U (eV)"] == U_eV and r["reading"] == afo_dftu_plans.MAIN_READING
                and r["spin"] == "restricted" and r["start"] in ("b2b2", "c2c2", "b2c2") and not r.get("convergence check")):
            e = r.get("ΔE constrained, full bias (meV/f.u.)")
            if e is not None and np.isfinite(e):
                out.setdefault(r["start"], e)
    return out


def findings(page: dict) -> str:
    """Markdown: the supercell's verdict on the paper's gain, what each start ends in, the same bias in the
    primitive cell for comparison, and the cell check."""
    if not page["planned"]:
        return "No supercell is computed at this profile."
    cell = "×".join(str(x) for x in page["cell"])
    v = page["verdict"]
    lines = [f"**Longer-period orders, cell {cell} (doubled along the chains), spin-restricted, $U_\\mathrm{{eff}}$ = "
             f"{page['U_eV']:g} eV — an ordered state below the unbiased one by the paper's gain: {v['outcome']}** "
             f"({v['evidence']})."]
    for r in page["rows"]:
        if r["start"] != "unbiased":
            dE = 0.0 if abs(r["ΔE (meV/f.u.)"]) < 0.5 else r["ΔE (meV/f.u.)"]     # no "-0"
            how = "" if r.get("release", "profile's") == "profile's" else f" (released with {r['release']})"
            lines.append(f"- Start {r['start']}{how}: ends in {r['state read']} ({dE:+.0f} meV/f.u.; with the "
                         f"bias at full strength {r['ΔE constrained, full bias (meV/f.u.)']:+.0f}); "
                         + ("controlled release." if r["release controlled"] else "release not controlled."))
    prim = page.get("primitive, full bias (meV/f.u.)") or {}
    if prim and any(r["start"] != "unbiased" for r in page["rows"]):
        lines.append("- For comparison, the primitive cell's starts biased the same way at the same $U_\\mathrm{eff}$, at full "
                     "strength: " + ", ".join(f"{s} {e:+.0f}" for s, e in prim.items()) + " meV/f.u. from its unpolarized "
                     "state.")
    d = page["cell check (meV/f.u.)"]
    if d is not None:
        u = next(r for r in page["rows"] if r["start"] == "unbiased" and r["converged"])
        occ = [float(x) for x in u["largest natural occupation per W"].split(", ")]
        dcount = [float(x) for x in u["d counts"].split(", ")]
        same = max(occ) - min(occ) <= SAME_OCCUPATION and max(dcount) - min(dcount) <= SAME_OCCUPATION
        lines.append(f"- The unbiased state of the doubled cell lies {d:+.2f} meV/f.u. from the primitive cell's at the same "
                     "k density (a check of the cell, not of the paper). "
                     + (f"Its {len(occ)} W hold the same largest natural occupation ({occ[0]:.2f}): the primitive cell's "
                        "state repeated, so the offset is the numerics of the two cells (real-space grid, k folding), and "
                        "ordered states are compared with this cell's own unbiased state." if same else
                        f"Its W differ (largest natural occupations {u['largest natural occupation per W']}): a "
                        "modulation of longer period than the primitive cell."))
    if page["missing"]:
        lines.append("- Starts planned but not yet computed: " + "; ".join(page["missing"]) + ".")
    return "\n".join(lines)
