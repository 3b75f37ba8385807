"""Figures of the compendium (matplotlib); each function draws on an Axes it is given."""
from __future__ import annotations

import numpy as np
from ase import Atoms

COLORS = {"W": "#4d4d4d", "Mo": "#6a5acd", "Te": "#d98c1a"}


def layer_top_view(ax, atoms: Atoms, dipoles=None, repeat=(3, 2), scale: float = 1.5, title=""):
    """Top view (x: chain direction, y: dimerization direction) of a layer, repeated, with the
    in-plane part of each metal's local dipole drawn as an arrow (red +y, blue -y)."""
    big = atoms.repeat((*repeat, 1))
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
    cell = np.array(atoms.cell)
    for i in range(repeat[0] + 1):
        ax.plot(*np.array([i * cell[0][:2], i * cell[0][:2] + repeat[1] * cell[1][:2]]).T, "k:", lw=0.6)
    for j in range(repeat[1] + 1):
        ax.plot(*np.array([j * cell[1][:2], j * cell[1][:2] + repeat[0] * cell[0][:2]]).T, "k:", lw=0.6)
    ax.set_aspect("equal")
    ax.set_xlabel("x (Å), W chains")
    ax.set_ylabel("y (Å)")
    ax.set_title(title)
    handles, labels = ax.get_legend_handles_labels()
    uniq = dict(zip(labels, handles))
    ax.legend(uniq.values(), uniq.keys(), loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3,
              fontsize=8, frameon=False)
    return ax
