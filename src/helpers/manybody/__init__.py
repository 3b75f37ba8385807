"""Many-body engine: on-site interactions, unrestricted Hartree-Fock, controlled starts, annealing in U,
and exact diagonalization of small clusters.

Modules (one idea each):
    interaction     Slater / Kanamori / Dudarev interactions of one correlated shell, their
                    Hartree-Fock energy and potential, double counting (FLL, AMF).
    uhf             unrestricted Hartree-Fock on a tight-binding model (the one mean-field solver); supercells.
    configurations  controlled starting occupations (which local orbitals are filled per spin).
    anneal          follows branches of mean-field states from large to small U.
    bias            mixer-independent branches: a bias on target orbitals released in steps.
    layer           the annealing of a layer's p-d model: interactions, starts, the U grid.
    ed              exact diagonalization in Fock space (ground state, low spectrum, observables).
    bonds           W-W bonds and hoppings in the local orbitals.
    bond_cluster    second-order virtual hopping and exact diagonalization of the two-W cluster.
    bond_table      the bond energies of the ordered patterns, scanned and cached.
    toy             two-site Hubbard model and a two-site t2g cluster (tests, valence page).

Plain NumPy/SciPy only: the Hilbert spaces are small (at most C(12,6) = 924 states) and the mean-field
matrices a few tens of orbitals, so the book runs unchanged on Binder. Energies in eV; occupation matrices
n^s_ab = <c^+_{a s} c_{b s}> per spin; interaction tensors U[a,b,c,d] = <ab|v|cd>.
"""
