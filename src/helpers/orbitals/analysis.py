"""The AFO and FE pages' analysis: models of each layer, the readings of a, b, c, levels along the
1T -> distorted path, orbital dipoles from the z matrices, and the robustness sweeps.

Every function takes cached LCAO results (helpers.dft.lcao) and returns plain rows (lists of dicts)
for tables; the notebooks only display them. Energies in eV (meV where named), dipoles in e*Angstrom
and microC/cm^2.
"""
from __future__ import annotations

import numpy as np

from .. import orbital_order as oo
from ..dipoles import dipole_density_uC_cm2
from . import identity as idt
from . import moments as mom


def layer_model(lcao_result: dict, atoms, grid, e_low: float, width: float, window=oo.PD_WINDOW,
                name: str = "") -> dict:
    """The checked p-d model of a layer (helpers.orbital_order.check_model) and its effective W-5d
    model: {'pd', 'eff', 'coeff', 'R', 'quality', 'atoms', 'lcao', 'settings'}."""
    pd = oo.pd_model(lcao_result, window)
    quality = oo.check_model(pd, lcao_result, atoms, name=name)
    eff, coeff, R = oo.downfold_d(pd, tuple(grid), e_low, width)
    return {"pd": pd, "eff": eff, "coeff": coeff, "R": R, "quality": quality, "atoms": atoms,
            "lcao": lcao_result, "settings": {"grid": list(grid), "e_low": e_low, "width": width,
                                               "window": list(window)}}


def onsite_block(eff, site: int = 0) -> np.ndarray:
    """The 5x5 on-site block (eV) of the `site`-th metal of an effective model."""
    sh = oo.d_shells(eff)[site]
    return np.real(eff.onsite()[np.ix_(sh, sh)])


def readings(m: dict, names_from_1T: list | None = None) -> dict:
    """identity.reading for every reading, on the first W of layer model `m`."""
    atom = oo.metal_atoms(m["eff"])[0]
    h5 = onsite_block(m["eff"])
    return {r: idt.reading(h5, m["atoms"], atom, r, names_from_1T if r == "continuity from 1T" else None)
            for r in idt.READINGS}


def readings_rows(layers: dict, names_from_1T: dict | None = None) -> list:
    """Rows (layer, reading, E_a, E_b, E_c in eV, b-c splitting meV, degenerate, forced by symmetry,
    a lowest) for layer models {name: m}."""
    rows = []
    for layer, m in layers.items():
        for r, x in readings(m, (names_from_1T or {}).get(layer)).items():
            e = x["energies_eV"]
            rows.append({"layer": layer, "reading": r, "E_a (eV)": e[0], "E_b (eV)": e[1], "E_c (eV)": e[2],
                         "|E_b - E_c| (meV)": 1000 * x["bc_splitting_eV"], "degenerate": x["degenerate"],
                         "forced by symmetry": x["forced by symmetry"], "a lowest": x["a lowest"]})
    return rows


def symmetry_rows(structures: dict) -> list:
    """Site symmetry of the first metal of each structure {name: atoms}."""
    rows = []
    for name, at in structures.items():
        metal = [i for i, s in enumerate(at.get_chemical_symbols()) if s in ("W", "Mo", "Re")][0]
        rows.append({"structure": name, **idt.site_symmetry(at, metal)})
    return rows


def path_levels(path: list) -> tuple[list, list]:
    """Levels of the first W along a structural path [(lam, layer model m), ...] starting at the
    1T layer: the eigen-orbitals are followed continuously (identity.follow) and named at lam = 0
    after the trigonal orbitals (a1g, epi+-, esig+-). Returns (rows (lam, orbital, E eV, parity,
    smallest overlap), names of the last step's parity_levels eigenvectors, for reading())."""
    ops = [idt.site_operations(m["atoms"], oo.metal_atoms(m["eff"])[0]) for _, m in path]
    common = ops[-1]                      # the distorted site group (a subgroup of 1T's)
    blocks = [onsite_block(m["eff"]) for _, m in path]
    steps = idt.follow(blocks, common)
    m0 = path[0][1]
    atom0 = oo.metal_atoms(m0["eff"])[0]
    trig, tnames = idt.trigonal_orbitals(idt.octahedral_frame(m0["atoms"], atom0), common)
    names = idt.name_by_overlap(steps[0]["vectors"], trig, tnames)
    rows = []
    for (lam, _), st in zip(path, steps):
        for n, e, p in zip(names, st["energies"], st["parity"]):
            rows.append({"lambda": lam, "orbital": n, "E (eV)": float(e), "parity": p,
                         "smallest overlap with previous step": st["min_overlap"]})
    # names of the final eigenvectors in parity_levels order
    w, v, _ = idt.parity_levels(blocks[-1], common)
    last = steps[-1]["vectors"]
    final = [names[int(np.argmax(np.abs(last.T @ v[:, i])))] for i in range(5)]
    return rows, final


def orbital_dipole_rows(m: dict, volume_A3: float, readings_: dict | None = None) -> list:
    """Out-of-plane dipole of each orbital a, b, c (doubly occupied) of both W under each reading,
    from the z matrices (PAW included) and, for comparison, from the tight-binding position
    operator; e*Angstrom and microC/cm^2 over `volume_A3`. W2's orbitals are the inversion image
    of W1's (the same coefficients: d orbitals are even)."""
    eff, pd = m["eff"], m["pd"]
    s = m["settings"]
    keep = np.concatenate(oo.d_shells(pd))
    z_full = mom.effective_z(mom.z_model(m["lcao"], pd), pd, keep, s["grid"], s["e_low"], s["width"])
    z_tb = mom.effective_z(mom.tb_z_model(pd), pd, keep, s["grid"], s["e_low"], s["width"])
    shells, atoms = oo.d_shells(eff), oo.metal_atoms(eff)
    rows = []
    for r, x in (readings_ or readings(m)).items():
        orbs = [x["orbitals"]] * len(shells)
        full = mom.orbital_dipoles_z(z_full, eff, shells, atoms, orbs)
        tb = mom.orbital_dipoles_z(z_tb, eff, shells, atoms, orbs)
        for site in range(len(shells)):
            for i, o in enumerate("abc"):
                rows.append({"reading": r, "W": site + 1, "orbital": o, "p_z (e·Å)": full[site][i],
                             "p_z TB (e·Å)": tb[site][i],
                             "P_z (μC/cm²)": float(dipole_density_uC_cm2(full[site][i], volume_A3))})
    return rows
