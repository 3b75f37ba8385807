"""Sub-eV scale: antiferro-orbital order of the W-5d orbitals, in layer models, bonds, mean-field ordered states and DFT+U."""
