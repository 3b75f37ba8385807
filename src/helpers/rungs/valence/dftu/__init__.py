"""The valence in DFT+U, the paper's own method: branches from controlled starts annealed in U_eff, read per spin treatment."""
