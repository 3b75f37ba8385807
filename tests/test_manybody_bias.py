"""Mixer-independent branches (helpers.manybody.bias): the bias bookkeeping is exact, a released
branch is the same state with different mixers, and bad input names the parameter."""
import numpy as np
import pytest

from helpers.manybody import bias
from helpers.manybody import configurations as cfg
from helpers.manybody import interaction as I
from helpers.manybody import uhf


def chain(seed: int = 3, nk: int = 1):
    """Two five-orbital shells (a two-W molecule for nk = 1, else a chain): levels a = 0, b = 0.1, c = 0.25 eV,
    eg-like 3 eV, in random local orbitals B (columns), intra-orbital hopping -0.3 eV between the two
    shells and a weak random remainder, Hermitian: (hk, shells, B)."""
    rng = np.random.default_rng(seed)
    B = np.linalg.qr(rng.normal(size=(5, 5)))[0]
    onsite = np.zeros((10, 10))
    onsite[:5, :5] = onsite[5:, 5:] = B @ np.diag([0.0, 0.1, 0.25, 3.0, 3.0]) @ B.T
    T0 = B @ np.diag([-0.3, -0.3, -0.3, 0.0, 0.0]) @ B.T + 0.02 * rng.normal(size=(5, 5))
    T1 = 0.02 * rng.normal(size=(10, 10))
    hk = []
    for k in 2 * np.pi * np.arange(nk) / nk:
        h = onsite.astype(complex)
        h[:5, 5:] += T0
        h[5:, :5] += T0.T
        if nk > 1:
            h += T1 * np.exp(1j * k) + T1.T * np.exp(-1j * k)
        hk.append(h)
    return np.array(hk), [np.arange(5), np.arange(5, 10)], B


def start_of(B, m1, m2):
    return [cfg.site_occupations([m1], [m1], B), cfg.site_occupations([m2], [m2], B)]


def test_bias_bookkeeping_is_exact_without_interaction():
    """U = 0: the biased solve is the non-interacting problem of h + V_bias, so its biased F equals
    that of the plain solve of the shifted Hamiltonian, and the unbiased F is that minus Tr(V n)."""
    hk, shells, B = chain()
    st = start_of(B, 1, 2)
    zero = [I.dudarev(0.0)] * 2
    r = uhf.solve(hk, shells, zero, 4.0, st, width=0.05, bias=bias.projector_bias(st, 0.7))
    shifted = hk.copy()
    for idx, (pu, _) in zip(shells, st):
        shifted[:, idx[:, None], idx[None, :]] += -0.7 * pu
    ref = uhf.solve(shifted, shells, zero, 4.0, st, width=0.05)
    assert r.converged and ref.converged
    assert r.free_energy + r.bias_energy == pytest.approx(ref.free_energy, abs=1e-8)
    tr = sum(float(np.sum(-0.7 * p * n).real) for (p, _), (n, _) in zip(st, r.occupations)) * 2
    assert r.bias_energy == pytest.approx(tr, abs=1e-8) and r.bias_energy < -0.1
    assert uhf.UHFResult.from_dict(r.to_dict()).bias_energy == pytest.approx(r.bias_energy)


def test_released_branch_does_not_depend_on_the_mixer():
    """At U = 4 eV the start with the lowest orbital doubly occupied on both shells, released from a
    2 eV bias in steps, is the same state with the same F at every step with linear mixing 0.3 and
    with Anderson mixing 0.3; one step rerun from the previous state with three mixers agrees; while
    the bias is on, the biased F lies below the unbiased one."""
    hk, shells, B = chain()
    inter = [I.slater(4.0, 0.5)] * 2
    st = start_of(B, 0, 0)
    lams = [2.0, 1.0, 0.5]
    kw = {"n_tol": 1e-8, "e_tol": 1e-10, "max_iter": 1000}
    runs = [bias.release(hk, shells, inter, 4.0, st, lams + [0.0], 0.05, {**kw, **m}, retries=())
            for m in ({"mixer": "linear", "mixing": 0.3}, {"mixer": "anderson", "mixing": 0.3})]
    for a, b in zip(*(r["steps"][:-1] for r in runs)):
        assert a["converged"] and b["converged"]
        assert a["F"] == pytest.approx(b["F"], abs=1e-7) and a["F_biased"] < a["F"] - 1e-3
    prev = bias.release(hk, shells, inter, 4.0, st, [2.0, 1.0, 0.0], 0.05, kw, retries=())
    state = uhf.solve(hk, shells, inter, 4.0, st, width=0.05, bias=bias.projector_bias(st, 1.0), **kw)
    chk = bias.mixer_check(hk, shells, inter, 4.0, state.occupations, 0.5, 0.05,
                           [{"mixer": "linear", "mixing": 0.3}, {"mixer": "linear", "mixing": 0.5},
                            {"mixer": "anderson", "mixing": 0.3}], kw, targets=st)
    assert all(chk["converged"]) and chk["max |Δn|"] < 1e-6 and chk["max |ΔF| (eV)"] < 1e-7
    assert chk["F (eV)"][0] == pytest.approx(runs[1]["steps"][2]["F"], abs=1e-7)
    assert prev["steps"][1]["F"] == pytest.approx(runs[1]["steps"][1]["F"], abs=1e-7)


def test_bad_input_names_the_parameter():
    hk, shells, B = chain()
    st = start_of(B, 0, 0)
    with pytest.raises(ValueError, match="lambdas"):
        bias.check_lambdas([1.0, 0.5])
    with pytest.raises(ValueError, match="lambdas"):
        bias.check_lambdas([0.5, 1.0, 0.0])
    with pytest.raises(ValueError, match="lambda"):
        bias.projector_bias(st, -1.0)
    with pytest.raises(ValueError, match="bias"):
        uhf.solve(hk, shells, [I.dudarev(1.0)] * 2, 4.0, st, bias=[(np.eye(3), np.eye(3))] * 2)
