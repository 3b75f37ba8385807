"""The LCAO stage: eigenvalues, projections on atomic orbitals and the z matrices of the Bloch states on the real-space grid (PAW corrections included)."""

from pathlib import Path
import numpy as np
from gpaw.mpi import world

from .common import lcao_calc, optional_parameters


def z_matrices(calc) -> tuple[np.ndarray, np.ndarray, dict]:
    """<Phi_Mk| z |Phi_Nk> (Angstrom) between all LCAO basis functions at every k of the full grid,
    with the PAW correction, and the overlap computed the same way (for the convention check).

    z is the Cartesian coordinate of the cell (the slab is not periodic along z, so z is a proper
    operator there). Pseudo part: the basis functions on the real-space grid, summed with z.
    PAW part: sum_a P_Mi^a dZ^a_ij P_Nj^a*, with dZ^a_ij = int (phi_i phi_j - phit_i phit_j) z =
    sqrt(4 pi / 3) Delta^a_ij,L=z + z_a sqrt(4 pi) Delta^a_ij,L=0 (GPAW's compensation-charge
    expansion coefficients Delta_iiL; real harmonics L = 1, 2, 3 are y, z, x). Returns (Z_kMM,
    S_kMM) on every rank, and timing information."""
    import time
    from ase.units import Bohr
    t0 = time.time()
    dft = calc.dft
    ibzwfs = dft.ibzwfs
    grid = dft.density.nt_sR.desc
    z_R = grid.xyz()[..., 2]
    relpos = dft.relpos_ac
    z_a = (relpos @ grid.cell_cv)[:, 2]
    nk = len(ibzwfs.ibz)
    nM = None
    Z = S = None
    for wfs in ibzwfs:
        if wfs.spin != 0:
            continue
        nM = wfs.C_nM.shape[1]
        if Z is None:
            Z = np.zeros((nk, nM, nM), complex)
            S = np.zeros((nk, nM, nM), complex)
        g = grid.new(kpt=wfs.kpt_c, dtype=wfs.dtype)
        phi = g.zeros(nM)
        wfs.basis.lcao_to_grid(np.eye(nM, dtype=wfs.dtype), phi.data, wfs.q)
        f = phi.data.reshape(nM, -1)
        Zk = (f.conj() * z_R.reshape(-1)) @ f.T * grid.dv
        Sk = f.conj() @ f.T * grid.dv
        for a, P_Mi in wfs.P_aMi.items():
            setup = dft.setups[a]
            D = setup.Delta_iiL
            dZ = (4 * np.pi / 3) ** 0.5 * D[:, :, 2] + z_a[a] * (4 * np.pi) ** 0.5 * D[:, :, 0]
            dO = (4 * np.pi) ** 0.5 * D[:, :, 0]
            Zk += P_Mi.conj() @ dZ @ P_Mi.T
            Sk += P_Mi.conj() @ dO @ P_Mi.T
        grid.comm.sum(Zk)
        grid.comm.sum(Sk)
        if grid.comm.rank == 0:
            Z[wfs.k] = Zk * Bohr
            S[wfs.k] = Sk
    ibzwfs.kpt_comm.sum(Z)
    ibzwfs.kpt_comm.sum(S)
    return Z, S, {"seconds": time.time() - t0, "grid_spacing_A": float(grid.dv ** (1 / 3) * Bohr)}


def moment_checks(atoms, calc, moments, S_kMM, eps, zband, efermi: float, width: float) -> dict:
    """Checks of the z matrices, stored with the result: the largest difference between the grid
    overlap (with its PAW correction) and GPAW's own two-centre overlap, and the out-of-plane dipole
    of the cell (e*Angstrom) from the z matrices (valence charges of the ions at their nuclei
    minus the Fermi-Dirac occupied Bloch states) beside GPAW's dipole of its density."""
    Z, S, info = moments
    S_full = np.array([np.tril(s) + np.tril(s, -1).conj().T for s in S_kMM])
    nspins = len(eps)
    electronic = 0.0
    for e_k, z_k in zip(eps, zband):
        for e, zb in zip(e_k, z_k):
            f = (2.0 / nspins) / (1 + np.exp(np.clip((np.asarray(e) - efermi) / width, -60, 60)))
            electronic += float(np.real(np.diag(zb)) @ f) / len(e_k)
    ionic = float(sum(s.Nv * p[2] for s, p in zip(calc.setups, atoms.positions)))
    return {"overlap_error_max": float(np.abs(S - S_full).max()),
            "dipole_z_from_moments_eA": ionic - electronic,
            "dipole_z_gpaw_eA": float(calc.get_dipole_moment()[2]),
            "grid_spacing_A": info["grid_spacing_A"], "seconds": info["seconds"]}


