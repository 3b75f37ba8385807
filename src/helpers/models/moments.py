"""Out-of-plane dipoles of Wannier orbitals from the z matrix of the Bloch states.

The LCAO jobs run with `moments=True` (helpers.dft.jobs.lcao) store Z_nm(k) = <psi_nk| z |psi_mk>
(Angstrom) for all Bloch states: the basis functions are put on GPAW's real-space grid and
multiplied by z (the layer is not periodic along z, so z is a proper operator), and the PAW
correction of every atom is added from its compensation-charge coefficients (helpers.dft.gpaw_job.
z_matrices; the job checks the overlap computed the same way against GPAW's, and the dipole of
the occupied states against GPAW's density dipole). Because the Bloch states hold every basis
function (W-6s, W-6p, Te-5s, Te-5d polarization functions), the intra-atomic d-p terms that the
tight-binding position operator misses are included.

The projected Wannier functions are w_m = sum_n psi_n U_nm (helpers.models.wannier.pwf_at_k), so their z
matrix is U^H Z U at every k, Fourier transformed to Z(R) like the Hamiltonian; the downfolded
effective W-5d orbitals take it along (W^H Z W). The dipole of a doubly occupied orbital v on a W
relative to that W's nucleus is p_z = -2 e (<v|z|v> - z_W), e*Angstrom.
"""
from __future__ import annotations

import numpy as np

from . import wannier as W


def has_moments(lcao_result: dict) -> bool:
    """Whether a cached LCAO result holds the z matrices."""
    return "moments" in lcao_result


def z_model(lcao_result: dict, model: W.TBModel) -> W.TBModel:
    """Z(R) (Angstrom) between the projected Wannier functions of `model` (built by
    helpers.models.wannier.model_from_lcao from the same result), as a TBModel on the same R vectors."""
    if not has_moments(lcao_result):
        raise ValueError(f"the LCAO result {lcao_result.get('cache_entry', '?')} has no z matrices; "
                         "run helpers.dft.jobs.lcao(..., moments=True)")
    wanted, spin = model.info["wanted"], model.info.get("spin")
    window = model.info.get("window", (-np.inf, np.inf))
    *_, eps, A, data = W.model_inputs(lcao_result, wanted, spin)
    raw = np.load(f"{lcao_result['cache_entry']}/{lcao_result['npz']}")
    Z = raw["Z_knn"] if spin is None else raw["Z_sknn"][spin]
    Zk = []
    for e, a, z in zip(eps, A, Z):
        chosen, U, _ = W.pwf_at_k(e, a, window)
        Zk.append(U.conj().T @ z[np.ix_(chosen, chosen)] @ U)
    Z_R = W.fourier_to_real_space(np.array(Zk), data["kpts"], model.R)
    return W.TBModel(model.R, Z_R, model.labels, model.atom_of, model.l_of, model.positions, model.cell,
                     {"operator": "z (Angstrom)", "kgrid": model.info.get("kgrid")})


def tb_z_model(model: W.TBModel) -> W.TBModel:
    """The tight-binding approximation of Z(R): diagonal, each orbital at its atom's z (no
    intra-atomic d-p terms). For comparison with z_model."""
    Z_R = np.zeros_like(model.H_R)
    home = np.where((model.R == 0).all(axis=1))[0][0]
    Z_R[home] = np.diag(model.positions[model.atom_of, 2])
    return W.TBModel(model.R, Z_R, model.labels, model.atom_of, model.l_of, model.positions, model.cell,
                     {"operator": "z (Angstrom), tight-binding approximation"})


def effective_z(zmod: W.TBModel, model: W.TBModel, keep, grid, e_low: float, width: float) -> np.ndarray:
    """On-site (home-cell) z matrix (Angstrom) of the effective orbitals of
    helpers.models.wannier.effective_orbitals(model, keep, grid, e_low, width): average over the grid of
    W_k^H Z(k) W_k."""
    k, W_k = W.effective_projector(model, keep, grid, e_low, width)
    Zk = zmod.hk(k)
    return np.einsum("kim,kij,kjn->mn", W_k.conj(), Zk, W_k) / len(k)


def orbital_dipoles_z(Z_eff: np.ndarray, eff: W.TBModel, shells: list, atoms: list,
                      orbitals_per_site: list) -> list:
    """Per metal site: p_z (e*Angstrom) of each local orbital (columns of orbitals_per_site[i], in
    that site's five d functions) doubly occupied, relative to the metal nucleus."""
    out = []
    for shell, atom, orbs in zip(shells, atoms, orbitals_per_site):
        Zs = Z_eff[np.ix_(shell, shell)]
        cen = np.real(np.einsum("im,ij,jm->m", orbs.conj(), Zs, orbs))
        out.append(-2.0 * (cen - eff.positions[atom, 2]))
    return out


def state_dipole_z(Z_eff: np.ndarray, eff: W.TBModel, shells: list, atoms: list, occupations: list) -> float:
    """Out-of-plane dipole (e*Angstrom) of the d electrons of a mean-field state relative to the
    metal nuclei: -sum over sites and spins of Tr[n_s (Z_site - z_W)], with occupation matrices
    n_s per site in that site's d functions (on-site terms of the z matrix only)."""
    p = 0.0
    for shell, atom, occ in zip(shells, atoms, occupations):
        Zs = Z_eff[np.ix_(shell, shell)] - eff.positions[atom, 2] * np.eye(len(shell))
        for n in occ:
            p -= float(np.real(np.trace(np.asarray(n) @ Zs.T)))
    return p
