"""The valence claim in DFT+U, the paper's method: interaction annealing of controlled starts on the
fictitious 1T layer (W at the centre of its Te octahedron).

Each start fixes, through occupation control (helpers.occupation_control, bias within each W's
t2g shell), what the two W of the cell hold at the largest U_eff: the d2 closed shells a1g^2 or
e_pi^2 (spin 0), the disproportionated d0/d4 pair (spin 0), the high-spin d2 ferro- and
antiferromagnet, the high-spin d1/d3 pair and the d1/d3 antiferromagnet with a doubly occupied a1g on
the d3 site (the lowest states of the model's annealing at large and at realistic U), beside unbiased
spin-restricted and antiferromagnetically seeded runs.
The bias is released to zero at the first U_eff and U_eff is then lowered step by step, each step from
the previous density (helpers.dft.dftu_branch). A state is read from its PAW d occupation matrices
(natural orbitals of n_up + n_dn per W, d counts, moments), never from the start's name.

Orbitals: the trigonal functions of each W's local octahedral frame
(helpers.orbitals.identity.trigonal_orbitals): a1g (the t2g combination along the layer normal),
the e_pi pair (rest of t2g) and the e_g sigma pair.
"""
from __future__ import annotations

import numpy as np

#: Starts: name -> (spin treatment, orbitals filled per W (names of TRIGONAL) and spin, initial W
#: moments (muB) of a spin-polarized start). 'both': doubly occupied (spin-restricted run).
STARTS = {
    "unbiased": ("restricted", None, None),
    "unbiased, AFM seed": ("polarized", None, (1.0, -1.0)),
    "d2 a1g² (spin 0)": ("restricted", ({"both": ["a1g"]}, {"both": ["a1g"]}), None),
    "d2 eπ+² (spin 0)": ("restricted", ({"both": ["epi+"]}, {"both": ["epi+"]}), None),
    "d2 eπ+² / eπ−² (spin 0)": ("restricted", ({"both": ["epi+"]}, {"both": ["epi-"]}), None),
    "d0/d4 (spin 0)": ("restricted", ({"both": []}, {"both": ["a1g", "epi+"]}), None),
    "d2 high spin, FM": ("polarized", ({"up": ["a1g", "epi+"], "dn": []}, {"up": ["a1g", "epi+"], "dn": []}), (2.0, 2.0)),
    "d1/d3 (high spin, AFM)": ("polarized", ({"up": ["a1g"], "dn": []}, {"up": [], "dn": ["a1g", "epi+", "epi-"]}), (1.0, -3.0)),
    # the lowest states of the model's annealing (valence page, effective basis): the high-spin d2
    # antiferromagnet at U = 10 eV and the d1/d3 antiferromagnet with a doubly occupied orbital at 3 eV
    "d2 high spin, AFM": ("polarized", ({"up": ["a1g", "epi+"], "dn": []}, {"up": [], "dn": ["a1g", "epi+"]}), (2.0, -2.0)),
    "d1/d3 (a1g¹ / a1g² eπ¹, AFM)": ("polarized", ({"up": ["a1g"], "dn": []}, {"up": ["a1g"], "dn": ["a1g", "epi+"]}), (1.0, -1.0)),
}
#: The trigonal orbitals by name: columns of helpers.orbitals.identity.trigonal_orbitals.
TRIGONAL = ("a1g", "epi+", "epi-", "esig+", "esig-")
#: Per profile: U_eff grid (eV, decreasing), release schedule (eV), SCF caps [biased steps, last], starts.
SETTINGS = {
    "smoke": {"U_grid": [4.0, 3.0], "release": [1.0, 0.0], "maxiter": [15, 25], "starts": ["d2 a1g² (spin 0)"]},
    # maxiter: at U_eff = 8 eV a step of the 1T layer that does not converge stalls near 10^-4.6 within
    # about 20 iterations (the a1g² start at lambda = 0.5); 60 is a cap well past that plateau
    "paper": {"U_grid": [8.0, 7.0, 6.0, 5.0, 4.0, 3.0], "release": [1.0, 0.5, 0.25, 0.1, 0.0], "maxiter": [60, 200],
              "starts": list(STARTS)},
}
#: Two W differ in d count by at most this (electrons) in a state without disproportionation (the
#: model's tolerance on |d - 2|, helpers.valence.D_TOL).
DISPROPORTION_MAX = 0.25


