"""Rydberg scale: the effective valence of W by interaction annealing, in the model mean field (mean_field, verdicts) and in DFT+U (dftu)."""
