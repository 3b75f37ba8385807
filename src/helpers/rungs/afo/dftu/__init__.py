"""The ordered states of the AFO page in DFT+U with controlled orbital occupations: plans, states, readings, verdicts, the experimental layer (structure) and supercells (supercell)."""
