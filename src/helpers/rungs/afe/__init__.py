"""eV scale: the antiferroelectric distortion of the WTe2 layer (structures, tables, convergence)."""
