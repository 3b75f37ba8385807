"""The second Wannier construction: Wannier90 through GPAW's interface, read back as our models and compared with the projected Wannier functions."""
