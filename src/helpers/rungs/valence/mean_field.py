"""The valence in the model mean field: annealed branches, the GPAW check, probes, bias releases and the variants the verdict runs over."""
from __future__ import annotations

import numpy as np

from helpers.manybody import anneal as mb_anneal
from helpers.manybody import bias as mb_bias
from helpers.manybody import ed
from helpers.manybody import interaction as I
from helpers.manybody import toy
from helpers.manybody import uhf
from helpers.manybody.layer import BASES, SOLVER, eg_background, interactions_at, solver_for, valence_starts
from helpers.manybody.uhf import cplx_from_json
from helpers.models import natural
from helpers.models import pd as pd_models
from helpers.models import wannier as W
from helpers.models.fingerprint import model_fingerprint
from helpers.store import cache


def branch_rows(result: dict, n_fu: int) -> list:
    """One row per branch: start name, fate, the U where it ended, and at its last valid step U,
    F relative to the ground branch at that U when the ground branch is there (meV/f.u.), the d count,
    |moment| and orbital polarization of each W."""
    ground = mb_anneal.ground_branch(result)
    F_ground = {s["U"]: s["F"] for s in result["branches"][ground]["steps"] if s["valid"]}
    rows = []
    for name, br in result["branches"].items():
        valid = [s for s in br["steps"] if s["valid"]]
        last = valid[-1] if valid else br["steps"][-1]
        row = {"branch": name, "fate": br["fate"], "ends at U (eV)": br["ends_at_U"],
               "last valid U (eV)": last["U"] if valid else np.nan,
               "last step |ΔF| (eV), max|Δn|": f"{abs(br['steps'][-1]['dF']):.0e}, {br['steps'][-1]['dn']:.0e}",
               "F − F_ground (meV/f.u.)": (1000 * (last["F"] - F_ground[last["U"]]) / n_fu
                                           if valid and last["U"] in F_ground else np.nan)}
        for i, site in enumerate(last["sites"], 1):
            row[f"W{i} d count"] = site["d_count"]
            row[f"W{i} |m| (μB)"] = abs(site["moment"])
            row[f"W{i} orbital pol."] = site["orbital_polarization"]
        rows.append(row)
    return rows


def energy_curves(result: dict, n_fu: int) -> dict:
    """Per branch, (U list, F in meV/f.u. relative to the lowest valid state at each U, validity
    list): the data of the Fig. 1(a)-like plot. No single branch exists at every U, so the zero is
    the lowest state at that U."""
    F_min = {}
    for br in result["branches"].values():
        for s in br["steps"]:
            if s["valid"]:
                F_min[s["U"]] = min(F_min.get(s["U"], np.inf), s["F"])
    out = {}
    for name, br in result["branches"].items():
        pts = [(s["U"], 1000 * (s["F"] - F_min[s["U"]]) / n_fu, s["valid"]) for s in br["steps"] if s["U"] in F_min]
        out[name] = tuple(map(list, zip(*pts))) if pts else ([], [], [])
    return out


def dimer_annealing(U_grid, t: float = 1.0, n_electrons: int = 2) -> dict:
    """The two-site Hubbard model as the idea in miniature: exact ground state (ED) and the UHF
    branches started as a spin-0 (restricted) state, an antiferromagnet and a ferromagnet, annealed
    down U_grid (eV). Returns {'U', 'exact': {E0, double_occupancy, spin_correlation}, 'anneal'}."""
    hk, shells = toy.hubbard_dimer(t)
    half = n_electrons // 2
    e = np.eye(1)
    z = np.zeros((1, 1))
    fill = n_electrons / 4 * e          # per site and spin: the spin-symmetric, uniform start
    starts = {"spin 0 (restricted)": [(fill, fill)] * 2,
              "AFM": [(e, z), (z, e)] if half == 1 else None,
              "FM": [(e, z), (e, z)] if n_electrons == 2 else None}
    starts = {k: v for k, v in starts.items() if v is not None}
    res = mb_anneal.anneal(hk, shells, lambda U: [toy.hubbard_interaction(U)] * 2, n_electrons, starts,
                           U_grid, width=1e-3, collapse_tol=1e-3, verbose=False)
    h = np.array([[0.0, -t], [-t, 0.0]])
    exact = {"E0": [], "double_occupancy": [], "spin_correlation": []}
    for U in U_grid:
        r = ed.solve(h, shells, [np.full((1, 1, 1, 1), float(U))] * 2, n_electrons)
        exact["E0"].append(r.ground_energy)
        exact["double_occupancy"].append(ed.double_occupancy(r, 0))
        exact["spin_correlation"].append(ed.spin_correlation(r, [0], [1]))
    return {"U": [float(u) for u in U_grid], "exact": exact, "anneal": res}


