"""Figures of the compendium (matplotlib); each function draws on an Axes it is given."""
from __future__ import annotations

import numpy as np
from ase import Atoms

from .badges import COLOURS, format_energy, verdict_key
from .pages import PAGES


COLORS = {"W": "#4d4d4d", "Mo": "#6a5acd", "Te": "#d98c1a"}


def layer_top_view(ax, atoms: Atoms, dipoles=None, repeat=(3, 2), scale: float = 1.5, title="",
                   legend: bool = True):
    """Top view (x: chain direction, y: dimerization direction, Angstrom) of a layer, repeated, with
    the in-plane part of each metal's local dipole drawn as an arrow (red +y, blue -y); `legend`
    False leaves the legend to the caller (e.g. one for several panels, see `shared_legend`).
    Atoms are wrapped into the cell first, so every atom drawn lies inside the dotted cells."""
    inside = atoms.copy()
    inside.wrap(eps=1e-3)                       # an atom at -0.01 of a cell edge is drawn at that edge
    big = inside.repeat((*repeat, 1))
    sym = np.array(big.get_chemical_symbols())
    z = big.positions[:, 2]
    zmid = np.median(z[sym != "Te"]) if (sym != "Te").any() else z.mean()
    for s in ("Te", "W", "Mo"):
        m = sym == s
        if not m.any():
            continue
        if s == "Te":
            top = m & (z > zmid)
            ax.scatter(*big.positions[top, :2].T, s=120, c=COLORS[s], edgecolors="k", label="Te (top)")
            ax.scatter(*big.positions[m & ~top, :2].T, s=120, c="white", edgecolors=COLORS[s],
                       linewidths=2, label="Te (bottom)")
        else:
            ax.scatter(*big.positions[m, :2].T, s=220, c=COLORS[s], edgecolors="k", label=s, zorder=3)
    if dipoles is not None:
        n = len(atoms)
        metal_idx = [i for i, s in enumerate(atoms.get_chemical_symbols()) if s in ("W", "Mo")]
        for rep in range(repeat[0] * repeat[1]):
            for k, i in enumerate(metal_idx):
                p = dipoles[k]
                r = big.positions[rep * n + i]
                tip = (r[0] + scale * p[0], r[1] + scale * p[1])
                ax.annotate("", xy=tip, xytext=(r[0], r[1]),
                            arrowprops=dict(arrowstyle="-|>", lw=2.5,
                                            color="tab:red" if p[1] > 0 else "tab:blue"), zorder=4)
                ax.update_datalim([tip])   # annotations do not extend the axes by themselves
        ax.autoscale_view()
        ax.plot([], [], color="tab:red", lw=2.5, label="dipole, +y")
        ax.plot([], [], color="tab:blue", lw=2.5, label="dipole, −y")
    cell = np.array(atoms.cell)
    for i in range(repeat[0] + 1):
        ax.plot(*np.array([i * cell[0][:2], i * cell[0][:2] + repeat[1] * cell[1][:2]]).T, "k:", lw=0.6)
    for j in range(repeat[1] + 1):
        ax.plot(*np.array([j * cell[1][:2], j * cell[1][:2] + repeat[0] * cell[0][:2]]).T, "k:", lw=0.6)
    ax.set_aspect("equal")
    ax.set_xlabel("x (Å), W chains")
    ax.set_ylabel("y (Å)")
    ax.set_title(unicode_formulas(title))
    if legend:
        handles, labels = ax.get_legend_handles_labels()
        uniq = dict(zip(labels, handles))
        ax.legend(uniq.values(), uniq.keys(), loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3,
                  fontsize=8, frameon=False)
    return ax


