"""Tables and findings of the AFE-lattice page (lengths in Angstrom, energies in meV per formula unit)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from helpers.dft.geometry import distortion_table, pretty_measure
from ..typeset import formulas_html


def _length(x: float, fmt: str = ".3f") -> str:
    """A length in Å for a sentence, or 'not defined' when it is NaN."""
    return "not defined" if x is None or np.isnan(x) else f"{x:{fmt}}"


def _mm(s: dict) -> str:
    """'metal–metal short/long Å' of a structure summary, or the clause saying they are not defined."""
    if np.isnan(s["MM_short_A"]) or np.isnan(s["MM_long_A"]):
        return "no distinct short and long metal–metal distances"
    return f"metal–metal {s['MM_short_A']:.3f}/{s['MM_long_A']:.3f} Å"


def candidates_table(table: dict, targets: dict, chosen: dict) -> pd.DataFrame:
    """All candidate distortion measures of the experimental layer beside the paper's values."""
    rows = []
    for kind, measures in table.items():
        for name, value in measures.items():
            rows.append({"quantity": kind, "definition": pretty_measure(name), "experimental layer (ours)": round(value, 4),
                         "paper, experiment column": targets[kind],
                         "chosen": "✔" if chosen[kind][0] == name else ""})
    return pd.DataFrame(rows).set_index(["quantity", "definition"])


def relaxation_table(results: dict) -> pd.DataFrame:
    """Energies (eV), distortion energy (meV/f.u.), steps and convergence of each relaxation."""
    rows = []
    for d, r in results.items():
        n_fu = len(r["1T"]["final"]["symbols"]) // 3
        rows.append({
            "d count": d,
            "E 1T (eV/cell)": round(r["1T"]["energy_eV"], 4),
            "E relaxed from rattled start (eV/cell)": round(r["distorted"]["energy_eV"], 4),
            "ΔE (meV/f.u.)": round(1000 * (r["distorted"]["energy_eV"] - r["1T"]["energy_eV"]) / n_fu, 1),
            "steps (1T / rattled)": f"{r['1T']['steps']} / {r['distorted']['steps']}",
            "converged (1T / rattled)": f"{'yes' if r['1T']['converged'] else 'no'} / {'yes' if r['distorted']['converged'] else 'no'}",
            "final fmax (eV/Å)": f"{r['1T']['fmax_eV_per_A']:.3f} / {r['distorted']['fmax_eV_per_A']:.3f}",
            "wall time (min)": f"{r['1T']['wall_time_s'] / 60:.1f} / {r['distorted']['wall_time_s'] / 60:.1f}",
            "k points": "×".join(map(str, r["1T"]["kpts"])),
        })
    return pd.DataFrame(rows).set_index("d count")


LABELS = {
    "a_A": "a, chain direction (Å)", "b_A": "b (Å)", "MM_short_A": "W–W short (Å)",
    "MM_long_A": "W–W long (Å)", "bond_min_A": "W–Te min (Å)", "bond_max_A": "W–Te max (Å)",
    "bond_mean_A": "W–Te mean (Å)", "offcentre_A": "W off-centring |δ| (Å)",
    "dipole_eA": "local dipole |p| (e·Å)", "dipole_density_uC_cm2": "local dipole density (μC/cm²)",
}


def structure_table(summaries: dict) -> pd.DataFrame:
    """One column per layer, one row per quantity of helpers.rungs.afe.structure.structure_summary."""
    df = pd.DataFrame({name: {LABELS[k]: v for k, v in s.items() if k in LABELS}
                       for name, s in summaries.items()})
    return df.round(3)


#: Column labels of our Table 1 variants: the d count of helpers.dft.layers.relax_layer, and the W3+ ion
#: made as a t2g3 DFT+U layer (helpers.dft.layers.relax_w3_layer).
T1_LABELS = {"d2": "d2 (ours)", "d3": "d3: +1 e/W, PBE, uniform background (ours)"}