# --- the self-consistent check with GPAW DFT+U -----------------------------------------------------

#: Initial moments (muB) of the two W in the GPAW DFT+U runs that steer it into each spin branch.
GPAW_BRANCHES = {"NM": None, "FM": (2.0, 2.0), "AFM": (2.0, -2.0)}
#: (GPAW's LCAO SCF from the ferromagnetic start oscillated, total moment 0.2-0.8 muB, without
#: converging in 45 iterations at U_eff = 3 eV on both k grids tried: the page leaves FM out.)


#: k-point density (1/Angstrom) of the GPAW DFT+U check at most: its spin-polarized LCAO runs
#: converge slowly (a soft magnetization), so the check runs on a coarser grid than the profile's.
GPAW_CHECK_KPT_DENSITY = 3.0


def gpaw_check_settings(settings: dict) -> dict:
    """The profile's settings with the k density capped at GPAW_CHECK_KPT_DENSITY."""
    return dict(settings, kpt_density=min(settings["kpt_density"], GPAW_CHECK_KPT_DENSITY))


def gpaw_magmoms(atoms, branch: str, metal: str = "W"):
    """Initial magnetic moments per atom for GPAW branch `branch` (None: spin-restricted run)."""
    if branch not in GPAW_BRANCHES:
        raise ValueError(f"branch={branch!r} is not allowed; choose from {list(GPAW_BRANCHES)}")
    mom = GPAW_BRANCHES[branch]
    if mom is None:
        return None
    it = iter(mom * len(atoms))
    return [next(it) if s == metal else 0.0 for s in atoms.get_chemical_symbols()]


def shell_occupations_at_ef(model: W.TBModel, grid, width: float = 0.05) -> list:
    """Occupation matrix of each metal d shell of a model whose energies are relative to its own
    Fermi level (a model of one spin channel): sum_k f(e_k) |<d|k>|^2 / N_k."""
    k = W.kgrid_points(grid)
    e, v = np.linalg.eigh(model.hk(k))
    f = 0.5 * (1 - np.tanh(0.5 * np.clip(e / width, -200, 200)))
    return [np.real(np.einsum("kan,kn,kbn->ab", v[:, s, :].conj(), f, v[:, s, :])) / len(k)
            for s in pd_models.d_shells(model)]


def gpaw_branch_summary(lcao_results: dict, grid, width: float = 0.05) -> list:
    """Rows for GPAW DFT+U runs {branch: cached LCAO result}: free energy relative to the first
    branch (meV/f.u.), GPAW's moments of the two W (muB, PAW spheres), and from the projected p-d
    model of each spin channel the W-5d count, moment and largest natural occupation per spin."""
    ref = None
    rows = []
    for name, r in lcao_results.items():
        n_fu = len(r["inputs"]["atoms"]["symbols"]) // 3
        F = r.get("free_energy_eV", r["energy_eV"])
        ref = F if ref is None else ref
        spins = [None] if r.get("nspins", 1) == 1 else [0, 1]
        occ = [shell_occupations_at_ef(W.model_from_lcao(r, pd_models.PD, spin=s), grid, width) for s in spins]
        if len(occ) == 1:
            occ = occ * 2
        row = {"branch": name, "F − F(first) (meV/f.u.)": 1000 * (F - ref) / n_fu,
               "GPAW W moments (μB)": ", ".join(f"{m:+.2f}" for m in (r.get("magnetic_moments_muB") or [0, 0])[:2])}
        for i in range(len(occ[0])):
            nu, nd = occ[0][i], occ[1][i]
            row[f"W{i + 1} 5d count"] = float(np.trace(nu) + np.trace(nd))
            row[f"W{i + 1} 5d moment (μB)"] = float(np.trace(nu) - np.trace(nd))
            row[f"W{i + 1} largest n (up, dn)"] = (f"{np.linalg.eigvalsh(nu).max():.2f}, "
                                                   f"{np.linalg.eigvalsh(nd).max():.2f}")
        rows.append(row)
    return rows


