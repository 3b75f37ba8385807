"""The out-of-plane dipole of DFT+U densities with a chosen orbital order, along each release.

Every step of a DFT+U branch (helpers.dft.jobs.dftu_branch) records the dipole of its self-consistent density,
with a dipole layer in the vacuum. Where no ordered state survives the release, the biased steps still hold
an ordered density self-consistently under the bias: their p_z is the dipole that order carries in DFT+U,
beside the frozen-orbital estimate. The inversion that exchanges the two W maps b2c2 onto c2b2, so their
dipoles must be opposite (a check of the code), and ferro-orbital densities carry none.
"""
from __future__ import annotations

from helpers.dft import branch_steps
from ..afo.dftu import plans as afo_dftu_plans
from ..afo.dftu import states as afo_dftu_states


def dipole_rows(page: dict) -> list:
    """Per biased branch of helpers.rungs.afo.dftu.page.page_results (biased at one U_eff, or annealed from one) and
    per step at its first U_eff: start, protocol, U_eff (eV), lambda (eV), what the state is (natural
    orbitals), p_z (e*Angstrom per cell) and whether the step converged."""
    out = []
    for j in list(page["jobs"]) + list(page["annealed"]):
        r = j.get("result")
        if r is None or j["state"] == "unbiased":
            continue
        metals = sorted(int(a) for a in r["steps"][0]["occupations"])
        orbitals = j.get("orbitals")
        U0 = r["steps"][0]["U_eV"]
        res = branch_steps.step_residuals(r)
        res = res + [None] * (len(r["steps"]) - len(res))
        for st, q in zip(r["steps"], res):
            if st["U_eV"] != U0:
                continue
            out.append({"start": j["state"], "protocol": j.get("protocol", afo_dftu_plans.PROTOCOL_DIRECT), "reading": j.get("reading"),
                        "U (eV)": U0, "λ (eV)": st["lambda_eV"],
                        "state": afo_dftu_states.step_state(st, metals, orbitals)["kind"],
                        "p_z (e·Å)": float(st["dipole_eA"][2]), "converged": branch_steps.step_converged(st, q)})
    return out


def full_bias(rows: list) -> list:
    """The rows at each branch's strongest bias (its first step)."""
    first = {}
    for r in rows:
        key = (r["start"], r["protocol"])
        if key not in first or r["λ (eV)"] > first[key]["λ (eV)"]:
            first[key] = r
    return list(first.values())


def inversion_check(rows: list) -> float | None:
    """|p_z(b2c2) + p_z(c2b2)| (e*Angstrom) at full bias in the same protocol (0 by the inversion that
    exchanges the two W), the largest over protocols; None where no protocol has both."""
    fb = full_bias(rows)
    sums = [abs(a["p_z (e·Å)"] + b["p_z (e·Å)"]) for a in fb for b in fb
            if a["start"] == "b2c2" and b["start"] == "c2b2" and a["protocol"] == b["protocol"]]
    return max(sums) if sums else None


#: |p_z| (e*Angstrom per cell) below which a dipole that symmetry forces to zero counts as zero (helpers.rungs.afo.dftu's): the
#: largest ferro-orbital |p_z| at full bias is about 10^-4 e*Angstrom, the polar AFO's about 10^-2.
SYMMETRY_ZERO_EA = afo_dftu_states.NON_POLAR_EA


def mirror_forced(row: dict) -> bool:
    """Whether a row's p_z is zero by symmetry: a state of b on one W and c on the other (a b2c2 or c2b2 start, or
    any start whose state reads AFO or mixed) in a reading whose b and c the site mirror exchanges
    (helpers.rungs.afo.dftu.plans.MIRROR_IMAGES), so that mirror and inversion together reverse p_z."""
    return row.get("reading") in afo_dftu_plans.MIRROR_IMAGES and (row["start"] in ("b2c2", "c2b2")
                                                                   or row.get("state") in ("AFO", "mixed"))