_SUP = str.maketrans("0123456789+", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺")
_SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def unicode_formulas(text: str) -> str:
    """Formulas of a figure's text in Unicode: d2 -> d², W3+ -> W³⁺, WTe2 -> WTe₂, t2g3 -> t₂g³."""
    import re
    text = re.sub(r"\b(WTe|MoTe|ReSe|MoS)(\d)\b", lambda m: m.group(1) + m.group(2).translate(_SUB), text)
    text = re.sub(r"\bW(\d\+)", lambda m: "W" + m.group(1).translate(_SUP), text)
    text = re.sub(r"\bt2g(\d)?\b", lambda m: "t₂g" + (m.group(1) or "").translate(_SUP), text)
    return re.sub(r"\bd(\d)\b", lambda m: "d" + m.group(1).translate(_SUP), text)


def shared_legend(fig, axes, ncol: int = 4, fontsize: float = 9):
    """One legend below all `axes` of `fig`, each label once (for panels drawn with legend=False)."""
    uniq = {}
    for ax in np.atleast_1d(axes):
        for h, lab in zip(*ax.get_legend_handles_labels()):
            uniq.setdefault(lab, h)
    return fig.legend(uniq.values(), uniq.keys(), loc="lower center", ncol=ncol, fontsize=fontsize,
                      frameon=False, bbox_to_anchor=(0.5, 0.0))


#: Colour of each rung's page in the energy-scale ladder.
RUNG_COLORS = {"01_valence": "tab:purple", "02_afe_lattice": "tab:red", "03_afo_order": "tab:blue",
               "04_fe_dipole": "tab:green", "05_generalization": "tab:orange"}
#: Short name of each rung's page.
RUNG_LABELS = {"01_valence": "valence", "02_afe_lattice": "AFE lattice", "03_afo_order": "AFO order",
               "04_fe_dipole": "FE dipole", "05_generalization": "generalization"}


def energy_scales(ax, scales, thermal: dict, skipped=(), paper=None, verdicts=None, opposite=()):
    """The ladder of energy scales on a log axis (eV): one row per scale, largest on top (a filled
    marker for a computed result, an open one for an input such as U), its value written beside it;
    rows for the `skipped` (name, page, reason) scales say they are not shown; a dashed vertical
    line at each thermal energy of `thermal` ({label: eV}). `paper` ({scale name: eV}) draws the
    paper's value on the row (black diamond); `verdicts` ({scale name: verdict}) writes the verdict
    of the claim the scale tests beside the value, in its badge colour; a scale in `opposite` (its
    sign or ordering is the opposite of the paper's) is drawn with a red cross and says so."""
    import textwrap

    stems = {name: stem for stem, name in PAGES.items()}
    paper, verdicts, opposite = paper or {}, verdicts or {}, set(opposite)
    rows = [(s.name, s.page, s.value_eV, s.computed) for s in scales]
    rows += [(name, page, None, True) for name, page, _ in skipped]
    values = [v for _, _, v, _ in rows if v] + list(thermal.values()) + [v for v in paper.values() if v]
    if not values:
        raise ValueError("energy_scales: nothing to draw (no scale and no thermal energy)")
    lo, hi = min(values) / 4, max(values) * 6
    y = np.arange(len(rows))[::-1]
    for yi, (name, page, v, computed) in zip(y, rows):
        color = RUNG_COLORS.get(stems.get(page.rsplit("/", 1)[-1], page), "0.3")
        if v is None:
            ax.text(lo * 1.5, yi, "not shown: see the table below", color="0.45", style="italic",
                    ha="left", va="center", fontsize=9, bbox=dict(fc="white", ec="none", pad=1), zorder=3)
            continue
        ax.hlines(yi, lo, v, color=color, lw=1.2, alpha=0.5)
        ax.plot(v, yi, "o", ms=9, color=color, mfc=color if computed else "white", mew=2)
        note = format_energy(v)
        if name in opposite:
            ax.plot(v, yi, "x", ms=13, color="#cf222e", mew=2.5, zorder=4)
            note += "  (opposite to the paper)"
        if name in verdicts:
            note += f"  [{verdict_key(verdicts[name])}]"
        ax.annotate(note, (v, yi), xytext=(9, 0), textcoords="offset points", va="center", fontsize=8.5,
                    color=COLOURS[verdict_key(verdicts[name])][0] if name in verdicts else "k")
        if paper.get(name):
            ax.plot(paper[name], yi, "D", ms=7, mfc="none", mec="k", mew=1.5, zorder=4)
    styles = ["--", ":", "-."]
    for (label, e), ls in zip(thermal.items(), styles):
        ax.axvline(e, color="k", ls=ls, lw=1.2, label=label.replace("k_B T", r"$k_\mathrm{B}T$"))
    ax.plot([], [], "o", color="0.3", mfc="white", mew=2, label="an input of the calculation, not a result")
    if paper:
        ax.plot([], [], "D", ms=7, mfc="none", mec="k", mew=1.5, label="the paper's value")
    if opposite:
        ax.plot([], [], "x", ms=10, color="#cf222e", mew=2.5, label="sign or ordering opposite to the paper's")
    ax.set_xscale("log")
    ax.set_xlim(lo, hi)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    stem = [stems.get(page.rsplit("/", 1)[-1], page) for _, page, _, _ in rows]
    ax.set_yticks(y, [textwrap.fill(unicode_formulas(name), 26) + f"\n({RUNG_LABELS.get(st, st)} page)"
                      for (name, _, _, _), st in zip(rows, stem)], fontsize=9)
    ax.set_xlabel("energy (eV, log scale)")
    ax.grid(axis="x", which="major", color="0.9")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=1, fontsize=9, frameon=False)
    return ax


