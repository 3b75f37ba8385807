"""Run one GPAW job described by `<workdir>/job.json`; started by helpers.dft under MPI.

    mpiexec -n 2 gpaw python -m helpers.gpaw_job WORKDIR [STAGE]

Tasks: `scf` (energy and forces of the input structure), `relax` (BFGS on the atomic
positions, and on the in-plane cell when `relax_cell`), `lcao` (LCAO projections for
helpers.wannier), `sliding_path` (energies of a slab along a rigid interlayer slide, resumable
point by point) and `wannier90` (in two stages: `scf` under MPI, then `w90` on one rank:
Wannier90's files through GPAW's interface and two wannier90.x runs). A relaxation appends every step to
`relax.traj` and keeps the BFGS Hessian in `bfgs.json`, so an interrupted job restarts from
its last step. Prints one line per step for the parent process to show.
"""
import json
import sys
import time
from pathlib import Path

import numpy as np
from ase.filters import FrechetCellFilter
from ase.units import Bohr
from ase.io import read
from ase.io.trajectory import Trajectory
from ase.optimize import BFGS
from gpaw import GPAW, PW, KohnShamConvergenceError
from gpaw.mpi import world


def say(msg: str) -> None:
    if world.rank == 0:
        print(msg, flush=True)


def optional_parameters(job: dict) -> dict:
    """GPAW keywords for the optional parts of a job: DFT+U (Dudarev, `hubbard_U` = {symbol: U_eff
    in eV} on the d shell; unscaled projectors where `hubbard_scale` is False), a jellium slab (`jellium` = {charge, z1, z2}: a positive background of
    `charge` e between heights z1 and z2 in Angstrom, so that the extra electrons of a charged
    layer are compensated inside the layer and not in the vacuum) and the dipole layer."""
    out = {}
    if job.get("hubbard_U"):
        unscaled = "" if job.get("hubbard_scale", True) else ",0"
        out["setups"] = {sym: f":d,{U}{unscaled}" for sym, U in job["hubbard_U"].items()}
    if job.get("jellium"):
        from gpaw.jellium import JelliumSlab
        out["background_charge"] = JelliumSlab(**job["jellium"])
    if job.get("dipole_correction"):
        out["poissonsolver"] = {"dipolelayer": "xy"}
    return out


def grid_parameters(job: dict) -> dict:
    """GPAW's `h` (real-space grid spacing, Angstrom) of an LCAO job that sets one; GPAW's default otherwise."""
    return {"h": job["h"]} if "h" in job else {}


def make_calc(job: dict, txt: Path) -> GPAW:
    """GPAW plane-wave PBE calculator from the settings in `job`."""
    return GPAW(
        mode=PW(job["ecut"]),
        xc=job.get("xc", "PBE"),
        kpts={"size": job["kpts"], "gamma": True},
        occupations={"name": "fermi-dirac", "width": job["smearing"]},
        charge=job.get("charge", 0),
        spinpol=job.get("spinpol", False),
        convergence={"energy": 1e-5, "density": 1e-5},
        txt=str(txt),
        **optional_parameters(job),
    )


def lcao_calc(job: dict, txt: Path, **extra) -> GPAW:
    """GPAW LCAO calculator from the settings in `job`: full k grid without symmetry reduction (the
    Wannier constructions need every k), Fermi-Dirac smearing; `extra` keywords are passed on."""
    return GPAW(mode="lcao", basis=job["basis"], xc=job.get("xc", "PBE"),
                kpts={"size": job["kpts"], "gamma": True},
                symmetry={"point_group": False, "time_reversal": False},
                occupations={"name": "fermi-dirac", "width": job["smearing"]},
                charge=job.get("charge", 0), convergence={"energy": 1e-5, "density": 1e-5},
                txt=str(txt), **grid_parameters(job), **extra)


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