def table1(layers: dict, chosen: dict, ref: dict, dcounts, material: str = "WTe2",
           w3_layers: dict | None = None) -> pd.DataFrame:
    """Table 1 of the paper recomputed with the chosen definitions; the paper's numbers (for WTe2)
    are shown beside ours only when `material` is WTe2. `w3_layers` ({label: Atoms}) adds columns
    for the t2g3 DFT+U variants of the W3+ layer, next to the paper's W3+ column."""
    keys = {"d2": "d2_W4+", "d3": "d3_W3+"}
    refkey = {"bond": "bond_length_deviation", "angle": "angle_deviation"}
    rows = {}
    for kind, (name, _, _) in chosen.items():
        row = {}
        if "experiment" in layers:
            row["experiment (ours)"] = distortion_table(layers["experiment"])[kind][name]
        if material == "WTe2":
            row["experiment (paper, Tao 2020)"] = ref[refkey[kind]]["experiment"]
        for d in dcounts:
            row[T1_LABELS[d]] = distortion_table(layers[f"{d} relaxed"])[kind][name]
            if material == "WTe2":
                row[f"{d} (paper)"] = ref[refkey[kind]][keys[d]]
        for label, atoms in (w3_layers or {}).items():
            row[label] = distortion_table(atoms)[kind][name]
        if w3_layers and material == "WTe2" and "d3" not in dcounts:
            row["d3 (paper)"] = ref[refkey[kind]][keys["d3"]]
        rows[f"{kind}: {name}"] = row
    return pd.DataFrame(rows).T.round(3)


def w3_table(w3: dict) -> pd.DataFrame:
    """The t2g3 DFT+U layers ({order: {'distorted': result, '1T': result (optional)}}): energies,
    the distortion energy (meV/f.u.) when the 1T reference exists, W moments (muB), steps,
    convergence and wall time of each relaxation."""
    rows = {}
    for order, r in w3.items():
        d, ref = r["distorted"], r.get("1T")
        n_fu = len(d["final"]["symbols"]) // 3
        rows[order] = {
            "E from rattled start (eV/cell)": round(d["energy_eV"], 4),
            "E 1T (eV/cell)": round(ref["energy_eV"], 4) if ref else "not computed",
            "ΔE (meV/f.u.)": round(1000 * (d["energy_eV"] - ref["energy_eV"]) / n_fu, 1) if ref else "—",
            "W moments relaxed (μB)": ", ".join(f"{m:+.2f}" for m in d["magnetic_moments_muB"][:2]),
            "steps": d["steps"], "converged": d["converged"],
            "final fmax (eV/Å)": round(d["fmax_eV_per_A"], 3),
            "k points": "×".join(map(str, d["kpts"])),
            "wall time (min)": round(d["wall_time_s"] / 60, 1),
        }
    return pd.DataFrame(rows).T


def dipole_table(summaries: dict) -> pd.DataFrame:
    """Off-centring along y of each metal and the nominal local dipole, per layer."""
    rows = {}
    for name, s in summaries.items():
        rows[name] = {"δy of the metals (Å)": ", ".join(f"{v:+.3f}" for v in s["offcentre_y_A"]),
                      "net δy (Å)": round(sum(s["offcentre_y_A"]), 3),
                      "|p| (e·Å)": round(s["dipole_eA"], 3),
                      "local dipole density (μC/cm²)": round(s.get("dipole_density_uC_cm2", np.nan), 1)}
    return pd.DataFrame(rows).T


def convergence_table(rows: list, settings: dict) -> pd.DataFrame:
    """The convergence sweep, with the profile's own point marked."""
    df = pd.DataFrame(rows)
    df["ΔE (meV/f.u.)"] = (1000 * df.pop("dE_per_fu_eV")).round(1)
    df["kpts"] = df["kpts"].map(lambda k: "×".join(map(str, k)))
    df["profile setting"] = [("◀" if (r["ecut_eV"] == settings["ecut"] and r["kpt_density"] == settings["kpt_density"]) else "")
                             for r in rows]
    return df