def model_bands(ax, lcao_result: dict, model, title: str = "", ylim=(-6, 4)):
    """DFT bands (grey) of a cached LCAO result along its path and those of a tight-binding model
    built from it (red dashed), E - E_F in eV; the panel is titled '(a) <title>' by its place in
    the figure, Γ written as such, and a small legend says which line is which."""
    import textwrap
    from pathlib import Path
    data = np.load(Path(lcao_result["cache_entry"]) / lcao_result["npz"])
    x = np.array(lcao_result["path_x"])
    e = data["e_path"] if "e_path" in data.files else data["e_path_s"][0]
    ax.plot(x, e - lcao_result["fermi_level_eV"], color="0.6", lw=2.5)
    ax.plot(x, model.bands(data["path_kpts"]), "--", color="tab:red", lw=1)
    labels = ["Γ" if lab in ("G", "Gamma", "\\Gamma") else lab for lab in lcao_result["path_labels"]]
    ax.set_xticks(lcao_result["path_special_x"], labels)
    ax.axhline(0, color="k", lw=0.5)
    ax.set_ylim(*ylim)
    letter = "abcdefghij"[ax.figure.axes.index(ax) % 10]
    ax.set_title(textwrap.fill(f"({letter}) {unicode_formulas(title)}", 28), fontsize=9)
    if ax.figure.axes.index(ax) == 0:
        ax.plot([], [], color="0.6", lw=2.5, label="DFT")
        ax.plot([], [], "--", color="tab:red", lw=1, label="p–d model")
        ax.legend(fontsize=7, loc="lower left", framealpha=0.9)


def path_levels(ax, rows: list, n_lowest: int = 3):
    """On-site levels (eV) of the effective W-5d orbitals along the 1T -> distorted path, one line
    per orbital named after its 1T origin; solid: mirror-even, dashed: mirror-odd. Only the
    `n_lowest` orbitals at the 1T end (the t2g-derived a1g and e_g^pi) are drawn."""
    start = min(r["lambda"] for r in rows)
    first = sorted((r["E (eV)"], r["orbital"]) for r in rows if r["lambda"] == start)
    names = [n for _, n in first[:n_lowest]]
    for i, n in enumerate(names):
        pts = sorted((r["lambda"], r["E (eV)"], r["parity"]) for r in rows if r["orbital"] == n)
        lam, e, par = zip(*pts)
        ax.plot(lam, e, "-o" if par[-1] != "-" else "--o", color=f"C{i}", label=f"{n} ({par[-1] or '?'})")
    ax.set_xlabel("fraction of the way from 1T (0) to the relaxed d2 layer (1)")
    ax.set_ylabel("on-site level of W1, E − E$_F$ (eV)")
    ax.legend(fontsize=8, ncol=2, loc="center left", bbox_to_anchor=(1.0, 0.5))


