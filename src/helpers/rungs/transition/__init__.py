"""Ordering temperature of an Ising pseudo-spin model of the orbital order: exact results, couplings
fitted to ordered-state energies, Monte Carlo, and hysteresis.

Modules (one idea each):
    onsager     exact results of the anisotropic 2D Ising model: Onsager's T_c
                (sinh(2 J_x/k_B T) sinh(2 J_y/k_B T) = 1), Yang's spontaneous magnetization,
                Onsager's energy per site (isotropic), and the couplings a target T_c needs.
    couplings   the pseudo-spin patterns of cells doubled along and across the chains (FO,
                stripes, checkerboard) and a least-squares fit of J_x, J_y and a constant to their
                energies.
    lattice     checked input and the L x L periodic lattice (axis 1 along the chains, x; axis 0
                across them, y); the gauge that maps antiferro couplings onto ferro ones.
    montecarlo  seeded simulation: checkerboard Metropolis (local dynamics) and Swendsen-Wang
                clusters (equilibrium near T_c); magnetization, energy, susceptibility, Binder
                cumulant with block errors.
    binder      T_c from the crossing of Binder cumulants over several sizes, with a bootstrap
                error and the spread between pairs of sizes.
    hysteresis  the order parameter (times a dipole per site: the polarization) against a field
                swept down and up with Metropolis dynamics; coercive field and remanence;
                field term h = E p (meV from V/nm and e*Angstrom) and back.

Model and units, shared by all modules:
    H = -J_x sum_<ij along x> s_i s_j - J_y sum_<ij along y> s_i s_j - h sum_i s_i,  s_i = +-1,
couplings J and field h in meV, temperatures in K (k_B = 0.08617333262 meV/K), energies in meV
per site unless stated. J > 0 favours equal pseudo-spins on neighbours (ferro-orbital along that
direction), J < 0 opposite ones. On the bipartite square lattice the sign of a coupling does not
change T_c; the simulation works with |J| and the order parameter of the pattern the signs favour,
and the field h couples to that order parameter (for the paper's mechanism, the polarization that
accompanies the antiferro-orbital order).

Plain NumPy/SciPy on purpose (no compiled dependency): one checkerboard Metropolis sweep of a
128 x 128 lattice is a few NumPy operations on 8192 sites at a time.
"""
