"""Orbital-order helpers: orbital matching."""
import numpy as np
import pytest

from helpers.models import pd as pd_models


def test_match_to_reorders_and_resigns():
    rng = np.random.default_rng(3)
    ref = np.linalg.qr(rng.normal(size=(5, 5)))[0]
    perm = ref[:, [2, 0, 4, 1, 3]] * np.array([1, -1, 1, -1, 1])
    assert np.allclose(pd_models.match_to(ref, perm), ref)


def test_u_scale_compares_the_drop_of_the_fluctuations_in_both_methods():
    """Diagonal made-up occupations: Tr n(1-n) falls by 0.05 in GPAW and 0.10 in the model from PBE, so GPAW's
    U_eff acts half as strongly and 3 eV of the model's corresponds to 6 eV of GPAW's."""
    import numpy as np
    from helpers.models import pd as pd_models
    occ = lambda x: [np.diag(x)]                          # noqa: E731
    base = [0.5, 0.5, 0.5, 0.2, 0.2]
    # one spin's n(1-n): 3 x 0.25 + 2 x 0.16 = 1.07; both spins 2.14
    gp = [0.5 + 0.1581139, 0.5, 0.5, 0.2, 0.2]          # 0.25 -> 0.225: drop 0.025 per spin, 0.05 both
    hf = [0.5 + 0.2236068, 0.5, 0.5, 0.2, 0.2]          # 0.25 -> 0.20: drop 0.05 per spin, 0.10 both
    r = pd_models.u_scale({"PBE (U = 0)": occ(base), "Hartree-Fock, U_eff = 3 eV": occ(hf), "GPAW DFT+U, U_eff = 3 eV": occ(gp)}, 3.0)
    assert r["drop, GPAW DFT+U"] == pytest.approx(0.05, abs=1e-6)
    assert r["drop, model Hartree-Fock"] == pytest.approx(0.10, abs=1e-6)
    assert r["ratio"] == pytest.approx(0.5, abs=1e-5) and r["GPAW U_eff equivalent (eV)"] == pytest.approx(6.0, abs=1e-3)
    # the other measures of the response: only n1 (and the spread n1 - n5) moves enough; here they agree with Tr n(1-n)
    # to within the nonlinearity of n(1 - n)
    assert set(r["ratio by measure"]) == {"Tr n(1-n)", "n1 - n5", "n1"}
    assert r["ratio by measure"]["n1"] == pytest.approx(0.1581139 / 0.2236068)
    lo, hi = r["ratio range"]
    assert lo == pytest.approx(0.5, abs=1e-5) and hi == pytest.approx(0.7071, abs=1e-4)
    assert r["GPAW U_eff equivalent range (eV)"] == pytest.approx((3.0 / hi, 6.0), abs=1e-3)