def engine_dudarev_branches(models: dict, U_eff: float, grid, width: float = 0.05) -> list:
    """The mean-field counterpart of the GPAW check: UHF with Dudarev's U_eff (eV) on the p-d
    basis from a non-magnetic (U = 0 occupations), a ferro- and an antiferromagnetic start
    (d2 S=1 on a, b with the eg-like orbitals at their covalent filling); rows like
    `gpaw_branch_summary` (energies relative to NM)."""
    model, shells, n_el = models["pd"]
    hk = model.hk(W.kgrid_points(grid))
    n0 = pd_models.d_occupations(model, n_el, grid, width)
    bg = eg_background(model, n_el, models["local"], grid, width)
    hs = valence_starts(models["local"], counts=((2, 2),), first_only=True, background=bg)
    starts = {"NM": [(x, x) for x in n0], "FM": hs["d2(S=1:ab)/d2(S=1:ab) FM"],
              "AFM": hs["d2(S=1:ab)/d2(S=1:ab) AFM"]}
    rows, ref = [], None
    for name, st in starts.items():
        r = uhf.solve(hk, shells, [I.dudarev(U_eff, 0.0)] * 2, n_el, st, width=width, **SOLVER)
        ref = r.free_energy if ref is None else ref
        row = {"branch": name, "F − F(first) (meV/f.u.)": 1000 * (r.free_energy - ref) / len(shells),
               "converged": r.converged}
        for i, site in enumerate(r.sites(), 1):
            row[f"W{i} 5d count"] = site["d_count"]
            row[f"W{i} 5d moment (μB)"] = site["moment"]
            row[f"W{i} largest n (up, dn)"] = f"{site['natural_up'][0]:.2f}, {site['natural_dn'][0]:.2f}"
        rows.append(row)
    return rows


# --- stability of the survivors at U_min ------------------------------------------------------------

#: Perturbations applied to each branch that reaches U_min before reconverging it there: a staggered
#: and a uniform moment, and a charge transfer between the two W (0.05 per d orbital in each).
PROBES = {"staggered moment": (+1, -1, 0), "uniform moment": (+1, +1, 0), "disproportionation": (0, 0, +1)}
PROBE_SIZE = 0.05


def probed_label(name: str) -> str:
    """A state's name for the page: 'X + p' (the state X reconverged after the perturbation p of
    PROBES) becomes 'X, reconverged after a p perturbation'; other names unchanged."""
    for p in PROBES:
        if name.endswith(f" + {p}"):
            return f"{name[:-len(p) - 3]}, reconverged after a {p} perturbation"
    return name


