"""The valence claims (d count, spin 0, one doubly occupied orbital) judged on the mean-field ground state at each U, over the variants."""
from __future__ import annotations

import numpy as np

from helpers.manybody import anneal as mb_anneal
from helpers.models.natural import POLARIZED_MIN
from ..robustness import robust_verdict
from .mean_field import gpaw_branch_summary, probed_label, state_content


def ground_state_content(result: dict, probe: dict | None = None) -> dict:
    """The ground branch of an annealing result and what it holds at its last valid U: name, U (eV),
    per-W d count, |moment| (muB), orbital polarization, the largest natural occupation of n_up + n_dn
    and the up/down overlap of the dominant natural orbitals (state_content; from the branch's stored
    state, so NaN where the branch ended before U_min and its last valid state was not kept). With a
    `probe` (probe_survivors), 'stable' says whether it is also the lowest of the reconverged perturbed
    states at U_min (None without a probe), and 'lowest' holds the content of the lowest state at
    U_min among the survivors and their perturbed copies (name, F in eV per cell, state_content)."""
    name = mb_anneal.ground_branch(result)
    br = result["branches"][name]
    last = [s for s in br["steps"] if s["valid"]][-1]
    sites = last["sites"]
    if last is br["steps"][-1] and br.get("final"):
        held = state_content(br["final"]["occupations"])
    else:
        held = {"largest_natural": [np.nan] * len(sites), "up_down_overlap": [np.nan] * len(sites),
                "spin_density_norm": [np.nan] * len(sites)}
    stable, lowest, spin0_gap = None, None, None
    if probe is not None and any(x["converged"] for x in probe["states"]):
        conv = [x for x in probe["states"] if x["converged"]]
        low = min(conv, key=lambda x: x["F"])
        stable = last["F"] - low["F"] < 1e-4 * len(sites)        # within 0.1 meV per W
        lowest = {"name": low["name"], "F": low["F"], **state_content(low["occupations"])}
        # the nearest closed-shell spin-0 state above the lowest (meV per f.u., one W per f.u.)
        gaps = [1000 * (x["F"] - low["F"]) / len(sites) for x in conv if _spin_zero(state_content(x["occupations"]))]
        spin0_gap = min(gaps) if gaps else None
    return {"branch": name, "U_eV": last["U"], "reaches_U_min": last["U"] == result["U_grid"][-1],
            "stable": stable, "lowest_probe": probe["lowest"] if probe else None,
            "d_counts": [s["d_count"] for s in sites], "moments": [abs(s["moment"]) for s in sites],
            "orbital_polarization": [s["orbital_polarization"] for s in sites],
            "largest_natural": held["largest_natural"], "up_down_overlap": held["up_down_overlap"],
            "spin_density_norm": held["spin_density_norm"], "lowest": lowest, "spin0_gap_meV": spin0_gap}


#: The parts of the paper's valence claim (effective W4+: d2, spin 0, both electrons in one orbital),
#: each judged on the lowest state found at U_min.
VALENCE_PARTS = ("(a) d2 on each W, no disproportionation", "(b) spin 0 (diamagnetic)",
                 "(c) one orbital doubly occupied")
#: Tolerances of the parts: |d count - 2| per W (electrons), |moment| per W (muB), and the largest
#: natural occupation of n_up + n_dn a doubly occupied orbital must reach (helpers.models.natural).
D_TOL, M_TOL = 0.25, 0.1
#: Overlap of the up and down dominant natural orbitals above which a spin-0 W counts as a closed shell.
CLOSED_SHELL_MIN = 0.9
#: Largest Frobenius norm of n_up - n_dn of a spin-0 W (basis-independent: an open shell with the two
#: spins in different orbitals has sqrt(2); it decides where the dominant orbital is not defined, as in
#: the p-d basis with about five d electrons per W).
SPIN_DENSITY_MAX = 0.2
#: A closed-shell spin-0 state this close above the lowest state (meV per f.u.: k_B T at 300 K) is not
#: told apart from it at the temperatures of the experiments: part (b) is then left undecided.
DEGENERATE_MEV_PER_FU = 25.9


def _spin_zero(x: dict) -> bool:
    """Spin 0 as a closed shell on every W of a state_content-like dict: |moment| < M_TOL, and
    ||n_up - n_dn|| <= SPIN_DENSITY_MAX where recorded, and the up/down overlap >= CLOSED_SHELL_MIN
    where it is defined (NaN: not defined, the norm decides)."""
    norms = x.get("spin_density_norm") or [np.nan] * len(x["moments"])
    return (all(v < M_TOL for v in x["moments"]) and all(not n > SPIN_DENSITY_MAX for n in norms)
            and all(not o < CLOSED_SHELL_MIN for o in x["up_down_overlap"]))


