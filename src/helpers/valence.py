"""Rydberg scale: the effective valence of W by interaction annealing.

The procedure of Jiang, Gu & Ku (npj Comput. Mater. 2025, arXiv:2407.03319): at a fictitiously
large on-site interaction U, charge fluctuations are suppressed and several integer (ionic)
configurations of the W-5d shells are metastable mean-field solutions; U is then lowered step by
step, each step starting from the previous solution, and one follows which configuration flows
continuously to the ground state at the realistic U and where the others stop existing.

Here the mean field is the unrestricted Hartree-Fock of helpers.manybody on a tight-binding model
of the fictitious 1T layer, with U on one of two orbital bases:

- 'effective': the five downfolded low-energy W-5d orbitals of each W (helpers.orbital_order.
  downfold_d: the Te-5p bonding states are removed, their Te tails stay). This model holds the
  *nominal* d electrons: the electrons of the p-d manifold minus a filled Te-5p shell (six per Te),
  i.e. 2 per W for WTe2. The paper's "d2" (effective W4+) is a statement in this basis.
- 'pd': the W-5d functions of the W-5d + Te-5p model. Covalency puts about five electrons per W
  into these functions, so integer "d2" does not exist there; the starts impose an integer
  configuration on the t2g-like local orbitals with the eg-like ones empty, and the d count that
  results along the branch is reported.

Local orbitals a, b, c, d, e are the crystal-field orbitals of the effective model of the same
structure (lowest first; a, b, c are t2g-like in the 1T layer), expressed in the shell's five d
functions, the second W's matched to the first. Energies in eV; per formula unit where stated.
"""
from __future__ import annotations

import hashlib
import json
import re

import numpy as np

from . import cache
from . import orbital_order as oo
from . import wannier as W
from .manybody import anneal as mb_anneal
from .manybody import configurations as cfg
from .manybody import interaction as I
from .manybody import toy

BASES = ("effective", "pd")
#: What a branch's identity (d counts, moments) is measured against: the integer start in the
#: effective basis; in the p-d basis, where integer starts take up covalent charge at once, the state
#: the start converges to at U_max (helpers.manybody.anneal).
IDENTITY = {"effective": "start", "pd": "first"}
#: Convergence of every UHF step: |dF| < 1e-7 eV per cell and max |dn| < 1e-5 (occupation
#: matrices), at most 300 iterations before the driver's retries (helpers.manybody.anneal.RETRIES).
SOLVER = {"n_tol": 1e-5, "e_tol": 1e-7, "max_iter": 300}
#: At `smoke` (numbers not meaningful) a step that does not converge within SOLVER's cap is not retried: it then costs
#: one solve, not four (most of the smoke profile's mean-field time went to such steps).
SMOKE_RETRIES = ()


def solver_for(profile: str) -> tuple:
    """(solver settings, retries) of the mean field at `profile`: SOLVER and helpers.manybody.anneal.RETRIES,
    except at smoke (SMOKE_RETRIES)."""
    if profile == "smoke":
        return SOLVER, SMOKE_RETRIES
    return SOLVER, mb_anneal.RETRIES


#: Continuity of the annealing (helpers.manybody.anneal): a step whose occupations move by more than
#: jump_tol is halved `refine` times before the branch is declared to have no continuous continuation.
CONTINUITY = {"jump_tol": 0.2, "refine": 1}
INTERACTIONS = ("slater", "dudarev")
DOUBLE_COUNTINGS = ("FLL", "AMF")
#: electrons of a filled chalcogen p shell, removed from the p-d count to give the nominal d count
FILLED_P = {"Te": 6, "Se": 6, "S": 6}


