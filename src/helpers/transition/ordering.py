"""The orbital order's ordering temperature from computed couplings: the transition page's rung.

Source of the couplings: the annealed mean-field states of the relaxed d2 layer
(helpers.orbitals.ordered) in one reading of a, b, c, in the primitive cell and in the cells doubled
along (2x1) and across (1x2) the chains. Each state that survives as what it was started as (valid,
every W polarized in its requested orbital, by natural orbitals) is mapped onto pseudo-spins from
what it fills now (b: +1, c: -1; a state filling a on some W is outside the pseudo-spin manifold),
and its bond correlations on the metal network are counted from the structure
(helpers.transition.network). At each U the couplings per bond kind and the b/c field are fitted to
the energies (meV per W); the same configuration met in several cells enters once, at its mean
energy, and the spread between cells is kept as a numerical check. Onsager's T_c follows from the
zigzag and interchain couplings (the network's exact criterion); a seeded Monte Carlo of the same
network (Swendsen-Wang, Binder crossing) checks it; both are cached (helpers.cache).

DFT+U with occupation control (helpers.dftu, the paper's own method) supplies couplings only where its
released states are b/c-ordered; dftu_couplings reads what it has from the cache.
"""
from __future__ import annotations

import math

import numpy as np

from .. import cache
from . import binder, hysteresis, montecarlo as mc, network, onsager

#: Patterns of the doubled cells (helpers.orbitals.ordered names): FO and AFO repeated (a check of the
#: cell: same energy per W as in the primitive cell) and the longer periods.
SUPERCELL_PATTERNS = {(2, 1, 1): ("b2b2", "c2c2", "b2c2", "c2b2", "b2b2|c2c2", "b2c2|c2b2"),
                      (1, 2, 1): ("b2b2", "c2c2", "b2c2", "c2b2", "b2c2|c2b2", "b2b2|c2c2")}
SPIN = {"b": 1, "c": -1}
#: Monte Carlo and hysteresis settings per profile: sizes, sweeps, temperature grid (n_T points over
#: T_c (1 -+ window) around the exact T_c), and the loops (lattice, fields, sweeps per field, T/T_c).
SETTINGS = {
    "smoke": {"sizes": [8, 16], "n_sweeps": 300, "n_thermalize": 50, "n_T": 5, "window": 0.15,
              "loop": {"L": 8, "n_fields": 11, "sweeps_per_field": 4, "T_fractions": [0.6, 1.3]}},
    "paper": {"sizes": [16, 32, 64], "n_sweeps": 4000, "n_thermalize": 300, "n_T": 7, "window": 0.08,
              "loop": {"L": 32, "n_fields": 41, "sweeps_per_field": 100, "T_fractions": [0.5, 0.8, 0.95, 1.2]}},
}
#: Temperatures the page compares with (keys of data/reference/paper_values.json).
TARGETS = ("ferroelectric_Tc_K", "Td_to_1Tprime_transition_K")


def check_profile(profile: str) -> dict:
    if profile not in SETTINGS:
        raise ValueError(f"profile={profile!r} is not allowed; choose from {list(SETTINGS)}")
    return SETTINGS[profile]


# --- the states and their pseudo-spins --------------------------------------------------------------

def layer_runs(material: str, profile: str, reading: str, J: float = 0.5, e_low: float = -1.5,
               window_width: float = 0.5, verbose: bool = False) -> dict:
    """The annealed ordered states (cached) of the relaxed d2 layer with a, b, c of `reading`: the
    primitive-cell run of the AFO page and the doubled cells with SUPERCELL_PATTERNS. Returns {atoms,
    orbitals, runs {'primitive' | '2x1' | '1x2': (result, W per cell)}, m (the layer's models)}."""
    from .. import dft, params, valence
    from .. import orbital_order as oo
    from ..orbitals import analysis as an, identity as idt, ordered
    check_profile(profile)
    if reading not in idt.READINGS:
        raise ValueError(f"reading={reading!r} is not allowed; choose from {list(idt.READINGS)}")
    settings = params.settings(profile)
    grid = tuple(oo.HF_GRID[profile])
    layers = an.layer_models(material, settings, "dzp", grid, e_low, window_width, [-8.0, 6.0], moments=True)
    scans = an.scan_defaults(profile)
    path = an.path_models(material, settings, "dzp", grid, e_low, window_width, scans["path_lambdas"], [-8.0, 6.0])
    _, names_from_1T = an.path_levels(path)
    m = layers["relaxed d2"]
    label = f"{material}-relaxed-d2"
    lc = dft.lcao(m["atoms"], settings, label, basis="dzp")
    models = valence.layer_models(lc, grid, e_low, window_width)
    orbs = an.orbitals_for(m, reading, names_from_1T)
    prim = ordered.page_results(material, profile, J=J, orbitals_per_site=orbs, e_low=e_low,
                                window_width=window_width, parts=("primitive",), verbose=verbose,
                                models=models, label=label)
    runs = {"primitive": next(iter(prim["runs"].values()))}
    # the competitors: every reading's primitive-cell states (the AFO page's), of any kind
    others = {}
    for r in idt.READINGS:
        if r != reading:
            o = ordered.page_results(material, profile, J=J, orbitals_per_site=an.orbitals_for(m, r, names_from_1T),
                                     e_low=e_low, window_width=window_width, parts=("primitive",), verbose=verbose,
                                     models=models, label=label)
            others[r] = next(iter(o["runs"].values()))
    st = ordered.SETTINGS[profile]
    n_w = len(models["effective"][1])
    for name, cell in (("2x1", (2, 1, 1)), ("1x2", (1, 2, 1))):
        starts = ordered.pattern_starts(models, orbs, SUPERCELL_PATTERNS[cell], cell)
        res = ordered.anneal_patterns(label, profile, models, "effective", starts, st["U_grid"], st["grids"][cell],
                                      st["width"], "slater", J, "FLL", orbs, cell)
        runs[name] = (res, n_w * int(np.prod(cell)))
    return {"atoms": model_sites(models["effective"][0], m["atoms"]), "orbitals": orbs, "runs": runs, "m": m,
            "models": models, "reading": reading, "other_readings": others, "names_from_1T": names_from_1T}