def wannier90_scf(atoms, job: dict, wd: Path) -> None:
    """Stage 1 of the `wannier90` task (any number of ranks): LCAO SCF of the layer with
    `nbands` bands on the full k grid (no symmetry reduction, so every k of Wannier90's grid is a
    computed one), saved with its wave functions in scf.gpw. An existing scf.gpw is kept."""
    if (wd / "scf.gpw").exists():
        say("resuming: scf.gpw is there")
        return
    calc = lcao_calc(job, wd / "gpaw-scf.txt", nbands=job["nbands"])
    atoms.calc = calc
    t0 = time.time()
    energy = atoms.get_potential_energy()
    calc.write(str(wd / "scf-partial.gpw"), mode="all")
    world.barrier()
    if world.rank == 0:
        (wd / "scf-partial.gpw").rename(wd / "scf.gpw")
    say(f"done: SCF E = {energy:.5f} eV, {time.time() - t0:.0f} s")


def wannier90_run(job: dict, wd: Path) -> dict:
    """Stage 2 of the `wannier90` task (one rank; GPAW's interface needs every k point on one
    rank): from scf.gpw, Wannier90's .win (helpers.orbitals.wannier90.win_text), `wannier90.x -pp`,
    the .amn (PAW projector overlaps of W 5d and Te 5p, in Wannier90's orbital order), .eig and .mmn
    written by gpaw.wannier.wannier90, then wannier90.x twice: projection-only (num_iter = 0) and
    maximally localized (job['num_iter']). Also our projected Wannier functions (helpers.wannier's
    recipe, first-zeta LCAO orbitals) for the same Bloch states, with their Marzari-Vanderbilt
    centres from the same .mmn. Keeps hr.dat/wsvec.dat (gzipped) and .wout of both runs; deletes
    the large files."""
    import gzip
    import shutil
    import subprocess
    from gpaw.wannier.wannier90 import Wannier90
    from helpers import wannier as W
    from helpers.orbitals import wannier90 as w90

    class LCAOWannier90(Wannier90):
        """GPAW's writer with LCAO wave functions: its `wavefunctions` asks the old API for a
        real-space array, which LCAO does not give; this one builds u_nk on the grid, in atomic
        units (the new API gives Angstrom^-3/2, the overlaps integrate with a volume in Bohr^3)."""
        def wavefunctions(self, bz_index, bands):
            ibz = self.calc.wfs.kd.bz2ibz_k[bz_index]
            u = self.calc.dft.wave_functions(0, bands[-1] + 1, kpt=ibz, spin=self.spin,
                                             periodic=True, _pad=False).data * Bohr**1.5
            return np.array([self.ibz2bz[bz_index].map_pseudo_wave_to_BZ(x) for x in u])

    t0 = time.time()
    calc = GPAW(str(wd / "scf.gpw"), txt=None)
    atoms = calc.get_atoms()
    symbols = atoms.get_chemical_symbols()
    wanted = {k: int(v) for k, v in job["projections"].items()}
    cell = np.array(atoms.cell)
    spos = np.array(calc.spos_ac)
    kpts = np.array(calc.get_bz_k_points())
    ef = float(calc.get_fermi_level())
    exclude, nb = int(job["exclude_bands"]), int(job["num_bands"])
    bands = list(range(exclude, exclude + nb))
    setups = calc.wfs.setups
    projector_l = {s: list(zip(st.l_j, st.n_j)) for s, st in zip(symbols, setups)}
    orbitals_ai = w90.gpaw_projector_columns(symbols, wanted, projector_l)
    scratch = wd / "scratch"
    scratch.mkdir(exist_ok=True)
    seed = "w90"
    eps = np.array([calc.get_eigenvalues(kpt=k)[bands] for k in range(len(kpts))])

    def write_win(num_iter: int) -> None:
        (scratch / f"{seed}.win").write_text(w90.win_text(
            cell, symbols, spos, kpts, job["kpts"], wanted, nb, exclude, ef + job["froz_max_eV"],
            num_iter, job["dis_num_iter"]))

    def w90x(*args) -> None:
        p = subprocess.run(["wannier90.x", *args, seed], cwd=scratch, capture_output=True, text=True)
        werr = list(scratch.glob("*.werr"))
        if p.returncode != 0 or werr:
            msg = "".join(f.read_text() for f in werr)
            raise RuntimeError(f"wannier90.x {' '.join(args)} failed: {p.stdout[-2000:]} {p.stderr[-2000:]} {msg}")

    write_win(0)
    w90x("-pp")
    wan = LCAOWannier90(calc, seed=str(scratch / seed), bands=bands, orbitals_ai=orbitals_ai)
    wan.write_projections()
    wan.write_eigenvalues()
    wan.write_overlaps()
    from gpaw.ibz2bz import get_overlap, get_overlap_coefficients
    from gpaw.wannier.wannier90 import get_projections_in_bz
    proj0 = get_projections_in_bz(calc.wfs, 0, 0, wan.ibz2bz)
    u0 = wan.wavefunctions(0, bands)
    S0 = get_overlap(bands, calc.wfs.gd, u0, u0, proj0, proj0, get_overlap_coefficients(calc.wfs))
    norm_err = float(np.abs(S0 - np.eye(nb)).max())         # <psi_n|psi_m> at k = 0: identity
    if norm_err > 1e-2:
        raise RuntimeError(f"Bloch states on the grid are not orthonormal (error {norm_err:.2e})")
    t_files = time.time() - t0
    say(f"step   files written ({t_files:.0f} s)")
    M, kb, G = w90.read_mmn(scratch / f"{seed}.mmn")
    recip = 2 * np.pi * np.linalg.inv(cell).T

    out = {"fermi_level_eV": ef, "symbols": symbols, "cell": cell.tolist(),
           "positions_A": (spos @ cell).tolist(), "kpts_frac": kpts.tolist(),
           "bands_used": [bands[0], bands[-1]], "t_files_s": round(t_files, 1),
           "grid_orthonormality_error": norm_err,
           "eps_min_eV": float(eps.min() - ef), "eps_max_eV": float(eps.max() - ef),
           "bands_below_froz_max_max": int((eps <= ef + job["froz_max_eV"]).sum(axis=1).max())}
    for tag, num_iter in (("proj", 0), ("mlwf", int(job["num_iter"]))):
        t1 = time.time()
        write_win(num_iter)
        w90x()
        for name in (f"{seed}_hr.dat", f"{seed}_wsvec.dat"):
            with open(scratch / name, "rb") as src, gzip.open(wd / f"{tag}{name[len(seed):]}.gz", "wb") as dst:
                shutil.copyfileobj(src, dst)
        with open(scratch / f"{seed}.wout", "rb") as src, gzip.open(wd / f"{tag}.wout.gz", "wb") as dst:
            shutil.copyfileobj(src, dst)
        shutil.copy(scratch / f"{seed}.win", wd / f"{tag}.win")
        wout = w90.read_wout(scratch / f"{seed}.wout")
        U = w90.read_umat(scratch / f"{seed}_u.mat")
        if (scratch / f"{seed}_u_dis.mat").exists():
            U = np.einsum("kbw,kwv->kbv", w90.read_umat(scratch / f"{seed}_u_dis.mat"), U)
        mv = w90.mv_centres(M, kb, G, kpts, recip, U, guide=wout["centres_A"])
        d = mv - wout["centres_A"]
        d -= np.round(d @ np.linalg.inv(cell)) @ cell
        out[tag] = {"centres_A": wout["centres_A"].tolist(), "spreads_A2": wout["spreads_A2"].tolist(),
                    **{k: v for k, v in wout.items() if k.startswith("Omega")},
                    "mv_centres_check_max_A": float(np.abs(d).max()), "num_iter": num_iter,
                    "wall_s": round(time.time() - t1, 1),
                    "hr": f"{tag}_hr.dat.gz", "wsvec": f"{tag}_wsvec.dat.gz", "wout": f"{tag}.wout.gz"}
        say(f"step   wannier90.x {tag}: Omega = {wout.get('Omega_Total', float('nan')):.4f} A^2, "
            f"{time.time() - t1:.0f} s")

    # our projected Wannier functions for the same Bloch states (first-zeta LCAO orbitals)
    basis = [[(int(bf.l), str(bf.type)) for bf in st.basis.bf_j] for st in setups]
    idx, labels, atom_of, l_of = W.select_orbitals(basis, symbols, wanted)
    Hk, U_ours, sel, ortho_err = [], [], [], 0.0
    for k in range(len(kpts)):
        kp = calc.wfs.kpt_u[k]
        # the compatibility layer's C_nM and S_MM satisfy C S C^H = 1, and the grid wave functions
        # (the .mmn's) have <psi_n|phi_m> = conj(C S)_nm (checked against grid overlaps)
        C = np.asarray(kp.C_nM)[bands]
        S = np.asarray(kp.S_MM)
        A = (C @ S).conj()[:, idx]                                     # <psi_n|phi_m>
        ortho_err = max(ortho_err, float(np.abs(C @ S @ C.conj().T - np.eye(nb)).max()))
        chosen = W.select_bands(A, np.arange(nb), len(idx))
        Uk = np.zeros((nb, len(idx)), complex)
        Uk[chosen] = W.loewdin(A[chosen])
        U_ours.append(Uk)
        Hk.append(Uk.conj().T @ np.diag(eps[k] - ef) @ Uk)
        sel.append(len(chosen))
    if ortho_err > 1e-6:
        raise RuntimeError(f"LCAO coefficients are not orthonormal (C S C^H - 1 up to {ortho_err:.1e})")
    R = W.lattice_vectors(job["kpts"])
    H_R = W.fourier_to_real_space(np.array(Hk), kpts, R)
    np.savez_compressed(wd / "ours.npz", R=R, H_R=H_R)
    guide = (spos @ cell)[atom_of]
    guide[:, 2] -= cell[2, 2] * np.round(guide[:, 2] / cell[2, 2])           # the layer is at z = 0
    out["ours"] = {"centres_A": w90.mv_centres(M, kb, G, kpts, recip, np.array(U_ours), guide).tolist(),
                   "labels": labels, "atom_of": atom_of, "l_of": l_of, "npz": "ours.npz",
                   "bloch_orthonormality_error": ortho_err, "max_bands_used": int(max(sel))}
    shutil.rmtree(scratch)
    (wd / "scf.gpw").unlink()
    out["wall_stage2_s"] = round(time.time() - t0, 1)
    return out