def interactions_at(kind: str, J: float, dc: str, f4_over_f2: float = 0.625, n_shells: int = 2):
    """U -> one Interaction per W shell (`n_shells`, two in the primitive cell): the full Slater d
    shell (U, J, the stated F4/F2, double counting `dc`) or Dudarev's U_eff = U - J
    (helpers.manybody.interaction)."""
    if kind not in INTERACTIONS:
        raise ValueError(f"interaction={kind!r} is not allowed; choose from {list(INTERACTIONS)}")
    if dc not in DOUBLE_COUNTINGS:
        raise ValueError(f"double_counting={dc!r} is not allowed; choose from {list(DOUBLE_COUNTINGS)}")
    if not (isinstance(n_shells, int) and n_shells >= 1):
        raise ValueError(f"n_shells={n_shells!r}: need a positive integer")
    if kind == "slater":
        return lambda U: [I.slater(U, J, dc=dc, f4_over_f2=f4_over_f2)] * n_shells
    return lambda U: [I.dudarev(U, J)] * n_shells


def nominal_d_electrons(lcao_result: dict) -> float:
    """Electrons of the p-d manifold minus a filled p shell on every chalcogen: the nominal d count
    of the cell (4 for the two-W cell of WTe2: W4+, d2)."""
    from .dft import atoms_from
    symbols = atoms_from(lcao_result["inputs"]["atoms"]).get_chemical_symbols()
    return oo.pd_electrons(lcao_result) - sum(FILLED_P.get(s, 0) for s in symbols)


def layer_models(lcao_result: dict, grid, e_low: float, width: float) -> dict:
    """The two bases of a layer: {'pd': (model, shells, electrons), 'effective': (model, shells,
    nominal electrons)}, and 'local': the crystal-field orbitals a..e of each W (5x5 unitary
    columns, from the effective model, second W matched to the first). The p-d model is checked
    (helpers.orbital_order.check_model) before it is used."""
    from .dft import atoms_from
    pd = oo.pd_model(lcao_result)
    oo.check_model(pd, lcao_result, atoms_from(lcao_result["inputs"]["atoms"]), name="p-d model of the layer")
    eff, _, _ = oo.downfold_d(pd, grid, e_low, width)
    return {"pd": (pd, oo.d_shells(pd), oo.pd_electrons(lcao_result)),
            "effective": (eff, oo.d_shells(eff), nominal_d_electrons(lcao_result)),
            "local": [np.real(v) for v in oo.site_orbitals(eff)]}


#: The families of starts: counts (N1, N2) per W in the t2g-like orbitals a, b, c.
EFFECTIVE_COUNTS = ((2, 2), (1, 3), (0, 4))
PD_COUNTS = ((1, 1), (2, 2), (3, 3), (4, 4), (1, 3))


def valence_starts(bases: list, counts=EFFECTIVE_COUNTS, orbitals=(0, 1, 2), every_orbital=((2, 2),),
                   first_only: bool = False, background=None, equivalent_sites: bool = True) -> dict:
    """Controlled starts of the two-W cell: name -> per W (n_up, n_dn), integer occupations of the
    local orbitals (columns of `bases`, in each W's d functions) plus `background`.

    For each (N1, N2) of `counts`, N electrons in the t2g-like `orbitals`: every spin-0 and
    high-spin configuration (helpers.manybody.configurations.site_configurations), moments ferro
    or antiferro (names ' FM', ' AFM'). Equal counts put the same configuration on both W, except
    the counts in `every_orbital` (by default d2/d2), whose spin-0 configurations are combined in
    every way (ferro- and antiferro-orbital). Unequal counts (disproportionated pairs) combine the
    lower count's configurations with the higher count's lowest spin-0 and high-spin ones.
    `first_only` keeps only the first configuration of each family and count (fewer branches).
    `background` (per W, a d x d matrix per spin, default zero) is added to both spins: the p-d
    basis keeps its eg-like orbitals at their covalent (U = 0) filling, see `eg_background`.
    `equivalent_sites` (the two W of the 1T layer are related by inversion) keeps one of the
    site-swapped pairs x/y and y/x."""
    starts = {}
    for N1, N2 in counts:
        if N1 > N2 or N1 < 0 or N2 > 2 * len(orbitals):
            raise ValueError(f"counts: ({N1}, {N2}) needs 0 <= N1 <= N2 <= {2 * len(orbitals)}")
        c1s = cfg.site_configurations(N1, orbitals)
        c2s = cfg.site_configurations(N2, orbitals)
        if first_only:
            c1s, c2s = _lowest_and_highest_spin(c1s), _lowest_and_highest_spin(c2s)
        if N1 != N2:
            c2s = _lowest_and_highest_spin(c2s)
        for c1 in c1s:
            for c2 in c2s:
                same = c1[1:] == c2[1:]
                every = ((N1, N2) in every_orbital and c1[3] == c2[3] == 0
                         and not (equivalent_sites and c1s.index(c1) > c2s.index(c2)))
                if N1 != N2 or same or every:
                    cfg.add_pair(starts, c1, c2, bases, background=background)
    return starts


