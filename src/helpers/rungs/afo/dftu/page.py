"""Everything the AFO page shows from DFT+U, read from the cache, with the numerics and schedule checks."""
from __future__ import annotations

import contextlib
import numpy as np

from helpers.dft.branch_steps import RESIDUAL_STRICT_LOG10, step_residuals
from helpers.store import cache
from .findings import AFO_CHECKS
from .plans import MAIN_READING, PROFILE_NUMERICS, SETTINGS, comparable_key, run_annealed, run_branches
from .readings import reading_identities, relabellings
from .states import _numerics_detail, annealed_steps, reference_rereads, release_end, release_rows, state_table
from .verdicts import CLAIM_WORDS, GAP_CHECKS, claim_verdict, verdicts


def schedule_agreement(annealed: list, checks: list, n_fu: int) -> list:
    """Per start run with two release schedules (annealed_jobs and schedule_check_jobs, both computed):
    per U_eff after the release, the unbiased energies of the two runs (difference in meV/f.u.) and
    whether their W occupation matrices agree (largest element difference of n_up + n_dn). A state
    that does not depend on the schedule gives the same energy and density. Rows {start, protocol,
    U (eV), schedules, ΔE (meV/f.u.), max |Δn|}."""
    out = []
    for c in checks:
        main = [j for j in annealed if (j["state"], j["protocol"]) == (c["state"], c["protocol"])]
        if c.get("result") is None or not main or main[0].get("result") is None:
            continue
        a = {s["U_eV"]: s for s in main[0]["result"]["steps"] if s["lambda_eV"] == 0}
        b = {s["U_eV"]: s for s in c["result"]["steps"] if s["lambda_eV"] == 0}
        ends = [release_end(j["result"]) for j in (main[0], c)]
        for U in sorted(set(a) & set(b), reverse=True):
            dn = max(np.abs(np.add(*np.asarray(a[U]["occupations"][k])) - np.add(*np.asarray(b[U]["occupations"][k]))).max()
                     for k in a[U]["occupations"])
            out.append({"start": c["state"], "protocol": c["protocol"], "U (eV)": U,
                        "schedules": f"{len(main[0]['settings']['release'])} and {len(c['settings']['release'])} release steps",
                        "ΔE (meV/f.u.)": 1000 * (a[U]["energy_eV"] - b[U]["energy_eV"]) / n_fu, "max |Δn|": float(dn),
                        "ends between λ (eV)": " | ".join(ends)})
    return out

#: The starts whose release is repeated on other numerics (numerics_convergence), with their reading of a, b, c.
CONVERGENCE_STARTS = (("b2b2", MAIN_READING), ("b2c2", "local octahedral frame"))