def set_hubbard_U(calc, atoms_: list, U_eV: float) -> None:
    """Set GPAW's Dudarev U_eff (eV) on the d shells of atoms `atoms_` of a live calculation, for the
    next SCF. The potential calculator holds its own setups (GPAW 26.x: calc.dft.setups are other
    objects), and the U term is evaluated there, so both are set; the energy after the next SCF equals
    that of a fresh calculation at U_eV (tests/test_occupation_control.py)."""
    from ase.units import Ha
    for a in atoms_:
        for setups in (calc.dft.setups, calc.dft.pot_calc.setups):
            if setups[a].hubbard_u is None:
                raise ValueError(f"atom {a} has no DFT+U term to change (start the calculation with U on it)")
            setups[a].hubbard_u.U = [U_eV / Ha]


def dftu_branch(atoms, job: dict, wd: Path) -> dict:
    """DFT+U (Dudarev U_eff on the metal d shells, LCAO) with occupation control
    (helpers.occupation_control): converge at U_grid[0] with the bias toward the job's targets,
    release the bias through `release` (eV, ending at 0), then anneal U through the rest of U_grid
    unbiased, each step continuing from the current density and wave functions. After every step
    the record (energy, bias energy, per-metal d occupation matrices per spin, moments, dipole) is
    appended to steps.json and the state (density and wave functions) written to step.gpw; a rerun
    of a killed job resumes after the last recorded step from that state (resume_point), with the
    GPAW log cut back to the end of that step."""
    from helpers.occupation_control import OccupationBias, check_targets
    symbols = atoms.get_chemical_symbols()
    spinpol = bool(job.get("spinpol", False))
    targets = {int(a): t for a, t in (job.get("targets") or {}).items()}
    if spinpol:
        atoms.set_initial_magnetic_moments(job["magmoms"])
    checked = check_targets(targets, symbols, spinpol, job.get("magmoms")) if targets else {}
    scale = bool(job.get("hubbard_scale", True))
    bias = OccupationBias(checked, job["release"][0], scale) if checked else None
    metal = job["metal"]
    U_grid = job["U_grid"]
    schedule = [(U_grid[0], lam) for lam in (job["release"] if bias else [0.0])]
    schedule += [(U, 0.0) for U in U_grid[1:]]
    steps = resume_point(wd, schedule)
    if steps:
        return _dftu_steps(*_resumed_calc(wd, len(steps), bias), job, wd, schedule, steps)
    calc = GPAW(mode="lcao", basis=job["basis"], xc=job.get("xc", "PBE"),
                kpts={"size": job["kpts"], "gamma": True},
                occupations={"name": "fermi-dirac", "width": job["smearing"]},
                spinpol=spinpol, setups={metal: f":d,{U_grid[0]}" + ("" if scale else ",0")},
                convergence={"energy": 1e-5, "density": 1e-5, "minimum iterations": 3},
                mixer=gpaw_mixer(job["mixer"]), maxiter=job["maxiter"][0],
                poissonsolver={"dipolelayer": "xy"} if job.get("dipole_correction") else None,
                extensions=[bias] if bias else [], txt=str(wd / "gpaw.txt"), **grid_parameters(job))
    atoms.calc = calc
    return _dftu_steps(atoms, calc, bias, job, wd, schedule, [])