def site_orbitals(atoms, metals: list, split: bool = True) -> list:
    """Per metal: its trigonal orbitals (5x5, columns TRIGONAL, GPAW's real d order) in its local
    octahedral frame, each degenerate pair split by the site's mirror (epi+, esig+ even; epi-, esig-
    odd), so that sites related by a translation get the same orbitals and 'e_pi^2 on both W' is a
    ferro-orbital start. `split=False`: the pairs as an SVD returns them (an arbitrary basis of each
    pair, differing between the W; a1g and the t2g span are the same either way)."""
    from .orbitals import identity
    return [identity.trigonal_orbitals(identity.octahedral_frame(atoms, a),
                                       identity.site_operations(atoms, a) if split else None)[0] for a in metals]


def start_targets(name: str, orbitals: list, metals: list, spans: list | None = None) -> tuple[dict | None, list | None]:
    """Occupation-control targets of start `name` (STARTS) on the metals (their trigonal orbitals
    `orbitals`, site_orbitals): {atom: {spin: 5-vectors, 'subspace': t2g}} or None, and the W moments
    (muB) of a spin-polarized start (None for a restricted one). The subspace is the t2g span, written
    with the first three columns of `spans` (default `orbitals`; the jobs give the unsplit orbitals,
    whose form keys the cached branches)."""
    if name not in STARTS:
        raise ValueError(f"start={name!r}: choose from {list(STARTS)}")
    if len(metals) != 2:
        raise ValueError(f"metals={metals!r}: the 1T cell of the valence page has two W")
    spin, per_w, moments = STARTS[name]
    if per_w is None:
        return None, (list(moments) if moments else None)
    out = {}
    for a, O, T, fill in zip(metals, orbitals, spans or orbitals, per_w):
        out[int(a)] = {s: [O[:, TRIGONAL.index(o)].tolist() for o in names] for s, names in fill.items()}
        out[int(a)]["subspace"] = T[:, :3].T.tolist()
    return out, (list(moments) if moments else None)


def jobs(profile: str, atoms) -> list:
    """The branches of a profile on the 1T layer `atoms`: per start its spin treatment, targets,
    initial moments (per atom, None when restricted) and the profile's U grid and release. A profile
    without a plan (SETTINGS) has none."""
    S = SETTINGS.get(profile)
    if S is None:
        return []
    symbols = atoms.get_chemical_symbols()
    metals = [i for i, s in enumerate(symbols) if s in ("W", "Mo")]
    orbitals, spans = site_orbitals(atoms, metals), site_orbitals(atoms, metals, split=False)
    out = []
    for name in S["starts"]:
        targets, moments = start_targets(name, orbitals, metals, spans)
        magmoms = None
        if STARTS[name][0] == "polarized":
            magmoms = [0.0] * len(atoms)
            for a, m in zip(metals, moments):
                magmoms[a] = m
        out.append({"start": name, "spin": STARTS[name][0], "targets": targets, "magmoms": magmoms,
                    "U_grid": list(S["U_grid"]), "release": list(S["release"]), "maxiter": list(S["maxiter"])})
    return out


