"""GPAW calculations as cached jobs: relaxation, single point, LCAO with projections, Wannier90, a sliding
path and DFT+U branches, each run by `gpaw python -m helpers.dft.gpaw_job` in its own MPI process and
stored under a key of all its inputs (structure, settings, k grid, GPAW version, code version).
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
import numpy as np
from ase import Atoms
from ase.io import write

from ..store import cache
from ..store import codeversions
from ..store.cache import CacheMiss, cache_only
from .occupation_control import check_U_grid, check_schedule, check_targets
from .process import atoms_from, atoms_record, die_with_parent, gpaw_version, kpts_for, ranks


def _launch(workdir: Path, label: str, n: int | None = None, stage: str | None = None) -> None:
    """Run helpers.dft.gpaw_job on `workdir` with `n` MPI ranks (default: ranks()), at `stage`, through
    $COMPENDIUM_MPIEXEC (a launcher with '{n}' for the ranks, e.g. 'srun -n {n}') or mpiexec."""
    n = ranks() if n is None else n
    gpaw = shutil.which("gpaw") or str(Path(sys.executable).with_name("gpaw"))
    cmd = [gpaw, "python", "-m", "helpers.dft.gpaw_job", str(workdir)] + ([stage] if stage else [])
    launcher = os.environ.get("COMPENDIUM_MPIEXEC")
    if n > 1 and launcher:
        cmd = [*shlex.split(launcher.format(n=n)), *cmd]
    elif n > 1 and shutil.which("mpiexec"):
        extra = ["--allow-run-as-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []
        cmd = ["mpiexec", *extra, "-n", str(n), *cmd]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    print(f"[{label}] running GPAW on {n} rank(s) in {workdir}", flush=True)
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          env=env, preexec_fn=die_with_parent) as proc:
        tail = []
        for line in proc.stdout:
            tail = (tail + [line])[-40:]
            if line.startswith(("step", "done", "resuming")):
                print(f"[{label}] {line.rstrip()}", flush=True)
        proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"[{label}] GPAW job failed (exit {proc.returncode}); its work "
                           f"directory {workdir} is kept for a restart. Last output:\n"
                           + "".join(tail))


def _job(task: str, atoms: Atoms, settings: dict, charge: float, magmoms) -> dict:
    return {
        "task": task, "atoms": atoms_record(atoms), "ecut": float(settings["ecut"]),
        "kpts": kpts_for(atoms, settings["kpt_density"]), "smearing": float(settings["smearing"]),
        "fmax": float(settings["fmax"]), "max_steps": int(settings["max_steps"]),
        "relax_cell": bool(settings["relax_cell"]), "charge": float(charge),
        "spinpol": magmoms is not None,
        "magmoms": None if magmoms is None else [float(m) for m in magmoms],
        "xc": "PBE", "gpaw": gpaw_version(), "calc_version": codeversions.version(task),   # per task: helpers.store.codeversions
    }


def _submit(job: dict, label: str, profile: str, force: bool) -> dict:
    """The cached result of `job`; on a miss, run it with GPAW in the entry's work directory."""
    def compute(workdir: Path) -> dict:
        (workdir / "job.json").write_text(json.dumps(job))
        write(workdir / "input.traj", atoms_from(job["atoms"]))
        _launch(workdir, label)
        return json.loads((workdir / "job_result.json").read_text())

    same = same_dftu_job if job["task"] == "dftu_branch" else None
    return cache.cached(f"{job['task']}-{label}", profile, job, compute, force=force, same=same)


def same_dftu_job(a: dict, b: dict, tol: float = 1e-6) -> bool:
    """Whether two DFT+U branch jobs (normalized inputs, helpers.store.keys.normalize) are one calculation: equal in
    everything but how their target orbitals are written. Per atom and spin the bias sees only the projector
    onto the targets (sum of v v^T) and onto their subspace (helpers.dft.occupation_control), so vectors that differ
    in sign, or a subspace basis rotated within a degenerate pair, give the same run; projectors are compared
    within `tol`."""
    if {k: v for k, v in a.items() if k != "targets"} != {k: v for k, v in b.items() if k != "targets"}:
        return False
    ta, tb = a.get("targets") or {}, b.get("targets") or {}
    if ta.keys() != tb.keys() or any(ta[x].keys() != tb[x].keys() for x in ta):
        return False
    for x in ta:
        for s in ta[x]:
            A, B = np.array(ta[x][s], float).reshape(-1, 5), np.array(tb[x][s], float).reshape(-1, 5)
            if A.shape != B.shape or not np.allclose(A.T @ A, B.T @ B, atol=tol):
                return False
    return True


