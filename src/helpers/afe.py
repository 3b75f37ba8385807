"""The antiferroelectric (AFE) lattice step: relax the fictitious 1T layer at a fixed d count.

For each d-electron count the undistorted 1T monolayer is relaxed twice: once from the exact
1T positions (symmetry keeps it undistorted; this is the reference) and once from a randomly
rattled start that lets symmetry break. The energy gained per formula unit is the
difference. `d2` is the neutral layer (effective W4+); `d3` adds one electron per metal
(effective W3+) with GPAW's compensating uniform background, and relaxes at fixed in-plane lattice
(see `layer_settings`).
"""
from __future__ import annotations

import numpy as np
from ase import Atoms

from . import dft
from .params import check_choice
from .structures import METAL, fictitious_1T, rattle

#: Extra electrons per metal atom relative to the neutral layer, for each d count.
EXTRA_ELECTRONS = {"d2": 0, "d3": 1}


def start_structures(material: str, vacuum: float, rattle_amplitude: float, seed: int) -> dict:
    """The undistorted 1T start and its rattled copy (Angstrom)."""
    sym = fictitious_1T(material, vacuum=vacuum)
    return {"1T": sym, "rattled": rattle(sym, rattle_amplitude, seed)}


def cell_charge(atoms: Atoms, material: str, dcount: str) -> float:
    """Net cell charge (e) that sets the metal d count `dcount`."""
    check_choice("dcount", dcount, EXTRA_ELECTRONS)
    n_metal = atoms.get_chemical_symbols().count(METAL[material])
    return -float(EXTRA_ELECTRONS[dcount] * n_metal)


def relax_layer(material: str, dcount: str, settings: dict, rattle_amplitude: float = 0.05,
                seed: int = 1, force: bool = False) -> dict:
    """Relaxations of the 1T layer at d count `dcount`: {'1T': result, 'distorted': result}.

    Each result is the cached output of helpers.dft.relax (energy_eV, final structure, ...).
    A material without an experimental structure (helpers.materials, kind 'computed': 1T'-MoTe2)
    has its neutral distorted layer relaxed once, by the generalization page from the 1T'
    prototype (helpers.generalization.relax_computed): at d2 that relaxation is reused here (one
    physical calculation, one cache entry), its `start` saying where it started.
    """
    starts = start_structures(material, settings["vacuum"], rattle_amplitude, seed)
    charge = cell_charge(starts["1T"], material, dcount)
    out = {}
    for name, start in (("1T", starts["1T"]), ("distorted", starts["rattled"])):
        if name == "distorted" and dcount == "d2" and _computed(material):
            from .generalization import relax_computed
            out[name] = dict(relax_computed(material, settings, force=force)["1Tprime"],
                             start="the 1T′ prototype (the WTe2 layer with the metal substituted)")
            continue
        out[name] = dft.relax(start, layer_settings(settings, charge), label=f"{material}-{dcount}-{name}",
                              charge=charge, force=force)
    return out


def _computed(material: str) -> bool:
    """Whether `material`'s distorted layer is computed by the generalization page."""
    from .materials import MATERIALS
    return MATERIALS.get(material, {}).get("kind") == "computed"


def layer_settings(settings: dict, charge: float) -> dict:
    """The settings of a layer relaxation: a charged cell keeps its in-plane lattice fixed.

    GPAW neutralizes a charged cell with a uniform background that also fills the vacuum, so the
    energy and stress of a charged slab as functions of the in-plane area are unphysical (in a
    test the d3 layer expanded without bound, its energy falling). Charged layers therefore relax
    their atoms only, in the 1T cell whose area is the experimental one.
    """
    return dict(settings, relax_cell=bool(settings["relax_cell"]) and charge == 0)


#: Arrangements of the W3+ moments: initial moment (muB) of each metal, in cell order.
W3_ORDERS = {"FM": (3.0, 3.0), "AFM": (3.0, -3.0)}


