"""Tight-binding models built on the DFT results: projected Wannier functions of W-5d and Te-5p (wannier),
the p-d model and its checks (pd), the layer models of the valence and AFO pages (layer), their fingerprints,
the d shell's real harmonics and rotations (dshell), the identity of the orbitals a, b, c (identity), natural
orbitals, orbital dipoles (moments) and the Wannier90 construction (wannier90). Energies in eV, lengths in
Angstrom, dipoles in e*Angstrom.
"""