def dftu_couplings(lr: dict, material: str, profile: str) -> dict:
    """What DFT+U with occupation control (the AFO page's branches, read from the cache only) offers the
    pseudo-spin fit (dftu_coupling_groups), with the number of branches read ('computed')."""
    from .. import dftu, params
    from ..orbitals import analysis as an, ordered
    m = lr["m"]
    page = dftu.page_results(material, params.settings(profile), m, an.readings(m, lr["names_from_1T"]),
                             ordered.paper_gain_meV(), only_cached=True)
    return dftu_coupling_groups(page["rows"]) | {"computed": len(page["results"])}


def dftu_coupling_groups(rows: list) -> dict:
    """dftu_couplings from DFT+U state-table rows (helpers.dftu.state_table), without the cache. Per
    (spin treatment, U_eff): the orbitally ordered states (FO or AFO by natural orbitals, whatever
    reading the starts were written in; converged), the ordered starts whose release was controlled
    (their fall-back to the unpolarized state is the method's answer, not the solver's), those whose
    release was not, and E_FO - E_AFO where both kinds exist; and the largest U_eff computed."""
    from .. import dftu
    groups = []
    for key in sorted({dftu.comparable_key(r) for r in rows}, key=lambda k: (k[0], -k[1], k[2])):
        sub = [r for r in rows if dftu.comparable_key(r) == key]
        ordered_ = [r for r in sub if r["state"] in ("FO", "AFO") and r["converged"]]
        best = {k: min((r["ΔE (meV/f.u.)"] for r in ordered_ if r["state"] == k), default=np.nan) for k in ("FO", "AFO")}
        starts = [r for r in sub if r["start"] in dftu.PATTERNS]
        loose = [r for r in sub if r["state"] != "unpolarized" and not r["converged"] and r["start"] in dftu.PATTERNS]
        # converged states ordered on every W whose filled orbitals are neither FO nor AFO at the overlap thresholds
        # (an order of rotated orbitals, helpers.dftu.reading_identities): named, not fitted
        mixed = [r for r in sub if r["state"] == "mixed" and r["converged"]]
        groups.append({"spin": key[0], "U (eV)": key[1], "numerics": key[2], "starts": sorted({r["start"] for r in sub}),
                       "ordered": [(r["start"], r["state"]) for r in ordered_],
                       "unconverged ordered": [(r["start"], r["state"]) for r in loose],
                       "mixed": [(r["start"], r["overlap W1-W2"], r["ΔE (meV/f.u.)"]) for r in mixed],
                       "controlled": sorted({r["start"] for r in starts if r.get("release controlled", True)}),
                       "not controlled": sorted({r["start"] for r in starts if not r.get("release controlled", True)}
                                                - {r["start"] for r in starts if r.get("release controlled", True)}),
                       "E_FO - E_AFO (meV/f.u.)": best["FO"] - best["AFO"]})
    return {"groups": groups, "U_max (eV)": max((g["U (eV)"] for g in groups), default=None)}