def gpaw_mixer(mixer: dict) -> dict:
    """The part of a job's mixer dict (helpers.dft.check_mixer) that is GPAW's parameter."""
    return {k: v for k, v in mixer.items() if k != "fresh_each_step"}


def restart_mixer(mixer) -> None:
    """Put a GPAW 26 density mixer (gpaw.mixer; a MultiMixer's parts too) in the state a new calculation
    starts it in. GPAW's own reset at the start of every SCF empties the density histories only; MSR1
    also adapts its step lengths (A, B) and a trust radius, which shrink as an SCF converges, and would
    carry them into the next step of a branch, where the density then hardly moves."""
    from gpaw.mixer.msr1 import MSR1Mixer
    mixer.reset()
    for m in [mixer, getattr(mixer, "mixer_a", None), *getattr(mixer, "mixers_b", [])]:
        if isinstance(m, MSR1Mixer):
            m.A, m.B, m.trust_radius, m.last_dNt = 0.0, 1.0, None, np.inf


def restart_step(dft) -> None:
    """Start the next SCF of a DFT+U branch (GPAW 26's DFT object `dft`, U_eff and bias already changed) as a
    new calculation from the current density would: the potential recomputed from that density with the
    new U_eff and bias, and the mixer restarted (restart_mixer). Without it the first iteration
    diagonalizes the old Hamiltonian, its density residual is tiny, and MSR1, which rejects a step whose
    residual grows past a multiple of the last, then holds the density fixed for tens of iterations."""
    dft.potential, dft.energies, _ = dft.pot_calc.calculate(dft.density, dft.ibzwfs, dft.potential.vHt_x)
    restart_mixer(dft.scf_loop.mixer)


