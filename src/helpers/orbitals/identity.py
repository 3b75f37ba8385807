"""Which W-5d orbitals are a, b and c: site symmetry, local frames, and labels followed from 1T.

The paper names three low-lying effective W-5d orbitals a, b, c and says b and c stay degenerate
when the lattice is lowered from 1T to the distorted layer. What "degenerate" and "b, c" mean is
not pinned down by the text, so this module provides each reasonable reading:

- eigenvalues: the crystal-field levels (eigenvalues of a W's on-site 5x5 block, energy order);
- diagonal energies in the local octahedral frame (cubic axes pointing, as nearly as the
  distorted octahedron allows, from W to its six Te): the three t2g energies <xy|h|xy>, ...;
- diagonal energies in the trigonal frame of the 1T layer (a1g, and the two e_g^pi and two e_g^sigma
  partners, z along the layer normal);
- continuity: the eigen-orbitals followed along a linear interpolation of the structure from the
  fictitious 1T layer to the distorted one, so that a label names the same orbital throughout.

And the site-symmetry group of the metal (spglib), which says which degeneracies symmetry can
force and which dipole components an orbital may carry. Energies in eV, lengths in Angstrom.
"""
from __future__ import annotations

import numpy as np
from ase import Atoms


def interpolate(start: Atoms, end: Atoms, lam: float) -> Atoms:
    """The structure a fraction `lam` (0: `start`, 1: `end`) along the straight line between two
    structures with the same atoms in the same order: fractional coordinates (minimal image) and
    cell interpolated linearly."""
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam={lam!r}: must lie in [0, 1]")
    if start.get_chemical_symbols() != end.get_chemical_symbols():
        raise ValueError("start and end must hold the same atoms in the same order")
    fa, fb = start.get_scaled_positions(wrap=False), end.get_scaled_positions(wrap=False)
    d = fb - fa
    d[:, :2] -= np.round(d[:, :2])                 # in-plane minimal image; z is not periodic
    cell = (1 - lam) * np.array(start.cell) + lam * np.array(end.cell)
    out = Atoms(start.get_chemical_symbols(), cell=cell, pbc=start.pbc)
    out.set_scaled_positions(fa + lam * d)
    return out