def dftu_findings(d: dict, ordered_U: tuple = ()) -> str:
    """One Markdown line of dftu_couplings: where DFT+U has orbitally ordered states (and their FO - AFO
    difference), or that none survives a controlled release in the range computed, set against the U
    range `ordered_U` (eV) where the mean field has its ordered states: outside the computed range DFT+U
    neither supplies nor excludes couplings."""
    if not d["groups"]:
        return "- DFT+U with occupation control: no branch computed at this profile, so no couplings from it."
    have = [g for g in d["groups"] if g["ordered"]]

    def fmt(gs):
        spins = dict.fromkeys(g["spin"] for g in gs)
        return "; ".join(s + " at U = " + ", ".join(f"{g['U (eV)']:g}" for g in gs if g["spin"] == s) + " eV" for s in spins)
    beyond = ""
    if ordered_U and d["U_max (eV)"] is not None and max(ordered_U) > d["U_max (eV)"]:
        beyond = (f" DFT+U was computed up to U = {d['U_max (eV)']:g} eV in the primitive cell only, while the mean field "
                  f"has its ordered states at {min(ordered_U):g}–{max(ordered_U):g} eV: above {d['U_max (eV)']:g} eV DFT+U "
                  "neither supplies nor excludes couplings.")
    loose = [g for g in d["groups"] if g.get("unconverged ordered")]
    if loose:
        beyond = (" Where the SCF does not converge, an ordered start can persist without being a state: "
                  + "; ".join(f"{g['spin']}, U = {g['U (eV)']:g} eV: "
                              + ", ".join(f"{k} from {s}" for s, k in g["unconverged ordered"]) for g in loose)
                  + " (the density residual stays above 10^-4 at the iteration cap), so none enters a fit." + beyond)
    if not have:
        ctrl = sorted({s for g in d["groups"] for s in g["controlled"]})
        loose = sorted({s for g in d["groups"] for s in g["not controlled"]} - set(ctrl))
        head = ("- DFT+U with occupation control, the paper's own method (AFO page): no converged orbitally ordered state "
                f"survives the release of the bias ({fmt(d['groups'])}; by natural orbitals, so in any reading of a, b, c). ")
        loose_text = f"released without control ({', '.join(loose)}), which decides nothing" if loose else ""
        if ctrl:
            body = (f"The ordered starts released under control ({', '.join(ctrl)}) fall back to the unpolarized state"
                    + (f", as do those {loose_text}" if loose else "")
                    + ": in this range there is no ordered state whose energies a pseudo-spin model could fit.")
        else:
            body = ("No ordered start was released under control" + (f"; those {loose_text}" if loose else "")
                    + ": this range is not decided.")
        return head + body + beyond
    parts = []
    for g in have:
        d_ = g["E_FO - E_AFO (meV/f.u.)"]
        states = ", ".join(f"{k} from {s}" for s, k in g["ordered"])
        parts.append(f"{g['spin']}, U = {g['U (eV)']:g} eV: {states}"
                     + (f" (E_FO − E_AFO = {d_:+.0f} meV/f.u., the one combination of couplings the primitive cell fixes)"
                        if np.isfinite(d_) else "")
                     + (" and mixed states, neither FO nor AFO at the overlap thresholds (" + "; ".join(
                         f"{', '.join(st)} at W1–W2 overlap {o:.2f}, {dE:+.1f} meV/f.u. from the reference"
                         for (o, dE), st in _by_state(g["mixed"]).items()) + "), not fitted" if g.get("mixed") else ""))
    return ("- DFT+U with occupation control, the paper's own method (AFO page), has orbitally ordered states at "
            + "; ".join(parts) + "." + beyond)


def _by_state(mixed: list) -> dict:
    """{(overlap, ΔE meV/f.u.): [starts]} of (start, overlap, ΔE) triples: the starts that end in one state, together."""
    out = {}
    for start, o, dE in mixed:
        out.setdefault((round(o, 2), round(dE, 1)), []).append(start)
    return out


def dftu_scorecard_line(d: dict) -> str:
    """The scorecard's DFT+U cell of the ordering-temperature row, from dftu_couplings."""
    if not d["groups"]:
        return "not computed"
    have = [g for g in d["groups"] if g["ordered"]]
    if have:
        return "ordered states at " + "; ".join(f"{g['spin']} U = {g['U (eV)']:g} eV" for g in have) + " (primitive cell only)"
    spans = {}
    for g in d["groups"]:
        spans.setdefault(g["spin"], []).append(g["U (eV)"])
    return ("no converged orbitally ordered state after the bias is released ("
            + "; ".join(f"{s}, U = {max(u):g}–{min(u):g} eV" if len(u) > 1 else f"{s}, U = {u[0]:g} eV" for s, u in spans.items())
            + ", primitive cell): no couplings in that range")


def mechanism_couplings(lr: dict, U: float, J: float = 0.5) -> dict:
    """The couplings the paper's mechanism gives at U (eV): per W-W bond of the effective model, the
    energy of the AFO against the FO configuration of the two W (helpers.orbitals.bonds.bond_table,
    Kanamori interaction with Hund J, eV) by second-order hopping and by the pinned all-order two-W
    estimate, turned into pseudo-spin couplings per W as the fit defines them (sum over the bonds of one
    kind in the cell of (E_AFO - E_FO)/2, over the W of the cell; meV; < 0 favours AFO), and Onsager's
    T_c (K) of the zigzag and interchain couplings of the pinned estimate. Second order counts only
    where every bond passes bonds.second_order_valid. {'U (eV)', 'J (eV)', 'kinds': {kind: {...}},
    'second order valid', 'T_c pinned (K)'}."""
    from ..orbitals import bonds
    eff = lr["models"]["effective"][0]
    rows = bonds.bond_table(eff, lr["orbitals"], U, J)
    lengths = network.bond_lengths_A(lr["atoms"])
    n_w = len(lr["orbitals"])
    kinds = {k: {"second order (meV)": 0.0, "pinned (meV)": 0.0, "bonds": 0, "t_intra (eV)": [], "t_inter (eV)": []}
             for k in network.BOND_KINDS}
    for r in rows:
        k = min(lengths, key=lambda x: abs(lengths[x] - r["length_A"]))
        if abs(lengths[k] - r["length_A"]) > 0.05:
            continue
        kinds[k]["second order (meV)"] += r["E2 AFO - FO (meV)"] / 2 / n_w
        kinds[k]["pinned (meV)"] += r["pinned AFO - FO (meV)"] / 2 / n_w
        kinds[k]["bonds"] += 1
        kinds[k]["t_intra (eV)"].append(r["t_intra_eV"])
        kinds[k]["t_inter (eV)"].append(r["t_inter_eV"])
    valid = bool(rows) and all(bonds.second_order_valid(r) for r in rows)
    Jz, Ji = kinds["zigzag"]["pinned (meV)"], kinds["interchain"]["pinned (meV)"]
    tc = onsager.critical_temperature_K(abs(Jz), abs(Ji)) if Jz and Ji else float("nan")
    return {"U (eV)": U, "J (eV)": J, "kinds": kinds, "second order valid": valid, "T_c pinned (K)": tc}