def numerics_convergence(jobs: list, rows: list, n_fu: int, start: str = "b2b2", reading: str = MAIN_READING) -> list:
    """The k-grid and smearing check (the protocols marked 'convergence', one U_eff): per numerics, `start`
    (in `reading`) released with the same schedule, on the profile's numerics (the main annealed branch's steps
    at that U_eff) and on the others; the unbiased energy against the profile's numerics (meV/f.u.), the constrained
    energy E - E_bias at each bias strength from the unbiased state of the same numerics (meV/f.u.), the two
    bias strengths between which the occupation matrices change most (where the biased minimum ends), the
    state after the release and whether every step converged. Near the branch's end lies the verdict's
    margin: the check holds when these move little against it. [] when no check is planned."""
    planned = [j for j in jobs if j.get("convergence") and j["state"] == start and j["reading"] == reading]
    if not planned:
        return []
    U0, R = planned[0]["U_grid"][0], planned[0]["settings"]["release"]
    base = [j for j in jobs if not j.get("convergence") and j["state"] == start and j["spin"] == "restricted"
            and j["reading"] == reading and j["U_grid"][0] == U0 and j["settings"].get("subspace") and j["settings"]["release"] == R
            and not j.get("numerics")]
    chosen = {(j["state"], j["protocol"]) for j in base[:1] + planned}
    rel = [r for r in release_rows(jobs, n_fu, which="all") if (r["start"], r["protocol"]) in chosen]
    refs = lambda numerics: [r for r in rows if r["start"] == "unbiased" and r["converged"]   # noqa: E731
                             and comparable_key(r) == ("restricted", U0, numerics)]
    ref0 = refs(PROFILE_NUMERICS)
    out = []
    for j in base[:1] + planned:
        numerics = j.get("numerics") or PROFILE_NUMERICS
        ref = refs(numerics)
        mine = [r for r in rel if r["protocol"] == j["protocol"]]
        end = [r for r in rows if r["start"] == start and r["protocol"] == j["protocol"] and r["U (eV)"] == U0]
        jump = max(range(1, len(mine)), key=lambda k: mine[k]["max |Δn| from previous step"]) if len(mine) > 1 else None
        detail = _numerics_detail((j.get("result") or {}).get("inputs")) or (ref[0]["k grid, width (eV)"] if ref else "")
        out.append({"start": start, "reading": reading, "numerics": numerics, "k grid, width (eV)": detail,
                    "E_unbiased − profile's (meV/f.u.)": (1000 * (ref[0]["E_eV"] - ref0[0]["E_eV"]) / n_fu
                                                         if ref and ref0 else np.nan),
                    "E − E_bias by λ (meV/f.u.)": ", ".join(f"{r['lambda (eV)']:g}: {r['E - E_bias - E_ref (meV/f.u.)']:+.0f}"
                                                           + ("" if r["converged"] else " (not converged)")
                                                           for r in mine if r["lambda (eV)"] > 0) or "not computed",
                    "branch ends between λ (eV)": (f"{mine[jump - 1]['lambda (eV)']:g} and {mine[jump]['lambda (eV)']:g}"
                                                  if jump else ""),
                    # the lowest constrained energy along the release: no biased configuration lies lower
                    "lowest E − E_bias (meV/f.u.)": min((r["E - E_bias - E_ref (meV/f.u.)"] for r in mine
                                                         if r["lambda (eV)"] > 0), default=np.nan),
                    "state after the release": end[0]["state"] if end else "not computed",
                    "every step converged": all(r["converged"] for r in mine) if mine else None})
    return out