def valence_parts(content: dict) -> dict:
    """Each part of the valence claim (VALENCE_PARTS) for one annealing run, judged on the lowest state
    at U_min (content['lowest'] from ground_state_content with a probe, else the ground branch): True,
    False, or None where no state reaches U_min. Also the numbers it rests on."""
    x = content.get("lowest") or content
    ok = content["reaches_U_min"]
    gap = content.get("spin0_gap_meV")
    near_spin0 = gap is not None and gap <= DEGENERATE_MEV_PER_FU
    d, m, n1 = x["d_counts"], x["moments"], x["largest_natural"]
    return {"state": x.get("name", content["branch"]), "closed-shell spin-0 state above it (meV/f.u.)": gap,
            "d counts": d, "|m| (μB)": m, "largest natural occ.": n1,
            "up–down overlap": x["up_down_overlap"], "‖n↑ − n↓‖": x.get("spin_density_norm"),
            VALENCE_PARTS[0]: all(abs(v - 2) <= D_TOL for v in d) if ok else None,
            # spin 0 as a closed shell: no moment, and the two spins fill the same orbitals (an open-shell
            # S_z = 0 state, up in one orbital and down in another, has a local moment and is not diamagnetic)
            VALENCE_PARTS[1]: (True if _spin_zero(x) else None if near_spin0 else False) if ok else None,
            VALENCE_PARTS[2]: all(v >= POLARIZED_MIN for v in n1) if ok and np.all(np.isfinite(n1)) else None}


def valence_verdict_rows(robust: dict, probes: dict, pd_run: dict | None = None, gpaw_rows: list | None = None,
                         dftu_variant: dict | None = None, dftu_status: str | dict = "not computed") -> tuple:
    """The valence claim split in its parts, each with its verdict over the variants of the page
    (helpers.rungs.robustness.robust_verdict: reproduced / not reproduced / undetermined, with the
    range). (a) and (c) over the effective-basis runs `robust` {interaction: result} (the paper's d2
    is a statement in that basis; the W-5d functions of the p-d model hold about five electrons);
    (b) over those and the p-d run (`pd_run`, probed by probes['pd']); the lowest branch of GPAW's
    spin-polarized DFT+U (`gpaw_rows`, gpaw_branch_summary: spin 0 where both W moments of the lowest
    branch are below M_TOL) is listed among the variants but not counted. The DFT+U interaction annealing, the paper's method, is judged apart, first:
    each row's 'DFT+U' is 'reproduced' or 'not reproduced' from `dftu_variant` (helpers.rungs.valence.dftu.status.variant,
    its lowest state at the last U_eff), or `dftu_status` (one string, or one per part) while it is not decided; 'methods' says whether
    the two methods agree where both decide. Returns (verdict rows, per-variant rows with the DFT+U variant last)."""
    per = []
    for name, res in robust.items():
        v = valence_parts(ground_state_content(res, probes.get(name)))
        per.append({"variant": f"effective, {name}", **v})
    if pd_run is not None:
        content = ground_state_content(pd_run, probes.get("pd"))
        for c in (content, content.get("lowest") or {}):
            if c:     # about five d electrons per W: no single dominant orbital, the norm of n_up - n_dn decides
                c["up_down_overlap"] = [np.nan] * len(c["up_down_overlap"])
        v = valence_parts(content)
        v[VALENCE_PARTS[0]] = v[VALENCE_PARTS[2]] = None          # no integer d2 in the p-d basis
        per.append({"variant": "p–d W-5d functions, main interaction", **v})
    if gpaw_rows:
        low = min(gpaw_rows, key=lambda r: r["F − F(first) (meV/f.u.)"])
        mom = [float(x) for x in low["GPAW W moments (μB)"].split(",")]
        per.append({"variant": f"GPAW DFT+U (lowest branch: {low['branch']})", "state": low["branch"],
                    "d counts": [low[k] for k in low if k.endswith("5d count")],
                    "|m| (μB)": [abs(x) for x in mom], "largest natural occ.": None, "up–down overlap": None,
                    VALENCE_PARTS[0]: None, VALENCE_PARTS[1]: all(abs(x) < M_TOL for x in mom), VALENCE_PARTS[2]: None})
    verdicts = []
    for part in VALENCE_PARTS:
        # (a) and (c) are statements about the effective basis: the p-d model does not enter them; the plain
        # GPAW DFT+U check is shown but not counted (DFT+U is the other method: the mean field's verdict is its own)
        out = {r["variant"]: r[part] for r in per if not r["variant"].startswith("GPAW")
               and (part == VALENCE_PARTS[1] or r["variant"].startswith("effective"))}
        v = robust_verdict(out)
        dftu = (dftu_status.get(part, "not computed") if isinstance(dftu_status, dict) else dftu_status) if dftu_variant is None else {True: "reproduced", False: "not reproduced"}.get(
            dftu_variant[part], "undetermined")
        decided = {dftu, v["verdict"]} <= {"reproduced", "not reproduced"}
        methods = ("agree" if dftu == v["verdict"] else "disagree") if decided else "—"
        if dftu_variant is not None and dftu_variant.get("by spin treatment"):      # what each spin treatment says
            dftu += f" ({dftu_variant['by spin treatment'][part]})"
        verdicts.append({"part": part, "DFT+U": dftu, "verdict": v["verdict"], "range": v["range"],
                         "holds in": "; ".join(v["holds in"]) or "—", "fails in": "; ".join(v["fails in"]) or "—",
                         "methods": methods})
    if dftu_variant is not None:
        per.append(dict(dftu_variant))
    return verdicts, per