def _run(task: str, atoms: Atoms, settings: dict, label: str, charge: float = 0.0,
         magmoms=None, force: bool = False, extra: dict | None = None) -> dict:
    job = _job(task, atoms, settings, charge, magmoms)
    job.update(extra or {})
    if task == "scf":
        for k in ("fmax", "max_steps", "relax_cell"):
            job.pop(k)

    return _submit(job, label, settings["profile"], force)


#: GPAW's real-space grid spacing (Angstrom) when none is given.
GPAW_GRID_SPACING = 0.2


def lcao_grid(settings: dict) -> dict:
    """The LCAO job's real-space grid, {'h': spacing in Angstrom}, from the profile's `grid_spacing`; empty
    at GPAW's default, so that results computed before the spacing was a setting keep their keys."""
    h = float(settings.get("grid_spacing", GPAW_GRID_SPACING))
    return {} if h == GPAW_GRID_SPACING else {"h": h}


def optional_job_parts(hubbard_U: dict | None = None, jellium: dict | None = None,
                       dipole_correction: bool = False, hubbard_scale: bool = True) -> dict:
    """The optional entries of a job (absent when unused, so earlier cache keys stay valid):
    `hubbard_U` {symbol: U_eff eV} (GPAW's Dudarev DFT+U on the d shell), `hubbard_scale` False for
    GPAW's unscaled d projectors (':d,U,0'; see dftu_branch), `jellium` {charge (e), z1, z2 (Angstrom)}
    (a positive background slab, see helpers.dft.gpaw_job.common.optional_parameters), and the dipole layer."""
    out = {}
    if not isinstance(hubbard_scale, bool):
        raise ValueError(f"hubbard_scale={hubbard_scale!r}: must be True (GPAW's scaled d projectors) or False")
    if hubbard_U:
        for sym, U in hubbard_U.items():
            if not (isinstance(U, (int, float)) and 0 <= U <= 20):
                raise ValueError(f"hubbard_U[{sym!r}]={U!r}: must be a number of eV in [0, 20]")
        out["hubbard_U"] = {k: float(v) for k, v in sorted(hubbard_U.items())}
        if not hubbard_scale:
            out["hubbard_scale"] = False
    elif not hubbard_scale:
        raise ValueError("hubbard_scale=False: needs hubbard_U (the projectors of the DFT+U term)")
    if jellium:
        if set(jellium) != {"charge", "z1", "z2"} or not jellium["z1"] < jellium["z2"]:
            raise ValueError(f"jellium={jellium!r}: needs charge (e), z1 < z2 (Angstrom)")
        out["jellium"] = {k: float(v) for k, v in sorted(jellium.items())}
    if dipole_correction:
        out["dipole_correction"] = True
    return out


def lcao(atoms: Atoms, settings: dict, label: str, basis: str = "dzp", charge: float = 0.0,
         path: str = "GXSYG", npath: int = 60, hubbard_U: dict | None = None, magmoms=None,
         moments: bool = False, force: bool = False, hubbard_scale: bool = True) -> dict:
    """LCAO (PBE, `basis`) eigenvalues and projections onto first-zeta orbitals on the full k grid
    of the profile's density, and bands along `path`; cached (lcao.npz in the cache entry).
    `hubbard_U` ({'W': 3.0}, eV) adds GPAW's DFT+U (Dudarev) on the d shell of those elements, with
    GPAW's unscaled d projectors where `hubbard_scale` is False;
    `magmoms` (initial moments per atom, muB) makes the run spin-polarized, starting from them;
    `moments` also stores the z matrix of the Bloch states, <psi_nk|z|psi_mk> (Angstrom, PAW
    corrections included; helpers.dft.gpaw_job.lcao.z_matrices), for the dipoles of Wannier orbitals."""
    job = _job("lcao", atoms, settings, charge, magmoms)
    for k in ("fmax", "max_steps", "relax_cell", "ecut"):
        job.pop(k)
    if magmoms is None:
        job.pop("spinpol"), job.pop("magmoms")
    job.update(basis=basis, path=path, npath=int(npath), **optional_job_parts(hubbard_U, hubbard_scale=hubbard_scale),
               **lcao_grid(settings))
    if moments:
        job["moments"] = True

    return _submit(job, label, settings["profile"], force)