def mechanism_findings(mech: dict, needed: list, target_K: float) -> str:
    """One Markdown line: the mechanism's couplings at the realistic U (mechanism_couplings) beside those a
    target_K order needs (needed_couplings)."""
    k = mech["kinds"]
    side = lambda J: "antiferro-orbital" if J < 0 else "ferro-orbital"  # noqa: E731
    iso = next((n for n in needed if n["J weak / J strong"] == 1.0), None)
    hop = "; ".join(f"{kind}: t_intra {np.mean(v['t_intra (eV)']):.2f}, t_inter {np.mean(v['t_inter (eV)']):.2f} eV"
                    for kind, v in k.items() if v["bonds"])
    return (f"- The mechanism itself at the realistic U = {mech['U (eV)']:g} eV (J = {mech['J (eV)']:g} eV), bond by bond "
            f"on the effective model ({hop}): second-order hopping "
            + ("gives J = " + ", ".join(f"{v['second order (meV)']:.1f} meV ({kind})" for kind, v in k.items() if v["bonds"])
               if mech["second order valid"] else
               "is not valid here (a virtual state lies at or below the closed shells, or a hopping is not small against its gap)")
            + "; the pinned all-order two-W estimate gives J = "
            + ", ".join(f"{v['pinned (meV)']:+.1f} meV ({kind}, {side(v['pinned (meV)'])})" for kind, v in k.items() if v["bonds"])
            + (f", whose Onsager T_c is {mech['T_c pinned (K)']:.0f} K" if np.isfinite(mech["T_c pinned (K)"]) else "")
            + (f", against the {iso['J strong bond (meV)']:.1f} meV per bond a {target_K:g} K order needs" if iso else "")
            + "." + _mechanism_verdict(k, iso))


def _mechanism_verdict(kinds: dict, iso: dict | None) -> str:
    """The closing sentence of mechanism_findings: whether the strongest bond's hopping favours the paper's
    AFO (intra- above inter-orbital) and whether the pinned coupling is antiferro-orbital and of the needed size."""
    live = {k: v for k, v in kinds.items() if v["bonds"]}
    if not live:
        return ""
    k, v = max(live.items(), key=lambda kv: abs(kv[1]["pinned (meV)"]))
    ti, tx = float(np.mean(v["t_intra (eV)"])), float(np.mean(v["t_inter (eV)"]))
    J = v["pinned (meV)"]
    enough = iso is not None and J < 0 and abs(J) >= iso["J strong bond (meV)"]
    return (f" On the {k} bond, which carries the largest coupling, intra-orbital hopping is "
            + ("larger" if ti > tx else "smaller") + " than inter-orbital hopping"
            + (" as the paper's mechanism needs" if ti > tx else "") + "; the two-W problem "
            + ("turns it into an antiferro-orbital coupling of the needed size." if enough else
               "does not turn it into an antiferro-orbital coupling of the needed size."))


def lowest_states(runs: dict) -> dict:
    """At each U: the lowest valid state among `runs` ({name: (result, W per cell)}) that is not
    b/c-ordered (helpers.orbitals.ordered: every W polarized, its dominant natural orbital mostly b
    and c), {U: {'F (meV/W)', 'branch', 'kind', 'run'}}: what an ordered state must lie below to be
    the ground state of the mean field."""
    from ..orbitals import ordered
    out = {}
    for name, (res, n_w) in runs.items():
        for r in ordered.pattern_rows(res, n_w):
            if not r["valid"] or ordered._bc_polarized(r):
                continue
            F = 1000.0 * r["F (eV/cell)"] / n_w
            U = float(r["U (eV)"])
            if U not in out or F < out[U]["F (meV/W)"]:
                out[U] = {"F (meV/W)": F, "branch": r["branch"], "kind": r["kind"], "run": name}
    return out


def model_sites(model, atoms):
    """The metal sites as the mean-field model places them (its own positions and cell): the doubled
    cells are built from the model's sites and lattice vectors, so the pseudo-spins of a supercell
    state sit on these positions, not on the structure's (which may put a W one lattice vector
    away: in WTe2 the model's W1 and W2 of one cell are zigzag partners, the structure's are not).
    Checked to be the structure's metal sites up to lattice vectors (ValueError otherwise)."""
    from ase import Atoms
    from .. import orbital_order as oo
    idx = oo.metal_atoms(model)
    pos = np.asarray(model.positions)[idx]
    cell = np.array(atoms.cell)
    ref = atoms.positions[network.metal_indices(atoms)]
    if len(ref) != len(pos):
        raise ValueError(f"model: {len(pos)} metal sites, the structure has {len(ref)}")
    for p, q in zip(pos, ref):
        frac = np.linalg.solve(cell[:2, :2].T, (p - q)[:2])
        if np.max(np.abs(frac - np.round(frac))) > 1e-3 or abs(p[2] - q[2]) > 1e-3:
            raise ValueError(f"model: metal site {p} is not the structure's {q} up to a lattice vector")
    symbols = [atoms.get_chemical_symbols()[i] for i in network.metal_indices(atoms)]
    return Atoms(symbols, positions=pos, cell=cell, pbc=(True, True, False))


def pseudo_spins(pattern_now: str, n_sites: int, n_cells: int):
    """+1/-1 per W (b/c) of a state's 'pattern now', or None if some W fills a."""
    from ..orbitals import ordered
    idx = ordered.pattern_orbitals(pattern_now, n_sites, n_cells)
    letters = [ordered.LETTERS[i] for i in idx]
    if any(x not in SPIN for x in letters):
        return None
    return [SPIN[x] for x in letters]