def verdict_line(v: dict, detail: str = "") -> str:
    """One Markdown line of a valence part (a row of valence_verdict_rows): the DFT+U verdict first,
    the mean field's beside it with its range, whether the two methods disagree, then `detail`."""
    return (f"- **{v['part']}** — DFT+U, the paper's method: **{v['DFT+U']}**; mean field: **{v['verdict']}** "
            f"({v['range']})" + ("; **the two methods disagree**" if v["methods"] == "disagree" else "")
            + (f"; {detail}" if detail else "") + ".")


def lowest_at_U_max(result: dict) -> str:
    """The start whose branch has the lowest F at the first U (branches born later are not starts)."""
    U0 = result["U_grid"][0]
    first = [n for n, b in result["branches"].items() if b["steps"][0]["U"] == U0 and b["steps"][0]["valid"]]
    return min(first, key=lambda n: result["branches"][n]["steps"][0]["F"], default="none")


def robustness_rows(results: dict, probes: dict) -> list:
    """Per interaction: the ground branch and what it holds at U_min, whether it is the lowest state
    there against perturbed states (`probe_survivors`), the lowest state at U_min (a branch or a
    perturbed copy) with its d counts, moments, largest natural occupation of n_up + n_dn and up/down
    overlap of the dominant natural orbitals, which branch was lowest at U_max, and the branches that
    survive to U_min."""
    rows = []
    for name, res in results.items():
        g = ground_state_content(res, probes.get(name))
        v = valence_parts(g)
        first = lowest_at_U_max(res)
        alive = [n for n, b in res["branches"].items() if b["fate"] == "survives to U_min"]
        rows.append({"interaction": name, "ground branch at U_min": g["branch"],
                     "stable against perturbations at U_min": g["stable"],
                     "lowest state at U_min": v["state"],
                     "d counts": ", ".join(f"{d:.2f}" for d in v["d counts"]),
                     "|m| (μB)": ", ".join(f"{m:.2f}" for m in v["|m| (μB)"]),
                     "largest natural occ.": ", ".join(f"{x:.2f}" for x in v["largest natural occ."]),
                     "up–down overlap": ", ".join(f"{x:.2f}" for x in v["up–down overlap"]),
                     "‖n↑ − n↓‖": ", ".join(f"{x:.2f}" for x in v["‖n↑ − n↓‖"] or []),
                     "lowest branch at U_max": first,
                     "branches surviving to U_min": len(alive)})
    return rows


