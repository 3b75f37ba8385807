"""Figures of the DFT+U ordered states: energies against U_eff, releases, occupation curves."""
from __future__ import annotations

import numpy as np

from .plans import PROTOCOL_DIRECT
from .states import occupation_curve


def plot_states(ax, rows: list, gain_meV: float | None = None, title: str = "") -> None:
    """The branches biased at their own U (protocol PROTOCOL_DIRECT; plot_annealed draws the others): per start (x axis; one group per spin treatment and U_eff): the constrained energy with the
    bias at full strength (E - E_bias, open marker) and the energy of the unbiased state the release
    ends in (filled, marker by what that state is), both in meV/f.u. from the unpolarized state,
    joined by a line; `gain_meV`, the paper's polarization gain, drawn as the level an ordered state
    would have to reach."""
    marks = {"unpolarized": "o", "FO": "s", "AFO": "D", "mixed": "^", "partly polarized": "v"}
    colours = {"unpolarized": "0.4", "FO": "tab:blue", "AFO": "tab:red", "mixed": "tab:purple",
               "partly polarized": "tab:orange"}
    rows = [r for r in rows if r.get("protocol", PROTOCOL_DIRECT) == PROTOCOL_DIRECT]
    groups = sorted({(r["spin"], r["U (eV)"]) for r in rows})
    starts = list(dict.fromkeys(r["start"] for r in rows))
    seen = set()
    for gi, (spin, U) in enumerate(groups):
        dx = 0.25 * (gi - (len(groups) - 1) / 2)
        for r in (x for x in rows if (x["spin"], x["U (eV)"]) == (spin, U)):
            x, k = starts.index(r["start"]) + dx, r["state"]
            ec = r.get("ΔE constrained, full bias (meV/f.u.)")
            if ec is not None and np.isfinite(ec):
                ax.plot([x, x], [ec, r["ΔE (meV/f.u.)"]], color="0.75", lw=1, zorder=1)
                ax.plot(x, ec, "o", mfc="white", mec="0.3", ms=6, zorder=2,
                        label=None if "biased" in seen else "with the bias (constrained energy)")
                seen.add("biased")
            ax.plot(x, r["ΔE (meV/f.u.)"], marks[k], mfc=colours[k], mec=colours[k], ms=7, zorder=3,
                    label=None if k in seen else f"released: {k}")
            seen.add(k)
    if gain_meV is not None:
        ax.axhline(-gain_meV, color="tab:green", ls="--", lw=1, label="the paper's gain")
    ax.axhline(0, color="0.7", lw=0.8)
    ax.set_xticks(range(len(starts)), starts)
    ax.set_xlabel("start" + (f" ({', '.join(f'{s}, U = {u:g} eV' for s, u in groups)})" if len(groups) == 1 else ""))
    ax.set_ylabel(r"$E - E_\mathrm{unpolarized}$ (meV/f.u.)")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def plot_annealed(ax, rows: list, gain_meV: float | None = None) -> bool:
    """The annealed branches (rows of state_table whose protocol is an annealing): per start, the
    energy of its unbiased state against U_eff (meV/f.u. from the unpolarized state at the same U),
    one line per start, the marker saying what the state is at that U (from its natural orbitals).
    False, with nothing drawn, when there are no annealed rows."""
    rows = [r for r in rows if r.get("protocol", PROTOCOL_DIRECT) != PROTOCOL_DIRECT and not r.get("convergence check")]
    if not rows:
        return False
    marks = {"unpolarized": "o", "FO": "s", "AFO": "D", "mixed": "^", "partly polarized": "v"}
    colours = {"unbiased": "0.4", "a2a2": "tab:olive", "b2b2": "tab:blue", "c2c2": "tab:cyan", "b2c2": "tab:red", "c2b2": "tab:orange",
               "d2d2": "tab:brown"}
    for start, protocol in dict.fromkeys((r["start"], r["protocol"]) for r in rows):
        sub = sorted((r for r in rows if (r["start"], r["protocol"]) == (start, protocol)), key=lambda r: r["U (eV)"])
        col = colours.get(start, "tab:purple")
        whole = protocol.endswith("the d shell")
        where = "" if start == "unbiased" else (", bias on the d shell" if whole else ", bias on a, b, c")
        ax.plot([r["U (eV)"] for r in sub], [r["ΔE (meV/f.u.)"] for r in sub], "--" if whole else "-", color=col,
                lw=1.2, label=f"start {start}{where}")
        for r in sub:
            k = r["state"]
            ax.plot(r["U (eV)"], r["ΔE (meV/f.u.)"], marks.get(k, "x"), mfc=col if k != "unpolarized" else "white",
                    mec=col, ms=7)
    for k, mk in marks.items():
        if any(r["state"] == k for r in rows):
            ax.plot([], [], mk, mfc="0.5" if k != "unpolarized" else "white", mec="0.3", label=f"state: {k}")
    if gain_meV is not None:
        ax.axhline(-gain_meV, color="tab:green", ls="--", lw=1, label="the paper's gain")
    _finish(ax, r"$U_\mathrm{eff}$ (eV), annealed from left to right", r"$E - E_\mathrm{unpolarized}$ (meV/f.u.)")
    return True