def relax(atoms: Atoms, settings: dict, label: str, charge: float = 0.0, magmoms=None,
          hubbard_U: dict | None = None, jellium: dict | None = None,
          dipole_correction: bool = False, force: bool = False) -> dict:
    """Relaxed structure and energy (eV) of `atoms` with the given settings, cached.

    `charge` is the net charge of the cell in units of e (GPAW adds a compensating uniform
    background, unless `jellium` places the compensating charge in a slab); `magmoms` (initial
    moments, muB) switches on spin polarization; `hubbard_U` adds DFT+U (helpers.dft.jobs.optional_job_parts).
    """
    return _run("relax", atoms, settings, label, charge, magmoms, force,
                extra=optional_job_parts(hubbard_U, jellium, dipole_correction))


def single_point(atoms: Atoms, settings: dict, label: str, charge: float = 0.0, magmoms=None,
                 dipole_correction: bool = False, hubbard_U: dict | None = None,
                 jellium: dict | None = None, force: bool = False) -> dict:
    """Energy (eV), forces and dipole moment (e*Angstrom) of `atoms` without relaxation, cached.
    `dipole_correction` adds GPAW's dipole layer in the vacuum (for a polar slab)."""
    return _run("scf", atoms, settings, label, charge, magmoms, force,
                extra=optional_job_parts(hubbard_U, jellium, dipole_correction))


def sliding_path(atoms: Atoms, settings: dict, label: str, moving, shifts_A, whole_shift_A=None,
                 convergence: dict | None = None, force: bool = False) -> dict:
    """Plane-wave PBE energies (eV) and dipoles (e*Angstrom, dipole layer in the vacuum) of a slab
    whose atoms `moving` are displaced rigidly by each in-plane shift of `shifts_A` (Angstrom, one
    (x, y) or (x, y, z) vector per point), one resumable GPAW job (helpers.dft.gpaw_job.sliding.sliding_path),
    cached; `whole_shift_A` moves the whole unshifted slab as an egg-box check; `convergence`: GPAW's
    SCF criteria (energy in eV and density in electrons per valence electron, eigenstates), default
    {'energy': 1e-7, 'density': 1e-6, 'eigenstates': 1e-9}, tight enough for sub-meV differences.
    Checked before any work: indices of atoms, at least one shift, in-plane vectors, criteria."""
    convergence = {"energy": 1e-7, "density": 1e-6, "eigenstates": 1e-9} if convergence is None else dict(convergence)
    if set(convergence) - {"energy", "density", "eigenstates"} or \
            not all(isinstance(v, float) and 0 < v < 1 for v in convergence.values()):
        raise ValueError(f"convergence={convergence!r}: keys energy, density, eigenstates with values in (0, 1)")
    n = len(atoms)
    moving = [int(i) for i in moving]
    if not moving or len(set(moving)) != len(moving) or min(moving) < 0 or max(moving) >= n:
        raise ValueError(f"moving={moving!r}: need distinct atom indices in [0, {n - 1}]")
    def vec(v, name):
        v = [float(x) for x in v]
        if len(v) == 2:
            v.append(0.0)
        if len(v) != 3 or abs(v[2]) > 1e-12 or not all(np.isfinite(v)):
            raise ValueError(f"{name}={v!r}: need an in-plane (x, y) shift in Angstrom")
        return v
    if isinstance(shifts_A, str) or len(shifts_A) < 1:
        raise ValueError(f"shifts_A={shifts_A!r}: need at least one (x, y) shift in Angstrom")
    shifts = [vec(v, "shifts_A") for v in shifts_A]
    job = _job("sliding_path", atoms, settings, 0.0, None)
    for k in ("fmax", "max_steps", "relax_cell", "spinpol", "magmoms"):
        job.pop(k)
    job.update(moving=moving, shifts=shifts, whole_shift=None if whole_shift_A is None else vec(whole_shift_A, "whole_shift_A"),
               convergence=convergence, **optional_job_parts(dipole_correction=True))
    return _submit(job, label, settings["profile"], force)


#: Wannier90 projections of the W-5d + Te-5p model (symbol: l)
W90_PROJECTIONS = {"W": 2, "Te": 1}