def states(runs: dict, atoms) -> list:
    """Every surviving b/c state of every run and U: cell, branch, U (eV), what it fills now, its
    pseudo-spins' correlations (m, zigzag, interchain, row) and F per W (meV). `atoms`: the metal
    sites as the model places them (model_sites; layer_runs returns them)."""
    from ..orbitals import ordered
    out = []
    for cname, (res, n_w) in runs.items():
        cell = tuple(int(c) for c in res["inputs"]["cell"])
        n_cells = int(np.prod(cell))
        n_sites = n_w // n_cells
        for r in ordered.pattern_rows(res, n_w):
            if not r["survives"]:
                continue
            s = pseudo_spins(r["pattern now"], n_sites, n_cells)
            if s is None:
                continue
            c = network.correlations(atoms, s, cell)
            out.append({"cell": cname, "branch": r["branch"], "U (eV)": float(r["U (eV)"]),
                        "pattern now": r["pattern now"], "kind": r["kind"], **{k: c[k] for k in ("m", *network.BOND_KINDS)},
                        "F (meV/W)": 1000.0 * r["F (eV/cell)"] / n_w})
    return out


def configurations(rows: list, U: float) -> dict:
    """At U (eV): distinct pseudo-spin configurations (by their correlations) with their mean energy
    (meV per W), the states behind each and the spread of their energies (meV per W): the same
    configuration computed in different cells must agree (a check of the numerics)."""
    groups = {}
    for r in rows:
        if abs(r["U (eV)"] - U) > 1e-9:
            continue
        key = tuple(round(r[k], 6) for k in ("m", *network.BOND_KINDS))
        groups.setdefault(key, []).append(r)
    out = {}
    for key, rs in groups.items():
        E = [r["F (meV/W)"] for r in rs]
        name = " = ".join(sorted({f"{r['pattern now']} ({r['cell']})" for r in rs}))
        out[name] = {"E (meV/W)": float(np.mean(E)), "spread (meV/W)": float(np.ptp(E)),
                     "correlations": dict(zip(("m", *network.BOND_KINDS), key)), "n": len(rs)}
    return out


def pair_couplings(conf: dict, kind: str) -> list:
    """The coupling of one bond kind (meV) from each pair of configurations (configurations()) that differ
    only in their correlation on that kind: J = -(E1 - E2) / (c1 - c2). A pair-Ising model gives the same J
    from every such pair; their spread measures how far the states are from one."""
    others = ("m", *[k for k in network.BOND_KINDS if k != kind])
    items = list(conf.items())
    out = []
    for i, (n1, c1) in enumerate(items):
        for n2, c2 in items[i + 1:]:
            a, b = c1["correlations"], c2["correlations"]
            if all(abs(a[k] - b[k]) < 1e-9 for k in others) and abs(a[kind] - b[kind]) > 1e-9:
                out.append({"pair": f"{n1} / {n2}", "J (meV)": -(c1["E (meV/W)"] - c2["E (meV/W)"]) / (a[kind] - b[kind])})
    return out


def couplings_by_U(rows: list, lowest: dict | None = None) -> list:
    """At every U with states: the fit (helpers.transition.network.fit) of J per bond kind (meV per
    bond; < 0 favours opposite pseudo-spins) and the b/c field h (meV per W), its residual and degrees
    of freedom, the largest spread of one configuration between cells, and Onsager's T_c (K) of the
    zigzag and interchain couplings where both are fixed by the data. With `lowest` (lowest_states of
    every run, states that are not b/c-ordered), whether the lowest b/c-ordered state is the mean
    field's ground state at that U (an Ising T_c describes the order only where it is)."""
    out = []
    for U in sorted({r["U (eV)"] for r in rows}, reverse=True):
        conf = configurations(rows, U)
        row = {"U (eV)": U, "configurations": len(conf),
               "largest spread between cells (meV/W)": max(c["spread (meV/W)"] for c in conf.values())}
        if lowest is not None:
            best = min(r["F (meV/W)"] for r in rows if abs(r["U (eV)"] - U) < 1e-9)
            other = lowest.get(U, {}).get("F (meV/W)", np.inf)
            row["lowest ordered − lowest other state (meV/W)"] = best - other if np.isfinite(other) else np.nan
            row["order is the ground state"] = bool(best < other)
        try:
            f = network.fit({k: (v["E (meV/W)"], v["correlations"]) for k, v in conf.items()})
        except ValueError:
            f = None
        if f is None or len(conf) < 2:
            row.update({f"J {k} (meV)": np.nan for k in network.BOND_KINDS})
            row["T_c, weak coupling ×½ to ×2 (K)"] = "—"
            row.update({"h (meV)": np.nan, "rms residual (meV/W)": np.nan, "dof": 0, "T_c Onsager (K)": np.nan,
                        "fixed": "—"})
        else:
            row.update({f"J {k} (meV)": f.J_meV[k] for k in network.BOND_KINDS})
            Jz, Ji = f.J_meV["zigzag"], f.J_meV["interchain"]
            tc = onsager.critical_temperature_K(abs(Jz), abs(Ji)) if np.isfinite(Jz) and np.isfinite(Ji) else np.nan
            row.update({"h (meV)": f.h_meV, "rms residual (meV/W)": f.rms_residual_meV, "dof": f.dof,
                        **{f"σ J {k} (meV)": f.J_err_meV.get(k, np.nan) for k in ("zigzag", "interchain")},
                        "T_c Onsager (K)": tc, "fixed": ", ".join(x for x in f.determined if x != "E0")})
            pairs = pair_couplings(conf, "interchain")
            row["J interchain from pairs (meV)"] = ", ".join(f"{p['J (meV)']:.1f}" for p in pairs) or "—"
            if np.isfinite(tc):
                weak = min(abs(Jz), abs(Ji))
                strong = max(abs(Jz), abs(Ji))
                row["T_c, weak coupling ×½ to ×2 (K)"] = (f"{onsager.critical_temperature_K(strong, weak / 2):.0f}–"
                                                         f"{onsager.critical_temperature_K(strong, weak * 2):.0f}")
        out.append(row)
    return out


