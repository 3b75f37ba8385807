"""The ordered mean-field states by U: order, convergence, the patterns' figure, findings and the page's results."""
from __future__ import annotations

import numpy as np

from helpers.dft import jobs as dft_jobs
from helpers.dft import layers as dft_layers
from helpers.dft import process as dft_process
from helpers.manybody import layer as layer_mf
from helpers.models import layer as pd_layer
from helpers.models import pd as pd_models
from helpers.store import params
from .patterns import AFO, CELLS, FO, SETTINGS, anneal_patterns, cell_patterns, pattern_starts
from .rows import _bc_polarized, paper_comparison, pattern_rows, state_dipole


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
    The models are those of the layer's cached LCAO (helpers.models.layer.layer_models), unless `models`
    (same form) and their `label` are given. Returns {models, U_grid, label, runs {name: (result,
    formula units per cell)}, convergence (rows)}."""
    if profile not in SETTINGS:
        raise ValueError(f"profile={profile!r} is not allowed; choose from {list(SETTINGS)}")
    unknown = set(parts) - {"primitive", "direct", "robustness", "convergence", "supercells", "pd"}
    if unknown:
        raise ValueError(f"parts: unknown {sorted(unknown)}")
    layer_mf.interactions_at(interaction, J, dc)
    st = SETTINGS[profile]
    if models is None:
        settings = params.settings(profile)
        lattice = dft_layers.relax_layer(material, "d2", settings)
        at = dft_process.atoms_from(lattice["distorted"]["final"])
        label = f"{material}-relaxed-d2"
        lc = dft_jobs.lcao(at, settings, label, basis="dzp")
        models = pd_layer.layer_models(lc, pd_models.HF_GRID[profile], e_low, window_width)
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