def run(atoms, settings: dict, material: str, only_cached: bool = False, select=None) -> list:
    """Every branch of `jobs` (with `select`, a function of a job, those it accepts) through
    helpers.dft.dftu_branch with the Pulay mixer (cached; `only_cached`: those not in the cache are
    skipped). Returns the jobs with 'result' (None where skipped)."""
    from . import dft
    out = [j for j in jobs(settings["profile"], atoms) if select is None or select(j)]
    metal = next(s for s in atoms.get_chemical_symbols() if s in ("W", "Mo"))
    for j in out:
        label = f"{material}-1T-anneal{j['U_grid'][0]:g}-{'SP' if j['spin'] == 'polarized' else 'NM'}"
        j["result"] = dft.dftu_branch_or_none(only_cached, atoms, settings, label, j["U_grid"], targets=j["targets"],
                                              release=j["release"], magmoms=j["magmoms"], metal=metal,
                                              maxiter=j["maxiter"], mixer=dft.PULAY_MIXER)
    return out


def step_rows(branches: list, atoms, n_fu: int) -> list:
    """One row per branch and U_eff after the release: energy relative to the lowest state at that
    U_eff (meV/f.u.), and per W the d count, |moment| (muB), the two largest natural occupations of
    n_up + n_dn within the W's t2g shell (a1g, e_pi; the e_g sigma pair holds about one electron each
    from W-Te covalency whatever the valence, so it would mask the t2g filling) and the a1g weight of
    the first; the d-count difference between the W; whether the SCF converged."""
    from . import dftu
    from .orbitals import natural
    symbols = atoms.get_chemical_symbols()
    metals = [i for i, s in enumerate(symbols) if s in ("W", "Mo")]
    orbitals = site_orbitals(atoms, metals)
    rows = []
    for b in branches:
        r = b.get("result")
        if r is None:
            continue
        res = dftu.step_residuals(r)
        res = res + [None] * (len(r["steps"]) - len(res))
        for st, q in zip(r["steps"], res):
            if st["lambda_eV"] != 0:
                continue
            sites = [natural.natural_orbitals(*[np.asarray(n) for n in st["occupations"][str(a)]]) for a in metals]
            t2g = [t2g_natural(st["occupations"][str(a)], O) for a, O in zip(metals, orbitals)]
            rows.append({"start": b["start"], "spin": b["spin"], "U (eV)": st["U_eV"], "E_eV": st["energy_eV"],
                         # GPAW's flag, or capped with the energy met and a density residual <= 1e-4
                         "converged": dftu.step_converged(st, q),
                         "‖n↑ − n↓‖": [float(np.linalg.norm(np.subtract(*[np.asarray(n, float) for n in st["occupations"][str(a)]])))
                                       for a in metals],
                         "d counts": [s["d_count"] for s in sites],
                         "|m| (μB)": [abs(s["moment_muB"]) for s in sites],
                         "n1, n2": [(float(w[0]), float(w[1])) for w, _ in t2g],
                         "a1g weight of n1": [a1g for _, a1g in t2g],
                         "Δd (W2 − W1)": sites[1]["d_count"] - sites[0]["d_count"]})
    for row in rows:
        same = [x["E_eV"] for x in rows if x["U (eV)"] == row["U (eV)"] and x["converged"]]
        row["ΔE (meV/f.u.)"] = 1000 * (row["E_eV"] - min(same)) / n_fu if same else np.nan
    return rows


def t2g_natural(occupations, orbitals: np.ndarray) -> tuple[np.ndarray, float]:
    """Natural occupations (descending) of n_up + n_dn within one W's t2g shell (the first three
    columns of its trigonal `orbitals`: a1g, e_pi) and the a1g weight of the first natural orbital."""
    N = np.add(*[np.asarray(n, float) for n in occupations])
    T = orbitals[:, :3]
    w, v = np.linalg.eigh(T.T @ N @ T)
    return w[::-1], float(v[0, -1] ** 2)


