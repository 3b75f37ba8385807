"""Bond-energy figures of the AFO page."""
from __future__ import annotations

import numpy as np

from helpers.manybody.bond_table import second_order_valid
from helpers.manybody.bonds import PATTERNS


def plot_bond_energies(ax, rows: list):
    """Redrawn Fig. 3: bars of the second-order energy (meV) of each pattern on each bond, with
    the ED orbital correlation of the bond (right axis, black diamonds; < 0: AFO-like). A bond where
    second order does not hold (second_order_valid) gets no bars but a hatched band, so the axis
    shows the bonds where the numbers mean something; the legend sits below the axes."""
    colors = {"a-a": "0.6", "FO b-b": "tab:blue", "FO c-c": "tab:cyan", "AFO b-c": "tab:red", "AFO c-b": "tab:orange"}
    x = np.arange(len(rows))
    width = 0.8 / len(PATTERNS)
    valid = [second_order_valid(r) for r in rows]
    for k, pat in enumerate(PATTERNS):
        ax.bar(x + (k - (len(PATTERNS) - 1) / 2) * width,
               [r[f"E2 {pat} (meV)"] if ok else 0.0 for r, ok in zip(rows, valid)], width,
               color=colors[pat], label=pat)
    shown = [r[f"E2 {pat} (meV)"] for r, ok in zip(rows, valid) if ok for pat in PATTERNS]
    lo, hi = (min(shown + [0.0]), max(shown + [0.0])) if shown else (-1.0, 1.0)
    pad = 0.08 * (hi - lo or 1.0)
    ax.set_ylim(lo - pad, hi + pad)
    for xi, ok in zip(x, valid):
        if not ok:
            ax.axvspan(xi - 0.45, xi + 0.45, facecolor="none", edgecolor="0.6", hatch="///", lw=0)
    if not all(valid):
        ax.bar([], [], facecolor="none", edgecolor="0.6", hatch="///", label="second order not valid")
    ax.set_xticks(x, [f"{r['sites']} {r['length_A']:.2f} Å\n{r['name'].split(' (')[0]}" for r in rows], fontsize=7)
    ax.set_ylabel("second-order energy per bond (meV)")
    ax.axhline(0, color="k", lw=0.5)
    ax2 = ax.twinx()
    ax2.plot(x, [r["ED orbital correlation"] for r in rows], "kD", label="ED ⟨δn δn⟩")
    ax2.axhline(0, color="k", lw=0.5, ls=":")
    ax2.set_ylabel("ED orbital correlation ⟨(n_b−n_c)(n_b−n_c)⟩_c")
    h1, l1 = ax.get_legend_handles_labels()
    h2, l2 = ax2.get_legend_handles_labels()
    ax.legend(h1 + h2, l1 + l2, fontsize=7, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.28), frameon=False)
    return ax, ax2
