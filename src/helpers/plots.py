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


def model_bands(ax, lcao_result: dict, model, title: str = "", ylim=(-6, 4)):
    """DFT bands (grey) of a cached LCAO result along its path and those of a tight-binding model
    built from it (red dashed), E - E_F in eV."""
    from pathlib import Path
    data = np.load(Path(lcao_result["cache_entry"]) / lcao_result["npz"])
    x = np.array(lcao_result["path_x"])
    e = data["e_path"] if "e_path" in data.files else data["e_path_s"][0]
    ax.plot(x, e - lcao_result["fermi_level_eV"], color="0.6", lw=2.5)
    ax.plot(x, model.bands(data["path_kpts"]), "--", color="tab:red", lw=1)
    ax.set_xticks(lcao_result["path_special_x"], lcao_result["path_labels"])
    ax.axhline(0, color="k", lw=0.5)
    ax.set_ylim(*ylim)
    ax.set_title(f"{title}: DFT (grey), p–d model (red)", fontsize=10)


def path_levels(ax, rows: list):
    """On-site levels (eV) of the effective W-5d orbitals along the 1T -> distorted path, one line
    per orbital named after its 1T origin; solid: mirror-even, dashed: mirror-odd."""
    names = list(dict.fromkeys(r["orbital"] for r in rows))
    for i, n in enumerate(names):
        pts = sorted((r["lambda"], r["E (eV)"], r["parity"]) for r in rows if r["orbital"] == n)
        lam, e, par = zip(*pts)
        ax.plot(lam, e, "-o" if par[-1] != "-" else "--o", color=f"C{i}", label=f"{n} ({par[-1] or '?'})")
    ax.set_xlabel("fraction of the way from 1T (0) to the relaxed d2 layer (1)")
    ax.set_ylabel("on-site level of W1, E − E$_F$ (eV)")
    ax.legend(fontsize=8, ncol=2, loc="center left", bbox_to_anchor=(1.0, 0.5))
