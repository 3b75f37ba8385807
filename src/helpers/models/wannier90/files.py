"""Wannier90's files: orbital orders of Wannier90 and ours, the .win input, and readers of _hr, _wsvec, .wout, .mmn and _u files."""
from __future__ import annotations

import gzip
import re
from pathlib import Path
import numpy as np

from .. import wannier as W


#: Wannier90's order of the real harmonics of each l (its user guide, table 3.1)
W90_NAMES = {0: ["s"], 1: ["pz", "px", "py"], 2: ["dz2", "dxz", "dyz", "dx2-y2", "dxy"]}
#: helpers.models.wannier's (GPAW's) order
OURS_NAMES = {0: ["s"], 1: list(W.P_LABELS), 2: list(W.D_LABELS)}
L_LETTER = {0: "s", 1: "p", 2: "d"}


# --- orbital order ----------------------------------------------------------------------------

def gpaw_index_of_w90(l: int) -> list:
    """For each Wannier90 real harmonic of angular momentum `l` (in Wannier90's order), its index
    in GPAW's order: d -> [2, 3, 1, 4, 0], p -> [1, 2, 0]."""
    if l not in W90_NAMES:
        raise ValueError(f"l={l!r}: only s, p, d (0, 1, 2) are mapped")
    return [OURS_NAMES[l].index(n) for n in W90_NAMES[l]]


def _check_wanted(symbols, wanted: dict) -> None:
    if not wanted or any(l not in W90_NAMES for l in wanted.values()):
        raise ValueError(f"wanted={wanted!r}: map chemical symbols to l in (0, 1, 2)")
    missing = [s for s in wanted if s not in symbols]
    if missing:
        raise ValueError(f"wanted={wanted!r}: no atom of {missing} in the structure {list(symbols)}")


def w90_orbitals(symbols, wanted: dict) -> list:
    """Wannier90's projection orbitals, in its order, as (atom, l, name): one projections line per
    species in order of first appearance among the atoms, each over that species' atoms."""
    _check_wanted(symbols, wanted)
    species = [s for i, s in enumerate(symbols) if s in wanted and s not in symbols[:i]]
    return [(a, wanted[s], n) for s in species for a, sa in enumerate(symbols) if sa == s
            for n in W90_NAMES[wanted[s]]]


def ours_orbitals(symbols, wanted: dict) -> list:
    """helpers.models.wannier's orbitals, in its order, as (atom, l, name): atoms in index order, GPAW's
    real harmonics."""
    _check_wanted(symbols, wanted)
    return [(a, wanted[s], n) for a, s in enumerate(symbols) if s in wanted for n in OURS_NAMES[wanted[s]]]


def w90_to_ours(symbols, wanted: dict) -> np.ndarray:
    """perm with H_ours = H_w90[perm][:, perm]: perm[i] is the Wannier90 index of our orbital i."""
    w90 = {(a, n): i for i, (a, l, n) in enumerate(w90_orbitals(symbols, wanted))}
    return np.array([w90[(a, n)] for a, l, n in ours_orbitals(symbols, wanted)])


def gpaw_projector_columns(symbols, wanted: dict, projector_l: dict) -> list:
    """Per atom, the indices of GPAW's PAW projector functions to use as Wannier90's projections,
    in Wannier90's order: the first bound projector of angular momentum wanted[symbol] (e.g. W 5d,
    Te 5p), its m components permuted from GPAW's order to Wannier90's. `projector_l[symbol]` is
    the list of (l, n) of that setup's projectors (n = -1: unbound). Atoms without projections get
    an empty list. GPAW's writer walks the atoms in index order, so the atoms of each species must
    come in the order Wannier90 lists them (raises ValueError otherwise)."""
    order = [a for a, l, n in w90_orbitals(symbols, wanted)]
    walk = [a for a, s in enumerate(symbols) if s in wanted for _ in range(2 * wanted[s] + 1)]
    if order != walk:
        raise ValueError(f"symbols={list(symbols)}: the atoms of each projected species must be "
                         "contiguous, species in order of first appearance (GPAW's .amn writer "
                         "walks atoms in index order, Wannier90 species by species)")
    out = []
    for s in symbols:
        if s not in wanted:
            out.append([])
            continue
        offset = 0
        for l, n in projector_l[s]:
            if l == wanted[s] and n != -1:
                break
            offset += 2 * l + 1
        else:
            raise ValueError(f"the {s} setup has no bound projector with l={wanted[s]}")
        out.append([offset + m for m in gpaw_index_of_w90(wanted[s])])
    return out