def _lowest_and_highest_spin(configs: list) -> list:
    """The first configuration of lowest spin and the first of highest spin (one if they agree)."""
    lo = min(configs, key=lambda c: c[3])
    hi = max(configs, key=lambda c: c[3])
    return [lo] if lo is hi else [lo, hi]


def eg_background(model: W.TBModel, n_electrons: float, bases: list, grid, width: float = 0.05) -> list:
    """Per W, the U = 0 occupation (per spin) of the model's d shell projected on the eg-like local
    orbitals (columns 3, 4 of `bases`): the covalent filling those orbitals keep in the p-d starts."""
    out = []
    for n0, B in zip(oo.d_occupations(model, n_electrons, grid, width), bases):
        P = B[:, 3:] @ B[:, 3:].conj().T
        out.append(np.real(P @ n0 @ P))
    return out


def model_fingerprint(model: W.TBModel) -> str:
    """SHA-256 (16 hex digits) identifying a model. A model built from a cached LCAO result is
    identified by its provenance (the LCAO entry, the construction's parameters and recipe version:
    helpers.wannier), so the key does not depend on the last digits of H(R), which change with the
    linear-algebra library; any other model by its H(R) rounded to 1e-8 eV. Lattice vectors, shape and
    orbital labels enter both."""
    h = hashlib.sha256()
    prov = model.info.get("provenance")
    if prov is not None:
        from .cache import normalize
        h.update(("provenance:" + json.dumps(normalize(prov), sort_keys=True)).encode())
        h.update(str(model.H_R.shape).encode())
    else:
        h.update(np.ascontiguousarray(np.round(model.H_R, 8)).tobytes())
    h.update(np.ascontiguousarray(model.R).tobytes())
    h.update("|".join(model.labels).encode())
    return h.hexdigest()[:16]


def anneal_layer(label: str, profile: str, models: dict, basis: str, starts: dict, U_grid, grid,
                 interaction: str = "slater", J: float = 0.5, dc: str = "FLL", f4_over_f2: float = 0.625,
                 width: float = 0.05, force: bool = False, kind: str = "anneal", extra_inputs: dict | None = None,
                 observe=None) -> dict:
    """Interaction annealing of `starts` on one basis of `layer_models`, cached (kind 'anneal'):
    U from U_grid[0] down to U_grid[-1] (eV), k grid `grid`, Fermi-Dirac width `width` (eV).
    Returns helpers.manybody.anneal.anneal's result (branches with every step).
    Other callers (helpers.orbitals.ordered) name their own cache `kind`, add what else defines
    their run to the key (`extra_inputs`, absent from the valence keys) and may record
    `observe(UHFResult)` at every step (helpers.manybody.anneal.anneal). Every W shell of the
    model (any number, e.g. in a supercell) gets the same interaction."""
    if basis not in BASES:
        raise ValueError(f"basis={basis!r} is not allowed; choose from {list(BASES)}")
    U_grid = [float(u) for u in U_grid]
    if any(u < 0 for u in U_grid) or any(b >= a for a, b in zip(U_grid, U_grid[1:])):
        raise ValueError(f"U_grid={U_grid}: must be non-negative and strictly decreasing (eV)")
    if not (isinstance(J, (int, float)) and 0 <= J <= min(U_grid)):
        raise ValueError(f"J={J!r}: must be a number of eV in [0, min(U_grid)]")
    model, shells, n_el = models[basis]
    inters = interactions_at(interaction, J, dc, f4_over_f2, len(shells))
    solver, retries = solver_for(profile)
    inputs = {"model": model_fingerprint(model), "basis": basis, "n_electrons": float(n_el),
              "grid": list(grid), "U_grid": U_grid, "interaction": interaction, "J": float(J), "dc": dc,
              "f4_over_f2": float(f4_over_f2), "width": float(width), "solver": solver,
              "retries": list(retries), "identity_from": IDENTITY[basis], "continuity": CONTINUITY,
              "starts": {k: [[np.round(np.real(x), 8).tolist() for x in site] for site in v]
                         for k, v in sorted(starts.items())}}
    if extra_inputs:
        inputs.update(extra_inputs)
    hk = model.hk(W.kgrid_points(grid))

    def compute(workdir):
        return mb_anneal.anneal(hk, shells, inters, n_el, starts, U_grid, width=width, solver_kw=solver,
                                retries=retries, identity_from=IDENTITY[basis], observe=observe, **CONTINUITY)

    return cache.cached(f"{kind}-{label}-{basis}", profile, inputs, compute, force=force)


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
    from .manybody import ed
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
            for s in oo.d_shells(model)]


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
        occ = [shell_occupations_at_ef(W.model_from_lcao(r, oo.PD, spin=s), grid, width) for s in spins]
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
    from .manybody import uhf
    model, shells, n_el = models["pd"]
    hk = model.hk(W.kgrid_points(grid))
    n0 = oo.d_occupations(model, n_el, grid, width)
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
    from .manybody import uhf
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
    from .manybody import bias as mb_bias
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