def layer_at_origin(atoms: Atoms) -> Atoms:
    """A copy of a layer moved along z so that the middle of its z extent is at z = 0, and made
    periodic in all three directions (the vacuum separates the images). Wannier90's centres along
    z come from phases of overlaps between k and k + b_z (|b_z| = 2 pi / c): a layer in the middle
    of the cell sits near a phase of pi, where the branch of the logarithm scrambles them."""
    out = atoms.copy()
    z = out.positions[:, 2]
    out.positions[:, 2] -= 0.5 * (z.min() + z.max())
    out.pbc = True
    return out


def wannier90(atoms: Atoms, settings: dict, label: str, basis: str = "dzp", projections: dict | None = None,
              nbands: int = 60, exclude_bands: int = 12, num_bands: int = 30, froz_max_eV: float = 3.0,
              dis_num_iter: int = 2000, num_iter: int = 1000, force: bool = False) -> dict:
    """Wannier90 (through GPAW's interface) on a PBE LCAO (`basis`) SCF of the layer `atoms`, on
    the Gamma-centred k grid of the profile's density, cached (helpers.dft.gpaw_job task `wannier90`).

    The layer is moved to z = 0 and made periodic (layer_at_origin). The SCF has `nbands` bands;
    Wannier90 gets `num_bands` of them above the `exclude_bands` lowest (semicore: W 5s, 5p and
    Te 5s for WTe2), all inside the outer window, with projections `projections` ({'W': 2,
    'Te': 1}: W d, Te p, from GPAW's PAW projectors) and a frozen window from the bottom of those
    bands to E_F + `froz_max_eV` eV. Two runs: projection-only (num_iter = 0) and maximally
    localized (`num_iter`), each after `dis_num_iter` disentanglement steps. The result holds
    centres and spreads of both, their hr.dat/wsvec.dat files, and our projected Wannier functions
    for the same Bloch states (H(R) and centres) (see helpers.models.wannier90.models.models).

    LCAO rather than plane waves: our projected Wannier functions are built from this same LCAO
    Hamiltonian (helpers.dft.jobs.lcao), so the two constructions start from identical Bloch bands and
    every difference is the construction's (projections onto PAW projectors, disentanglement and
    maximal localization, against Loewdin projections onto first-zeta basis functions). The k grid
    is the layer's as given (one k point along z); wannier90.x must be installed."""
    projections = dict(W90_PROJECTIONS if projections is None else projections)
    for sym, l in projections.items():
        if l not in (0, 1, 2):
            raise ValueError(f"projections[{sym!r}]={l!r}: l must be 0, 1 or 2")
        if sym not in atoms.get_chemical_symbols():
            raise ValueError(f"projections: no {sym!r} atom in the structure")
    num_wann = sum(2 * projections.get(s, -1) + 1 for s in atoms.get_chemical_symbols() if s in projections)
    for name, v, lo in (("nbands", nbands, 1), ("exclude_bands", exclude_bands, 0), ("num_bands", num_bands, num_wann),
                        ("dis_num_iter", dis_num_iter, 0), ("num_iter", num_iter, 1)):
        if not isinstance(v, int) or isinstance(v, bool) or v < lo:
            raise ValueError(f"{name}={v!r}: must be an integer >= {lo}")
    if exclude_bands + num_bands > nbands:
        raise ValueError(f"exclude_bands + num_bands = {exclude_bands + num_bands} exceeds nbands={nbands}")
    if not (isinstance(froz_max_eV, (int, float)) and 0 < froz_max_eV <= 10):
        raise ValueError(f"froz_max_eV={froz_max_eV!r}: must be eV above E_F in (0, 10]")
    layer = layer_at_origin(atoms)
    job = _job("wannier90", layer, settings, 0.0, None)
    # the k grid of the layer as given (one k point across the vacuum), not of its periodic copy
    job["kpts"] = kpts_for(atoms, settings["kpt_density"])
    if not atoms.pbc[2]:
        job["kpts"][2] = 1
    for k in ("fmax", "max_steps", "relax_cell", "ecut", "spinpol", "magmoms"):
        job.pop(k)
    job.update(basis=basis, projections={k: int(v) for k, v in sorted(projections.items())},
               nbands=nbands, exclude_bands=exclude_bands, num_bands=num_bands,
               froz_max_eV=float(froz_max_eV), dis_num_iter=dis_num_iter, num_iter=num_iter,
               wannier90="wannier90.x 3", **lcao_grid(settings))

    def compute(workdir: Path) -> dict:
        if shutil.which("wannier90.x") is None:
            raise RuntimeError("wannier90.x is not installed (Debian package wannier90; scripts/setup.sh installs it)")
        (workdir / "job.json").write_text(json.dumps(job))
        write(workdir / "input.traj", layer)
        _launch(workdir, label, stage="scf")
        _launch(workdir, label, n=1, stage="w90")
        return json.loads((workdir / "job_result.json").read_text())

    return cache.cached(f"wannier90-{label}", settings["profile"], job, compute, force=force)