def dipole_per_W(run: tuple, U: float, blocks: list, pattern: str = "b2c2") -> float:
    """Out-of-plane dipole (e*Angstrom per W) of the surviving state started as `pattern` at U in a
    primitive-cell run (helpers.orbitals.ordered.state_dipole), NaN if it did not survive."""
    from ..orbitals import ordered
    res, n_w = run
    rows = {(r["branch"], r["U (eV)"]): r for r in ordered.pattern_rows(res, n_w)}
    step = next((s for s in res["branches"].get(pattern, {"steps": []})["steps"] if abs(s["U"] - U) < 1e-9), None)
    if step is None or not rows.get((pattern, step["U"]), {}).get("survives"):
        return float("nan")
    return ordered.state_dipole(step, blocks) / len(blocks)


# --- temperatures ---------------------------------------------------------------------------------

def _grid(T_c: float, st: dict) -> list:
    return list(T_c * np.linspace(1 - st["window"], 1 + st["window"], st["n_T"]))


def monte_carlo_tc(J_x_meV: float, J_y_meV: float, profile: str, geometry: str = "zigzag", seed: int = 1,
                   T_guess_K: float | None = None) -> dict:
    """Binder-crossing T_c (K) of the network with |J_x| (zigzag) and |J_y| (interchain), cached:
    sizes, sweeps and a temperature grid around Onsager's T_c (or `T_guess_K`) from SETTINGS.
    Returns T_c, error, drift, pair crossings, temperatures and cumulants (lists), or 'no crossing'."""
    st = check_profile(profile)
    exact = onsager.critical_temperature_K(abs(J_x_meV), abs(J_y_meV))
    T = _grid(T_guess_K or exact, st)
    inputs = {"J_x_meV": round(float(J_x_meV), 6), "J_y_meV": round(float(J_y_meV), 6), "geometry": geometry,
              "sizes": st["sizes"], "n_sweeps": st["n_sweeps"], "n_thermalize": st["n_thermalize"],
              "temperatures_K": [round(t, 6) for t in T], "seed": seed, "algorithm": "cluster"}

    def compute(_wd):
        try:
            r = binder.binder_tc(st["sizes"], inputs["temperatures_K"], abs(J_x_meV), abs(J_y_meV),
                                 n_sweeps=st["n_sweeps"], n_thermalize=st["n_thermalize"], seed=seed,
                                 geometry=geometry)
        except binder.NoCrossing as e:
            return {"crossing": False, "message": str(e), "exact_K": exact}
        return {"crossing": True, "T_c_K": r.T_c_K, "error_K": r.error_K, "drift_K": r.drift_K,
                "exact_K": exact, "pairs": {f"{a}-{b}": list(v) for (a, b), v in r.pair_crossings.items()},
                "temperatures_K": list(map(float, r.temperatures_K)),
                "cumulants": {str(L): [list(map(float, u)), list(map(float, e))] for L, (u, e) in r.cumulants.items()}}
    return cache.cached("transition-mc", profile, inputs, compute)


def loops(J_x_meV: float, J_y_meV: float, T_c_K: float, dipole_eA_per_W: float, profile: str,
          seed: int = 2) -> dict:
    """Hysteresis loops (helpers.transition.hysteresis, Metropolis, zigzag network) at the fractions of
    T_c of SETTINGS, the field up to 1.5 (|J_x| + |J_y|) per site; cached. Per temperature: fields
    (meV and V/nm with the dipole per W), the two branches, coercive field (meV, V/nm), remanence."""
    st = check_profile(profile)["loop"]
    h_max = 1.5 * (abs(J_x_meV) + abs(J_y_meV))
    inputs = {"J_x_meV": round(float(J_x_meV), 6), "J_y_meV": round(float(J_y_meV), 6),
              "T_c_K": round(float(T_c_K), 6), "dipole": round(float(dipole_eA_per_W), 8), "h_max_meV": h_max,
              **st, "seed": seed, "geometry": "zigzag"}

    def compute(_wd):
        out = []
        for i, f in enumerate(st["T_fractions"]):
            lp = hysteresis.hysteresis_loop(st["L"], f * T_c_K, J_x_meV, J_y_meV, h_max, n_fields=st["n_fields"],
                                            sweeps_per_field=st["sweeps_per_field"], dipole_per_site=dipole_eA_per_W,
                                            seed=seed + i, geometry="zigzag")
            c = hysteresis.coercivity(lp)
            E = (abs(hysteresis.field_V_per_nm(c.coercive_meV, dipole_eA_per_W))
                 if math.isfinite(c.coercive_meV) and dipole_eA_per_W else float("nan"))
            out.append({"T/T_c": f, "T_K": lp.T_K, "h_meV": lp.h_meV.tolist(), "m_down": lp.m_down.tolist(),
                        "m_up": lp.m_up.tolist(), "coercive_meV": c.coercive_meV, "coercive_V_per_nm": E,
                        "remanence": 0.5 * (c.remanence_down - c.remanence_up)})
        return {"loops": out}
    return cache.cached("transition-loops", profile, inputs, compute)


