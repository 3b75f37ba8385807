"""Crystal structures: experimental bulk cells, slabs cut from them, and model layers.

Conventions: the layers lie in the xy plane; x is the W-chain direction (the short
lattice vector a, 3.48 Angstrom in WTe2), y is the direction of the W-W dimerization
(b), z is out of plane. All lengths are in Angstrom.
"""
from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.io import read

from ..store.params import check_choice
from ..store.paths import STRUCTURES
from .geometry import octahedra
from .materials import REFINEMENTS, check


#: Experimental structure files, one per material, with their citation inside.
EXPERIMENTAL = {
    "WTe2": "WTe2_Td_Mar1992.cif",
}
#: Metal of each material the ladder pages run on (1T-derived layers, two metals per cell; the
#: octahedrally coordinated cation). Every material of the generalization page: helpers.dft.materials.
METAL = {"WTe2": "W", "MoTe2": "Mo"}
CHALCOGEN = {"WTe2": "Te", "MoTe2": "Te"}


def check_material(material: str, allowed=None) -> None:
    """Raise ValueError unless `material` is one this compendium has data for."""
    allowed = sorted(allowed or METAL)
    if material not in allowed:
        raise ValueError(f"material={material!r} is not available; allowed: {allowed}")


def experimental_bulk(material: str = "WTe2") -> Atoms:
    """The experimental bulk cell (Td-WTe2: Pmn2_1, 12 atoms) read from data/structures."""
    check_material(material, EXPERIMENTAL)
    atoms = read(STRUCTURES / EXPERIMENTAL[material])
    atoms.info["source"] = str(EXPERIMENTAL[material])
    return atoms


def layer_indices(atoms: Atoms, gap: float = 1.5) -> list[np.ndarray]:
    """Indices of atoms grouped into layers, bottom to top, split at z gaps > `gap` Angstrom.

    Works on the unwrapped z coordinates of a bulk cell; the periodic seam is handled by
    rotating the z list so that the largest gap is the cell boundary.
    """
    z = atoms.positions[:, 2] % atoms.cell[2, 2]
    order = np.argsort(z)
    zs = z[order]
    gaps = np.diff(np.append(zs, zs[0] + atoms.cell[2, 2]))
    start = (np.argmax(gaps) + 1) % len(zs)
    order = np.roll(order, -start)
    zs = np.unwrap(z[order], period=atoms.cell[2, 2])
    cuts = np.where(np.diff(zs) > gap)[0] + 1
    return [np.sort(g) for g in np.split(order, cuts)]


