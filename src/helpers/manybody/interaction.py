"""On-site interaction of one correlated shell and its Hartree-Fock energy and potential.

Tensor convention: U[a,b,c,d] = <ab|v|cd> = int phi_a*(1) phi_b*(2) v(1,2) phi_c(1) phi_d(2)
(a, c electron 1; b, d electron 2), so that
    H_int = 1/2 sum_{abcd, s s'} U[a,b,c,d] c^+_{a s} c^+_{b s'} c_{d s'} c_{c s}.

Occupations: n^s[a, b] = <c^+_{a s} c_{b s}>. For a single Slater determinant with orbitals
psi_k (coefficients psi_k[a] in the shell basis) this is n[a, b] = sum_k f_k psi_k[a]* psi_k[b],
the complex conjugate (= transpose) of the density matrix rho = sum_k f_k |psi_k><psi_k|.

Potential: V^s[a, b] = d(E_int - E_dc) / d n^s[a, b]. Because <sum h_ab c^+_a c_b> = sum_ab h_ab n_ab,
h^s = h0 + V^s is then the mean-field Hamiltonian in the same matrix convention as h0
(H = sum h_ab c^+_a c_b). For real orbitals and real n the distinction is invisible; complex
rotations (tests) see it.

d orbitals: GPAW's real harmonics in the order (xy, yz, 3z^2-r^2, xz, x^2-y^2), each with a
positive prefactor. Energies in eV.
"""
from __future__ import annotations

from dataclasses import dataclass
import numpy as np
from numpy.polynomial.legendre import legval

from ..models.dshell import real_d_harmonics, sphere_quadrature


KINDS = ("slater", "kanamori", "dudarev", "tensor")
DOUBLE_COUNTINGS = ("FLL", "AMF", "none")


def slater_angular(k: int) -> np.ndarray:
    """a_k[a,b,c,d] = 4 pi/(2k+1) sum_q <a|Y_kq|c><b|Y_kq*|d> for the real d harmonics, computed
    through the addition theorem as int int a(1) c(1) P_k(r1.r2) b(2) d(2) dOmega1 dOmega2
    (exact quadrature: the integrands are polynomials of degree <= 8)."""
    pts, w = sphere_quadrature()
    Y = real_d_harmonics(pts)
    P = legval(np.clip(pts @ pts.T, -1, 1), np.eye(k + 1)[k])
    ac = np.einsum("i,ia,ic->iac", w, Y, Y)
    return np.einsum("iac,ij,jbd->abcd", ac, P, ac)


# --- tensors ----------------------------------------------------------------------------------

def slater_tensor(U: float, J: float, f4_over_f2: float = 0.625) -> np.ndarray:
    """Full d-shell Slater tensor U[a,b,c,d] = sum_k F^k a_k(abcd) (eV) in GPAW's real d harmonics,
    from F0 = U, F2 = 14 J / (1 + f4_over_f2), F4 = f4_over_f2 * F2 (U, J in eV)."""
    _check_UJ(U, J)
    F0, F2 = U, 14 * J / (1 + f4_over_f2)
    F4 = f4_over_f2 * F2
    return F0 * slater_angular(0) + F2 * slater_angular(2) + F4 * slater_angular(4)


def kanamori_tensor(U: float, J: float, norb: int = 3, Uprime: float | None = None) -> np.ndarray:
    """Kanamori tensor (eV) on `norb` orbitals: U[a,a,a,a] = U (intra-orbital), U[a,b,a,b] = U'
    (inter-orbital density, U' = U - 2J by default), U[a,b,b,a] = J (Hund exchange),
    U[a,a,b,b] = J (pair hopping), a != b."""
    _check_UJ(U, J)
    Up = U - 2 * J if Uprime is None else Uprime
    T = np.zeros((norb,) * 4)
    for a in range(norb):
        for b in range(norb):
            if a == b:
                T[a, a, a, a] = U
            else:
                T[a, b, a, b] = Up
                T[a, b, b, a] = J
                T[a, a, b, b] = J
    return T


