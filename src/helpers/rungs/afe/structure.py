"""The distortion's energy gain per formula unit and the structure's measures against the published refinements."""
from __future__ import annotations

import numpy as np
from ase import Atoms

from helpers.dft.dipoles import dipole_density_uC_cm2, local_dipoles, volume_per_fu
from helpers.dft.geometry import distortion_table, metal_metal_distances, octahedra
from helpers.dft.materials import REFINEMENTS
from helpers.dft.structures import registry_bulk


def energy_gain_per_fu(results: dict) -> float:
    """E(distorted) - E(1T) per formula unit, eV (negative: the distortion lowers the energy)."""
    n_fu = len(results["1T"]["final"]["symbols"]) // 3
    return (results["distorted"]["energy_eV"] - results["1T"]["energy_eV"]) / n_fu


def structure_summary(atoms: Atoms, valence: float = 4.0, layer_spacing: float | None = None) -> dict:
    """Numbers that characterise a layer: cell (A), M-M distances (A), bonds (A), off-centring (A),
    nominal local dipole (e A) and, when `layer_spacing` (A) is given, its density (microC/cm2)."""
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
    table = distortion_table(atoms)
    out = {}
    for kind, target in targets.items():
        name, value = min(table[kind].items(), key=lambda kv: abs(kv[1] - target) / abs(target))
        out[kind] = (name, value, (value - target) / target)
    return out


def refinement_rows(chosen: dict, material: str = "WTe2") -> list:
    """The Table 1 measures chosen on the default structure (matching_definitions: {kind: (name,
    ...)}) and the layer geometry of every refinement of the material's experimental structure
    (helpers.dft.materials.REFINEMENTS), then their spread (max - min): the honest tolerance of the
    experimental column. Lengths in Angstrom, angles in degrees."""
    import numpy as np

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
