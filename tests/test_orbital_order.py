"""Orbital-order helpers: orbital matching."""
import numpy as np
import pytest

from helpers import orbital_order as oo


def test_match_to_reorders_and_resigns():
    rng = np.random.default_rng(3)
    ref = np.linalg.qr(rng.normal(size=(5, 5)))[0]
    perm = ref[:, [2, 0, 4, 1, 3]] * np.array([1, -1, 1, -1, 1])
    assert np.allclose(oo.match_to(ref, perm), ref)
