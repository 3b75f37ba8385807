"""One package per page of the book, in the order of the ladder: valence (Rydberg scale), afe (eV), afo
(sub-eV), fe (the dipole), generalization (ReSe2, MoTe2) and transition (the ordering temperature). A rung
uses dft, models and manybody, and may use an earlier rung; robustness and typeset are shared by all.
"""