def dipoles_vs_window(axes, rows: list, paper_eA=None):
    """The FE page's figure: p_z of b and c of W1 (e*Angstrom) against the downfolding window edge
    e_low (eV), one panel per reading of a, b, c (rows of helpers.rungs.afo.
    dipole_robustness; solid: relaxed d2 layer, dashed: other layers); `paper_eA` (two values) draws
    the paper's magnitudes as grey bands at ±value, so a sign or size that disagrees shows."""
    import pandas as pd
    df = pd.DataFrame(rows)
    readings = list(dict.fromkeys(df["reading"]))
    axes = np.atleast_1d(axes)
    if len(axes) < len(readings):
        raise ValueError(f"axes: {len(axes)} panels for {len(readings)} readings")
    for k, (ax, r) in enumerate(zip(axes, readings)):
        part = df[df["reading"] == r]
        for layer, ls in zip(dict.fromkeys(part["layer"]), ("-", "--", ":")):
            sel = part[part["layer"] == layer].sort_values("e_low (eV)")
            for o, col in (("b", "tab:blue"), ("c", "tab:red")):
                ax.plot(sel["e_low (eV)"], sel[f"p_z {o} (e·Å)"], ls, marker="o", color=col, ms=4,
                        label=f"p_z of {o}, {layer}")
        for v in paper_eA or ():
            for sign in (1, -1):
                ax.axhline(sign * v, color="0.7", lw=4, alpha=0.5, zorder=0)
        ax.axhline(0, color="k", lw=0.5)
        ax.set_title(f"({'abcdefgh'[k]}) {r}", fontsize=9)
        ax.set_xlabel("window edge e_low (eV)")
    axes[0].set_ylabel("p_z of W1's orbital (e·Å)")
    return axes


def verdict_map(ax, verdicts: list):
    """The scorecard's map: claims (rows) by readings of a, b, c (columns), each cell coloured by
    its verdict (helpers.book.badges.COLOURS) and labelled; `verdicts` are dicts with 'claim',
    'reading' and 'verdict' (helpers.rungs.afo.claims.afo_verdicts and fe_verdicts)."""
    import textwrap

    from matplotlib.colors import to_rgb

    if not verdicts:
        raise ValueError("verdicts: nothing to draw")
    claims = list(dict.fromkeys(v["claim"] for v in verdicts))
    readings = list(dict.fromkeys(v["reading"] for v in verdicts))
    img = np.ones((len(claims), len(readings), 3))
    for v in verdicts:
        i, j = claims.index(v["claim"]), readings.index(v["reading"])
        key = verdict_key(v["verdict"])
        img[i, j] = to_rgb(COLOURS[key][0])
        ax.text(j, i, textwrap.fill(key, 12), ha="center", va="center", fontsize=7,
                color=COLOURS[key][1])
    ax.imshow(img, aspect="auto")
    ax.set_xticks(range(len(readings)), [textwrap.fill(r, 14) for r in readings], fontsize=8)
    ax.set_yticks(range(len(claims)), [textwrap.fill(unicode_formulas(c), 48) for c in claims], fontsize=7)
    ax.tick_params(top=True, labeltop=True, bottom=False, labelbottom=False)
    ax.set_xticks(np.arange(len(readings) + 1) - 0.5, minor=True)
    ax.set_yticks(np.arange(len(claims) + 1) - 0.5, minor=True)
    ax.grid(which="minor", color="white", lw=2)
    ax.tick_params(which="minor", length=0)
    return ax