# --- input --------------------------------------------------------------------------------------

def win_text(cell, symbols, frac, kpts, mp_grid, wanted: dict, num_bands: int, exclude: int,
             froz_max_eV: float, num_iter: int, dis_num_iter: int, win_min_eV: float | None = None,
             win_max_eV: float | None = None) -> str:
    """Wannier90 input (.win): `num_bands` bands above the `exclude` lowest (semicore), projections
    `wanted` ({'W': 2, 'Te': 1} -> W: d, Te: p), outer window [win_min, win_max] (absolute eV; None:
    all bands) and frozen window up to `froz_max_eV`, `num_iter` localization steps (0: the
    projected functions of the disentangled subspace), the cell (Angstrom), fractional positions
    and the k points (fractional, the order of the .amn/.mmn/.eig files)."""
    nw = len(w90_orbitals(symbols, wanted))
    if num_bands < nw:
        raise ValueError(f"num_bands={num_bands}: fewer than the {nw} Wannier functions")
    species = [s for i, s in enumerate(symbols) if s in wanted and s not in symbols[:i]]
    lines = [f"num_bands = {num_bands}", f"num_wann = {nw}"]
    if exclude:
        lines.append("exclude_bands = " + ",".join(str(i + 1) for i in range(exclude)))
    lines += ["spinors = false"]
    if num_bands > nw:
        if win_min_eV is not None:
            lines.append(f"dis_win_min = {win_min_eV:.6f}")
        if win_max_eV is not None:
            lines.append(f"dis_win_max = {win_max_eV:.6f}")
        lines += [f"dis_froz_max = {froz_max_eV:.6f}", f"dis_num_iter = {dis_num_iter}",
                  "dis_conv_tol = 1.0e-10", "dis_conv_window = 5", "dis_mix_ratio = 0.5"]
    lines += [f"num_iter = {num_iter}", "conv_tol = 1.0e-10", "conv_window = 5",
              "guiding_centres = true", "write_hr = true", "write_u_matrices = true",
              "use_ws_distance = true", "", "begin projections"]
    lines += [f"{s}: {L_LETTER[wanted[s]]}" for s in species]
    lines += ["end projections", "", "begin unit_cell_cart", "ang"]
    lines += ["  ".join(f"{x:.10f}" for x in v) for v in np.asarray(cell)]
    lines += ["end unit_cell_cart", "", "begin atoms_frac"]
    lines += [f"{s} " + "  ".join(f"{x:.10f}" for x in p) for s, p in zip(symbols, np.asarray(frac))]
    lines += ["end atoms_frac", "", "mp_grid = " + " ".join(str(int(n)) for n in mp_grid), "",
              "begin kpoints"]
    lines += ["  ".join(f"{x:.10f}" for x in k) for k in np.asarray(kpts)]
    lines += ["end kpoints", ""]
    return "\n".join(lines)


# --- parsers --------------------------------------------------------------------------------------

def read_text(source) -> str:
    """Text of a file (plain or .gz) or the string itself if it is not a path to a file."""
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and Path(source).is_file()):
        path = Path(source)
        if path.suffix == ".gz":
            with gzip.open(path, "rt") as f:
                return f.read()
        return path.read_text()
    return str(source)