def resume_point(wd: Path, schedule: list) -> list:
    """The steps already recorded in `wd` (steps.json) when their state is there to continue from
    (step.gpw written after the last of them, step.json naming how many) and they are the first steps
    of `schedule` [(U_eV, lambda_eV), ...]; [] otherwise (start from the beginning)."""
    try:
        steps = json.loads((wd / "steps.json").read_text())
        mark = json.loads((wd / "step.json").read_text())
    except (OSError, ValueError):
        return []
    n = len(steps)
    if not (0 < n < len(schedule)) or mark.get("steps") != n or not (wd / "step.gpw").is_file():
        return []
    if [(s["U_eV"], s["lambda_eV"]) for s in steps] != [tuple(x) for x in schedule[:n]]:
        return []
    return steps


def _cut_log(log: Path, n_steps: int) -> None:
    """Cut a GPAW log back to the end of its first n_steps SCF tables (the tables of the steps kept;
    what follows belongs to a step that did not finish)."""
    if world.rank != 0 or not log.is_file():
        return
    lines = log.read_text().splitlines(keepends=True)
    starts = [i for i, l in enumerate(lines) if l.startswith("|iter:") and int(l.split("|")[1].split(":")[1]) == 1]
    if len(starts) > n_steps:
        log.write_text("".join(lines[:starts[n_steps]]))


