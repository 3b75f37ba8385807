"""Many-body engine: on-site interactions, unrestricted Hartree-Fock, controlled starts, annealing
in U, and exact diagonalization of small clusters.

Modules (one idea each):
    interaction     Slater / Kanamori / Dudarev interactions of one correlated shell, their
                    Hartree-Fock energy and potential, double counting (FLL, AMF).
    uhf             unrestricted (spin-polarized) Hartree-Fock on a tight-binding model; supercells.
    configurations  controlled starting occupations (which local orbitals are filled per spin).
    anneal          follows branches of mean-field states from large to small U.
    bias            mixer-independent branches: a bias on target orbitals released in steps.
    ed              exact diagonalization in Fock space (ground state, low spectrum, observables).
    toy             two-site Hubbard model and a two-site t2g cluster (tests, valence notebook).

Plain NumPy/SciPy only, on purpose: the Hilbert spaces are small (at most C(12,6) = 924 states
for six orbitals at half filling, the two-site t2g cluster), the mean-field matrices are at most a
few tens of orbitals, so dense linear algebra is instant and no compiled many-body dependency
(TRIQS, pyscf, quspin) is needed; the book then runs unchanged on Binder.

Conventions shared by all modules: energies in eV (per cell of the model); occupation matrices
n^s_ab = <c^+_{a s} c_{b s}> per spin s (up, dn); one-body Hamiltonians h_ab as in
H = sum_ab h_ab c^+_a c_b; interaction tensors U[a,b,c,d] = <ab|v|cd> with
H_int = 1/2 sum U[a,b,c,d] c^+_{a s} c^+_{b s'} c_{d s'} c_{c s}.
"""