def lowest_states(rows: list) -> list:
    """Per U_eff (decreasing): the lowest converged state, what it holds, and the three parts of the
    valence claim judged on it (helpers.valence.VALENCE_PARTS): (a) no disproportionation
    (|Δd| <= DISPROPORTION_MAX; the PAW d count itself counts covalent W-Te weight and is not 2),
    (b) spin 0 as a closed shell (|m| < helpers.valence.M_TOL and ||n_up - n_dn|| <=
    valence.SPIN_DENSITY_MAX on both W: an open shell with S_z = 0 has no moment but a norm of sqrt(2)), (c) one orbital doubly occupied (largest t2g
    natural occupation >= helpers.orbitals.natural.POLARIZED_MIN and above the next by at least
    natural.GAP_MIN on both W)."""
    from . import valence
    from .orbitals import natural
    out = []
    for U in sorted({r["U (eV)"] for r in rows}, reverse=True):
        conv = [r for r in rows if r["U (eV)"] == U and r["converged"]]
        if not conv:
            continue
        low = min(conv, key=lambda r: r["E_eV"])
        second = sorted(r["ΔE (meV/f.u.)"] for r in conv if r is not low)
        out.append({"U (eV)": U, "lowest": low["start"], "next state above (meV/f.u.)": second[0] if second else None,
                    "d counts": low["d counts"], "|m| (μB)": low["|m| (μB)"], "n1, n2": low["n1, n2"],
                    valence.VALENCE_PARTS[0]: abs(low["Δd (W2 − W1)"]) <= DISPROPORTION_MAX,
                    valence.VALENCE_PARTS[1]: all(m < valence.M_TOL for m in low["|m| (μB)"])
                    and all(x <= valence.SPIN_DENSITY_MAX for x in low["‖n↑ − n↓‖"]),
                    valence.VALENCE_PARTS[2]: all(a >= natural.POLARIZED_MIN and a - b >= natural.GAP_MIN
                                                  for a, b in low["n1, n2"])})
    return out


def plot_branches(ax, rows: list) -> bool:
    """Energy of each branch against U_eff (meV/f.u. from the lowest state at that U_eff), annealed
    from large to small U_eff: the DFT+U counterpart of the paper's Fig. 1(a). Open markers: steps
    that did not converge. False, with nothing drawn, without rows."""
    if not rows:
        return False
    for k, start in enumerate(dict.fromkeys(r["start"] for r in rows)):
        sub = sorted((r for r in rows if r["start"] == start), key=lambda r: -r["U (eV)"])
        col = f"C{k}"
        ax.plot([r["U (eV)"] for r in sub], [r["ΔE (meV/f.u.)"] for r in sub], "-", color=col, lw=1.2, label=start)
        for r in sub:
            ax.plot(r["U (eV)"], r["ΔE (meV/f.u.)"], "o", color=col, mfc=col if r["converged"] else "white", ms=5)
    ax.invert_xaxis()
    ax.set_xlabel(r"$U_\mathrm{eff}$ (eV), annealed from left to right")
    ax.set_ylabel(r"$E - E_\mathrm{lowest}$ (meV/f.u.)")
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return True


def page_results(material: str, settings: dict) -> dict:
    """Everything the valence page shows of the DFT+U annealing: the 1T layer of the AFE page, the
    branches of the profile (computed, or with COMPENDIUM_REQUIRE_CACHE=1 read from the cache only,
    the others named in 'missing'), their rows (step_rows) and the lowest state per U_eff
    (lowest_states). 'complete': every planned start is computed, so the lowest state is the lowest
    of the plan."""
    import os

    from . import afe, dft, params
    one_t = dft.atoms_from(afe.relax_layer(material, "d2", params.settings(settings["profile"]))["1T"]["final"])
    only_cached = os.environ.get("COMPENDIUM_REQUIRE_CACHE") == "1"
    branches = run(one_t, settings, material, only_cached=only_cached)
    n_fu = sum(s in ("W", "Mo") for s in one_t.get_chemical_symbols())
    rows = step_rows(branches, one_t, n_fu)
    missing = [b["start"] for b in branches if b.get("result") is None]
    return {"one_t": one_t, "branches": branches, "rows": rows, "lowest": lowest_states(rows), "missing": missing,
            "complete": bool(branches) and not missing, "U_last": branches[0]["U_grid"][-1] if branches else None,
            "results": [b["result"] for b in branches if b.get("result") is not None]}