def probe_survivors(label: str, profile: str, models: dict, basis: str, result: dict, interaction: str,
                    J: float, dc: str, f4_over_f2: float = 0.625, width: float = 0.05,
                    force: bool = False) -> dict:
    """Is a branch that reaches U_min stable there? Each survivor's state is perturbed as in PROBES
    (size PROBE_SIZE per d orbital and spin) and reconverged at U_min; cached (kind 'probe').
    UHF keeps a spin-symmetric state spin-symmetric and a uniform state uniform, so without this
    a spin-0 branch is never tested against magnetism or disproportionation. Returns
    {'U': U_min, 'states': [{name, F, converged, sites}], 'lowest': name of the lowest state among
    the survivors and the reconverged probes}; every state also keeps its occupation matrices
    ('occupations', as helpers.manybody.uhf.UHFResult.to_dict stores them)."""
    model, shells, n_el = models[basis]
    U = result["U_grid"][-1]
    survivors = {n: br for n, br in result["branches"].items() if br["fate"] == "survives to U_min"}
    inputs = {"anneal": result["key"], "probes": PROBES, "size": PROBE_SIZE, "records": "occupation matrices"}

    def compute(workdir):
        hk = model.hk(W.kgrid_points(result["inputs"]["grid"]))
        inters = interactions_at(interaction, J, dc, f4_over_f2)(U)
        states = []
        for name, br in survivors.items():
            occ = uhf.UHFResult.from_dict(br["final"]).occupations
            states.append({"name": name, "F": br["steps"][-1]["F"], "converged": True,
                           "sites": br["steps"][-1]["sites"], "occupations": br["final"]["occupations"]})
            for pname, (m1, m2, q) in PROBES.items():
                start = []
                for i, (nu, nd) in enumerate(occ):
                    eye = np.eye(len(nu)) * PROBE_SIZE
                    ms, qs = (m1, m2)[i], q * (1 if i == 0 else -1)
                    start.append((nu + eye * (ms + qs) / 2, nd + eye * (-ms + qs) / 2))
                r = mb_anneal.solve_with_retries(hk, shells, inters, n_el, start, width, *solver_for(profile))
                states.append({"name": f"{name} + {pname}", "F": r.free_energy, "converged": r.converged,
                               "sites": r.sites(), "occupations": r.to_dict()["occupations"]})
        ok = [x for x in states if x["converged"]]
        return {"U": U, "states": states, "lowest": min(ok, key=lambda x: x["F"])["name"] if ok else None}

    return cache.cached(f"probe-{label}-{basis}", profile, inputs, compute, force=force)


def probe_rows(probe: dict, n_fu: int) -> list:
    """Rows of a probe: each state, F relative to the lowest (meV/f.u.), d counts, moments, the largest
    natural occupation of n_up + n_dn and the overlap of the two spins' dominant natural orbitals per W
    (state_content; one row saying so when no branch reached U_min)."""
    if not any(x["converged"] for x in probe["states"]):
        return [{"state at U_min": "no branch reaches U_min: nothing to probe", "converged": False}]
    F0 = min(x["F"] for x in probe["states"] if x["converged"])
    return [{"state at U_min": x["name"], "converged": x["converged"],
             "F − F_lowest (meV/f.u.)": 1000 * (x["F"] - F0) / n_fu,
             "d counts": ", ".join(f"{s['d_count']:.2f}" for s in x["sites"]),
             "moments (μB)": ", ".join(f"{s['moment']:+.2f}" for s in x["sites"]),
             "largest natural occ.": ", ".join(f"{v:.2f}" for v in state_content(x["occupations"])["largest_natural"]),
             "up–down overlap": ", ".join(f"{v:.2f}" for v in state_content(x["occupations"])["up_down_overlap"])}
            for x in probe["states"]]


# --- branches that do not depend on the mixer --------------------------------------------------------

#: Bias strengths (eV) of the release (helpers.manybody.bias), strongest first, ending unbiased.
BIAS_LAMBDAS = (2.0, 1.0, 0.5, 0.25, 0.1, 0.0)
#: The two mixers every release's last biased step and its unbiased end are rerun with.
CHECK_MIXERS = ({"mixer": "linear", "mixing": 0.3}, {"mixer": "anderson", "mixing": 0.3})