def findings(runs: dict, robust: dict, probes: dict, main: str, U_grid, gpaw: dict | None, grid, width,
             dftu_variant: dict | None = None, dftu_status: str | dict = "not computed") -> str:
    """Markdown summary of the valence page from its results, verdict first: the valence claim in its
    three parts (valence_verdict_rows), then what each basis finds. `runs` {basis: result}; `robust`
    {interaction: effective-basis result}; `probes` as page_results; `gpaw` the GPAW DFT+U results;
    `dftu_variant` the DFT+U annealing's (helpers.rungs.valence.dftu.status.variant) and `dftu_status` its state while
    undecided."""
    gp_rows = gpaw_branch_summary(gpaw, grid, width) if gpaw else None
    verdicts, per = valence_verdict_rows(robust, probes, runs.get("pd"), gp_rows, dftu_variant, dftu_status)
    lines = [f"The paper's effective W4+ (d2, spin 0, both electrons in one orbital), judged part by part on the "
             f"lowest state found at the realistic U: by DFT+U (the paper's method), and by the mean field at "
             f"U = {U_grid[-1]:g} eV (every branch, the states branches fell into, and their perturbed copies):"]
    for v in verdicts:
        lines.append(verdict_line(v, f"mean field holds in: {v['holds in']}; fails in: {v['fails in']}"))
    def fmt(xs):
        return ", ".join("—" if not np.isfinite(x) else f"{x:.2f}" for x in xs) if xs is not None else "—"
    for r in per:
        extra = ("" if r["largest natural occ."] is None else
                 f", largest natural occupation of n↑ + n↓ {fmt(r['largest natural occ.'])} (up–down overlap "
                 f"{fmt(r['up–down overlap'])})")
        if r.get("‖n↑ − n↓‖") is not None:
            extra += f", ‖n↑ − n↓‖ {fmt(r['‖n↑ − n↓‖'])}"
        gap = r.get("closed-shell spin-0 state above it (meV/f.u.)")
        if gap is not None and gap > 0:
            extra += (f"; a closed-shell spin-0 state lies {gap:.1f} meV/f.u. above it"
                      + (" (within k_B T at 300 K: spin 0 undecided)" if gap <= DEGENERATE_MEV_PER_FU else ""))
        lines.append(f"  - {r['variant']}: *{probed_label(r['state'])}*, d counts {fmt(r['d counts'])}, |m| {fmt(r['|m| (μB)'])} μB"
                     + extra + ".")
    lines.append("  A largest natural occupation near 2 with up–down overlap 1 is a doubly occupied orbital; near 1 "
                 "with overlap 0 the two spins fill different orbitals (an open-shell state with S_z = 0, not a "
                 "closed-shell d2). In the W-5d functions of the p–d model (about five electrons per W from "
                 "covalency) parts (a) and (c) have no meaning and are not counted, and spin 0 is read from the "
                 f"norm ‖n↑ − n↓‖ (at most {SPIN_DENSITY_MAX:g}; √2 for one open shell), which needs no dominant orbital.")
    for b, res in runs.items():
        g = ground_state_content(res, probes[main if b == "effective" else "pd"])
        first = lowest_at_U_max(res)
        alive = [n for n, br in res["branches"].items() if br["fate"] == "survives to U_min"]
        n_starts = sum("fallen" not in n for n in res["branches"])
        where = ("the ground branch there is" if alive else
                 f"none does; the last to end is, at U = {g['U_eV']:g} eV,")
        lines.append(
            f"- **{b} basis**: {n_starts} starts ({len(res['branches']) - n_starts} more branches fallen into); "
            f"at U = {U_grid[0]:g} eV the lowest is *{first}*. {len(alive)} branch(es) survive to U = {U_grid[-1]:g} eV; "
            f"{where} *{g['branch']}*. "
            + ("The lowest configuration at large U is the one that flows to the ground state, as in the paper."
               if first == g["branch"] and alive else
               "The lowest configuration at large U is *not* the one that reaches the realistic U as the ground state.")
            + ("" if g["stable"] is None else
               " Perturbed (magnetic, disproportionated) copies of the survivors reconverge, at U_min, "
               + ("no lower than the ground branch." if g["stable"] else
                  f"lower than the ground branch: the lowest state there is *{probed_label(g['lowest_probe'])}*.")))
    lines.append("- Whether the lowest state is continuously connected to a d2 start is shown by its name (“→ fallen "
                 "at” marks where its history left a branch); that connection depends on how finely U is stepped, so "
                 "it is reported, not judged.")
    if gp_rows:
        low = min(gp_rows, key=lambda r: r["F − F(first) (meV/f.u.)"])
        lines.append(f"- GPAW DFT+U: of the branches it could be steered into, the lowest is {low['branch']} "
                     f"({low['F − F(first) (meV/f.u.)']:+.0f} meV/f.u. relative to NM; W moments {low['GPAW W moments (μB)']} μB).")
    return "\n".join(lines)