def slab(material: str = "WTe2", nlayers: int = 1, vacuum: float = 15.0) -> Atoms:
    """`nlayers` consecutive layers of the experimental bulk, with `vacuum` Angstrom of vacuum.

    The bulk Td cell holds two layers related by a 2_1 screw; a bilayer cut from it keeps
    the Td stacking (polar, as in the ferroelectric bilayer of Fei et al. 2018).
    """
    if not (isinstance(nlayers, (int, np.integer)) and nlayers >= 1):
        raise ValueError(f"nlayers={nlayers!r}: must be an integer >= 1")
    if not vacuum > 0:
        raise ValueError(f"vacuum={vacuum!r}: must be a positive length in Angstrom")
    bulk = experimental_bulk(material)
    per_cell = len(layer_indices(bulk))
    reps = -(-nlayers // per_cell)
    big = bulk.repeat((1, 1, reps + 1))
    layers = layer_indices(big)
    # unwrapped z so that layers stacked across the seam stay in order
    zs = big.positions[:, 2].copy()
    chosen = np.concatenate(layers[:nlayers])
    out = big[chosen]
    pos = out.positions
    ref = np.median(zs[layers[0]])
    pos[:, 2] = (pos[:, 2] - ref + big.cell[2, 2] / 2) % big.cell[2, 2]
    out.positions = pos
    out.cell[2] = [0, 0, 1.0]
    out.center(vacuum=vacuum / 2, axis=2)
    out.pbc = (True, True, False)
    out.info["source"] = f"{nlayers} layer(s) cut from {bulk.info['source']}"
    return out


def monolayer_1Tprime(material: str = "WTe2", vacuum: float = 15.0) -> Atoms:
    """The distorted (1T') monolayer as it sits in the experimental bulk: 2 metal, 4 chalcogen."""
    return slab(material, 1, vacuum)


def fictitious_1T(material: str = "WTe2", a_hex: float | None = None, bond: float | None = None,
                  vacuum: float = 15.0) -> Atoms:
    """The fictitious undistorted 1T monolayer in the rectangular two-formula-unit cell.

    The metal sits at the centre of its chalcogen octahedron (layer group P-3m1).
    Cell: a = a_hex along x (chain direction), b = sqrt(3) a_hex along y.
    Defaults come from the experimental layer: a_hex keeps the experimental in-plane area
    per formula unit, `bond` (metal-chalcogen distance) is the experimental mean.
    """
    check_material(material)
    if a_hex is None or bond is None:
        exp = monolayer_1Tprime(material if material in EXPERIMENTAL else "WTe2", vacuum)
        if a_hex is None:
            area = abs(np.linalg.det(exp.cell[:2, :2]))
            a_hex = float(np.sqrt(area / np.sqrt(3)))
        if bond is None:
            bond = float(np.mean([o.bond_lengths for o in octahedra(exp)]))
    h2 = bond**2 - a_hex**2 / 3
    if a_hex <= 0 or h2 <= 0:
        raise ValueError(f"a_hex={a_hex}, bond={bond}: need bond > a_hex/sqrt(3) > 0 (Angstrom)")
    h = np.sqrt(h2)
    a, b = a_hex, np.sqrt(3) * a_hex
    M, X = METAL[material], CHALCOGEN[material]
    # metal at (0, 0) and (a/2, b/2); chalcogens above/below the two triangle centres
    frac = [
        (M, 0.0, 0.0, 0.0), (M, 0.5, 0.5, 0.0),
        (X, 0.5, 1 / 6, +h), (X, 0.0, 2 / 3, +h),
        (X, 0.0, 1 / 3, -h), (X, 0.5, 5 / 6, -h),
    ]
    atoms = Atoms(
        [s for s, *_ in frac],
        positions=[(fx * a, fy * b, z) for _, fx, fy, z in frac],
        cell=[a, b, 1.0], pbc=(True, True, False),
    )
    atoms.center(vacuum=vacuum / 2, axis=2)
    note = "" if material in EXPERIMENTAL else " (defaults taken from the WTe2 layer)"
    atoms.info["source"] = f"fictitious 1T {material}, a_hex={a_hex:.4f} A, M-X bond={bond:.4f} A{note}"
    return atoms


def registry_bulk(material: str, refinement: str | None = None) -> Atoms:
    """The experimental bulk cell of a registry material (helpers.dft.materials) from its file in
    data/structures, or one of its other refinements (materials.REFINEMENTS[material][refinement])."""
    entry = check(material)
    if refinement is not None:
        check_choice("refinement", refinement, REFINEMENTS.get(material, {}))
        name = REFINEMENTS[material][refinement]
    elif entry["file"] is None:
        raise ValueError(f"material={material!r} has no experimental structure file "
                         f"({entry['kind']}: {entry['structure']})")
    else:
        name = entry["file"]
    atoms = read(STRUCTURES / name)
    atoms.info["source"] = name
    return atoms


def plane_gaps(bulk: Atoms, k: int) -> tuple[float, np.ndarray]:
    """Across the lattice planes spanned by the two cell vectors other than `k`: their repeat
    distance d (Angstrom) and the empty gaps (Angstrom, summing to d) between the atoms' sorted
    coordinates along the plane normal, the periodic seam included."""
    cell = np.array(bulk.cell)
    i, j = [x for x in range(3) if x != k]
    n = np.cross(cell[i], cell[j])
    n /= np.linalg.norm(n)
    d = abs(cell[k] @ n)
    z = np.sort((bulk.positions @ n) % d)
    return float(d), np.diff(np.append(z, z[0] + d))


def stacking_axis(bulk: Atoms) -> int:
    """The cell vector (0, 1, 2) across the van der Waals gaps: the one along which the atoms'
    coordinates normal to the plane of the other two leave the widest empty gap."""
    return int(np.argmax([plane_gaps(bulk, k)[1].max() for k in range(3)]))


def interlayer_spacing(bulk: Atoms, gap: float = 2.2) -> float:
    """Repeat distance normal to the layers of a layered bulk divided by its layers per cell (gaps
    wider than `gap` Angstrom separate layers), Angstrom."""
    d, gaps = plane_gaps(bulk, stacking_axis(bulk))
    return d / max(1, int(np.sum(gaps > gap)))


def cut_layers(bulk: Atoms, nlayers: int = 1, vacuum: float = 15.0, gap: float = 2.2) -> Atoms:
    """`nlayers` consecutive layers of a layered bulk cell of any lattice, in a slab with the
    layers in the xy plane (x along the first in-plane cell vector) and `vacuum` Angstrom between
    images. Layers are separated at gaps wider than `gap` Angstrom along the layer normal. (The
    Td-WTe2 slabs of the ladder pages come from `slab`, which keeps its own conventions.)"""
    if not (isinstance(nlayers, (int, np.integer)) and nlayers >= 1):
        raise ValueError(f"nlayers={nlayers!r}: must be an integer >= 1")
    if not vacuum > 0:
        raise ValueError(f"vacuum={vacuum!r}: must be a positive length in Angstrom")
    k = stacking_axis(bulk)
    i, j = [x for x in range(3) if x != k]
    cell = np.array(bulk.cell)
    ex = cell[i] / np.linalg.norm(cell[i])
    ez = np.cross(cell[i], cell[j])
    ez /= np.linalg.norm(ez)
    ey = np.cross(ez, ex)
    rot = np.array([ex, ey, ez])                        # rows: the slab's axes in the bulk frame
    a1, a2, a3 = cell[i] @ rot.T, cell[j] @ rot.T, cell[k] @ rot.T
    if a3[2] < 0:
        a3 = -a3
    reps = nlayers + 3
    pos = np.concatenate([bulk.positions @ rot.T + m * a3 for m in range(reps)])
    symbols = bulk.get_chemical_symbols() * reps
    order = np.argsort(pos[:, 2])
    z = pos[order, 2]
    groups = np.split(order, np.where(np.diff(z) > gap)[0] + 1)
    per_cell = len(bulk) // max(1, round(len(groups) / reps))
    complete = [g for g in groups if len(g) == per_cell]
    if len(complete) < nlayers + 1:
        raise ValueError(f"could not find {nlayers} complete layers (gap={gap} Angstrom)")
    chosen = np.concatenate(complete[1:1 + nlayers])      # skip the bottom one (cut at the seam)
    out = Atoms([symbols[c] for c in chosen], positions=pos[chosen], cell=[a1, a2, [0, 0, 1.0]],
                pbc=(True, True, False))
    out.wrap()
    out.center(vacuum=vacuum / 2, axis=2)
    out.info["source"] = f"{nlayers} layer(s) cut from {bulk.info.get('source', 'a bulk cell')}"
    return out


def substituted(atoms: Atoms, mapping: dict, note: str = "") -> Atoms:
    """A copy of `atoms` with every element in `mapping` replaced ({'W': 'Mo'}), positions and cell
    unchanged: the start of a DFT relaxation of an isostructural compound (never an experimental
    structure)."""
    for old, new in mapping.items():
        if old not in atoms.get_chemical_symbols():
            raise ValueError(f"mapping={mapping!r}: no {old!r} atom in the structure")
    out = atoms.copy()
    out.set_chemical_symbols([mapping.get(s, s) for s in out.get_chemical_symbols()])
    src = atoms.info.get("source", "a structure")
    out.info["source"] = f"{src} with {', '.join(f'{k} -> {v}' for k, v in mapping.items())}{note}"
    return out


def prototype_1Tprime(material: str, vacuum: float = 15.0) -> Atoms:
    """The 1T' monolayer of `material` built from the experimental Td-WTe2 layer with the metal
    substituted (MoTe2: Mo on the W sites); the start of a DFT relaxation, labelled as computed."""
    check_material(material)
    return substituted(monolayer_1Tprime("WTe2", vacuum), {"W": METAL[material]},
                       " (prototype for a DFT relaxation, not an experimental structure)")


def rattle(atoms: Atoms, amplitude: float = 0.03, seed: int = 0) -> Atoms:
    """A copy of `atoms` with random displacements (std `amplitude` Angstrom) that break symmetry."""
    out = atoms.copy()
    out.rattle(stdev=amplitude, seed=seed)
    return out