def bias_release_layer(label: str, profile: str, models: dict, basis: str, starts: dict, U: float, grid,
                       interaction: str = "slater", J: float = 0.5, dc: str = "FLL", f4_over_f2: float = 0.625,
                       width: float = 0.05, lambdas=BIAS_LAMBDAS, force: bool = False) -> dict:
    """Each start's branch at U (eV) defined without the mixer (helpers.manybody.bias.release): the
    start's own occupation matrices (integer: projectors on its filled orbitals per W and spin) as
    targets of a bias -lambda P, released along `lambdas` (eV) to zero, each step from the previous
    density, with the page's solver and retries; the last biased step and the unbiased end are also
    rerun from the same density with each of CHECK_MIXERS (largest differences of n and F). Cached
    (kind 'bias'). Returns {U, lambdas, branches: {name: {steps, final, mixers: {biased, unbiased}}}}."""
    if basis not in BASES:
        raise ValueError(f"basis={basis!r} is not allowed; choose from {list(BASES)}")
    lam = mb_bias.check_lambdas(lambdas)
    if len(lam) < 3:
        raise ValueError(f"lambdas={lambdas!r}: need at least three bias strengths (two biased and 0)")
    model, shells, n_el = models[basis]
    inters = interactions_at(interaction, J, dc, f4_over_f2, len(shells))(float(U))
    solver, retries = solver_for(profile)
    check_solver = {**SOLVER, "max_iter": 1000 if profile != "smoke" else SOLVER["max_iter"]}
    inputs = {"model": model_fingerprint(model), "basis": basis, "n_electrons": float(n_el), "grid": list(grid),
              "U": float(U), "interaction": interaction, "J": float(J), "dc": dc, "f4_over_f2": float(f4_over_f2),
              "width": float(width), "solver": solver, "retries": list(retries), "lambdas": lam,
              "check_mixers": list(CHECK_MIXERS),
              "starts": {k: [[np.round(np.real(x), 8).tolist() for x in site] for site in v]
                         for k, v in sorted(starts.items())}}

    def compute(workdir):
        hk = model.hk(W.kgrid_points(grid))
        out = {}
        for name, st in starts.items():
            r = mb_bias.release(hk, shells, inters, n_el, st, lam, width, solver, retries=retries, keep_states=True)
            prev = dict(zip(lam, r.pop("states")))
            checks = {"biased": mb_bias.mixer_check(hk, shells, inters, n_el, prev[lam[-3]], lam[-2], width,
                                                    list(CHECK_MIXERS), check_solver, targets=st),
                      "unbiased": mb_bias.mixer_check(hk, shells, inters, n_el, prev[lam[-2]], 0.0, width,
                                                      list(CHECK_MIXERS), check_solver, targets=st)}
            out[name] = {**r, "mixers": checks}
        return {"U": float(U), "lambdas": lam, "branches": out}

    return cache.cached(f"bias-{label}-{basis}", profile, inputs, compute, force=force)


def bias_rows(release: dict, n_fu: int, F_ref: float | None = None) -> list:
    """One row per start of a bias_release_layer result: the unbiased state it ends in (converged, F
    relative to `F_ref` (eV per cell; default the lowest end state) in meV per formula unit, d counts,
    moments, largest natural occupation of n_up + n_dn, up/down overlap), the largest occupation jump
    of the release, and the mixer checks (max |Δn| and |ΔF| between CHECK_MIXERS, last biased step and
    unbiased end)."""
    ends = {n: b["steps"][-1] for n, b in release["branches"].items()}
    ok = [e["F"] for e in ends.values() if e["converged"]]
    F0 = min(ok) if F_ref is None and ok else F_ref
    rows = []
    for name, b in release["branches"].items():
        e, c = b["steps"][-1], state_content(b["final"]["occupations"])
        mx = b["mixers"]
        rows.append({"start": name, "converged": e["converged"],
                     "F − F_ref (meV/f.u.)": 1000 * (e["F"] - F0) / n_fu if F0 is not None else np.nan,
                     "d counts": ", ".join(f"{v:.2f}" for v in c["d_counts"]),
                     "|m| (μB)": ", ".join(f"{v:.2f}" for v in c["moments"]),
                     "largest natural occ.": ", ".join(f"{v:.2f}" for v in c["largest_natural"]),
                     "up–down overlap": ", ".join(f"{v:.2f}" for v in c["up_down_overlap"]),
                     "largest jump in the release": max(s["jump"] for s in b["steps"][1:]),
                     "mixers, biased step: max |Δn|, |ΔF| (eV)":
                         f"{mx['biased']['max |Δn|']:.0e}, {mx['biased']['max |ΔF| (eV)']:.0e}"
                         + ("" if all(mx["biased"]["converged"]) else " (not all converged)"),
                     "mixers, unbiased end: max |Δn|, |ΔF| (eV)":
                         f"{mx['unbiased']['max |Δn|']:.0e}, {mx['unbiased']['max |ΔF| (eV)']:.0e}"
                         + ("" if all(mx["unbiased"]["converged"]) else " (not all converged)")})
    return rows


