"""Orbital-ordered mean-field states of the layer models, annealed from large U."""