def read_hr(source) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Wannier90's seedname_hr.dat: (R (nR, 3) int, ndegen (nR,), H (nR, nw, nw) complex eV) as
    written, H[r, m, n] = <w_m0|H|w_nR>, not yet divided by the Wigner-Seitz degeneracies."""
    lines = read_text(source).splitlines()
    nw, nr = int(lines[1].split()[0]), int(lines[2].split()[0])
    deg, i = [], 3
    while len(deg) < nr:
        deg += [int(x) for x in lines[i].split()]
        i += 1
    data = np.array(" ".join(lines[i:i + nr * nw * nw]).split(), float).reshape(nr * nw * nw, 7)
    R = data[::nw * nw, :3].astype(int)
    m, n = data[:, 3].astype(int) - 1, data[:, 4].astype(int) - 1
    H = np.zeros((nr, nw, nw), complex)
    H[np.repeat(np.arange(nr), nw * nw), m, n] = data[:, 5] + 1j * data[:, 6]
    return R, np.array(deg), H


def read_wsvec(source) -> dict:
    """Wannier90's seedname_wsvec.dat (use_ws_distance): {(R1, R2, R3, m, n): T (nT, 3) int}, the
    supercell translations among which hopping H_mn(R) is shared equally (0-based m, n)."""
    lines = read_text(source).splitlines()[1:]
    out, i = {}, 0
    while i < len(lines):
        head = lines[i].split()
        if not head:
            i += 1
            continue
        key = tuple(int(x) for x in head[:3]) + (int(head[3]) - 1, int(head[4]) - 1)
        nT = int(lines[i + 1].split()[0])
        out[key] = np.array([[int(x) for x in lines[i + 2 + j].split()[:3]] for j in range(nT)]).reshape(nT, 3)
        i += 2 + nT
    return out


def read_wout(source) -> dict:
    """Final centres (nw, 3) Angstrom, spreads (nw,) Angstrom^2 and the spread decomposition
    (Omega_I, Omega_D, Omega_OD, Omega_total, Angstrom^2) from a .wout file."""
    lines = read_text(source).splitlines()
    start = max((i for i, s in enumerate(lines) if "Final State" in s), default=0)
    cen, spr, omega = [], [], {}
    for s in lines[start:]:
        if "WF centre and spread" in s:
            inside = s[s.index("(") + 1:s.index(")")]
            cen.append([float(x) for x in inside.replace(",", " ").split()])
            spr.append(float(s[s.index(")") + 1:].split()[0]))
        m = re.search(r"Omega (I|D|OD|Total)\s*=\s*(\S+)", s)
        if m:
            omega[f"Omega_{m.group(1)}"] = float(m.group(2))
    if not cen:
        raise ValueError("no 'WF centre and spread' lines after the final state in this .wout")
    n = len(cen)
    # the final-state block lists each function once (then the sum); keep the first nw entries
    nw = next((i for i in range(1, n) if cen[i] == cen[0] and spr[i] == spr[0]), n)
    return {"centres_A": np.array(cen[:nw]), "spreads_A2": np.array(spr[:nw]), **omega}


def read_mmn(source) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Overlaps M_mn(k, b) = <u_mk|u_n,k+b> from a .mmn file: (M (nk, nb, nbands, nbands),
    neighbour index kb (nk, nb), G shift (nk, nb, 3))."""
    lines = read_text(source).splitlines()
    nbands, nk, nb = (int(x) for x in lines[1].split()[:3])
    M = np.zeros((nk, nb, nbands, nbands), complex)
    kb = np.zeros((nk, nb), int)
    G = np.zeros((nk, nb, 3), int)
    i, count = 2, {}
    block = nbands * nbands
    for _ in range(nk * nb):
        k1, k2, g1, g2, g3 = (int(x) for x in lines[i].split()[:5])
        j = count.get(k1 - 1, 0)
        count[k1 - 1] = j + 1
        kb[k1 - 1, j], G[k1 - 1, j] = k2 - 1, (g1, g2, g3)
        vals = np.array(" ".join(lines[i + 1:i + 1 + block]).split(), float).reshape(block, 2)
        # m runs fastest: line index = n * nbands + m
        M[k1 - 1, j] = (vals[:, 0] + 1j * vals[:, 1]).reshape(nbands, nbands).T
        i += 1 + block
    return M, kb, G