def plot_bias_landscape(ax, release: dict, n_fu: int, F_ref: float) -> None:
    """The constrained landscape: biased F + Tr(V n) (solid) and unbiased F (dashed) of every start
    against the bias strength lambda (eV), relative to F_ref (eV per cell), meV per formula unit."""
    for i, (name, b) in enumerate(release["branches"].items()):
        lam = [s["lambda"] for s in b["steps"]]
        col = f"C{i % 10}"
        ax.plot(lam, [1000 * (s["F_biased"] - F_ref) / n_fu for s in b["steps"]], "-o", color=col, ms=3, lw=1,
                label=name)
        ax.plot(lam, [1000 * (s["F"] - F_ref) / n_fu for s in b["steps"]], "--", color=col, lw=1)
    ax.set_xscale("symlog", linthresh=0.1)
    ax.set_xlabel("bias strength λ (eV)")
    ax.set_ylabel("F − F(lowest annealed state) (meV per W)")
    ax.legend(fontsize=7, ncol=2)


# --- the verdict ----------------------------------------------------------------------------------

def state_content(occupations) -> dict:
    """What a state holds per W, from its occupation matrices (per W [n_up, n_dn], as arrays or as
    helpers.manybody.uhf stores them): d count, |moment| (muB), the largest natural occupation of
    n_up + n_dn (2 for a doubly occupied orbital; an open-shell S_z = 0 state that puts the two spins
    in different orbitals has about 1) and the overlap of the two spins' dominant natural orbitals
    (helpers.orbitals.natural)."""
    from .manybody.uhf import _cplx_from_json
    from .orbitals import natural
    sites = []
    for u, d in occupations:
        u, d = (_cplx_from_json(x) if isinstance(x, dict) else np.asarray(x) for x in (u, d))
        sites.append(natural.natural_orbitals(np.real(u), np.real(d)))
    spin = []
    for u, d in occupations:
        u, d = (_cplx_from_json(x) if isinstance(x, dict) else np.asarray(x) for x in (u, d))
        spin.append(float(np.linalg.norm(np.real(u) - np.real(d))))
    return {"d_counts": [x["d_count"] for x in sites], "moments": [abs(x["moment_muB"]) for x in sites],
            "largest_natural": [float(x["occupations"][0]) for x in sites],
            "up_down_overlap": [x["up_down_overlap"] for x in sites], "spin_density_norm": spin}


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
#: natural occupation of n_up + n_dn a doubly occupied orbital must reach (helpers.orbitals.natural).
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
    from .orbitals.natural import POLARIZED_MIN
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
    (helpers.orbitals.analysis.robust_verdict: reproduced / not reproduced / undetermined, with the
    range). (a) and (c) over the effective-basis runs `robust` {interaction: result} (the paper's d2
    is a statement in that basis; the W-5d functions of the p-d model hold about five electrons);
    (b) over those and the p-d run (`pd_run`, probed by probes['pd']); the lowest branch of GPAW's
    spin-polarized DFT+U (`gpaw_rows`, gpaw_branch_summary: spin 0 where both W moments of the lowest
    branch are below M_TOL) is listed among the variants but not counted. The DFT+U interaction annealing, the paper's method, is judged apart, first:
    each row's 'DFT+U' is 'reproduced' or 'not reproduced' from `dftu_variant` (helpers.valence_dftu.variant,
    its lowest state at the last U_eff), or `dftu_status` (one string, or one per part) while it is not decided; 'methods' says whether
    the two methods agree where both decide. Returns (verdict rows, per-variant rows with the DFT+U variant last)."""
    from .orbitals.analysis import robust_verdict
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


# --- grids, settings and the notebook's tables and figures -----------------------------------------

#: Annealing step in U (eV) per profile.
ANNEAL_STEP = {"smoke": 2.5, "paper": 0.5}


def u_grid(U_max: float, U_min: float, step: float) -> list:
    """Decreasing interactions U_max, U_max - step, ..., down to U_min included (eV)."""
    for name, v in (("U_max", U_max), ("U_min", U_min), ("U_step", step)):
        if not (isinstance(v, (int, float)) and 0 < v <= 40):
            raise ValueError(f"{name}={v!r}: must be a number of eV in (0, 40]")
    if U_min >= U_max:
        raise ValueError(f"U_min={U_min} must be below U_max={U_max} (eV)")
    n = int(np.floor((U_max - U_min) / step + 1e-9))
    grid = [round(U_max - i * step, 6) for i in range(n + 1)]
    return grid if abs(grid[-1] - U_min) < 1e-9 else grid + [float(U_min)]


def settings_line(interaction, J, f4_over_f2, dc, U_grid, grid, width) -> str:
    """Markdown line stating the interaction, double counting and grids of the page."""
    form = (f"full Slater d shell, J = {J:g} eV, F4/F2 = {f4_over_f2:g}" if interaction == "slater"
            else f"Dudarev, U_eff = U − J with J = {J:g} eV")
    return (f"Interaction: **{form}**; double counting **{dc}**; U from {U_grid[0]:g} to {U_grid[-1]:g} eV in "
            f"{len(U_grid)} steps; mean-field k grid {'×'.join(map(str, grid))}, Fermi–Dirac width {width:g} eV.")


def models_line(models: dict, grid) -> str:
    """Markdown line with the size and electron count of the two bases, and how many electrons each
    model holds below the DFT Fermi level (its own zero of energy) on the k grid `grid`."""
    (pd_m, _, n_pd), (eff, _, n_eff) = models["pd"], models["effective"]
    at_ef = {k: W.electron_count(m, grid) for k, m in (("pd", pd_m), ("eff", eff))}
    return (f"p–d model: {pd_m.norb} orbitals, filled with {n_pd:g} electrons per cell (it holds "
            f"{at_ef['pd']:.2f} below the DFT Fermi level). Effective W-5d model: {eff.norb} orbitals, filled "
            f"with the {n_eff:g} nominal electrons per cell ({n_eff / 2:g} per W; it holds {at_ef['eff']:.2f} "
            f"below the DFT Fermi level).")


def dimer_table(dimer: dict, at_U) -> list:
    """Rows at the chosen U of the dimer: ED and closed-form energy, double occupancy and spin
    correlation, and the UHF branches' energies (eV, t = 1)."""
    rows = []
    for U in at_U:
        i = dimer["U"].index(float(U))
        ex = toy.dimer_exact(U)
        row = {"U/t": U, "E0 ED": dimer["exact"]["E0"][i], "E0 closed form": ex["E0"],
               "⟨n↑n↓⟩ ED": dimer["exact"]["double_occupancy"][i], "⟨n↑n↓⟩ closed form": ex["double_occupancy"],
               "⟨S1·S2⟩ ED": dimer["exact"]["spin_correlation"][i]}
        for name, br in dimer["anneal"]["branches"].items():
            st = [s for s in br["steps"] if s["U"] == float(U) and s["valid"]]
            row[f"UHF {name}"] = st[0]["E"] if st else np.nan
        rows.append(row)
    return rows


