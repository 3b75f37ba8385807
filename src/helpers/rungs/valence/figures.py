"""Figures and small tables of the valence page's mean field."""
from __future__ import annotations

import re
import numpy as np

from helpers.manybody import anneal as mb_anneal
from helpers.manybody import toy
from helpers.models import wannier as W
from .mean_field import energy_curves


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
