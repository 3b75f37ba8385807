"""The Wannier90 stage: an SCF, then Wannier90 through GPAW's interface, and our projected Wannier functions on the same Bloch states."""

import time
from pathlib import Path
import numpy as np
from ase.units import Bohr
from gpaw import GPAW
from gpaw.mpi import world

from .common import lcao_calc, say


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
    rank): from scf.gpw, Wannier90's .win (helpers.models.wannier90.files.win_text), `wannier90.x -pp`,
    the .amn (PAW projector overlaps of W 5d and Te 5p, in Wannier90's orbital order), .eig and .mmn
    written by gpaw.wannier.wannier90, then wannier90.x twice: projection-only (num_iter = 0) and
    maximally localized (job['num_iter']). Also our projected Wannier functions (helpers.models.wannier's
    recipe, first-zeta LCAO orbitals) for the same Bloch states, with their Marzari-Vanderbilt
    centres from the same .mmn. Keeps hr.dat/wsvec.dat (gzipped) and .wout of both runs; deletes
    the large files."""
    import gzip
    import shutil
    import subprocess
    from gpaw.wannier.wannier90 import Wannier90
    from helpers.models import wannier as W
    from helpers.models.wannier90 import files as w90

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