def afe_findings(results, summaries, layers, chosen, ref, dcounts, conv_rows, w3=None) -> str:
    """Markdown summary of the AFE-lattice page, generated from the computed numbers; `w3` holds the
    t2g3 DFT+U relaxations of the W3+ layer ({order: {'1T', 'distorted'}}), if any."""
    exp = summaries.get("experiment")
    lines = []
    for d in dcounts:
        r = results[d]
        n_fu = len(r["1T"]["final"]["symbols"]) // 3
        de = 1000 * (r["distorted"]["energy_eV"] - r["1T"]["energy_eV"]) / n_fu
        s = summaries[f"{d} relaxed"]
        distorted = s["offcentre_A"] > 0.1
        exp_off = f", experiment {_length(exp['offcentre_A'])} Å" if exp else ""
        exp_mm = f"; experiment: {_mm(exp)}" if exp else ""
        shape = "gives a distorted layer" if distorted else "returns to an essentially undistorted layer"
        start = r["distorted"].get("start", "a rattled 1T start")
        lines.append(
            f"- **{d}**: relaxing from {start} {shape} (metal off-centring "
            f"{_length(s['offcentre_A'])} Å{exp_off}; {_mm(s)}{exp_mm}), "
            f"{abs(de):.0f} meV per formula unit {'below' if de < 0 else 'above'} the relaxed 1T layer.")
        if not all(x["converged"] for x in r.values()):
            lines.append(f"  - *Not all {d} relaxations reached the force tolerance; these numbers are provisional.*")
    refkey = {"bond": "bond_length_deviation", "angle": "angle_deviation"}
    keys = {"d2": "d2_W4+", "d3": "d3_W3+"}
    for kind, (name, value, rel) in chosen.items():
        if exp is None:
            break
        txt = (f"- Table 1, {kind}: the definition *{pretty_measure(name)}* gives {value:.3f} for the experimental layer "
               f"against the paper's {ref[refkey[kind]]['experiment']} ({100 * rel:+.1f} %).")
        for d in dcounts:
            ours = distortion_table(layers[f"{d} relaxed"])[kind][name]
            paper = ref[refkey[kind]][keys[d]]
            txt += f" {d}: ours {ours:.3f}, paper {paper}."
        lines.append(txt)
    for order, r in (w3 or {}).items():
        n_fu = len(r["distorted"]["final"]["symbols"]) // 3
        s = summaries[f"d3: t2g3 DFT+U {order} (ours)"]
        gain = ""
        if "1T" in r:
            de = 1000 * (r["distorted"]["energy_eV"] - r["1T"]["energy_eV"]) / n_fu
            gain = f", {abs(de):.0f} meV per formula unit {'below' if de < 0 else 'above'} its relaxed 1T layer"
        txt = (f"- **W3+ as a t2g3 DFT+U ion, {order}**: from the rattled start the metal off-centring is "
               f"{_length(s['offcentre_A'])} Å ({_mm(s)}){gain}; W moments "
               + ", ".join(f"{m:+.2f}" for m in r["distorted"]["magnetic_moments_muB"][:2]) + " μB.")
        for kind, (name, _, _) in chosen.items():
            keyref = {"bond": "bond_length_deviation", "angle": "angle_deviation"}[kind]
            txt += (f" Table 1 {kind}: {distortion_table(layers[f'd3: t2g3 DFT+U {order} (ours)'])[kind][name]:.3f}"
                    f" (paper's W3+: {ref[keyref]['d3_W3+']}).")
        if not all(x["converged"] for x in r.values()):
            txt += " *Not every relaxation reached the force tolerance: provisional.*"
        lines.append(txt)
    if conv_rows:
        des = [1000 * r["dE_per_fu_eV"] for r in conv_rows]
        lines.append(f"- Convergence: across the sweep the distortion energy spans {min(des):.1f} to {max(des):.1f} meV/f.u. "
                     f"(spread {max(des) - min(des):.1f} meV/f.u.).")
    return formulas_html("\n".join(lines))