def _resumed_calc(wd: Path, n_steps: int, bias):
    """The calculation of a branch read back from step.gpw (written after step n_steps), its bias
    extension rebuilt with this job's targets, logging on after the kept steps' SCF tables."""
    from helpers.occupation_control import OccupationBias
    _cut_log(wd / "gpaw.txt", n_steps)
    world.barrier()

    def extensions(dicts):
        return [bias for d in dicts if d.get("name") == OccupationBias.name] if bias is not None else []

    txt = open(wd / "gpaw.txt", "a") if world.rank == 0 else None
    calc = GPAW(str(wd / "step.gpw"), txt=txt, object_hooks={"extensions": extensions})
    say(f"resuming after step {n_steps} from step.gpw")
    atoms = calc.atoms.copy()
    atoms.calc = calc
    return atoms, calc, bias


def _dftu_steps(atoms, calc, bias, job: dict, wd: Path, schedule: list, steps: list) -> dict:
    """The steps of a dftu_branch from len(steps) on (the earlier ones recorded in `steps`)."""
    from ase.units import Ha
    from helpers.occupation_control import site_occupations
    symbols = atoms.get_chemical_symbols()
    spinpol = bool(job.get("spinpol", False))
    metals = [i for i, s in enumerate(symbols) if s == job["metal"]]
    for n, (U, lam) in enumerate(schedule):
        if n < len(steps):
            continue
        t1 = time.time()
        if bias is not None:
            bias.set_strength(lam)
        last = n == len(schedule) - 1
        if n:
            set_hubbard_U(calc, metals, U)
            calc.dft.results.clear()
            calc.dft.scf_loop.maxiter = step_maxiter(job["maxiter"], U == job["U_grid"][0], last)
            if job["mixer"].get("fresh_each_step"):
                restart_step(calc.dft)
        try:
            atoms.get_potential_energy()
            converged = True
        except KohnShamConvergenceError:
            # an intermediate step may stop short (its density still starts the next one); the last
            # step's state counts only if it converged
            converged = False
            calc.dft.calculate_energy()
        energy = float(calc.dft.results["energy"] * Ha)
        D_asii = calc.dft.density.D_asii.gather(broadcast=True)
        occ = {str(a): [n_s.tolist() for n_s in site_occupations(D_asii[a], calc.dft.setups[a],
                                                                  scale=job.get("hubbard_scale", True))]
               for a in metals}
        e_bias = bias.energy(D_asii, calc.dft.setups) if bias is not None else 0.0
        calc.dft.calculate_dipole()
        rec = {"U_eV": U, "lambda_eV": lam, "energy_eV": energy, "converged": converged,
               "free_energy_eV": float(calc.dft.results["free_energy"] * Ha),
               "bias_energy_eV": e_bias, "occupations": occ,
               "dipole_eA": [float(x) for x in calc.get_dipole_moment()],
               "fermi_level_eV": float(calc.get_fermi_level()),
               "iterations": int(calc.dft.scf_loop.niter),
               "seconds": round(time.time() - t1, 1)}
        if spinpol:
            mm_v, mm_av = calc.dft.density.calculate_magnetic_moments()
            rec["magnetic_moments_muB"] = [float(m) for m in mm_av[:, 2]]
            rec["magnetic_moment_muB"] = float(mm_v[2])
        steps.append(rec)
        if not last:
            # the state to resume from: written whole, then steps.json and step.json name it
            calc.write(str(wd / "step-new.gpw"), mode="all")
            world.barrier()
        if world.rank == 0:
            if not last:
                (wd / "step-new.gpw").replace(wd / "step.gpw")
            (wd / "steps.json").write_text(json.dumps(steps))
            (wd / "step.json").write_text(json.dumps({"steps": len(steps)}))
        world.barrier()
        say(f"step {n + 1}/{len(schedule)}  U = {U:g} eV  lambda = {lam:g} eV  E = {energy:.5f} eV"
            f"  ({rec['seconds']:.0f} s)")
    # the final state, kept beside the cache (not in the entry, not committed) for checks that continue
    # from it: spin-polarized restarts, denser k grids (final_state_path)
    final = final_state_path(wd)
    final.parent.mkdir(parents=True, exist_ok=True)
    calc.write(str(final), mode="all")
    world.barrier()
    if world.rank == 0:
        (wd / "step.gpw").unlink(missing_ok=True)
    return {"steps": steps, "converged": steps[-1]["converged"], "metal_indices": metals, "kpts": job["kpts"], "ranks": world.size,
            "n_electrons": float(calc.get_number_of_electrons()), "wall_s": round(sum(s["seconds"] for s in steps), 1)}