def needed_couplings(T_c_K: float, ratios=(1.0, 0.1, 0.01)) -> list:
    """The couplings (meV per bond) of the strong and the weak bond of the network whose Onsager T_c
    is T_c_K, at several anisotropies (weak / strong; Onsager's equation is symmetric in the two)."""
    out = []
    for r in ratios:
        strong, weak = onsager.couplings_for_tc(T_c_K, r)
        out.append({"J weak / J strong": r, "J strong bond (meV)": strong, "J weak bond (meV)": weak})
    return out


def strongest_metal_hopping(model) -> dict:
    """The lattice vector R of the largest W1-W2 hopping block ||H(R)[W1 d, W2 d]|| (Frobenius, eV)
    of a two-metal model and the length (Angstrom) of the bond it spans, |p_W2 + R.cell - p_W1|: an
    independent check that the model's site positions are those its hoppings were computed for
    (the strongest metal-metal hopping should span the shortest metal-metal bond)."""
    from .. import orbital_order as oo
    shells = oo.d_shells(model)
    atoms_ = oo.metal_atoms(model)
    if len(shells) != 2:
        raise ValueError(f"model: {len(shells)} metal shells; this check is for two metals per cell")
    norms = [np.linalg.norm(H[np.ix_(shells[0], shells[1])]) for H in model.H_R]
    k = int(np.argmax(norms))
    p = np.asarray(model.positions)
    v = p[atoms_[1]] + np.asarray(model.R[k]) @ np.asarray(model.cell) - p[atoms_[0]]
    return {"R": [int(x) for x in model.R[k]], "norm_eV": float(norms[k]), "length_A": float(np.linalg.norm(v))}


# --- what the page says ----------------------------------------------------------------------------

def U_range(rows: list) -> tuple:
    """The U values (eV) where Onsager's T_c is defined (zigzag and interchain couplings both fixed)
    and, where the rows say so, the b/c order is the mean field's ground state."""
    return tuple(r["U (eV)"] for r in rows if np.isfinite(r["T_c Onsager (K)"])
                 and r.get("order is the ground state", True))


def verdict(rows: list, U_real: float, target_K: float) -> dict:
    """'The orbital order's T_c reaches the target' judged at the realistic U: reproduced / not
    reproduced where the order is the mean field's ground state at U_real with fitted couplings
    (T_c >= / < target), undetermined where it is not (the T_c range where it is, is given; a static
    mean field overestimates order, so its absence at U_real weighs against the claim)."""
    Us = U_range(rows)
    at = [r for r in rows if abs(r["U (eV)"] - U_real) < 1e-9 and r["U (eV)"] in Us]
    Ts = [r["T_c Onsager (K)"] for r in rows if r["U (eV)"] in Us]
    if at:
        T = at[0]["T_c Onsager (K)"]
        return {"verdict": "reproduced" if T >= target_K else "not reproduced", "T_c_K": T,
                "why": f"T_c = {T:.0f} K at U = {U_real:g} eV"}
    if not Us:
        return {"verdict": "undetermined", "T_c_K": np.nan, "why": "the b/c order is not the ground state at any U of the runs"}
    return {"verdict": "undetermined", "T_c_K": np.nan,
            "why": (f"no b/c-ordered ground state at U = {U_real:g} eV (the static mean field, which overestimates "
                    f"order, finds none); where the order is the ground state (U = {min(Us):g}–{max(Us):g} eV), "
                    f"T_c = {min(Ts):.0f}–{max(Ts):.0f} K, from couplings that hold the whole AFO–FO difference of the "
                    "model: a scale of its order, not a transition temperature")}


