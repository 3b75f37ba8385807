"""Sub-eV rung: which W-5d orbitals are a, b, c, how they hop on each W-W bond, which orbital-
ordered states the mean field finds, and what dipoles the orbitals carry.

Modules (one idea each):
    identity    site symmetry of the metal, local octahedral and trigonal frames, crystal-field
                levels as eigenvalues and as diagonal energies, labels followed from 1T.
    moments     out-of-plane dipoles of Wannier orbitals from the z matrix of the Bloch states on
                the real-space grid (PAW corrections included).
    bonds       W-W bonds, hoppings in the local orbitals, second-order virtual-hopping sums and
                exact diagonalization of the two-W cluster.
    ordered     orbital-ordered mean-field states annealed from large U (helpers.manybody).
    wannier90   the second Wannier construction (Wannier90 through GPAW's interface).

Built on helpers.wannier (projected Wannier functions from GPAW LCAO) and helpers.manybody.
Energies in eV, lengths in Angstrom, dipoles in e*Angstrom.
"""