#: How far (Angstrom) the compensating jellium slab of a charged layer reaches beyond its outer
#: chalcogen planes: about the covalent radius of Te, so that the slab covers the layer's electrons.
#: With the slab ending at the Te nuclei the extra electrons spill beyond it and the Te planes feel
#: 7 eV/A outward (smoke test); with 1.4 A the forces are those of a uniform background.
JELLIUM_PADDING_A = 1.4


def w3_job_parts(atoms: Atoms, material: str, order: str, U: float,
                 padding: float = JELLIUM_PADDING_A) -> dict:
    """The DFT+U, spin and background settings of the W3+ (t2g3) layer: one extra electron per
    metal, compensated by a positive jellium slab spanning the layer (from `padding` Angstrom below
    its lowest to `padding` above its highest chalcogen plane, so no charge sits in the vacuum),
    Dudarev U_eff = `U` eV on the metal d shell, initial moments of 3 muB per metal arranged as
    `order`, and the dipole layer."""
    check_choice("order", order, W3_ORDERS)
    symbols = atoms.get_chemical_symbols()
    metal = METAL[material]
    z_x = atoms.positions[[i for i, s in enumerate(symbols) if s != metal], 2]
    moments = iter(W3_ORDERS[order] * len(symbols))
    magmoms = [next(moments) if s == metal else 0.0 for s in symbols]
    return {"charge": 0.0, "magmoms": magmoms, "hubbard_U": {metal: float(U)},
            "jellium": {"charge": float(symbols.count(metal)), "z1": float(z_x.min() - padding),
                        "z2": float(z_x.max() + padding)},
            "dipole_correction": True}


#: Settings of the W3+ (t2g3 DFT+U) relaxations that differ from the profile's: spin-polarized
#: plane-wave DFT+U steps cost about four times a d2 step, so these run on a coarser k grid
#: (3 per 1/Angstrom; the d2 distortion energy moves by 6 meV/f.u. between 3 and 5) and to
#: 0.05 eV/Angstrom; a profile coarser than this (smoke) keeps its own.
W3_SETTINGS = {"kpt_density": 3.0, "fmax": 0.05}


def w3_settings(settings: dict) -> dict:
    """The profile's settings with W3_SETTINGS where those are finer, at the fixed 1T cell."""
    out = dict(settings, relax_cell=False)
    out["kpt_density"] = min(settings["kpt_density"], W3_SETTINGS["kpt_density"])
    out["fmax"] = max(settings["fmax"], W3_SETTINGS["fmax"])
    return out


def relax_w3_layer(material: str, settings: dict, order: str = "FM", U: float = 3.0,
                   rattle_amplitude: float = 0.05, seed: int = 1, reference: bool = True,
                   force: bool = False) -> dict:
    """The paper's W3+ layer made as a stable t2g3 ion: spin-polarized DFT+U (see `w3_job_parts`),
    relaxed at the fixed 1T cell (settings: `w3_settings`) from the rattled start used for d2 and,
    with `reference`, from the exact 1T positions. Returns {'distorted': result, '1T': result}."""
    starts = start_structures(material, settings["vacuum"], rattle_amplitude, seed)
    fixed = w3_settings(settings)
    out = {}
    todo = (("distorted", starts["rattled"]),) + ((("1T", starts["1T"]),) if reference else ())
    for name, start in todo:
        parts = w3_job_parts(starts["1T"], material, order, U)
        out[name] = dft.relax(start, fixed, label=f"{material}-d3-t2g3-{order}-U{U:g}-{name}", **parts,
                              force=force)
    return out


def energy_gain_per_fu(results: dict) -> float:
    """E(distorted) - E(1T) per formula unit, eV (negative: the distortion lowers the energy)."""
    n_fu = len(results["1T"]["final"]["symbols"]) // 3
    return (results["distorted"]["energy_eV"] - results["1T"]["energy_eV"]) / n_fu