# --- what a state is, and the variants the verdict runs over ------------------------------------------
def state_content(occupations) -> dict:
    """What a state holds per W, from its occupation matrices (per W [n_up, n_dn], as arrays or as
    helpers.manybody.uhf stores them): d count, |moment| (muB), the largest natural occupation of
    n_up + n_dn (2 for a doubly occupied orbital; an open-shell S_z = 0 state that puts the two spins
    in different orbitals has about 1) and the overlap of the two spins' dominant natural orbitals
    (helpers.models.natural)."""
    sites = []
    for u, d in occupations:
        u, d = (cplx_from_json(x) if isinstance(x, dict) else np.asarray(x) for x in (u, d))
        sites.append(natural.natural_orbitals(np.real(u), np.real(d)))
    spin = []
    for u, d in occupations:
        u, d = (cplx_from_json(x) if isinstance(x, dict) else np.asarray(x) for x in (u, d))
        spin.append(float(np.linalg.norm(np.real(u) - np.real(d))))
    return {"d_counts": [x["d_count"] for x in sites], "moments": [abs(x["moment_muB"]) for x in sites],
            "largest_natural": [float(x["occupations"][0]) for x in sites],
            "up_down_overlap": [x["up_down_overlap"] for x in sites], "spin_density_norm": spin}


def core_starts(starts: dict) -> dict:
    """The starts of the robustness runs: the spin-0 d2 pairs on a^2 and on b, c, the high-spin d2
    pairs on a, b, and the disproportionated d1(a)/d3 and d0/d4 pairs, where present."""
    keep = ("d2(a^2)/d2(a^2)", "d2(b^2)/d2(b^2)", "d2(c^2)/d2(c^2)", "d2(b^2)/d2(c^2)",
            "d2(S=1:ab)/d2(S=1:ab) FM", "d2(S=1:ab)/d2(S=1:ab) AFM", "d1(a)/d3(S=3/2) AFM",
            "d1(a)/d3(a^2b) AFM", "d0/d4(a^2b^2)")
    return {k: starts[k] for k in keep if k in starts}


def robustness_variants(interaction: str, J: float, dc: str) -> dict:
    """Other reasonable interactions than the page's: Dudarev with J = 0, the other double
    counting, and J larger by 0.3 eV; each as {interaction, J, dc}."""
    other = "AMF" if dc == "FLL" else "FLL"
    out = {"dudarev, J = 0 eV, FLL": {"interaction": "dudarev", "J": 0.0, "dc": "FLL"},
           f"{interaction}, J = {J:g} eV, {other}": {"interaction": interaction, "J": J, "dc": other},
           f"{interaction}, J = {J + 0.3:g} eV, {dc}": {"interaction": interaction, "J": J + 0.3, "dc": dc}}
    if interaction == "dudarev":
        out.pop("dudarev, J = 0 eV, FLL")
        out["slater, J = 0.5 eV, FLL"] = {"interaction": "slater", "J": 0.5, "dc": "FLL"}
    return out
