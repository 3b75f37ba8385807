"""Couplings from the mean-field mechanism and the strongest W-W hopping."""
from __future__ import annotations

import numpy as np

from helpers.manybody import bond_table
from helpers.models import pd as pd_models
from . import network
from . import onsager


def mechanism_couplings(lr: dict, U: float, J: float = 0.5) -> dict:
    """The couplings the paper's mechanism gives at U (eV): per W-W bond of the effective model, the
    energy of the AFO against the FO configuration of the two W (helpers.manybody.bond_table.bond_table,
    Kanamori interaction with Hund J, eV) by second-order hopping and by the pinned all-order two-W
    estimate, turned into pseudo-spin couplings per W as the fit defines them (sum over the bonds of one
    kind in the cell of (E_AFO - E_FO)/2, over the W of the cell; meV; < 0 favours AFO), and Onsager's
    T_c (K) of the zigzag and interchain couplings of the pinned estimate. Second order counts only
    where every bond passes helpers.manybody.bond_table.second_order_valid. {'U (eV)', 'J (eV)', 'kinds': {kind: {...}},
    'second order valid', 'T_c pinned (K)'}."""
    eff = lr["models"]["effective"][0]
    rows = bond_table.bond_table(eff, lr["orbitals"], U, J)
    lengths = network.bond_lengths_A(lr["atoms"])
    n_w = len(lr["orbitals"])
    kinds = {k: {"second order (meV)": 0.0, "pinned (meV)": 0.0, "bonds": 0, "t_intra (eV)": [], "t_inter (eV)": []}
             for k in network.BOND_KINDS}
    for r in rows:
        k = min(lengths, key=lambda x: abs(lengths[x] - r["length_A"]))
        if abs(lengths[k] - r["length_A"]) > 0.05:
            continue
        kinds[k]["second order (meV)"] += r["E2 AFO - FO (meV)"] / 2 / n_w
        kinds[k]["pinned (meV)"] += r["pinned AFO - FO (meV)"] / 2 / n_w
        kinds[k]["bonds"] += 1
        kinds[k]["t_intra (eV)"].append(r["t_intra_eV"])
        kinds[k]["t_inter (eV)"].append(r["t_inter_eV"])
    valid = bool(rows) and all(bond_table.second_order_valid(r) for r in rows)
    Jz, Ji = kinds["zigzag"]["pinned (meV)"], kinds["interchain"]["pinned (meV)"]
    tc = onsager.critical_temperature_K(abs(Jz), abs(Ji)) if Jz and Ji else float("nan")
    return {"U (eV)": U, "J (eV)": J, "kinds": kinds, "second order valid": valid, "T_c pinned (K)": tc}


def mechanism_findings(mech: dict, needed: list, target_K: float) -> str:
    """One Markdown line: the mechanism's couplings at the realistic U (mechanism_couplings) beside those a
    target_K order needs (needed_couplings)."""
    k = mech["kinds"]
    side = lambda J: "antiferro-orbital" if J < 0 else "ferro-orbital"  # noqa: E731
    iso = next((n for n in needed if n["J weak / J strong"] == 1.0), None)
    hop = "; ".join(f"{kind}: t_intra {np.mean(v['t_intra (eV)']):.2f}, t_inter {np.mean(v['t_inter (eV)']):.2f} eV"
                    for kind, v in k.items() if v["bonds"])
    return (f"- The mechanism itself at the realistic U = {mech['U (eV)']:g} eV (J = {mech['J (eV)']:g} eV), bond by bond "
            f"on the effective model ({hop}): second-order hopping "
            + ("gives J = " + ", ".join(f"{v['second order (meV)']:.1f} meV ({kind})" for kind, v in k.items() if v["bonds"])
               if mech["second order valid"] else
               "is not valid here (a virtual state lies at or below the closed shells, or a hopping is not small against its gap)")
            + "; the pinned all-order two-W estimate gives J = "
            + ", ".join(f"{v['pinned (meV)']:+.1f} meV ({kind}, {side(v['pinned (meV)'])})" for kind, v in k.items() if v["bonds"])
            + (f", whose Onsager T_c is {mech['T_c pinned (K)']:.0f} K" if np.isfinite(mech["T_c pinned (K)"]) else "")
            + (f", against the {iso['J strong bond (meV)']:.1f} meV per bond a {target_K:g} K order needs" if iso else "")
            + "." + _mechanism_verdict(k, iso))


def _mechanism_verdict(kinds: dict, iso: dict | None) -> str:
    """The closing sentence of mechanism_findings: whether the strongest bond's hopping favours the paper's
    AFO (intra- above inter-orbital) and whether the pinned coupling is antiferro-orbital and of the needed size."""
    live = {k: v for k, v in kinds.items() if v["bonds"]}
    if not live:
        return ""
    k, v = max(live.items(), key=lambda kv: abs(kv[1]["pinned (meV)"]))
    ti, tx = float(np.mean(v["t_intra (eV)"])), float(np.mean(v["t_inter (eV)"]))
    J = v["pinned (meV)"]
    enough = iso is not None and J < 0 and abs(J) >= iso["J strong bond (meV)"]
    return (f" On the {k} bond, which carries the largest coupling, intra-orbital hopping is "
            + ("larger" if ti > tx else "smaller") + " than inter-orbital hopping"
            + (" as the paper's mechanism needs" if ti > tx else "") + "; the two-W problem "
            + ("turns it into an antiferro-orbital coupling of the needed size." if enough else
               "does not turn it into an antiferro-orbital coupling of the needed size."))


def strongest_metal_hopping(model) -> dict:
    """The lattice vector R of the largest W1-W2 hopping block ||H(R)[W1 d, W2 d]|| (Frobenius, eV)
    of a two-metal model and the length (Angstrom) of the bond it spans, |p_W2 + R.cell - p_W1|: an
    independent check that the model's site positions are those its hoppings were computed for
    (the strongest metal-metal hopping should span the shortest metal-metal bond)."""
    shells = pd_models.d_shells(model)
    atoms_ = pd_models.metal_atoms(model)
    if len(shells) != 2:
        raise ValueError(f"model: {len(shells)} metal shells; this check is for two metals per cell")
    norms = [np.linalg.norm(H[np.ix_(shells[0], shells[1])]) for H in model.H_R]
    k = int(np.argmax(norms))
    p = np.asarray(model.positions)
    v = p[atoms_[1]] + np.asarray(model.R[k]) @ np.asarray(model.cell) - p[atoms_[0]]
    return {"R": [int(x) for x in model.R[k]], "norm_eV": float(norms[k]), "length_A": float(np.linalg.norm(v))}