def _finish(ax, xlabel: str, ylabel: str) -> None:
    """The common frame of the annealing panels: zero line, x axis run from large to small, labels, legend
    outside the data."""
    ax.axhline(0, color="0.7", lw=0.8)
    ax.invert_xaxis()
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))


def plot_release(ax, rows: list) -> bool:
    """The constrained energy against the bias strength during each annealed branch's release
    (release_rows): a release that follows a smooth curve to zero has found no other minimum on its
    way; open markers: steps that did not converge. False, with nothing drawn, without rows."""
    if not rows:
        return False
    colours = {"b2b2": "tab:blue", "c2c2": "tab:cyan", "b2c2": "tab:red", "c2b2": "tab:orange", "d2d2": "tab:brown"}
    for start, protocol in dict.fromkeys((r["start"], r["protocol"]) for r in rows):
        sub = [r for r in rows if (r["start"], r["protocol"]) == (start, protocol)]
        col = colours.get(start, "tab:purple")
        whole = protocol.endswith("the d shell")
        ax.plot([r["lambda (eV)"] for r in sub], [r["E - E_bias - E_ref (meV/f.u.)"] for r in sub],
                "--" if whole else "-", color=col, lw=1.2,
                label=f"{start}, bias on {'the d shell' if whole else 'a, b, c'}")
        for r in sub:
            ax.plot(r["lambda (eV)"], r["E - E_bias - E_ref (meV/f.u.)"], "o", mec=col,
                    mfc=col if r["converged"] else "white", ms=6)
    _finish(ax, r"bias strength $\lambda$ (eV), released from left to right",
            r"$E - E_\mathrm{bias} - E_\mathrm{unpolarized}$ (meV/f.u.)")
    return True


def plot_occupation(ax, release: list, protocol: str, gain_meV: float | None = None, control: str = "a2a2") -> bool:
    """The constrained energy E - E_bias of each start of `protocol` against its occupation n1 while it holds
    its order (occupation_curve), meV/f.u. from the unpolarized state: configurations compared at equal
    occupation. With `gain_meV`: the paper's gain below the unpolarized state (dotted green; where its claim puts
    a b^2 or c^2 minimum), and with the control's curve, that curve lowered by the gain (dashed green; where the
    claim puts b^2 and c^2 at the control's occupation). False, with nothing drawn, when no start of the protocol
    has two ordered points."""
    colours = {"a2a2": "tab:olive", "b2b2": "tab:blue", "c2c2": "tab:cyan", "b2c2": "tab:red", "c2b2": "tab:orange",
               "d2d2": "tab:brown"}
    starts = [s for s, p in dict.fromkeys((r["start"], r["protocol"]) for r in release) if p == protocol]
    drawn, has_control = False, False
    for start in starts:
        n, E = occupation_curve(release, start, protocol)
        if len(n) < 2:
            continue
        ax.plot(n, E, "-", marker="o", ms=5, color=colours.get(start, "tab:purple"),
                label=start + (" (control)" if start == control else ""))
        drawn = True
        if start == control and gain_meV is not None:
            has_control = True
            ax.plot(n, E - gain_meV, "--", color="tab:green", lw=1, label="control − the paper's gain")
    if drawn and gain_meV is not None:
        ax.axhline(-gain_meV, color="tab:green", ls=":", lw=1, label="the paper's gain below the unpolarized state")
    if drawn and not has_control:
        ax.text(0.35, 0.14, f"no {control} control in this protocol", transform=ax.transAxes, fontsize=8, color="0.4")
    if drawn:
        _finish(ax, r"largest natural occupation $n_1$ per W (while ordered)",
                r"$E - E_\mathrm{bias} - E_\mathrm{unpolarized}$ (meV/f.u.)")
        ax.legend(fontsize=7, frameon=False, loc="upper right")      # the curves fall from upper left to lower right
        ax.set_title(protocol, fontsize=9)
    return drawn


def occupation_protocols(release: list) -> list:
    """The protocols of the main reading in `release` (release_rows) in which at least two starts hold their
    order at two bias strengths or more: those plot_occupation can compare."""
    out = []
    for p in dict.fromkeys(r["protocol"] for r in release if "reading" not in r["protocol"]):
        starts = {r["start"] for r in release if r["protocol"] == p}
        if sum(len(occupation_curve(release, s, p)[0]) >= 2 for s in starts) >= 2:
            out.append(p)
    return out


def figure_occupation(release: list, gain_meV: float | None = None):
    """One panel of plot_occupation per protocol of occupation_protocols (a note in one empty panel when
    there is none): the figure of the equal-occupation comparison."""
    import matplotlib.pyplot as plt
    protos = occupation_protocols(release)
    fig, axs = plt.subplots(1, max(len(protos), 1), figsize=(4.8 * max(len(protos), 1), 4.0), squeeze=False)
    for ax, p in zip(axs[0], protos):
        plot_occupation(ax, release, p, gain_meV)
    if not protos:
        axs[0][0].text(0.5, 0.5, "no release holds two ordered steps", ha="center", transform=axs[0][0].transAxes)
        axs[0][0].set_axis_off()
    fig.tight_layout()
    return fig