def rotate_tensor(T: np.ndarray, W: np.ndarray) -> np.ndarray:
    """The tensor in the orbitals phi'_m = sum_a phi_a W[a, m] (W unitary, may be complex):
    U'[m,n,p,q] = sum W[a,m]* W[b,n]* U[a,b,c,d] W[c,p] W[d,q]."""
    W = np.asarray(W)
    Wc = W.conj()
    return np.einsum("am,bn,abcd,cp,dq->mnpq", Wc, Wc, T, W, W, optimize=True)


def shell_averages(T: np.ndarray) -> tuple[float, float]:
    """(Ubar, Jbar) in eV: Ubar = average of U[a,b,a,b] over all a, b; Ubar - Jbar = average of
    U[a,b,a,b] - U[a,b,b,a] over a != b. For Slater: F0 and (F2 + F4)/14."""
    M = T.shape[0]
    direct = np.real(np.einsum("abab->ab", T))
    exch = np.real(np.einsum("abba->ab", T))
    Ubar = direct.sum() / M**2
    if M == 1:
        return float(Ubar), 0.0
    off = ~np.eye(M, dtype=bool)
    UmJ = (direct - exch)[off].sum() / (M * (M - 1))
    return float(Ubar), float(Ubar - UmJ)


# --- the interaction of one shell ---------------------------------------------------------------

@dataclass
class Interaction:
    """On-site interaction of one shell: kind 'slater' | 'kanamori' | 'dudarev' | 'tensor', U and J
    (eV), the tensor (None for 'dudarev') and the double counting dc 'FLL' | 'AMF' | 'none'."""
    kind: str
    U: float = 0.0
    J: float = 0.0
    tensor: np.ndarray | None = None
    dc: str = "FLL"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind={self.kind!r}: choose one of {KINDS}")
        if self.dc not in DOUBLE_COUNTINGS:
            raise ValueError(f"dc={self.dc!r}: double counting must be one of {DOUBLE_COUNTINGS}")
        _check_UJ(self.U, self.J)
        if self.kind == "dudarev":
            if self.tensor is not None:
                raise ValueError("tensor: a 'dudarev' interaction has no tensor")
            if self.dc != "FLL":
                raise ValueError(f"dc={self.dc!r}: the Dudarev form is built on the FLL double counting")
        else:
            T = np.asarray(self.tensor) if self.tensor is not None else None
            if T is None or T.ndim != 4 or len(set(T.shape)) != 1:
                shape = None if T is None else T.shape
                raise ValueError(f"tensor: need an (M, M, M, M) array for kind {self.kind!r}, got shape {shape}")
            self.tensor = T

    @property
    def norb(self) -> int | None:
        return None if self.tensor is None else self.tensor.shape[0]

    def averages(self) -> tuple[float, float]:
        """(Ubar, Jbar), eV: shell averages used by the FLL double counting."""
        return (self.U, self.J) if self.tensor is None else shell_averages(self.tensor)


def slater(U: float, J: float, dc: str = "FLL", f4_over_f2: float = 0.625) -> Interaction:
    """Slater interaction of a d shell (GPAW real harmonics), U = F0 and J in eV."""
    return Interaction("slater", U, J, slater_tensor(U, J, f4_over_f2), dc)


def kanamori(U: float, J: float, norb: int = 3, dc: str = "FLL", Uprime: float | None = None) -> Interaction:
    """Kanamori interaction on `norb` orbitals (U' = U - 2J unless given), eV."""
    return Interaction("kanamori", U, J, kanamori_tensor(U, J, norb, Uprime), dc)


def dudarev(U: float, J: float = 0.0) -> Interaction:
    """Dudarev (U_eff = U - J) interaction with its built-in FLL double counting, eV."""
    return Interaction("dudarev", U, J, None, "FLL")


def from_tensor(tensor: np.ndarray, dc: str = "none") -> Interaction:
    """An interaction given by an explicit tensor (eV); U, J recorded as its shell averages."""
    Ubar, Jbar = shell_averages(np.asarray(tensor))
    return Interaction("tensor", max(Ubar, 0.0), min(max(Jbar, 0.0), max(Ubar, 0.0)), np.asarray(tensor), dc)