def page_results(material: str, settings: dict, m: dict, readings_: dict, gain_meV: float,
                 dipole_norm=None, only_cached: bool | None = None) -> dict:
    """Everything the AFO page shows of DFT+U: the branches of the profile on the layer model
    `m`'s structure (helpers.rungs.afo.layers.layer_model) with targets from `readings_`
    (identity.reading results by name), the state table (state_table, a, b, c of the main reading
    'energy order'), the verdicts against the paper's gain `gain_meV` (meV/f.u.), the planned
    branches not in the cache ('missing', only when COMPENDIUM_REQUIRE_CACHE=1) and the cache
    entries read. `only_cached` (default: COMPENDIUM_REQUIRE_CACHE=1) reads the cache and computes nothing."""
    atoms = m["atoms"]
    symbols = atoms.get_chemical_symbols()
    metals = [i for i, s in enumerate(symbols) if s in ("W", "Mo", "Re")]
    orbs = {r: np.asarray(readings_[r]["orbitals"]) for r in SETTINGS[settings["profile"]]["readings"]}
    import os
    # a page built from the cache alone (COMPENDIUM_REQUIRE_CACHE=1) shows the planned branches not yet
    # computed as such; the verdicts then stay undetermined
    if only_cached is None:
        only_cached = os.environ.get("COMPENDIUM_REQUIRE_CACHE") == "1"
    with cache.cache_only() if only_cached else contextlib.nullcontext():
        jobs = run_branches(atoms, settings, material, orbs, only_cached=only_cached)
        every = {r: np.asarray(x["orbitals"]) for r, x in readings_.items()}
        annealed = run_annealed(atoms, settings, material, every, only_cached=only_cached)
    # second release schedules: read from the cache only (a check, never computed by building the page)
    checks = run_annealed(atoms, settings, material, every, only_cached=True, checks=True)
    # every branch as state-table records, the annealed ones cut per U_eff (their GPAW logs read once)
    records = [dict(j, residuals=step_residuals(j["result"])) if j.get("result") else j for j in jobs] + annealed_steps(annealed)
    # and the unbiased states read again in each other reading a protocol uses: the verdicts rank in those readings
    # against them; the page's state table shows each state once, in its own reading
    records += reference_rereads(records)
    every_row = state_table(records, metals, orbs["energy order"], len(metals), dipole_norm)
    rows = [r for r in every_row if not r.get("re-read")]
    missing = [f"{j['state']} ({j['spin']}, U = {j['U_eV']:g} eV, {j['reading']})" for j in jobs if j.get("result") is None]
    missing += [f"{j['state']} ({j['protocol']})" for j in annealed if j.get("result") is None]
    numerics = [c for st, rd in CONVERGENCE_STARTS for c in numerics_convergence(annealed, rows, len(metals), st, rd)]
    U_check = next((j["U_grid"][0] for j in annealed if j.get("convergence")), None)
    # whether a is each reading's lowest on-site level (the gain's premise; helpers.models.identity.reading)
    a_low = {r: bool(x["a lowest"]) for r, x in readings_.items() if "a lowest" in x}
    # the polarization threshold of the natural occupations is a choice of ours: the verdicts again at GAP_CHECKS
    thresholds = {}
    for g in GAP_CHECKS:
        v = verdicts(state_table(records, metals, orbs["energy order"], len(metals), gap_min=g),
                     gain_meV, a_low)
        thresholds[g] = {c: claim_verdict(v, c) for c in CLAIM_WORDS}
    # a state that is neither FO nor AFO in the main reading may be a clean order in another
    identities = reading_identities([r for r in records if not r.get("re-read")], metals, every)
    # and the overlap below which a pair of filled orbitals reads AFO
    overlaps = {a: {c: claim_verdict(verdicts(state_table(records, metals, orbs["energy order"], len(metals), afo_max=a),
                                              gain_meV, a_low), c) for c in CLAIM_WORDS} for a in AFO_CHECKS}
    # so is the residual a step stopped at its cap may end with: the verdicts again with GPAW's own flag alone
    strict = verdicts(state_table([dict(r, residuals=[]) for r in records], metals, orbs["energy order"], len(metals)),
                      gain_meV, a_low)
    residual_checks = {RESIDUAL_STRICT_LOG10: {c: claim_verdict(strict, c) for c in CLAIM_WORDS}}
    # the on-site levels (eV) of a, b, c in each reading a protocol uses: where a is not the lowest, the paper's a^2
    # reference is not the reading's ground configuration to begin with
    used = {j["reading"] for j in jobs + annealed}
    levels = {r: [float(e) for e in readings_[r]["energies_eV"]] for r in readings_ if r in used and "energies_eV" in readings_[r]}
    return {"jobs": jobs, "annealed": annealed, "rows": rows, "verdicts": verdicts(every_row, gain_meV, a_low),
            "rereads": [r for r in every_row if r.get("re-read")], "missing": missing,
            "relabelled": relabellings(readings_) if MAIN_READING in readings_ else {},
            "threshold checks": thresholds, "residual checks": residual_checks, "overlap checks": overlaps, "identities": identities, "levels (eV)": levels,
            "numerics": numerics, "numerics U (eV)": U_check, "n_fu": len(metals),
            "gain_meV": gain_meV, "schedule checks": schedule_agreement(annealed, checks, len(metals)),
            "results": [j["result"] for j in jobs + annealed + checks if j.get("result") is not None]}
