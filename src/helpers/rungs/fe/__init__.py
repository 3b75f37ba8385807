"""The small out-of-plane ferroelectric dipole that accompanies the AFO order: orbital dipoles, DFT+U dipoles, bilayers."""
