"""Tight-binding models from Wannier90's H(R), with the orbitals rehomed to their atoms."""
from __future__ import annotations

from pathlib import Path
import numpy as np

from .. import wannier as W
from .files import ours_orbitals, read_hr, read_wsvec, w90_orbitals, w90_to_ours


# --- models ---------------------------------------------------------------------------------------
def hr_to_H_R(R, ndegen, H, wsvec: dict | None = None, fold_z: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Lattice vectors and H(R) (eV) of the tight-binding Hamiltonian H(k) = sum_R e^{ik.R} H(R)
    defined by Wannier90's hr.dat: each H(R) divided by its Wigner-Seitz degeneracy, and with
    `wsvec` each element H_mn(R) shared equally among its translations R + T (use_ws_distance).
    `fold_z`: add up the R differing only along the third axis (a layer on a single k point in z:
    k_z = 0 is the only k of the model, so this leaves H(k) unchanged)."""
    acc = {}
    nw = H.shape[1]
    for r, d, h in zip(np.asarray(R), np.asarray(ndegen), np.asarray(H)):
        for m in range(nw):
            for n in range(nw):
                if h[m, n] == 0:
                    continue
                T = wsvec.get((int(r[0]), int(r[1]), int(r[2]), m, n)) if wsvec is not None else None
                T = np.zeros((1, 3), int) if T is None or len(T) == 0 else T
                for t in T:
                    rr = r + t
                    if fold_z:
                        rr = (rr[0], rr[1], 0)
                    key = tuple(int(x) for x in rr)
                    acc.setdefault(key, np.zeros((nw, nw), complex))[m, n] += h[m, n] / (d * len(T))
    keys = sorted(acc)
    return np.array(keys), np.array([acc[k] for k in keys])


def nearest_atoms(centres, positions, cell, fold_z: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """For each centre (Angstrom): the nearest atom and the lattice vector L (integers) with the
    centre closest to positions[atom] + L.cell (L_z = 0 with `fold_z`)."""
    cell = np.asarray(cell)
    frac = np.asarray(centres) @ np.linalg.inv(cell)
    pos = np.asarray(positions) @ np.linalg.inv(cell)
    atom, L = [], []
    for f in frac:
        d = f[None, :] - pos
        shift = np.round(d)
        dist = np.linalg.norm((d - shift) @ cell, axis=1)
        a = int(np.argmin(dist))
        s = shift[a].astype(int)
        if fold_z:
            s[2] = 0
        atom.append(a)
        L.append(s)
    return np.array(atom), np.array(L)


def model_from_hr(hr, *, symbols, positions, cell, fermi_level_eV: float, wanted: dict,
                  wsvec=None, centres=None, atomic: bool = True, fold_z: bool = True) -> W.TBModel:
    """A helpers.models.wannier.TBModel from Wannier90's hr.dat (text, path, or the (R, ndegen, H) of
    read_hr), energies shifted to the Fermi level `fermi_level_eV` (eV, the DFT's).

    `positions` (Angstrom) must be the atomic positions of the Wannier90 run (GPAW's wrapped ones).
    `atomic=True` (projection-only functions): the orbitals are Wannier90's projections
    (wanted = {'W': 2, 'Te': 1}), reordered to helpers.models.wannier's order and labels (W d as xy, yz,
    z2, xz, x2-y2; Te p as y, z, x). `atomic=False` (maximally localized functions): each function
    is given to the atom nearest to its centre, with the l of that atom's projection, labelled
    'W0:w7' (7 = Wannier90's index), functions sorted by atom; raises ValueError unless every atom
    gets 2l+1 of them. With `centres` (nw, 3, Angstrom, Wannier90's order) each function is moved
    by a lattice vector to sit by its atom (H_mn(R) -> H_mn(R + L_m - L_n)); the centres are kept
    in info['centres_A'] (in the model's order, moved likewise)."""
    R, ndegen, H = read_hr(hr) if not isinstance(hr, tuple) else hr
    ws = read_wsvec(wsvec) if isinstance(wsvec, (str, Path)) else wsvec
    R_, H_R = hr_to_H_R(R, ndegen, H, ws, fold_z)
    nw = H.shape[1]
    symbols = list(symbols)
    positions = np.asarray(positions, float)
    if atomic:
        orbs = w90_orbitals(symbols, wanted)
        if len(orbs) != nw:
            raise ValueError(f"wanted={wanted!r} gives {len(orbs)} orbitals, the hr.dat has {nw}")
        perm = w90_to_ours(symbols, wanted)
        ours = ours_orbitals(symbols, wanted)
        labels = [f"{symbols[a]}{a}:{n}" for a, l, n in ours]
        atom_of = np.array([a for a, l, n in ours])
        l_of = np.array([l for a, l, n in ours])
    else:
        if centres is None:
            raise ValueError("centres are needed to give maximally localized functions to atoms")
        atom_w90, _ = nearest_atoms(centres, positions, cell, fold_z)
        perm = np.array(sorted(range(nw), key=lambda i: (atom_w90[i], i)))
        atom_of = atom_w90[perm]
        l_of = np.array([wanted.get(symbols[a], -1) for a in atom_of])
        counts = {a: int((atom_of == a).sum()) for a in set(atom_of.tolist())}
        bad = {symbols[a] + str(a): c for a, c in counts.items()
               if symbols[a] not in wanted or c != 2 * wanted[symbols[a]] + 1}
        missing = [a for a, s in enumerate(symbols) if s in wanted and a not in counts]
        if bad or missing:
            raise ValueError(f"the functions' centres do not give each atom 2l+1 functions: {bad}, "
                             f"atoms without any: {missing}")
        labels = [f"{symbols[a]}{a}:w{i + 1}" for a, i in zip(atom_of, perm)]
    H_R = H_R[:, perm][:, :, perm]
    home = np.where((R_ == 0).all(axis=1))[0][0]
    H_R[home] -= fermi_level_eV * np.eye(nw)
    info = {"source": "wannier90", "atomic_order": atomic, "fermi_level_eV": float(fermi_level_eV)}
    if centres is not None:
        c = np.asarray(centres, float)[perm]
        # the nearest image of the function's own atom: shift it home
        L = np.array([nearest_atoms(c[i:i + 1], positions[atom_of[i]:atom_of[i] + 1], cell, fold_z)[1][0]
                      for i in range(nw)])
        if np.any(L):
            R_, H_R = _rehome(R_, H_R, L)
        info["centres_A"] = (c - L @ np.asarray(cell)).tolist()
        info["moved_by_lattice_vectors"] = int(np.any(L, axis=1).sum())
    return W.TBModel(R_, H_R, labels, atom_of, l_of, positions, np.asarray(cell, float), info)


def _rehome(R, H_R, L) -> tuple[np.ndarray, np.ndarray]:
    """H'_mn(R') = H_mn(R) with R' = R - L_m + L_n: functions m moved by -L_m lattice vectors."""
    acc = {}
    nw = H_R.shape[1]
    for r, h in zip(R, H_R):
        for m in range(nw):
            for n in range(nw):
                key = tuple(int(x) for x in r - L[m] + L[n])
                acc.setdefault(key, np.zeros((nw, nw), complex))[m, n] += h[m, n]
    keys = sorted(acc)
    return np.array(keys), np.array([acc[k] for k in keys])


def models(result: dict, fold_z: bool = True) -> dict:
    """The tight-binding models of a cached helpers.dft.jobs.wannier90 result (energies relative to its
    Fermi level): 'proj' (Wannier90, projection-only, helpers.models.wannier's orbital order), 'mlwf'
    (Wannier90, maximally localized, functions given to atoms by their centres; None, with the
    reason in 'mlwf_error', when the centres do not give each atom 2l+1 functions, as on a k grid
    too coarse for localization) and 'ours' (our projected Wannier functions of the same Bloch
    states, with their centres)."""
    entry = Path(result["cache_entry"])
    wanted = {k: int(v) for k, v in result["inputs"]["projections"].items()}
    geo = dict(symbols=result["symbols"], positions=np.array(result["positions_A"]),
               cell=np.array(result["cell"]), fermi_level_eV=result["fermi_level_eV"], wanted=wanted)
    out = {}
    for tag, atomic in (("proj", True), ("mlwf", False)):
        r = result[tag]
        try:
            out[tag] = model_from_hr(entry / r["hr"], wsvec=entry / r["wsvec"], centres=np.array(r["centres_A"]),
                                     atomic=atomic, fold_z=fold_z, **geo)
        except ValueError as err:
            if atomic:
                raise
            out[tag], out[f"{tag}_error"] = None, str(err)
            continue
        out[tag].info.update(run=tag, spreads_A2=r["spreads_A2"], kgrid=list(result["inputs"]["kpts"]))
    o = result["ours"]
    data = np.load(entry / o["npz"])
    pos = np.array(result["positions_A"])
    out["ours"] = W.TBModel(data["R"], data["H_R"], o["labels"], np.array(o["atom_of"]), np.array(o["l_of"]),
                            pos, np.array(result["cell"]),
                            {"source": "helpers.models.wannier recipe on the Wannier90 job's Bloch states",
                             "centres_A": o["centres_A"], "atomic_order": True,
                             "kgrid": list(result["inputs"]["kpts"])})
    return out


def with_centres(model: W.TBModel, centres, positions) -> W.TBModel:
    """`model` with info['centres_A'] set to `centres` (Angstrom, one per orbital of the model)
    measured in a frame where the atoms sit at `positions`, carried to the model's own frame
    (each centre moved with its atom)."""
    c = np.asarray(centres, float) - np.asarray(positions, float)[model.atom_of] + model.positions[model.atom_of]
    return W.TBModel(model.R, model.H_R, model.labels, model.atom_of, model.l_of, model.positions,
                     model.cell, {**model.info, "centres_A": c.tolist()})