def lcao_projections(atoms, job: dict, wd: Path) -> dict:
    """LCAO SCF on the full k grid; store eigenvalues and projections <psi_nk|phi_m> onto every
    first-zeta ('sz') basis function in lcao.npz, and LCAO bands along a path."""
    from scipy.linalg import eigh
    from gpaw.lcao.tools import get_lcao_hamiltonian
    if job.get("magmoms") is not None:
        atoms.set_initial_magnetic_moments(job["magmoms"])
    calc = lcao_calc(job, wd / "gpaw-lcao.txt", **optional_parameters(job),
                     spinpol=bool(job.get("spinpol", False)))
    atoms.calc = calc
    energy = atoms.get_potential_energy()
    efermi = float(calc.get_fermi_level())
    H_skMM, S_kMM = get_lcao_hamiltonian(calc)
    kpts = calc.get_ibz_k_points()
    basis, sz, M = [], [], 0
    for a, setup in enumerate(calc.setups):
        bfs = [(int(bf.l), str(bf.type)) for bf in setup.basis.bf_j]
        basis.append(bfs)
        for l, kind in bfs:
            if "sz" in kind:
                sz += list(range(M, M + 2 * l + 1))
            M += 2 * l + 1
    # special points of the rectangular cell, named explicitly: ASE would classify the 1T cell
    # (b = sqrt(3) a) as hexagonal and rename them
    special = {"G": [0, 0, 0], "X": [0.5, 0, 0], "S": [0.5, 0.5, 0], "Y": [0, 0.5, 0]}
    path = atoms.cell.bandpath(job["path"], npoints=job["npath"], special_points=special, pbc=atoms.pbc)
    nspins = calc.get_number_of_spins()
    magmoms = calc.get_magnetic_moments().tolist() if nspins == 2 else None
    bandcalc = calc.fixed_density(kpts=path.kpts, symmetry="off", txt=str(wd / "gpaw-bands.txt"))
    e_path = np.array([[bandcalc.get_eigenvalues(kpt=i, spin=s) for i in range(len(path.kpts))]
                       for s in range(nspins)])
    moments = z_matrices(calc) if job.get("moments") else None
    extra = {}
    if world.rank == 0:
        eps, proj, zband = [], [], []
        for H_kMM in H_skMM:
            eps.append([]), proj.append([]), zband.append([])
            for k, (H, S) in enumerate(zip(H_kMM, S_kMM)):
                H = np.tril(H) + np.tril(H, -1).conj().T   # GPAW fills the lower triangle
                S = np.tril(S) + np.tril(S, -1).conj().T
                e, C = eigh(H, S)
                eps[-1].append(e)
                proj[-1].append((C.conj().T @ S)[:, sz])
                if moments is not None:
                    zband[-1].append(C.conj().T @ moments[0][k] @ C)
        if moments is not None:
            extra = moment_checks(atoms, calc, moments, S_kMM, eps, zband, efermi, job["smearing"])
        # spin-restricted runs keep the arrays of one spin (the layout of earlier cache entries)
        arrays = (dict(eps_kn=np.array(eps[0]), A_knm=np.array(proj[0]).astype(np.complex64), e_path=e_path[0])
                  if nspins == 1 else
                  dict(eps_skn=np.array(eps), A_sknm=np.array(proj).astype(np.complex64), e_path_s=e_path))
        if moments is not None:
            z = np.array(zband).astype(np.complex64)
            arrays.update(dict(Z_knn=z[0]) if nspins == 1 else dict(Z_sknn=z))
        np.savez_compressed(wd / "lcao.npz", kpts=kpts, path_kpts=path.kpts, sz_index=np.array(sz), **arrays)
    return {"energy_eV": float(energy), "free_energy_eV": float(calc.get_potential_energy(force_consistent=True)),
            "fermi_level_eV": efermi, "basis": basis, "nspins": nspins,
            "magnetic_moments_muB": magmoms,
            "magnetic_moment_muB": float(calc.get_magnetic_moment()) if nspins == 2 else 0.0,
            "n_electrons": float(calc.get_number_of_electrons()), "path": job["path"],
            "path_labels": path.get_linear_kpoint_axis()[2],
            "path_x": path.get_linear_kpoint_axis()[0].tolist(),
            "path_special_x": path.get_linear_kpoint_axis()[1].tolist(),
            "kpts": job["kpts"], "ranks": world.size, "npz": "lcao.npz",
            **({"moments": extra} if job.get("moments") else {})}
