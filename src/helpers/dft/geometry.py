"""Geometry of the MX6 octahedra: bond lengths, angles, metal off-centring, distortion measures.

All lengths in Angstrom, angles in degrees. The candidate definitions of the paper's
"average deviation" of W-Te bond lengths and of Te-W-Te angles (Table 1 of Gu, Jiang & Ku)
are collected in `DISTORTION_MEASURES`; the AFE-lattice notebook tests which of them
reproduce the paper's experimental column.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
import numpy as np
from ase import Atoms
from ase.neighborlist import neighbor_list

from .materials import MATERIALS


@dataclass
class Octahedron:
    """A metal atom and its six nearest chalcogens (vectors from the metal, Angstrom)."""
    metal: int
    ligands: np.ndarray   # indices of the six chalcogens
    vectors: np.ndarray   # (6, 3) metal -> chalcogen vectors, minimum image

    @property
    def bond_lengths(self) -> np.ndarray:
        return np.linalg.norm(self.vectors, axis=1)

    @property
    def angles(self) -> np.ndarray:
        """All 15 X-M-X angles, degrees (12 cis near 90, 3 trans near 180)."""
        u = self.vectors / self.bond_lengths[:, None]
        return np.array([np.degrees(np.arccos(np.clip(u[i] @ u[j], -1, 1)))
                         for i, j in combinations(range(6), 2)])

    @property
    def cis_angles(self) -> np.ndarray:
        """The 12 X-M-X angles between non-opposite ligands, degrees."""
        return np.sort(self.angles)[:12]

    @property
    def offcentre(self) -> np.ndarray:
        """Metal position minus the centroid of its six ligands, Angstrom (3-vector)."""
        return -self.vectors.mean(axis=0)


def default_metal(symbols) -> str:
    """The metal of a structure: the first registry metal (helpers.dft.materials) among `symbols`, in
    the order W, Mo, Re, ... of the registry."""
    for m in dict.fromkeys(e["metal"] for e in MATERIALS.values()):
        if m in set(symbols):
            return m
    raise ValueError(f"no metal of helpers.dft.materials.MATERIALS in {sorted(set(symbols))}")


def octahedra(atoms: Atoms, metal: str | None = None, cutoff: float = 3.6) -> list[Octahedron]:
    """The MX6 octahedron of every metal atom (metal: default the registry metal of the structure,
    helpers.dft.materials)."""
    symbols = np.array(atoms.get_chemical_symbols())
    if metal is None:
        metal = default_metal(symbols)
    i, j, D = neighbor_list("ijD", atoms, cutoff)
    out = []
    for m in np.where(symbols == metal)[0]:
        sel = (i == m) & (symbols[j] != metal)
        d = np.linalg.norm(D[sel], axis=1)
        if sel.sum() < 6:
            raise ValueError(f"metal atom {m} has only {sel.sum()} ligands within {cutoff} A")
        near = np.argsort(d)[:6]
        out.append(Octahedron(int(m), j[sel][near], D[sel][near]))
    return out


# --- distortion measures: each maps one Octahedron to a number -------------------------------

def bond_mean_abs_dev(o):   # Angstrom
    d = o.bond_lengths
    return float(np.mean(np.abs(d - d.mean())))


def bond_sum_abs_dev(o):    # Angstrom
    d = o.bond_lengths
    return float(np.sum(np.abs(d - d.mean())))


def bond_range(o):          # Angstrom
    d = o.bond_lengths
    return float(d.max() - d.min())


def bond_distortion_index_percent(o):   # Baur (1974) distortion index, %
    d = o.bond_lengths
    return float(100 * np.mean(np.abs(d - d.mean()) / d.mean()))


def bond_rms_dev(o):        # Angstrom
    d = o.bond_lengths
    return float(np.sqrt(np.mean((d - d.mean()) ** 2)))


def angle_sum_abs_dev(o):   # Sigma parameter, sum over 12 cis angles of |theta - 90|, degrees
    return float(np.sum(np.abs(o.cis_angles - 90)))


def angle_variance(o):      # Robinson et al. (1971) bond-angle variance, deg^2
    return float(np.sum((o.cis_angles - 90) ** 2) / 11)


def angle_mean_abs_dev(o):  # degrees
    return float(np.mean(np.abs(o.cis_angles - 90)))


def angle_sum_sq_dev(o):    # degrees^2
    return float(np.sum((o.cis_angles - 90) ** 2))


DISTORTION_MEASURES = {
    "bond": {
        "mean |d - <d>| (A)": bond_mean_abs_dev,
        "sum |d - <d>| (A)": bond_sum_abs_dev,
        "rms(d - <d>) (A)": bond_rms_dev,
        "max d - min d (A)": bond_range,
        "Baur distortion index (%)": bond_distortion_index_percent,
    },
    "angle": {
        "sum |theta - 90| over 12 cis (deg)": angle_sum_abs_dev,
        "bond-angle variance (deg^2)": angle_variance,
        "sum (theta - 90)^2 (deg^2)": angle_sum_sq_dev,
        "mean |theta - 90| (deg)": angle_mean_abs_dev,
    },
}


def distortion_table(atoms: Atoms) -> dict:
    """Every measure in DISTORTION_MEASURES, averaged over the octahedra of `atoms`."""
    octs = octahedra(atoms)
    return {kind: {name: float(np.mean([f(o) for o in octs])) for name, f in measures.items()}
            for kind, measures in DISTORTION_MEASURES.items()}


def metal_metal_distances(atoms: Atoms, metal: str | None = None, cutoff: float = 4.6) -> np.ndarray:
    """Sorted distinct in-plane metal-metal distances below `cutoff` Angstrom."""
    symbols = np.array(atoms.get_chemical_symbols())
    metal = metal or default_metal(symbols)
    i, j, d = neighbor_list("ijd", atoms, cutoff)
    sel = (symbols[i] == metal) & (symbols[j] == metal)
    return np.unique(np.round(d[sel], 3))


def pretty_measure(name: str) -> str:
    """A distortion measure's name (helpers.dft.geometry.DISTORTION_MEASURES) as a reader writes it:
    'sum |d - <d>| (A)' -> 'sum |d − ⟨d⟩| (Å)', theta -> θ, deg -> °."""
    for a, b in (("<d>", "⟨d⟩"), (" - ", " − "), ("theta", "θ"), ("(A)", "(Å)"), ("(deg^2)", "(deg²)"),
                 ("(deg)", "(°)"), ("^2", "²")):
        name = name.replace(a, b)
    return name