def step_maxiter(maxiter: list, releasing: bool, last: bool) -> int:
    """The SCF iteration cap of one step of a DFT+U branch: maxiter = [steps at the first U_eff (the
    bias release), the last step] or [release steps, annealing steps at lower U_eff, the last step]."""
    if last:
        return maxiter[-1]
    return maxiter[0] if releasing or len(maxiter) == 2 else maxiter[1]


def final_state_path(wd: Path) -> Path:
    """Where a DFT+U branch computed in the work directory `wd` (<cache>/.work/<entry>) leaves its final
    state (density and wave functions): <cache>/.states/<entry>.gpw, a file of this machine only."""
    return wd.parent.parent / ".states" / f"{wd.name}.gpw"


def sliding_path(atoms, job: dict, wd: Path) -> dict:
    """Plane-wave PBE energies of a layered slab along a rigid sliding path: for each in-plane shift
    (Angstrom, job['shifts']) the atoms of job['moving'] are displaced from their input positions and
    the SCF is converged from the previous point's density and wave functions (tight criteria, no
    point-group symmetry, so every point is sampled on the same k points); then job['whole_shift']
    (if given) moves every atom of the unshifted slab together, a displacement that changes no physics
    and so measures the egg-box error of the real-space grid. After every point the record (energy
    extrapolated to zero width and free energy, eV; dipole, e*Angstrom; iterations) is appended to
    steps.json; a rerun skips the points already recorded there."""
    base = atoms.positions.copy()
    moving = [int(i) for i in job["moving"]]
    points = [("path", np.array(v, float)) for v in job["shifts"]]
    if job.get("whole_shift") is not None:
        points.append(("whole", np.array(job["whole_shift"], float)))
    done = []
    if (wd / "steps.json").exists():
        done = json.loads((wd / "steps.json").read_text())
        say(f"resuming after {len(done)} recorded point(s)")
    calc = GPAW(mode=PW(job["ecut"]), xc=job.get("xc", "PBE"), kpts={"size": job["kpts"], "gamma": True},
                symmetry={"point_group": False},
                occupations={"name": "fermi-dirac", "width": job["smearing"]},
                convergence=job["convergence"], txt=str(wd / "gpaw.txt"), **optional_parameters(job))
    atoms.calc = calc
    steps = list(done)
    t0 = time.time()
    for n, (kind, v) in enumerate(points):
        if n < len(done):
            continue
        t1 = time.time()
        pos = base.copy()
        if kind == "path":
            pos[moving] += v
        else:
            pos += v
        atoms.positions = pos
        energy = float(atoms.get_potential_energy())
        rec = {"kind": kind, "shift_A": [float(x) for x in v], "energy_eV": energy,
               "free_energy_eV": float(atoms.get_potential_energy(force_consistent=True)),
               "dipole_eA": [float(x) for x in calc.get_dipole_moment()],
               "iterations": int(calc.dft.scf_loop.niter), "seconds": round(time.time() - t1, 1)}
        steps.append(rec)
        if world.rank == 0:
            (wd / "steps.json").write_text(json.dumps(steps))
        say(f"point {n + 1}/{len(points)} ({kind}, shift {np.round(v, 4).tolist()} A): E = {energy:.6f} eV"
            f"  ({rec['seconds']:.0f} s)")
    return {"steps": steps, "kpts": job["kpts"], "ranks": world.size, "wall_s": round(time.time() - t0, 1)}