def findings(rows: list, U_real: float, targets: dict, mc: dict | None, mc_U: float | None,
             needed: list, reading: str, target_K: float) -> str:
    """Markdown lines: where the pseudo-spin states exist and where the order is the mean field's ground
    state, the couplings there, Onsager's T_c against the targets and its sensitivity to the weak
    coupling, the Monte Carlo check, and the couplings an order at target_K needs."""
    fit = {r["U (eV)"]: r for r in rows}
    exist = [u for u, r in fit.items() if np.isfinite(r["T_c Onsager (K)"])]
    Us = U_range(rows)
    out = []
    if not exist:
        out.append(f"- No b/c-ordered configurations enough to fix the couplings survive in the runs ({reading} reading).")
    else:
        hi, lo = fit[max(exist)], fit[min(exist)]
        strong = "zigzag" if abs(hi["J zigzag (meV)"]) >= abs(hi["J interchain (meV)"]) else "interchain"
        weak = "interchain" if strong == "zigzag" else "zigzag"
        sign = lambda J: "antiferro-orbital" if J < 0 else "ferro-orbital"           # noqa: E731
        row_fixed = any(np.isfinite(r["J row (meV)"]) for r in rows)
        res = max(r["rms residual (meV/W)"] for r in rows if np.isfinite(r["rms residual (meV/W)"]))
        out.append(f"- The b/c-ordered states exist from U = {max(exist):g} down to {min(exist):g} eV ({reading} reading); "
                   f"below, the ordered starts fall to other states. There the {strong} bond carries the coupling: "
                   f"J = {hi[f'J {strong} (meV)']:.0f} meV at {max(exist):g} eV and {lo[f'J {strong} (meV)']:.0f} meV at "
                   f"{min(exist):g} eV per bond ({sign(hi[f'J {strong} (meV)'])}), against {hi[f'J {weak} (meV)']:.1f} and "
                   f"{lo[f'J {weak} (meV)']:.1f} meV on the {weak} bond, the size of the spread of one configuration "
                   f"between cells (≤ {max(r['largest spread between cells (meV/W)'] for r in rows):.1f} meV per W), so only "
                   f"its order of magnitude is meaningful"
                   + "".join(f" (at {u:g} eV the configurations that differ only on the interchain bond give "
                             f"{fit[u]['J interchain from pairs (meV)']} meV against the fit's {fit[u]['J interchain (meV)']:.1f}: "
                             "the pair-Ising model describes the states only roughly)"
                             for u in [min(Us) if Us else max(exist)]
                             if fit[u].get("J interchain from pairs (meV)", "—") != "—")
                   + f"; fit residual ≤ {res:.1f} meV per W"
                   + ("" if row_fixed else "; the row coupling is not fixed (every surviving state has equal pseudo-spins "
                      "along a row), and T_c is computed without it") + ".")
        above = [u for u in exist if u not in Us]
        gap = [fit[u].get("lowest ordered − lowest other state (meV/W)", np.nan) for u in above]
        if Us:
            Ts = [fit[u]["T_c Onsager (K)"] for u in Us]
            names = ", ".join(f"{k} ({v:g} K)" for k, v in targets.items())
            out.append(f"- The order is the mean field's ground state only at U = {min(Us):g}–{max(Us):g} eV"
                       + (f"; at {min(above):g}–{max(above):g} eV a state that is not b/c-ordered lies up to "
                          f"{np.nanmax(gap):.0f} meV per W lower" if above else "")
                       + f". There Onsager's T_c is {min(Ts):.0f}–{max(Ts):.0f} K "
                       f"({fit[min(Us)]['T_c, weak coupling ×½ to ×2 (K)']} K if the weak coupling is halved or doubled), "
                       f"far above {names}: the couplings are of the size of the whole AFO–FO difference (hundreds of meV "
                       "per W), which includes losing the polarization itself, not the tens of meV a 350 K transition "
                       "needs. Such temperatures say that the model's order, where it is the ground state, would not "
                       "disorder by flipping orbitals; they are not a prediction of a transition temperature.")
        else:
            out.append("- The order is not the mean field's ground state at any U of the runs: no T_c is quoted.")
        out.append(f"- At the realistic U = {U_real:g} eV no b/c-ordered state exists in the mean field, which overestimates "
                   "order: the model gives no ordered phase there to have a T_c.")
    if mc is not None and mc.get("crossing"):
        out.append(f"- Monte Carlo check of the network (Binder crossing, sizes {', '.join(mc['pairs'])}) at U = {mc_U:g} eV: "
                   f"T_c = {mc['T_c_K']:.0f} ± {mc['error_K']:.0f} K against Onsager's {mc['exact_K']:.0f} K.")
    iso = next((n for n in needed if n["J weak / J strong"] == 1.0), None)
    if iso:
        out.append(f"- A {target_K:g} K order needs |J| = {iso['J strong bond (meV)']:.1f} meV on every bond (isotropic), or "
                   + ", ".join(f"{n['J strong bond (meV)']:.1f} meV on the strong bond with {n['J weak bond (meV)']:.2f} meV "
                               "on the weak one" for n in needed if n["J weak / J strong"] != 1.0) + ".")
    return "\n".join(out)


def loop_findings(loops: dict, dipole_eA: float) -> str:
    """Markdown line: coercive fields (V/nm, with the dipole per W) of the loops below T_c, and whether
    the loop above T_c closes at this sweep rate."""
    below = [lp for lp in loops["loops"] if lp["T/T_c"] < 1 and math.isfinite(lp["coercive_meV"])]
    above = [lp for lp in loops["loops"] if lp["T/T_c"] > 1]
    if not below or not math.isfinite(dipole_eA) or dipole_eA == 0:
        return "- No loop with a dipole to turn its field into V/nm."
    E = [lp["coercive_V_per_nm"] for lp in below]
    text = (f"- Hysteresis: with {abs(dipole_eA):.4f} e·Å per W, the simulated loops below $T_c$ open up to "
            f"{min(E):.0f}–{max(E):.0f} V/nm: the nucleation limit of a periodic lattice without defects at this sweep "
            "rate, set by couplings of hundreds of meV against a small dipole; not a number to compare with a device.")
    for lp in above:
        text += (f" At {lp['T/T_c']:g} $T_c$ the loop " + ("stays open (remanent m = "
                 f"{lp['remanence']:.2f}): the field is swept faster than the order relaxes, a kinetic effect"
                 if lp["remanence"] > 0.1 else "closes, as above $T_c$ it must") + ".")
    return text


def fits(lr: dict) -> tuple:
    """(states, couplings_by_U rows) of a layer_runs result, with the ground-state check against every
    state of its runs and of the other readings' primitive-cell runs."""
    rows = states(lr["runs"], lr["atoms"])
    everything = {**lr["runs"], **{f"{r}, primitive": v for r, v in lr["other_readings"].items()}}
    return rows, couplings_by_U(rows, lowest_states(everything))