def read_umat(source) -> np.ndarray:
    """U(k) (nk, rows, cols) from Wannier90's _u.mat (num_wann x num_wann) or _u_dis.mat
    (num_bands x num_wann), the first index running fastest in the file."""
    lines = [s for s in read_text(source).splitlines()[1:] if s.strip()]
    nk, ncol, nrow = (int(x) for x in lines[0].split()[:3])   # header: nk, num_wann, num_bands|num_wann
    U = np.zeros((nk, nrow, ncol), complex)
    i = 1
    for k in range(nk):
        vals = np.array(" ".join(lines[i + 1:i + 1 + nrow * ncol]).split(), float).reshape(-1, 2)
        U[k] = (vals[:, 0] + 1j * vals[:, 1]).reshape(ncol, nrow).T
        i += 1 + nrow * ncol
    return U


# --- centres --------------------------------------------------------------------------------------

def b_weights(b_cart: np.ndarray, tol: float = 1e-6) -> np.ndarray:
    """Finite-difference weights w_b (Angstrom^2) of the vectors b (Angstrom^-1) connecting a k
    point to its neighbours: equal within a shell of equal |b|, fixed by the completeness relation
    sum_b w_b b_a b_c = delta_ac (Marzari and Vanderbilt 1997). Raises ValueError if the shells
    cannot satisfy it."""
    b_cart = np.asarray(b_cart, float)
    norms = np.linalg.norm(b_cart, axis=1)
    shells = []
    for n in norms:
        if not any(abs(n - s) < tol * max(1.0, n) for s in shells):
            shells.append(n)
    shell_of = np.array([int(np.argmin([abs(n - s) for s in shells])) for n in norms])
    A = np.array([sum(np.outer(b, b) for b, s in zip(b_cart, shell_of) if s == j).ravel()
                  for j in range(len(shells))]).T                     # (9, nshells)
    w, *_ = np.linalg.lstsq(A, np.eye(3).ravel(), rcond=None)
    if np.abs(A @ w - np.eye(3).ravel()).max() > 1e-6:
        raise ValueError("these b vectors do not satisfy the completeness relation for any weights")
    return w[shell_of]


def mv_centres(M, kb, G, kpts_frac, recip_cart, U, guide=None) -> np.ndarray:
    """Centres (nw, 3) Angstrom of the Wannier functions of gauge U (nk, nbands, nw):
    r_n = -(1/N_k) sum_{k,b} w_b b Im ln [U_k^H M(k,b) U_{k+b}]_nn (Marzari and Vanderbilt 1997),
    with M, kb, G from read_mmn, k points in fractional coordinates and `recip_cart` the
    reciprocal lattice vectors (rows, 2 pi / Angstrom). `guide` (nw, 3), Angstrom: each logarithm
    is taken on the branch nearest to -b.guide_n (Wannier90's guiding centres), so that a centre
    near its guide does not jump by a fraction of a lattice vector on a coarse k grid."""
    kpts_frac = np.asarray(kpts_frac)
    b = (kpts_frac[kb] + G - kpts_frac[:, None, :]) @ np.asarray(recip_cart)   # (nk, nb, 3)
    w = b_weights(b[0])
    nk = len(M)
    nw = U.shape[2]
    g = np.zeros((nw, 3)) if guide is None else np.asarray(guide, float)
    r = np.zeros((nw, 3))
    for k in range(nk):
        for j in range(M.shape[1]):
            Mw = U[k].conj().T @ M[k, j] @ U[kb[k, j]]
            ref = g @ b[k, j]                                           # b.guide_n
            phase = np.angle(np.diag(Mw) * np.exp(1j * ref)) - ref
            r -= w[j] * np.outer(phase, b[k, j])
    return r / nk


def write_hr(R, ndegen, H) -> str:
    """hr.dat text in Wannier90's format (the inverse of read_hr; for tests and exports)."""
    nr, nw = len(R), H.shape[1]
    out = ["written by helpers.models.wannier90", f"{nw:12d}", f"{nr:12d}"]
    for i in range(0, nr, 15):
        out.append("".join(f"{d:5d}" for d in ndegen[i:i + 15]))
    for r, h in zip(R, H):
        for n in range(nw):
            for m in range(nw):
                out.append(f"{r[0]:5d}{r[1]:5d}{r[2]:5d}{m + 1:5d}{n + 1:5d}{h[m, n].real:12.6f}{h[m, n].imag:12.6f}")
    return "\n".join(out) + "\n"
