"""The 1T' metal network as a pseudo-spin lattice (helpers.rungs.transition.network): bonds read from a
structure, bond correlations of ordered patterns against hand-counted values, and the coupling fit
(exact recovery, and parameters the patterns cannot separate reported as undetermined)."""
import numpy as np
import pytest
from ase import Atoms

from helpers.rungs.transition import network

# metal positions of a relaxed WTe2 layer (Angstrom; cell a = 3.488 along the chains, b = 6.313)
A, B = 3.4885, 6.3127


def layer():
    return Atoms("W2", positions=[[0.006, -0.447, 9.207], [1.749, 3.610, 9.404]],
                 cell=[A, B, 18.68], pbc=[True, True, False])


def test_bonds_from_the_structure():
    at = layer()
    L = network.bond_lengths_A(at)
    assert at.cell[0, 0] == pytest.approx(A)              # the structure is read, not changed
    assert L["zigzag"] == pytest.approx(2.858, abs=0.01)
    assert L["row"] == pytest.approx(3.4885, abs=1e-3)
    assert L["interchain"] == pytest.approx(4.42, abs=0.01)


def test_undistorted_triangle_is_refused():
    # 1T: all six neighbours at one distance off the axis pair -> one shell, not a zigzag network
    t = Atoms("W", positions=[[0, 0, 5]], cell=[[A, 0, 0], [A / 2, A * 3 ** 0.5 / 2, 0], [0, 0, 10]],
              pbc=[True, True, False])
    with pytest.raises(ValueError, match="shell"):
        network.metal_bonds(t)


@pytest.mark.parametrize("cell, spins, expected", [
    ((1, 1, 1), [1, 1], (1, 1, 1, 1)),                  # FO
    ((1, 1, 1), [1, -1], (0, -1, -1, 1)),               # AFO: W1 and W2 opposite
    ((2, 1, 1), [1, 1, -1, -1], (0, 0, 0, -1)),         # alternating along the chains, period 2a
    ((2, 1, 1), [1, -1, -1, 1], (0, 0, 0, -1)),         # AFO alternating with its partner along a
    # across: W1 and W2 of one primitive cell sit on neighbouring chains (their 4.42 A bond is an
    # interchain one); W1's zigzag partners are the W2 of the cell below, so in the doubled cell
    ((1, 2, 1), [1, -1, -1, 1], (0, 1, -1, 1)),         # 'b2c2|c2b2': each chain uniform, chains alternate
    ((1, 2, 1), [1, 1, -1, -1], (0, -1, 1, 1)),         # 'b2b2|c2c2': AFO along each chain, in phase across
])
def test_bond_correlations_by_hand(cell, spins, expected):
    c = network.correlations(layer(), spins, cell)
    assert (c["m"], c["zigzag"], c["interchain"], c["row"]) == pytest.approx(expected, abs=1e-12)


def _data(J, h=0.7, E0=-3.0):
    pats = {"FO b": ((1, 1, 1), [1, 1]), "FO c": ((1, 1, 1), [-1, -1]), "AFO": ((1, 1, 1), [1, -1]),
            "along": ((2, 1, 1), [1, 1, -1, -1]), "across": ((1, 2, 1), [1, -1, -1, 1]),
            "FO across": ((1, 2, 1), [1, 1, -1, -1])}
    out = {}
    for name, (cell, s) in pats.items():
        c = network.correlations(layer(), s, cell)
        out[name] = (E0 - h * c["m"] - sum(J[k] * c[k] for k in network.BOND_KINDS), c)
    return out


def test_fit_recovers_couplings():
    J = {"zigzag": -40.0, "interchain": 5.0, "row": -2.5}
    f = network.fit(_data(J))
    for k, v in J.items():
        assert f.J_meV[k] == pytest.approx(v, abs=1e-9)
    assert f.h_meV == pytest.approx(0.7) and f.rms_residual_meV < 1e-9 and f.dof == 1


def test_primitive_patterns_fix_only_a_combination():
    J = {"zigzag": -40.0, "interchain": 5.0, "row": -2.5}
    d = {k: v for k, v in _data(J).items() if k in ("FO b", "FO c", "AFO")}
    f = network.fit(d)
    assert "zigzag" not in f.determined and "interchain" not in f.determined
    assert np.isnan(f.J_meV["zigzag"]) and f.h_meV == pytest.approx(0.7)


def test_bad_spins_are_refused():
    with pytest.raises(ValueError, match="spins"):
        network.correlations(layer(), [1, 0], (1, 1, 1))
    with pytest.raises(ValueError, match="kinds"):
        network.fit(_data({"zigzag": 1.0, "interchain": 1.0, "row": 0.0}), kinds=("diagonal",))


def test_the_same_pattern_depends_on_which_w_the_cell_holds():
    # W1 moved by one lattice vector b (as a Wannier model may place it): W1 and W2 of one cell are
    # now zigzag partners, so a pattern named by cell contents means other bonds
    wrapped = layer()
    wrapped.positions[0, 1] += B
    assert network.bond_lengths_A(wrapped) == pytest.approx(network.bond_lengths_A(layer()))
    c = network.correlations(wrapped, [1, -1, -1, 1], (1, 2, 1))
    assert (c["zigzag"], c["interchain"]) == (-1.0, 1.0)
    c = network.correlations(layer(), [1, -1, -1, 1], (1, 2, 1))
    assert (c["zigzag"], c["interchain"]) == (1.0, -1.0)
