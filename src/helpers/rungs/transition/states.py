"""The mean-field ordered states of the primitive and doubled cells per U, their pseudo-spins, pair couplings and fits (meV)."""
from __future__ import annotations

import numpy as np

from helpers.models import pd as pd_models
from . import network
from . import onsager
from ..afo.ordered import patterns as ordered_patterns
from ..afo.ordered import rows as ordered_rows


SPIN = {"b": 1, "c": -1}


def _by_state(mixed: list) -> dict:
    """{(overlap, ΔE meV/f.u.): [starts]} of (start, overlap, ΔE) triples: the starts that end in one state, together."""
    out = {}
    for start, o, dE in mixed:
        out.setdefault((round(o, 2), round(dE, 1)), []).append(start)
    return out


def lowest_states(runs: dict) -> dict:
    """At each U: the lowest valid state among `runs` ({name: (result, W per cell)}) that is not
    b/c-ordered (helpers.rungs.afo.ordered: every W polarized, its dominant natural orbital mostly b
    and c), {U: {'F (meV/W)', 'branch', 'kind', 'run'}}: what an ordered state must lie below to be
    the ground state of the mean field."""
    out = {}
    for name, (res, n_w) in runs.items():
        for r in ordered_rows.pattern_rows(res, n_w):
            if not r["valid"] or ordered_rows._bc_polarized(r):
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
    idx = pd_models.metal_atoms(model)
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
    idx = ordered_patterns.pattern_orbitals(pattern_now, n_sites, n_cells)
    letters = [ordered_patterns.LETTERS[i] for i in idx]
    if any(x not in SPIN for x in letters):
        return None
    return [SPIN[x] for x in letters]


def states(runs: dict, atoms) -> list:
    """Every surviving b/c state of every run and U: cell, branch, U (eV), what it fills now, its
    pseudo-spins' correlations (m, zigzag, interchain, row) and F per W (meV). `atoms`: the metal
    sites as the model places them (model_sites; layer_runs returns them)."""
    out = []
    for cname, (res, n_w) in runs.items():
        cell = tuple(int(c) for c in res["inputs"]["cell"])
        n_cells = int(np.prod(cell))
        n_sites = n_w // n_cells
        for r in ordered_rows.pattern_rows(res, n_w):
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
    """At every U with states: the fit (helpers.rungs.transition.network.fit) of J per bond kind (meV per
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
    primitive-cell run (helpers.rungs.afo.ordered.rows.state_dipole), NaN if it did not survive."""
    res, n_w = run
    rows = {(r["branch"], r["U (eV)"]): r for r in ordered_rows.pattern_rows(res, n_w)}
    step = next((s for s in res["branches"].get(pattern, {"steps": []})["steps"] if abs(s["U"] - U) < 1e-9), None)
    if step is None or not rows.get((pattern, step["U"]), {}).get("survives"):
        return float("nan")
    return ordered_rows.state_dipole(step, blocks) / len(blocks)


def fits(lr: dict) -> tuple:
    """(states, couplings_by_U rows) of a layer_runs result, with the ground-state check against every
    state of its runs and of the other readings' primitive-cell runs."""
    rows = states(lr["runs"], lr["atoms"])
    everything = {**lr["runs"], **{f"{r}, primitive": v for r, v in lr["other_readings"].items()}}
    return rows, couplings_by_U(rows, lowest_states(everything))