def plot_dimer(axes, dimer: dict) -> None:
    """Left: ground-state energy (eV, t = 1) against U of the exact solution and of each UHF branch,
    with the end of each branch marked. Right: double occupancy and spin correlation of the exact
    ground state."""
    U = np.array(dimer["U"])
    ax = axes[0]
    ax.plot(U, dimer["exact"]["E0"], "k-", lw=2.5, label="exact (ED)")
    for (name, br), c in zip(dimer["anneal"]["branches"].items(), ("tab:blue", "tab:red", "tab:green")):
        v = [(s["U"], s["E"]) for s in br["steps"] if s["valid"]]
        if v:
            ax.plot(*zip(*v), "--", color=c, label=f"UHF {name}")
            if br["fate"] != "survives to U_min":
                ax.plot(*v[-1], "x", color=c, ms=10, mew=2)
    ax.set_xlabel("U / t")
    ax.set_ylabel("ground-state energy (units of t)")
    ax.set_ylim(-2.5, 0.5)
    ax.legend(fontsize=9, loc="lower right")
    ax.set_title("energies; × where a branch ends", fontsize=10)
    ax = axes[1]
    ax.plot(U, dimer["exact"]["double_occupancy"], label="⟨n↑n↓⟩ per site")
    ax.plot(U, dimer["exact"]["spin_correlation"], label="⟨S1·S2⟩")
    ax.set_xlabel("U / t")
    ax.set_ylabel("correlation (dimensionless)")
    ax.legend(fontsize=9, loc="center right")
    ax.set_title("exact ground state", fontsize=10)