def findings(rows: list, per_fu=None) -> str:
    """Markdown: p_z of the polar AFO at full bias per protocol (with `per_fu`, a function of p_z, also per
    f.u. volume in microC/cm2), of the ferro-orbital starts, after the release, and the inversion check."""
    if not rows:
        return "No DFT+U branch computed at this profile."
    fb = full_bias(rows)
    unit = lambda p: f"{p:+.4f} e·Å" + (f" ({per_fu(p):+.3f} μC/cm²)" if per_fu else "")   # noqa: E731
    lines = []
    afo = [r for r in fb if r["start"] in ("b2c2", "c2b2")]
    polar = [r for r in afo if not mirror_forced(r)]
    if polar:
        lines.append("- The polar AFO held by the bias at full strength: " + "; ".join(
            f"{r['start']} {unit(r['p_z (e·Å)'])}, {r['state']}, {r['protocol']} at {r['U (eV)']:g} eV" for r in polar)
            + ". These are dipoles of biased densities: they change with the bias strength along the release.")
    for r in (x for x in afo if mirror_forced(x)):
        why = ("the site mirror exchanges b and c in that reading while keeping z, and the inversion that exchanges the "
               "two W maps b2c2 onto c2b2 with p_z reversed")
        if abs(r["p_z (e·Å)"]) <= SYMMETRY_ZERO_EA:
            lines.append(f"- {r['start']} in the local octahedral frame reading at full bias: {unit(r['p_z (e·Å)'])}, zero "
                         f"within {SYMMETRY_ZERO_EA:g} e·Å because {why}: forced by symmetry, a check of the code, not a "
                         "polar state.")
        else:
            lines.append(f"- **Check failed:** {r['start']} in the local octahedral frame reading at full bias has "
                         f"{unit(r['p_z (e·Å)'])}, beyond {SYMMETRY_ZERO_EA:g} e·Å, where symmetry forces zero ({why}): "
                         "the targets or the density break a symmetry they should keep.")
    fo = [r for r in fb if r["start"] in ("b2b2", "c2c2", "a2a2")]
    if fo:
        lines.append(f"- Ferro-orbital densities at full bias: |p_z| ≤ {max(abs(r['p_z (e·Å)']) for r in fo):.4f} e·Å, zero "
                     "because the same orbital on both W keeps the inversion that exchanges them, which reverses p_z: "
                     "forced by symmetry, a check of the code, not evidence that FO compensates.")
    end = [r for r in rows if r["λ (eV)"] == 0 and r["start"] in ("b2c2", "c2b2")]
    if end:
        lines.append("- After the release, at the same U_eff: " + "; ".join(
            f"{r['start']} ({r['protocol']}) {unit(r['p_z (e·Å)'])}, {r['state']}"
            + ("" if r["converged"] else ", not converged: not the dipole of a state") for r in end) + "."
            + (" An unpolarized density keeps the inversion of the layer, so its p_z is zero by symmetry (a check of the "
               "code)." if any(r["state"] == "unpolarized" for r in end) else ""))
    lines += release_paths(rows)
    chk = inversion_check(rows)
    if chk is not None:
        lines.append(f"- b2c2 and c2b2 at full bias: |p_z(b2c2) + p_z(c2b2)| = {chk:.4f} e·Å (zero by the inversion "
                     "that exchanges the two W: a check of the code, not of the paper).")
    return "\n".join(lines)


def release_paths(rows: list) -> list:
    """Markdown lines: p_z (e*Angstrom) of each polar AFO start along its release (at least three steps), and where it
    changes sign between values beyond SYMMETRY_ZERO_EA (smaller ones are read as zero): the dipole of a biased
    density is not a number of the state it releases into."""
    out, lam = [], "λ (eV)"
    for key in dict.fromkeys((r["start"], r["protocol"]) for r in rows if r["start"] in ("b2c2", "c2b2") and not mirror_forced(r)):
        path = sorted((r for r in rows if (r["start"], r["protocol"]) == key), key=lambda r: -r[lam])
        if len(path) < 3:
            continue
        big = [r for r in path if abs(r["p_z (e·Å)"]) > SYMMETRY_ZERO_EA]
        flips = [b[lam] for a, b in zip(big, big[1:]) if a["p_z (e·Å)"] * b["p_z (e·Å)"] < 0]
        out.append(f"- {key[0]} ({key[1]}) along its release: p_z = "
                   + ", ".join(f"{r['p_z (e·Å)']:+.4f} ({r['state']}" + ("" if r["converged"] else ", not converged") + ")"
                               for r in path)
                   + f" e·Å at λ = {', '.join(f'{r[lam]:g}' for r in path)} eV"
                   + (f"; the sign changes at λ = {', '.join(f'{x:g}' for x in flips)} eV" if flips else "") + ".")
    return out


