"""Local electric dipoles of MX6 octahedra from the metal off-centring (nominal charges).

Nominal-charge model: the metal carries +Z e and each chalcogen -Z/2 e shared between the
three octahedra it belongs to. The dipole of one octahedron about its metal is then
    p = Z e (r_M - centroid of its six chalcogens),
i.e. the nominal charge times the off-centring. Born effective charges of a metal would
replace Z by a tensor; the nominal value fixes the scale, which is what the comparison
with the small ferroelectric dipole needs. Polarization densities are dipoles per volume
of one formula unit (in-plane area per formula unit times the interlayer spacing).
"""
from __future__ import annotations

import numpy as np
from ase import Atoms

from .geometry import octahedra


#: 1 e/Angstrom^2 in microC/cm^2.
E_PER_A2_IN_UC_PER_CM2 = 1.602176634e-19 / 1e-16 * 1e6


def local_dipoles(atoms: Atoms, valence: float = 4.0) -> np.ndarray:
    """Nominal dipole of every MX6 octahedron, e*Angstrom, shape (n_metal, 3)."""
    return np.array([valence * o.offcentre for o in octahedra(atoms)])


def volume_per_fu(atoms: Atoms, layer_spacing: float) -> float:
    """Volume of one formula unit of a layer, Angstrom^3: in-plane area per metal times spacing."""
    n_metal = len(octahedra(atoms))
    area = abs(np.linalg.det(np.array(atoms.cell)[:2, :2]))
    return area / n_metal * layer_spacing


def dipole_density_uC_cm2(p_eA: np.ndarray, volume_A3: float) -> np.ndarray:
    """Dipole `p_eA` (e*Angstrom) spread over `volume_A3` (Angstrom^3), in microC/cm^2."""
    return np.asarray(p_eA) / volume_A3 * E_PER_A2_IN_UC_PER_CM2