def main(workdir: str, stage: str | None = None) -> None:
    wd = Path(workdir)
    job = json.loads((wd / "job.json").read_text())
    atoms = read(wd / "input.traj")
    if job["task"] == "wannier90":
        if stage == "scf":
            wannier90_scf(atoms, job, wd)
        elif stage == "w90":
            if world.size != 1:
                raise RuntimeError("the w90 stage runs on one rank (GPAW's Wannier90 writer needs all k points)")
            out = wannier90_run(job, wd)
            (wd / "job_result.json").write_text(json.dumps(out))
            say(f"done: Wannier90 stage, {out['wall_stage2_s']:.0f} s")
        else:
            raise ValueError(f"stage={stage!r}: the wannier90 task has stages 'scf' and 'w90'")
        return
    if job["task"] == "dftu_branch":
        out = dftu_branch(atoms, job, wd)
        if world.rank == 0:
            (wd / "job_result.json").write_text(json.dumps(out))
        say(f"done: DFT+U branch, {out['wall_s']:.0f} s")
        return
    if job["task"] == "sliding_path":
        out = sliding_path(atoms, job, wd)
        if world.rank == 0:
            (wd / "job_result.json").write_text(json.dumps(out))
        say(f"done: sliding path, {out['wall_s']:.0f} s")
        return
    if job["task"] == "lcao":
        t0 = time.time()
        out = lcao_projections(atoms, job, wd)
        if world.rank == 0:
            (wd / "job_result.json").write_text(json.dumps(out))
        say(f"done: LCAO E = {out['energy_eV']:.5f} eV, {time.time() - t0:.0f} s")
        return
    traj_path = wd / "relax.traj"
    done = 0
    if job["task"] == "relax" and traj_path.exists() and traj_path.stat().st_size > 0:
        frames = read(traj_path, ":")
        if frames:
            atoms.set_cell(frames[-1].cell)
            atoms.positions = frames[-1].positions
            done = len(frames) - 1
            say(f"resuming from step {done} of {traj_path.name}")
    if job.get("magmoms") is not None:
        atoms.set_initial_magnetic_moments(job["magmoms"])
    atoms.calc = make_calc(job, wd / f"gpaw-{done:03d}.txt")
    t0 = time.time()
    converged = True
    if job["task"] == "relax":
        target = FrechetCellFilter(atoms, mask=[1, 1, 0, 0, 0, 1]) if job["relax_cell"] else atoms
        opt = BFGS(target, restart=str(wd / "bfgs.json"), logfile=str(wd / "bfgs.log"),
                   maxstep=0.1)
        traj = Trajectory(str(traj_path), "a", atoms)
        step = [done]
        restart_point = [done > 0]   # after a restart, the first evaluation is the stored last frame

        def report():
            f = target.get_forces()
            fmax = float(np.sqrt((f**2).sum(axis=1)).max())
            dt = time.time() - t0
            n = step[0] - done + 1
            say(f"step {step[0]:3d}/{job['max_steps']}  E = {atoms.get_potential_energy():.5f} eV"
                f"  fmax = {fmax:.4f} eV/A (target {job['fmax']})  {dt:.0f} s, {dt / n:.0f} s/step"
                + ("  (restart point)" if restart_point[0] else ""))
            if restart_point[0]:
                restart_point[0] = False
                step[0] += 1
                return
            traj.write(atoms)
            step[0] += 1

        opt.attach(report)
        remaining = max(job["max_steps"] - done, 0)
        converged = bool(opt.run(fmax=job["fmax"], steps=remaining))
        traj.close()
    energy = float(atoms.get_potential_energy())
    forces = atoms.get_forces()
    out = {
        "energy_eV": energy,
        "free_energy_eV": float(atoms.get_potential_energy(force_consistent=True)),
        "forces_eV_per_A": forces.tolist(),
        "fmax_eV_per_A": float(np.sqrt((forces**2).sum(axis=1)).max()),
        "converged": converged,
        "steps": (len(read(traj_path, ":")) if traj_path.exists() else 0),
        "fermi_level_eV": float(atoms.calc.get_fermi_level()),
        "kpts": job["kpts"],
        "ranks": world.size,
        "final": {"symbols": atoms.get_chemical_symbols(), "positions": atoms.positions.tolist(),
                  "cell": atoms.cell.tolist(), "pbc": atoms.pbc.tolist()},
    }
    if job.get("spinpol"):
        out["magnetic_moment_muB"] = float(atoms.calc.get_magnetic_moment())
        out["magnetic_moments_muB"] = [float(m) for m in atoms.calc.get_magnetic_moments()]
    if job["task"] == "scf":
        out["dipole_eA"] = [float(v) for v in atoms.calc.get_dipole_moment()]
    if world.rank == 0:
        (wd / "job_result.json").write_text(json.dumps(out))
    say(f"done: E = {energy:.5f} eV, converged = {converged}, {time.time() - t0:.0f} s")


if __name__ == "__main__":
    main(*sys.argv[1:3])