def family(name: str) -> str:
    """The family of a start name: its count split and spin ('d2/d2 spin 0', 'd2/d2 high spin FM', ...)."""
    if "fallen" in name:
        return "fallen into from another branch"
    n = re.findall(r"d(\d)(?:\(|/|$| )", name.split(" ")[0])
    counts = "/".join(f"d{c}" for c in n)
    spin = "high spin" if "S=" in name else "spin 0" if all(int(c) % 2 == 0 for c in n) else "low spin"
    arr = name.split(" ")[-1] if name.endswith(("FM", "AFM")) else ""
    return f"{counts} {spin} {arr}".strip()


#: Colour of each family of starts, shared by every panel of a page (assigned on first use).
_FAMILY_COLOURS: dict = {}


def family_colour(f: str):
    """The colour of family `f` of starts: the same in every panel drawn in this session."""
    import matplotlib.pyplot as plt
    if f not in _FAMILY_COLOURS:
        _FAMILY_COLOURS[f] = plt.cm.tab20(2 * (len(_FAMILY_COLOURS) % 10) + (len(_FAMILY_COLOURS) // 10) % 2)
    return _FAMILY_COLOURS[f]


def plot_annealing(ax, result: dict, n_fu: int, title: str = "") -> None:
    """Free energy of every branch relative to the ground branch (meV per formula unit) against U
    (eV), one colour per family of starts (the same in every panel), × where a branch ends; the
    ground branch drawn last, thick and black, so it stays visible on the zero line."""
    import textwrap
    curves = energy_curves(result, n_fu)
    ground = mb_anneal.ground_branch(result)
    seen = set()
    for f in sorted({family(n) for n in curves}):
        family_colour(f)
    for name, (U, dF, ok) in curves.items():
        if not U or name == ground:
            continue
        f = family(name)
        good = [(u, d) for u, d, o in zip(U, dF, ok) if o]
        if not good:
            continue
        col = family_colour(f)
        ax.plot(*zip(*good), "-", color=col, lw=1.2, label=None if f in seen else f, zorder=2)
        seen.add(f)
        if result["branches"][name]["fate"] != "survives to U_min":
            ax.plot(*good[-1], "x", color=col, ms=7, mew=1.5, zorder=3)
    if ground in curves:
        U, dF, ok = curves[ground]
        good = [(u, d) for u, d, o in zip(U, dF, ok) if o]
        if good:
            ax.plot(*zip(*good), "-", color="k", lw=3, zorder=5, solid_capstyle="butt")
    ax.plot([], [], "k-", lw=3, label=textwrap.fill(f"ground branch: {ground}", 42))
    ax.axhline(0, color="0.5", lw=0.5, ls=":", zorder=1)
    ax.set_xlabel("U (eV)")
    ax.set_ylabel("F − F(lowest state at that U) (meV per W)")
    ax.invert_xaxis()
    ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False)
    ax.set_title(title, fontsize=11)


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
    `dftu_variant` the DFT+U annealing's (helpers.valence_dftu.variant) and `dftu_status` its state while
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


def page_results(material: str = "WTe2", profile: str = "paper", U_max: float = 10.0, U_min: float = 3.0,
                 U_step: float | None = None, interaction: str = "slater", J: float = 0.5, dc: str = "FLL",
                 f4_over_f2: float = 0.625, width: float = 0.05, grid=None, e_low: float = -1.5,
                 window_width: float = 0.5, basis: str = "dzp", robustness: bool = True,
                 settings: dict | None = None) -> dict:
    """Everything the valence page computes (cached): the 1T layer of the AFE page, its LCAO and the
    two models, the starts, the annealing in both bases with the page's interaction, and, with
    `robustness`, the effective-basis annealing from the core starts for the other interactions
    (`robustness_variants`). Returns {one_t, lcao, models, U_grid, grid, starts, runs (effective
    basis: main and variants), main (its name), pd (the p-d run)}."""
    from . import afe, dft, params
    settings = settings or params.settings(profile)
    grid = tuple(oo.HF_GRID[profile] if grid is None else grid)
    U_grid = u_grid(U_max, U_min, ANNEAL_STEP[profile] if U_step is None else U_step)
    interactions_at(interaction, J, dc, f4_over_f2)
    lattice = afe.relax_layer(material, "d2", params.settings(profile))
    one_t = dft.atoms_from(lattice["1T"]["final"])
    lcao = dft.lcao(one_t, settings, f"{material}-1T", basis=basis)
    models = layer_models(lcao, grid, e_low, window_width)
    bg = eg_background(models["pd"][0], models["pd"][2], models["local"], grid, width)
    starts = {"effective": valence_starts(models["local"]),
              "pd": valence_starts(models["local"], PD_COUNTS, first_only=True, background=bg)}
    run = {b: anneal_layer(f"{material}-1T", profile, models, b, starts[b], U_grid, grid, interaction, J, dc,
                           f4_over_f2, width) for b in BASES}
    main = f"{interaction}, J = {J:g} eV, {dc} (main)"
    runs = {main: run["effective"]}
    probes = {main: probe_survivors(f"{material}-1T", profile, models, "effective", run["effective"],
                                    interaction, J, dc, f4_over_f2, width),
              "pd": probe_survivors(f"{material}-1T", profile, models, "pd", run["pd"],
                                    interaction, J, dc, f4_over_f2, width)}
    if robustness:
        core = core_starts(starts["effective"])
        for name, v in robustness_variants(interaction, J, dc).items():
            runs[name] = anneal_layer(f"{material}-1T", profile, models, "effective", core, U_grid, grid,
                                      v["interaction"], v["J"], v["dc"], f4_over_f2, width)
            probes[name] = probe_survivors(f"{material}-1T", profile, models, "effective", runs[name],
                                           v["interaction"], v["J"], v["dc"], f4_over_f2, width)
    return {"one_t": one_t, "lcao": lcao, "models": models, "U_grid": U_grid, "grid": grid, "starts": starts,
            "runs": runs, "main": main, "pd": run["pd"], "probes": probes}