def table(rows: list) -> list:
    """The rows of step_rows for the page's table: numbers rounded into strings per W."""
    f2 = lambda xs: ", ".join(f"{x:.2f}" for x in xs)
    return [{"start": r["start"], "spin": r["spin"], "U_eff (eV)": r["U (eV)"], "ΔE (meV/f.u.)": r["ΔE (meV/f.u.)"],
             "d counts": f2(r["d counts"]), "|m| (μB)": f2(r["|m| (μB)"]),
             "t2g n1, n2 (W1; W2)": "; ".join(f"{a:.2f}, {b:.2f}" for a, b in r["n1, n2"]),
             "a1g in n1": f2(r["a1g weight of n1"]), "Δd": r["Δd (W2 − W1)"], "converged": r["converged"]}
            for r in rows]


def variant(page: dict) -> dict | None:
    """The DFT+U annealing as a variant of the valence verdict (helpers.valence.valence_verdict_rows):
    the lowest state at the last U_eff and the three parts judged on it; None unless every planned
    start is computed and some state converged at the last U_eff."""
    from . import valence
    at = [x for x in page["lowest"] if x["U (eV)"] == page["U_last"]]
    if not page["complete"] or not at:
        return None
    x = at[0]
    return {"variant": f"DFT+U annealed, U_eff = {x['U (eV)']:g} eV (lowest: {x['lowest']})", "state": x["lowest"],
            "d counts": x["d counts"], "|m| (μB)": x["|m| (μB)"], "largest natural occ.": [a for a, _ in x["n1, n2"]],
            "up–down overlap": None, **{p: x[p] for p in valence.VALENCE_PARTS}}


def findings(page: dict) -> str:
    """Markdown lines: which start is lowest at each U_eff and what it holds, and the starts not computed."""
    from . import valence
    lines = []
    done = len(page["branches"]) - len(page["missing"])
    lowest = "lowest" if page["complete"] else f"lowest of the {done} starts computed"
    for x in page["lowest"]:
        parts = "; ".join(f"{p.split(')')[0]}) {'holds' if x[p] else 'fails'}" for p in valence.VALENCE_PARTS)
        nxt = x["next state above (meV/f.u.)"]
        lines.append(f"- U_eff = {x['U (eV)']:g} eV: {lowest}, {x['lowest']} (d counts "
                     f"{', '.join(f'{d:.2f}' for d in x['d counts'])}, |m| {max(x['|m| (μB)']):.2f} μB, largest t2g natural "
                     f"occupations {', '.join(f'{a:.2f}' for a, _ in x['n1, n2'])}"
                     + (f"; next state {nxt:.0f} meV/f.u. above" if nxt is not None else "") + f"): {parts}.")
    if page["missing"]:
        lines.append(f"- Not computed yet, so no verdict from this method: {'; '.join(page['missing'])}.")
    return "\n".join(lines)


def status(page: dict) -> str:
    """Why the DFT+U annealing decides nothing yet: how many starts are computed, or that no state
    converged at the last U_eff; 'decided' once variant(page) exists."""
    if variant(page) is not None:
        return "decided"
    done = len(page["branches"]) - len(page["missing"])
    if done < len(page["branches"]) or not page["branches"]:
        return f"not decided: {done} of {len(page['branches'])} starts computed"
    return f"not decided: no converged state at U_eff = {page['U_last']:g} eV"


def scorecard_line(page: dict) -> str:
    """One line for the scorecard's DFT+U column of the valence row."""
    from . import valence
    v = variant(page)
    if v is None:
        return status(page)
    return f"{v['variant']}: " + "; ".join(f"{p.split(')')[0]}) {'holds' if v[p] else 'fails'}" for p in valence.VALENCE_PARTS)
