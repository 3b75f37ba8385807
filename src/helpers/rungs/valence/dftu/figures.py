"""Figures and tables of the valence DFT+U branches (meV per formula unit against U_eff)."""
from __future__ import annotations

from .. import figures as valence_figures
from .steps import lowest_by_U, on_grid, relative_to_lowest


#: The DFT+U annealing figure shows energies up to this far above the lowest state (meV/f.u.); states
#: above it sit on the top edge with their value written beside them.
PLOT_TOP_MEV_PER_FU = 400.0


def plot_branches(ax, rows: list, top_meV: float = PLOT_TOP_MEV_PER_FU, colors: dict | None = None) -> bool:
    """Energy of each branch against U_eff (meV/f.u. from the lowest state at that U_eff among `rows`),
    annealed from large to small U_eff: the DFT+U counterpart of the paper's Fig. 1(a). Open markers:
    steps that did not converge. States more than `top_meV` above the lowest are drawn as triangles on
    the top edge with their energy written beside them, so that they do not flatten the rest. `colors`:
    {start: colour} (default: one per start in order). False, with nothing drawn, without rows."""
    if not rows:
        return False
    rows = relative_to_lowest(rows)
    colors = colors or start_colors(rows)
    for start in dict.fromkeys(r["start"] for r in rows):
        sub = sorted((r for r in rows if r["start"] == start), key=lambda r: -r["U (eV)"])
        col, ls = colors[start]
        ys = [min(r["ΔE (meV/f.u.)"], top_meV) for r in sub]
        ax.plot([r["U (eV)"] for r in sub], ys, ls, color=col, lw=1.2, label=start)
        for r, y in zip(sub, ys):
            off = r["ΔE (meV/f.u.)"] > top_meV
            ax.plot(r["U (eV)"], y, "^" if off else "o", color=col, mfc=col if r["converged"] else "white", ms=6 if off else 5)
            if off:
                ax.annotate(f"{r['ΔE (meV/f.u.)']:.0f}", (r["U (eV)"], y), xytext=(3, -10), textcoords="offset points",
                            fontsize=7, color=col)
    ax.set_ylim(-0.04 * top_meV, 1.06 * top_meV)
    ax.invert_xaxis()
    ax.set_xlabel(r"$U_\mathrm{eff}$ (eV), annealed from left to right")
    ax.set_ylabel(r"$E - E_\mathrm{lowest}$ (meV/f.u.)")
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return True


def start_colors(rows: list) -> dict:
    """{start: (colour, line style)}, one per start in the order of `rows`: ten colours, then dashed."""
    return {st: (f"C{k % 10}", "-" if k < 10 else "--") for k, st in enumerate(dict.fromkeys(r["start"] for r in rows))}


def plot_spin_gain(ax, rows: list, colors: dict | None = None) -> bool:
    """Each spin-polarized branch against U_eff, its energy measured from the lowest converged spin-restricted
    state at the same U_eff (meV/f.u.; negative: the moments lower the energy). False, with nothing drawn,
    without a spin-polarized row at a U_eff that has a restricted state."""
    ref = lowest_by_U([r for r in rows if r["spin"] == "restricted"], converged_only=True)
    pol = [r for r in rows if r["spin"] == "polarized" and r["U (eV)"] in ref]
    if not pol:
        return False
    colors = colors or start_colors(rows)
    for start in dict.fromkeys(r["start"] for r in pol):
        sub = sorted((r for r in pol if r["start"] == start), key=lambda r: -r["U (eV)"])
        col, ls = colors[start]
        ys = [r["ΔE (meV/f.u.)"] - ref[r["U (eV)"]] for r in sub]
        ax.plot([r["U (eV)"] for r in sub], ys, ls, color=col, lw=1.2, label=start)
        for r, y in zip(sub, ys):
            ax.plot(r["U (eV)"], y, "o", color=col, mfc=col if r["converged"] else "white", ms=5)
    ax.axhline(0, color="0.5", lw=0.8, ls=":")
    ax.invert_xaxis()
    ax.set_xlabel(r"$U_\mathrm{eff}$ (eV)")
    ax.set_ylabel(r"$E - E_\mathrm{lowest\ spin\ 0}$ (meV/f.u.)")
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return True


def figure_with_mean_field(rows: list, mf_run: dict, n_fu: int = 2):
    """The DFT+U annealing in two panels, the spin-restricted branches (plot_branches, from the lowest
    restricted state) and the spin-polarized ones against the lowest restricted state (plot_spin_gain),
    above the mean field's annealing of the same layer (helpers.rungs.valence.figures.plot_annealing of `mf_run`) over the
    range of U_eff the DFT+U branches span: the counterpart of the paper's Fig. 1(a) by both methods.
    Returns the figure."""
    import matplotlib.pyplot as plt

    fig, (ax, ax_sp, ax_mf) = plt.subplots(3, 1, figsize=(7.6, 12.0), height_ratios=[1, 0.8, 1.3])
    rows = on_grid(rows)
    colors = start_colors(rows)
    if not plot_branches(ax, [r for r in rows if r["spin"] == "restricted"], colors=colors):
        ax.text(0.5, 0.5, "no spin-restricted DFT+U branch computed at this profile", ha="center", va="center",
                transform=ax.transAxes)
        ax.set_axis_off()
    ax.set_title("(a) DFT+U, the paper's method (GPAW, Dudarev $U_\\mathrm{eff}$): spin-restricted", fontsize=11)
    if not plot_spin_gain(ax_sp, rows, colors=colors):
        ax_sp.text(0.5, 0.5, "no spin-polarized DFT+U branch computed at this profile", ha="center", va="center",
                   transform=ax_sp.transAxes)
        ax_sp.set_axis_off()
    ax_sp.set_title("(b) DFT+U spin-polarized, against the lowest spin-restricted state", fontsize=11)
    valence_figures.plot_annealing(ax_mf, mf_run, n_fu=n_fu, title="(c) the mean field beside it (effective basis, main interaction)")
    if ax.axison:
        ax_mf.set_xlim(ax.get_xlim())
        if ax_sp.axison:
            ax_sp.set_xlim(ax.get_xlim())
    fig.tight_layout()
    return fig


def table(rows: list) -> list:
    """The rows of step_rows for the page's table: numbers rounded into strings per W."""
    f2 = lambda xs: ", ".join(f"{x:.2f}" for x in xs)
    return [{"start": r["start"], "spin": r["spin"], "U_eff (eV)": r["U (eV)"], "ΔE (meV/f.u.)": r["ΔE (meV/f.u.)"],
             "d counts": f2(r["d counts"]), "|m| (μB)": f2(r["|m| (μB)"]),
             "t2g counts": f2(r["t2g counts"]), "filled t2g spin-orbitals": ", ".join("—" if n is None else str(n) for n in r["filled t2g spin-orbitals"]),
             "t2g n1, n2 (W1; W2)": "; ".join(f"{a:.2f}, {b:.2f}" for a, b in r["n1, n2"]),
             "a1g in n1": f2(r["a1g weight of n1"]), "Δd": r["Δd (W2 − W1)"],
             "jump from the previous U_eff (meV/f.u.)": r.get("jump (meV/f.u.)"), "converged": r["converged"]}
            for r in rows]
