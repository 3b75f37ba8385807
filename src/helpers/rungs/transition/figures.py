"""Figures of the transition page: the metal network, couplings and T_c against U, Binder cumulants,
hysteresis loops and the sliding path. Each function draws on the axes it is given.
"""
from __future__ import annotations

import numpy as np

from . import network
from .hysteresis import field_V_per_nm


KIND_STYLE = {"zigzag": ("tab:red", "-"), "interchain": ("tab:blue", "--"), "row": ("0.6", ":")}


def plot_network(ax, atoms, reps=(3, 2)) -> None:
    """The metal sites of `reps` cells (x along the chains) with their bonds coloured by kind."""
    big = atoms.repeat((reps[0], reps[1], 1))
    idx = network.metal_indices(big)
    pos = big.positions[idx]
    lengths = network.bond_lengths_A(atoms)
    from ase.neighborlist import neighbor_list
    sub = big[idx]
    sub.pbc = False
    i, j, d = neighbor_list("ijd", sub, max(lengths.values()) + 0.1)
    a = np.asarray(atoms.cell[0]) / np.linalg.norm(atoms.cell[0])
    for p, q, x in zip(i, j, d):
        if p > q:
            continue
        v = pos[q] - pos[p]
        kind = "row" if abs(v @ a) / x > 0.99 else min(("zigzag", "interchain"), key=lambda k: abs(lengths[k] - x))
        c, ls = KIND_STYLE[kind]
        ax.plot(*zip(pos[p, :2], pos[q, :2]), color=c, ls=ls, lw=2 if kind == "zigzag" else 1.3, zorder=1)
    n = len(network.metal_indices(atoms))
    ax.scatter(pos[:, 0], pos[:, 1], c=["k" if k % n == 0 else "0.55" for k in range(len(pos))], s=40, zorder=2)
    for kind, (c, ls) in KIND_STYLE.items():
        ax.plot([], [], color=c, ls=ls, label=f"{kind} ({lengths[kind]:.2f} Å)")
    ax.set_aspect("equal")
    ax.set_xlabel("x along the chains (Å)")
    ax.set_ylabel("y (Å)")
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def plot_couplings(ax_J, ax_T, rows: list, targets: dict, U_real: float) -> None:
    """(a) |J| per bond kind against U (log scale; open: antiferro-orbital sign); (b) Onsager's T_c
    against U with the target temperatures as lines; the realistic U marked."""
    U = np.array([r["U (eV)"] for r in rows])
    for kind in ("interchain", "zigzag"):
        J = np.array([r[f"J {kind} (meV)"] for r in rows], float)
        ok = np.isfinite(J)
        c, ls = KIND_STYLE[kind]
        ax_J.plot(U[ok], np.abs(J[ok]), color=c, ls=ls, marker="o", mfc="white", label=f"|J| {kind}")
    ax_J.set_yscale("log")
    ax_J.set_ylabel("|J| (meV per bond)")
    ax_J.legend(fontsize=8)
    T = np.array([r["T_c Onsager (K)"] for r in rows], float)
    ok = np.isfinite(T)
    ground = np.array([r.get("order is the ground state", True) for r in rows], bool)
    ax_T.plot(U[ok], T[ok], "k-", lw=0.8)
    ax_T.plot(U[ok & ground], T[ok & ground], "ko", label="$T_c$ (Onsager), order is the ground state")
    ax_T.plot(U[ok & ~ground], T[ok & ~ground], "o", color="k", mfc="white", label="$T_c$, order not the ground state")
    for (name, val), st in zip(targets.items(), (":", "-.")):
        ax_T.axhline(val, color="tab:green", ls=st, label=f"{name} ({val:g} K)")
    ax_T.set_ylim(0, None)
    ax_T.set_ylabel("$T_c$ (K)")
    for ax in (ax_J, ax_T):
        ax.axvline(U_real, color="0.5", lw=0.8)
        ax.set_xlabel("U (eV)")
        ax.set_xlim(min(U.min(), U_real) - 0.3, U.max() + 0.3)
    ax_T.text(U_real + 0.05, 0.95, f"U = {U_real:g} eV:\nno ordered state", transform=ax_T.get_xaxis_transform(),
              fontsize=8, va="top")
    ax_T.legend(fontsize=8, loc="center right")


def plot_binder(ax, mc: dict, title: str) -> None:
    """Binder cumulant U_4 against T/T_c(exact) for each size, the exact and the crossing T_c."""
    if not mc.get("crossing"):
        ax.text(0.5, 0.5, "no crossing in the grid", ha="center", transform=ax.transAxes)
        ax.set_title(title, fontsize=9)
        return
    T = np.array(mc["temperatures_K"])
    ex = mc["exact_K"]
    for L, (u, e) in mc["cumulants"].items():
        ax.errorbar(T / ex, u, yerr=e, marker="o", ms=3, capsize=2, label=f"L = {L}")
    ax.axvline(1.0, color="k", lw=0.8, label="Onsager")
    ax.axvspan((mc["T_c_K"] - mc["error_K"]) / ex, (mc["T_c_K"] + mc["error_K"]) / ex, color="tab:orange",
               alpha=0.3, label="crossing")
    ax.set_xlabel("$T / T_c^{\\rm Onsager}$")
    ax.set_ylabel("$U_4$")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)


def plot_loops(ax, loops: dict, dipole_eA: float) -> None:
    """Polarization per W (e*Angstrom) against the out-of-plane field (V/nm) on the way down and up,
    one colour per temperature."""
    for k, lp in enumerate(loops["loops"]):
        E = np.array([field_V_per_nm(h, dipole_eA) for h in lp["h_meV"]])
        c = f"C{k}"
        ax.plot(E, np.array(lp["m_down"]) * dipole_eA, color=c, label=f"T = {lp['T/T_c']:g} $T_c$")
        ax.plot(E, np.array(lp["m_up"]) * dipole_eA, color=c, ls="--")
    ax.set_xlabel("out-of-plane field (V/nm)")
    ax.set_ylabel("$p_z$ per W (e·Å)")
    ax.legend(fontsize=8)


def plot_sliding(ax_E, ax_p, runs: dict) -> None:
    """(a) PBE+D3 energy along the sliding path (meV per cell), one line per calculation (label:
    rows of helpers.rungs.transition.sliding.path_rows); (b) p_z along the path (e*Angstrom per cell)."""
    for k, (label, rows) in enumerate(runs.items()):
        s = [r["s"] for r in rows]
        ax_E.plot(s, [r["ΔE PBE+D3 (meV/cell)"] for r in rows], marker="o", color=f"C{k}", label=label)
        if k == 0:
            ax_E.plot(s, [r["ΔE PBE (meV/cell)"] for r in rows], marker=".", ls=":", color=f"C{k}", label=f"{label}, PBE alone")
        ax_p.plot(s, [1000 * r["p_z (e·Å per cell)"] for r in rows], marker="o", color=f"C{k}", label=label)
    ax_E.set_ylabel("E − E(s = 0) (meV per cell)")
    ax_p.set_ylabel("$p_z$ (10$^{-3}$ e·Å per cell)")
    for ax in (ax_E, ax_p):
        ax.set_xlabel("s (fraction of the switching shift)")
        ax.axhline(0, color="0.6", lw=0.6)
        ax.legend(fontsize=7)
