"""Branches that do not depend on the mixer: a bias field on the target orbitals, released in steps.

At large U the same start can converge to different self-consistent states with different mixing
schemes: which state the iterations reach from an integer start is decided by the path of the
iterations, not by the physics. A bias fixes the branch instead. To the mean-field Hamiltonian of
every shell and spin s a one-body term

    V_bias^s = -lambda * P^s,

is added, P^s the projector onto the start's target orbitals of that shell and spin (the filled
orbitals of an integer start: the start's own occupation matrix), lambda in eV. With a strong bias
the biased problem has one self-consistent state near the start, whatever the mixer; lambda is then
released to zero in steps, each step starting from the previous converged density, so that the
branch is followed continuously to the unbiased state. Energies are compared unbiased (F of the
state without the bias term); the biased free energy F + Tr(V_bias n) at each lambda is the
constrained energy landscape along the release. Energies in eV per cell.
"""
from __future__ import annotations

import numpy as np

from . import anneal
from . import uhf


def projector_bias(targets: list, lam: float) -> list:
    """Per shell (V_up, V_dn) = -lam * (P_up, P_dn), P the target projectors per shell and spin (eV)."""
    if not (isinstance(lam, (int, float)) and lam >= 0):
        raise ValueError(f"lambda={lam!r}: need a bias strength >= 0 eV")
    return [(-lam * np.asarray(pu), -lam * np.asarray(pd)) for pu, pd in targets]


def check_lambdas(lambdas) -> list:
    """Bias strengths of a release (eV): strictly decreasing, non-negative, ending at 0."""
    lam = [float(x) for x in lambdas]
    if not lam or lam[-1] != 0.0 or any(x < 0 for x in lam) or any(b >= a for a, b in zip(lam, lam[1:])):
        raise ValueError(f"lambdas={lambdas!r}: need strictly decreasing bias strengths >= 0 eV ending at 0")
    return lam


def release(hk, shells, interactions, n_electrons, start, lambdas, width: float, solver_kw: dict | None = None,
            targets=None, retries=anneal.RETRIES, keep_states: bool = False) -> dict:
    """Follow the state of `start` (per shell (n_up, n_dn)) while the bias on its target orbitals
    (`targets`, per shell (P_up, P_dn); default the start itself, a projector for an integer start)
    is released along `lambdas` (eV, decreasing to 0), at fixed interactions. Each step starts from
    the previous converged density (the first from `start`). Returns {'steps': [{lambda, F (unbiased),
    F_biased, converged, iterations, jump (max |n - n_previous|), sites}], 'final': the unbiased state
    (uhf.UHFResult.to_dict)}; with keep_states also 'states', the occupation matrices of every step."""
    lam = check_lambdas(lambdas)
    targets = start if targets is None else targets
    kw = dict(solver_kw or {})
    state, steps, r, kept = start, [], None, []
    for x in lam:
        r = anneal.solve_with_retries(hk, shells, interactions, n_electrons, state, width,
                                      {**kw, "bias": projector_bias(targets, x) if x else None}, retries)
        jump = max(float(np.abs(np.asarray(a) - np.asarray(b)).max()) for pa, pb in zip(r.occupations, state)
                   for a, b in zip(pa, pb))
        steps.append({"lambda": x, "F": r.free_energy, "F_biased": r.free_energy + r.bias_energy,
                      "converged": r.converged, "iterations": r.iterations, "jump": jump, "sites": r.sites()})
        state = r.occupations
        kept.append(state)
    out = {"steps": steps, "final": r.to_dict()}
    if keep_states:
        out["states"] = kept
    return out


def mixer_check(hk, shells, interactions, n_electrons, start, lam: float, width: float, mixers: list,
                solver_kw: dict | None = None, targets=None) -> dict:
    """One release step (bias strength `lam`, eV, from the converged density `start`) solved with each
    of `mixers` (uhf.solve settings, e.g. {'mixer': 'linear', 'mixing': 0.1}): the largest difference
    of the occupation matrices and of F (eV) between the results, and whether each converged."""
    targets = start if targets is None else targets
    kw = dict(solver_kw or {})
    bias = projector_bias(targets, lam) if lam else None
    res = [uhf.solve(hk, shells, interactions, n_electrons, start, width=width, **{**kw, **m, "bias": bias})
           for m in mixers]
    dn = max(float(np.abs(a - b).max()) for r in res[1:] for pa, pb in zip(r.occupations, res[0].occupations)
             for a, b in zip(pa, pb)) if len(res) > 1 else 0.0
    dF = max(abs(r.free_energy - res[0].free_energy) for r in res)
    return {"max |Δn|": dn, "max |ΔF| (eV)": dF, "converged": [bool(r.converged) for r in res],
            "F (eV)": [r.free_energy for r in res], "iterations": [r.iterations for r in res]}