#: Density mixer of the DFT+U branches. A dict without 'name' is GPAW's MSR1 mixer (gpaw.dft, 26.x),
#: here with a first step of 0.02, 8 densities of history and metric weight 100: what the committed
#: branches ran with (their gpaw.txt prints it). It was meant as a gentle Pulay mixer against the
#: oscillation of a partly released bias; with MSR1 the intermediate release steps still stall (density
#: error 10^-1.6), which the verdicts treat as an uncontrolled release (helpers.rungs.afo.dftu.verdicts.verdicts). The stall
#: comes from how a step starts: its first iteration diagonalizes the previous step's Hamiltonian, the
#: first residual is tiny, and MSR1 rejects every later step whose residual is much larger; a mixer with
#: fresh_each_step (helpers.dft.gpaw_job.dftu.restart_step) avoids it. The committed branches keep this mixer and
#: their keys.
DFTU_MIXER = {"beta": 0.02, "nmaxold": 8, "weight": 100.0}
#: SCF iterations at most: for each intermediate step of a branch (it may stop short; its density
#: still starts the next step), and for the last step (whose state counts only if converged).
DFTU_MAXITER = [60, 250]
#: GPAW's Pulay mixer (first step 0.05, 8 densities of history, metric weight 50; GPAW 26's own
#: Pulay default is 0.08, 16, 20): the mixer of the U-annealed branches (helpers.rungs.afo.dftu.plans.SETTINGS).
PULAY_MIXER = {"backend": "pulay", "beta": 0.05, "nmaxold": 8, "weight": 50.0}
_MIXER_KEYS = {"backend", "beta", "nmaxold", "weight", "fresh_each_step"}


def check_mixer(mixer: dict) -> dict:
    """A density-mixer dict for GPAW (keys backend, beta, nmaxold, weight), refused with the
    allowed values named when it is not one. `fresh_each_step: True` (not GPAW's: read by
    helpers.dft.gpaw_job.dftu.restart_step) starts every step of a DFT+U branch as a new calculation from the
    current density would: potential recomputed with the step's U_eff and bias, mixer in its initial
    state; absent, a step's first iteration diagonalizes the previous step's Hamiltonian and the mixer
    keeps what GPAW's own reset keeps (for MSR1 its adaptive step lengths and trust radius)."""
    if not isinstance(mixer, dict) or not set(mixer) <= _MIXER_KEYS:
        raise ValueError(f"mixer={mixer!r}: need a dict with keys among {sorted(_MIXER_KEYS)}")
    if "fresh_each_step" in mixer and mixer["fresh_each_step"] is not True:
        raise ValueError(f"mixer fresh_each_step={mixer['fresh_each_step']!r}: give True or leave it out")
    if mixer.get("backend", "msr1") not in ("pulay", "msr1"):
        raise ValueError(f"mixer backend={mixer['backend']!r}: choose 'pulay' or 'msr1' (GPAW 26.x)")
    if not 0 < float(mixer.get("beta", 0.05)) <= 1:
        raise ValueError(f"mixer beta={mixer['beta']!r}: need 0 < beta <= 1")
    if int(mixer.get("nmaxold", 5)) < 1:
        raise ValueError(f"mixer nmaxold={mixer['nmaxold']!r}: need at least 1")
    return dict(mixer)