def hf_energy_and_potential(T: np.ndarray, n_up: np.ndarray, n_dn: np.ndarray):
    """Hartree-Fock interaction energy (eV) and its derivatives V^s[a,b] = dE/dn^s[a,b] from the
    tensor T and the occupations n^s[a,b] = <c^+_a c_b>:
        E_H = 1/2 sum U[a,b,c,d] N[a,c] N[b,d],  N = n_up + n_dn,
        E_X = -1/2 sum_s U[a,b,c,d] n^s[a,d] n^s[b,c],
        V^s[a,c] = sum U[a,b,c,d] N[b,d] - sum U[a,b,d,c] n^s[b,d]."""
    N = n_up + n_dn
    VH = np.einsum("abcd,bd->ac", T, N)
    E = 0.5 * np.sum(VH * N)
    V = []
    for n in (n_up, n_dn):
        VX = -np.einsum("abdc,bd->ac", T, n)
        E += 0.5 * np.sum(VX * n)
        V.append(VH + VX)
    return float(np.real(E)), V[0], V[1]


def energy_and_potential(inter: Interaction, n_up: np.ndarray, n_dn: np.ndarray):
    """(E_int - E_dc in eV, V_up, V_dn) in Hartree-Fock for one shell with occupations
    n^s[a,b] = <c^+_{a s} c_{b s}>; V^s[a,b] = d(E_int - E_dc)/dn^s[a,b], so that h0 + V^s is the
    mean-field Hamiltonian (H = sum h_ab c^+_a c_b).

    FLL: E_dc = Ubar/2 N(N-1) - Jbar/2 sum_s N_s(N_s-1).
    AMF: E_dc = E_int at the orbitally averaged occupations n^s = (N_s/M) 1.
    Dudarev: E = (U-J)/2 sum_s Tr[n^s(1-n^s)], V^s = (U-J)(1/2 - (n^s)^T) (the density matrix
    rho^s = (n^s)^T: the spin-restricted V = U_eff (1/2 - n) when n^up = n^dn).
    """
    n_up = np.asarray(n_up)
    n_dn = np.asarray(n_dn)
    M = n_up.shape[0]
    eye = np.eye(M)
    if inter.kind == "dudarev":
        ueff = inter.U - inter.J
        E = 0.5 * ueff * sum(np.real(np.trace(n) - np.sum(n * n.T)) for n in (n_up, n_dn))
        return float(E), ueff * (0.5 * eye - n_up.T), ueff * (0.5 * eye - n_dn.T)
    T = inter.tensor
    if T.shape[0] != M:
        raise ValueError(f"tensor: shape {T.shape} does not match the shell's {M} orbitals")
    E, V_up, V_dn = hf_energy_and_potential(T, n_up, n_dn)
    Ns = [float(np.real(np.trace(n))) for n in (n_up, n_dn)]
    N = Ns[0] + Ns[1]
    if inter.dc == "FLL":
        Ubar, Jbar = inter.averages()
        E -= 0.5 * Ubar * N * (N - 1) - 0.5 * Jbar * sum(x * (x - 1) for x in Ns)
        V_up = V_up - (Ubar * (N - 0.5) - Jbar * (Ns[0] - 0.5)) * eye
        V_dn = V_dn - (Ubar * (N - 0.5) - Jbar * (Ns[1] - 0.5)) * eye
    elif inter.dc == "AMF":
        Edc, Va, Vb = hf_energy_and_potential(T, Ns[0] / M * eye, Ns[1] / M * eye)
        E -= Edc
        V_up = V_up - np.real(np.trace(Va)) / M * eye
        V_dn = V_dn - np.real(np.trace(Vb)) / M * eye
    return float(E), V_up, V_dn


def _check_UJ(U: float, J: float):
    if U < 0:
        raise ValueError(f"U={U}: the interaction U must be >= 0 eV")
    if J < 0 or J > U:
        raise ValueError(f"J={J}: need 0 <= J <= U (U={U} eV)")