def structure_summary(atoms: Atoms, valence: float = 4.0, layer_spacing: float | None = None) -> dict:
    """Numbers that characterise a layer: cell (A), M-M distances (A), bonds (A), off-centring (A),
    nominal local dipole (e A) and, when `layer_spacing` (A) is given, its density (microC/cm2)."""
    from .dipoles import dipole_density_uC_cm2, local_dipoles, volume_per_fu
    from .geometry import metal_metal_distances, octahedra
    octs = octahedra(atoms)
    a, b = np.linalg.norm(atoms.cell[0]), np.linalg.norm(atoms.cell[1])
    mm = [d for d in metal_metal_distances(atoms) if abs(d - a) > 0.02]
    bonds = np.concatenate([o.bond_lengths for o in octs])
    off = np.array([o.offcentre for o in octs])
    p = local_dipoles(atoms, valence)
    out = {
        "a_A": float(a), "b_A": float(b),
        "MM_short_A": float(min(mm)) if mm else float("nan"),
        "MM_long_A": float(max(mm)) if len(mm) > 1 else float("nan"),
        "bond_min_A": float(bonds.min()), "bond_max_A": float(bonds.max()),
        "bond_mean_A": float(bonds.mean()),
        "offcentre_A": float(np.mean(np.linalg.norm(off, axis=1))),
        "offcentre_y_A": [float(v) for v in off[:, 1]],
        "dipole_eA": float(np.mean(np.linalg.norm(p, axis=1))),
    }
    if layer_spacing:
        out["dipole_density_uC_cm2"] = float(
            dipole_density_uC_cm2(out["dipole_eA"], volume_per_fu(atoms, layer_spacing)))
    return out


def matching_definitions(atoms: Atoms, targets: dict) -> dict:
    """For each kind ('bond', 'angle'), the distortion measure whose value for `atoms` lies
    closest (relative difference) to `targets[kind]`; returns {kind: (name, value, rel_diff)}."""
    from .geometry import distortion_table
    table = distortion_table(atoms)
    out = {}
    for kind, target in targets.items():
        name, value = min(table[kind].items(), key=lambda kv: abs(kv[1] - target) / abs(target))
        out[kind] = (name, value, (value - target) / target)
    return out


def layer_spacing(material: str) -> float:
    """Interlayer spacing of the experimental bulk (c / number of layers per cell), Angstrom.
    A material without an experimental structure file (MoTe2) takes the spacing of Td-WTe2."""
    from .structures import EXPERIMENTAL, experimental_bulk, interlayer_spacing
    return interlayer_spacing(experimental_bulk(material if material in EXPERIMENTAL else "WTe2"))


def refinement_rows(chosen: dict, material: str = "WTe2") -> list:
    """The Table 1 measures chosen on the default structure (matching_definitions: {kind: (name,
    ...)}) and the layer geometry of every refinement of the material's experimental structure
    (helpers.materials.REFINEMENTS), then their spread (max - min): the honest tolerance of the
    experimental column. Lengths in Angstrom, angles in degrees."""
    import numpy as np

    from .geometry import distortion_table, metal_metal_distances, octahedra
    from .materials import REFINEMENTS
    from .structures import registry_bulk
    rows = []
    for label in REFINEMENTS[material]:
        bulk = registry_bulk(material, label)
        table = distortion_table(bulk)
        mm = metal_metal_distances(bulk)
        lengths = sorted(np.linalg.norm(bulk.cell, axis=1))
        rows.append({"refinement": label, "file": bulk.info["source"],
                     **{f"{kind}: {name}": table[kind][name] for kind, (name, *_) in chosen.items()},
                     "a (Å)": lengths[0], "b (Å)": lengths[1], "c (Å)": lengths[2],
                     "W–W short (Å)": float(mm.min()), "W–W long (Å)": float(mm.max()),
                     "off-centring (Å)": float(np.mean([np.linalg.norm(o.offcentre) for o in octahedra(bulk)]))})
    keys = [k for k in rows[0] if k not in ("refinement", "file")]
    rows.append({"refinement": "spread (max − min)", "file": "",
                 **{k: max(r[k] for r in rows) - min(r[k] for r in rows) for k in keys}})
    return rows