def dftu_branch(atoms: Atoms, settings: dict, label: str, U_grid, targets: dict | None = None,
                release=(1.0, 0.5, 0.25, 0.0), magmoms=None, metal: str = "W", basis: str = "dzp",
                dipole_correction: bool = True, maxiter=None, mixer: dict | None = None,
                force: bool = False, upward: bool = False, projector_scale: bool = True) -> dict:
    """One branch of DFT+U (GPAW's Dudarev U_eff on the `metal` d shells, LCAO `basis`, k grid of
    the profile's density) with occupation control (helpers.dft.occupation_control): converged at
    U_grid[0] (eV) with the bias toward `targets` ({atom index: {'both': [5-vectors]}} spin-restricted,
    {'up': [...], 'dn': [...]} spin-polarized, orbitals to fill in GPAW's d order), the bias released
    through `release` (lambda in eV, ending at 0), then annealed unbiased through the rest of U_grid,
    each step from the previous density. `magmoms` (muB per atom) makes the run spin-polarized.
    Cached (task `dftu_branch`); every step's energy, d occupation matrices per spin and metal,
    moments and dipole (dipole layer in the vacuum when `dipole_correction`) are in result['steps'].
    `maxiter`: SCF iteration caps [intermediate steps, last step] or [steps of the release at U_grid[0],
    annealing steps, last step] (default DFTU_MAXITER; helpers.dft.gpaw_job.dftu.step_maxiter); `mixer`:
    GPAW density mixer (check_mixer; default DFTU_MIXER). `upward`: U_grid increases instead, an unbiased
    state followed up from small U_eff (no targets). `projector_scale`: GPAW's default DFT+U, whose d occupation
    matrix divides by the bounded partial wave's norm within the PAW sphere (occupations can exceed one per
    spin-orbital); False: the plain inner products (':d,U,0', occupations below one), for the term, the bias
    and the recorded occupations alike. Bad input is refused before any SCF."""
    U_grid = check_U_grid(U_grid, upward)
    if upward and targets:
        raise ValueError("targets: an upward annealing follows an unbiased state; give targets=None")
    if not isinstance(projector_scale, bool):
        raise ValueError(f"projector_scale={projector_scale!r}: must be True (GPAW's scaled d projectors) or False")
    maxiter = list(DFTU_MAXITER if maxiter is None else maxiter)
    if len(maxiter) not in (2, 3) or not all(isinstance(m, int) and m >= 3 for m in maxiter):
        raise ValueError(f"maxiter={maxiter!r}: need two integers >= 3 (intermediate steps, last step) or three "
                         "(steps of the release, annealing steps, last step)")
    mixer = check_mixer(DFTU_MIXER if mixer is None else mixer)
    symbols = atoms.get_chemical_symbols()
    if metal not in symbols:
        raise ValueError(f"metal={metal!r}: no such atom in the structure ({sorted(set(symbols))})")
    spinpol = magmoms is not None
    checked = check_targets(targets, symbols, spinpol, magmoms) if targets else {}
    release = check_schedule(release) if checked else [0.0]
    job = _job("dftu_branch", atoms, settings, 0.0, magmoms)
    for k in ("fmax", "max_steps", "relax_cell", "ecut"):
        job.pop(k)
    if not spinpol:
        job.pop("spinpol"), job.pop("magmoms")
    job.update(basis=basis, metal=metal, U_grid=U_grid, release=release, mixer=mixer, maxiter=maxiter,
               targets={str(a): {s: np.round(v.T if s == "subspace" else signed(v).T, 8).tolist() for s, v in t.items()}
                        for a, t in checked.items()},
               dipole_correction=bool(dipole_correction), **lcao_grid(settings))
    if not projector_scale:               # only when set: the keys of the scaled branches stay as they were
        job["hubbard_scale"] = False
    return _submit(job, label, settings["profile"], force)


def signed(orbitals: np.ndarray) -> np.ndarray:
    """The target orbitals `orbitals` (5 x n, columns) each with its largest component positive (of components equal
    within 1e-6, the first). An orbital's sign is not physics (the bias acts through v v^T), but an eigensolver may
    return either, and a job's targets key its cache entry: without a fixed sign the same start would be a new
    entry on another machine."""
    V = np.array(orbitals, float)
    for j in range(V.shape[1]):
        a = np.abs(V[:, j])
        lead = int(np.flatnonzero(a >= a.max() - 1e-6)[0])   # the first of components tied within rounding
        if V[lead, j] < 0:
            V[:, j] *= -1
    return V


def dftu_branch_or_none(only_cached: bool, *args, **kwargs) -> dict | None:
    """dftu_branch(*args, **kwargs); with `only_cached`, read from the cache only (never computed, whatever
    COMPENDIUM_REQUIRE_CACHE says), and None for a branch not in the cache (a page built from the cache names it
    as planned)."""
    if not only_cached:
        return dftu_branch(*args, **kwargs)
    try:
        with cache_only():
            return dftu_branch(*args, **kwargs)
    except CacheMiss:
        return None
