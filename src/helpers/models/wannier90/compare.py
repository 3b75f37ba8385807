"""The two Wannier constructions compared: d levels, d-d bonds and z offsets of the centres."""
from __future__ import annotations

import numpy as np

from .. import pd as pd_models
from .. import wannier as W
from .models import models, with_centres


# --- comparison -----------------------------------------------------------------------------------
def shell_levels(model: W.TBModel) -> list:
    """Eigenvalues (eV, ascending) of the 5x5 on-site block of each metal's d functions."""
    return [W.crystal_field(model, a)[0] for a in pd_models.metal_atoms(model)]


def effective_levels(model: W.TBModel, grid=(12, 6, 1), e_low: float = -1.5, width: float = 0.5) -> list:
    """Crystal-field levels (eV, ascending) of each W in the effective W-5d model obtained by
    downfolding `model` with helpers.models.pd.downfold_d."""
    eff, _, _ = pd_models.downfold_d(model, grid, e_low, width)
    return [lv for lv, _ in pd_models.local_orbitals(eff)]


def dd_bonds(model: W.TBModel, max_length: float = 4.5, fold_z: bool = True) -> dict:
    """||T||_F (eV, Frobenius norm, basis independent) of the d-d hopping block of every metal-metal
    bond up to `max_length` Angstrom, keyed by (i, j, bond vector r_j + R.cell - r_i rounded to
    0.01 Angstrom), each bond once (i < j, or i = j with R > 0). Values (length, norm, (i, j, R))."""
    shells = dict(zip(pd_models.metal_atoms(model), pd_models.d_shells(model)))
    cell = np.asarray(model.cell)
    out = {}
    for n, r in enumerate(model.R):
        for i, si in shells.items():
            for j, sj in shells.items():
                if i > j or (i == j and tuple(r) <= (0, 0, 0)):
                    continue
                d = model.positions[j] + r @ cell - model.positions[i]
                if fold_z:
                    d[2] -= cell[2, 2] * np.round(d[2] / cell[2, 2])
                length = float(np.linalg.norm(d))
                if length > max_length:
                    continue
                key = (int(i), int(j)) + tuple(float(x) for x in np.round(d, 2) + 0.0)
                out[key] = (length, float(np.linalg.norm(model.H_R[n][np.ix_(si, sj)])), (i, j, tuple(int(x) for x in r)))
    return out


def z_offsets(model: W.TBModel) -> list:
    """Per metal atom: the z offsets (Angstrom) of its d functions' centres from the atom (in the
    model's order), from info['centres_A']; None without centres."""
    if "centres_A" not in model.info:
        return None
    c = np.asarray(model.info["centres_A"])
    cz = model.cell[2][2]
    out = []
    for a, shell in zip(pd_models.metal_atoms(model), pd_models.d_shells(model)):
        dz = c[shell, 2] - model.positions[a, 2]
        out.append(dz - cz * np.round(dz / cz))
    return out


def compare(ours: W.TBModel, theirs: W.TBModel, lcao_result: dict | None = None, grid=(12, 6, 1),
            e_low: float = -1.5, width: float = 0.5, band_window=(-1.0, 1.0), max_bond: float = 4.5,
            n_bonds: int = 4) -> list:
    """Rows {quantity, ours, theirs, difference (theirs - ours), unit} comparing two Wannier
    constructions of one crystal (the same atoms, in the same order): band deviation against the
    DFT path bands of `lcao_result`, the on-site d levels of each metal (eigenvalues of its 5x5
    block), the crystal-field levels a, b, c (and all five) of the effective W-5d model of each
    (helpers.models.pd.downfold_d on `grid` with e_low, width) and their splittings, ||T|| of the d-d
    blocks of the `n_bonds` shortest metal-metal bonds, and the z offsets of the d functions'
    centres from their metal (per function when both models are in atomic order, and the shell
    mean, which is invariant under rotations within a shell)."""
    rows = []

    def add(q, a, b, unit):
        rows.append({"quantity": q, "ours": float(a), "theirs": float(b), "difference": float(b - a), "unit": unit})

    if lcao_result is not None:
        add(f"max band deviation in {tuple(band_window)} eV", W.band_deviation(ours, lcao_result, band_window),
            W.band_deviation(theirs, lcao_result, band_window), "eV")
    names = ["a", "b", "c", "d4", "d5"]
    for w, (lo, lt) in enumerate(zip(shell_levels(ours), shell_levels(theirs))):
        for i in range(5):
            add(f"W{w} on-site d level {i + 1}", lo[i], lt[i], "eV")
    for w, (lo, lt) in enumerate(zip(effective_levels(ours, grid, e_low, width),
                                     effective_levels(theirs, grid, e_low, width))):
        for i in range(5):
            add(f"W{w} effective level {names[i]}", lo[i], lt[i], "eV")
        add(f"W{w} splitting b-a", lo[1] - lo[0], lt[1] - lt[0], "eV")
        add(f"W{w} splitting c-b", lo[2] - lo[1], lt[2] - lt[1], "eV")
    bo, bt = dd_bonds(ours, max_bond), dd_bonds(theirs, max_bond)
    shared = sorted(set(bo) & set(bt), key=lambda k: (round(bo[k][0], 2), k))
    lengths = sorted({round(bo[k][0], 2) for k in shared})[:n_bonds]
    for k in shared:
        if round(bo[k][0], 2) in lengths:
            i, j, _ = bo[k][2]
            add(f"||T_dd|| W{i}-W{j} d={bo[k][0]:.3f} A vec=({k[2]:+.2f},{k[3]:+.2f},{k[4]:+.2f})",
                bo[k][1], bt[k][1], "eV")
    zo, zt = z_offsets(ours), z_offsets(theirs)
    if zo is not None and zt is not None:
        atomic = ours.info.get("atomic_order", True) and theirs.info.get("atomic_order", True)
        for w, (a, b) in enumerate(zip(zo, zt)):
            add(f"W{w} d-shell mean z offset", np.mean(a), np.mean(b), "Angstrom")
            if atomic:
                for i, s in enumerate(pd_models.d_shells(ours)[w]):
                    add(f"W{w} z offset {ours.labels[s].split(':')[1]}", a[i], b[i], "Angstrom")
    return rows


def construction_rows(result: dict, lcao_result: dict, grid=(12, 6, 1), e_low: float = -1.5,
                      width: float = 0.5, band_window=(-1.0, 1.0)) -> dict:
    """Comparison rows (compare) of our W-5d + Te-5p model of `lcao_result` (helpers.models.pd.pd_model,
    the compendium's model; its functions' centres taken from our recipe on the Wannier90 job's
    Bloch states) against: 'proj' and 'mlwf' (the two Wannier90 runs of `result`, a cached
    helpers.dft.jobs.wannier90) and 'ours, job states' (our recipe on the job's Bloch states: what the
    periodic z, the moved layer and the job's own SCF change)."""
    ms = models(result)
    ours = with_centres(pd_models.pd_model(lcao_result), ms["ours"].info["centres_A"], ms["ours"].positions)
    out = {}
    for tag, theirs in (("proj", ms["proj"]), ("mlwf", ms["mlwf"]), ("ours, job states", ms["ours"])):
        if theirs is not None:
            out[tag] = compare(ours, theirs, lcao_result, grid, e_low, width, band_window)
    return out