def paper_line(ref: dict, rows: list) -> str:
    """One Markdown line on the paper's FE dipole (`ref`, the reference entry: its two orbital dipoles in microC/cm2)
    beside these densities: set beside them only where a polar AFO state survives its release converged. An AFO
    puts one W in each orbital, so per f.u. volume its density is the mean of the two (if each is one orbital's
    dipole per f.u. volume, our reading) and their sum only per two f.u.: both are given."""
    total = ref["orbital_1"] + ref["orbital_2"]
    both = (f"{total / 2:.3f} μC/cm² per f.u. volume (the mean: one W in each orbital) or {total:.3f} μC/cm² if the two "
            "add over one f.u. volume (its normalization is not stated; section 2)")
    states = [r for r in rows if r["λ (eV)"] == 0 and r["converged"] and r["state"] == "AFO" and not mirror_forced(r)]
    if states:
        return (f"- The paper's two orbital dipoles, {ref['orbital_1']} and {ref['orbital_2']} μC/cm² of opposite sign, would "
                f"give an AFO of {both}; the released AFO states above are the ones to compare with it.")
    return (f"- The paper's AFO dipole ({both}; from its two orbital dipoles {ref['orbital_1']} and "
            f"{ref['orbital_2']} μC/cm²) is a property of an ordered state. No polar AFO state survives its release converged "
            "here, and the dipoles of the biased densities change with the bias and its sign along a release, so none "
            "of them is compared with it.")


def frozen_line(p_frozen_eA: float, rows: list) -> str:
    """One Markdown line: the frozen-orbital p_z of b2c2 (e*Angstrom per cell) against the dipoles of the self-consistent
    b2c2 densities held by the bias at full strength (dipole_rows; polar readings only), and how many times smaller
    those are; '' without such a density."""
    held = [r["p_z (e·Å)"] for r in full_bias(rows) if r["start"] == "b2c2" and not mirror_forced(r)]
    if not held or p_frozen_eA == 0:
        return ""
    lo, hi = min(held, key=abs), max(held, key=abs)
    ratios = sorted(abs(p_frozen_eA) / abs(x) for x in (lo, hi) if x != 0)
    return (f"The self-consistent DFT+U densities held in b²c² by the bias at full strength carry {lo:+.4f} to {hi:+.4f} e·Å per "
            f"cell, {ratios[0]:.0f} to {ratios[-1]:.0f} times less than these frozen orbitals ({p_frozen_eA:+.4f} e·Å): the "
            "frozen-orbital dipole is that of the two filled orbitals alone, without the response of the rest of the density, "
            "and a field splits the partners of those densities that many times less.")


def plot(ax, rows: list) -> bool:
    """p_z (e*Angstrom per cell) against the bias strength for each biased branch, polar starts in colour,
    open markers where the step did not converge. False, with nothing drawn, without rows."""
    if not rows:
        return False
    colours = {"b2c2": "tab:red", "c2b2": "tab:orange", "b2b2": "tab:blue", "c2c2": "tab:cyan", "a2a2": "tab:olive"}
    for start, protocol in dict.fromkeys((r["start"], r["protocol"]) for r in rows):
        sub = sorted((r for r in rows if (r["start"], r["protocol"]) == (start, protocol)), key=lambda r: -r["λ (eV)"])
        col = colours.get(start, "tab:purple")
        ax.plot([r["λ (eV)"] for r in sub], [r["p_z (e·Å)"] for r in sub], "-", color=col, lw=1,
                label=f"{start}, {protocol} ({sub[0]['U (eV)']:g} eV)")
        for r in sub:
            ax.plot(r["λ (eV)"], r["p_z (e·Å)"], "o", mec=col, mfc=col if r["converged"] else "white", ms=5)
    ax.axhline(0, color="0.7", lw=0.8)
    ax.invert_xaxis()
    ax.set_xlabel(r"bias strength $\lambda$ (eV), released from left to right")
    ax.set_ylabel(r"$p_z$ (e·Å per cell)")
    ax.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return True
