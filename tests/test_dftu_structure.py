"""helpers.rungs.afo.dftu.structure: the AFO page's DFT+U test repeated on the experimental layer — its jobs and cache
labels stay apart from the relaxed layer's (whose keys must not move), a layer mix-up is refused by name, and
the verdict-box line compares the two layers at equal occupation, on made-up releases."""
import numpy as np
import pytest

from helpers.dft import jobs as dft_jobs
from helpers.rungs.afo.dftu import plans as afo_dftu_plans
from helpers.rungs.afo.dftu import structure as afo_dftu_structure

EYE = np.eye(5)
METALS = [0, 1]


def test_the_experimental_jobs_name_their_layer_and_the_relaxed_ones_are_unchanged():
    jobs = afo_dftu_structure.jobs("paper", EYE, METALS)
    assert [j["state"] for j in jobs] == ["unbiased", "a2a2", "b2b2", "c2c2"]
    assert all(j["layer"] == "experiment" and "experimental layer" in j["protocol"] for j in jobs if j["state"] != "unbiased")
    relaxed = afo_dftu_plans.annealed_jobs("paper", {r: EYE for r in ("energy order", "local octahedral frame")}, METALS)
    assert {j["layer"] for j in relaxed} == {"relaxed d2"}
    assert not any("layer" in j["protocol"] for j in relaxed)
    # the relaxed protocol the experimental one is set beside is a real protocol of the page, with its a2a2 control
    assert any(j["protocol"] == afo_dftu_structure.relaxed_protocol(6.0) and j["state"] == "a2a2" for j in relaxed)
    assert afo_dftu_structure.jobs("smoke", EYE, METALS) == []


def test_cache_labels_name_the_layer_and_a_mix_up_is_refused(monkeypatch):
    from ase import Atoms
    atoms = Atoms("W2Te4", positions=np.zeros((6, 3)), cell=[3.5, 6.3, 20], pbc=[1, 1, 0])
    labels = []
    monkeypatch.setattr(dft_jobs, "dftu_branch_or_none", lambda only, at, s, label, *a, **k: labels.append(label))
    settings = {"profile": "paper"}
    afo_dftu_structure.run(atoms, settings, "WTe2", {"energy order": EYE})
    assert set(labels) == {"WTe2-experiment-anneal6-NM"}
    labels.clear()
    afo_dftu_plans.run_annealed(atoms, settings, "WTe2", {r: EYE for r in ("energy order", "local octahedral frame")},
                                select=lambda j: j["protocol"] == afo_dftu_structure.relaxed_protocol(6.0))
    assert labels and set(labels) == {"WTe2-relaxed-d2-anneal6-NM"}
    with pytest.raises(ValueError, match="layer='relaxed d2'.*experiment"):
        afo_dftu_plans.run_annealed(atoms, settings, "WTe2", {"energy order": EYE}, protocols=afo_dftu_structure.protocols("paper"))
    with pytest.raises(ValueError, match="layer='moon'"):
        afo_dftu_plans.annealed_jobs("paper", EYE, METALS, [{"U_grid": [6.0], "subspace": True, "layer": "moon",
                                                             "starts": ["unbiased"], "release": [1.0, 0.0], "maxiter": [8, 8]}])


def _filled(v, n1):
    """A W's (N_up, N_dn): orbital v filled to n1 (both spins), the rest of the d shell at 0.5."""
    v = np.asarray(v, float) / np.linalg.norm(v)
    n = 0.5 * np.eye(5) + (n1 - 0.5) * np.outer(v, v)
    return (0.5 * n).tolist(), (0.5 * n).tolist()


def _job(state, protocol, energies, n1s, orb):
    """A released branch at 6 eV: one biased step per (E_constrained, n1) and the unbiased end (n1 0.5)."""
    lams = [1.0, 0.5, 0.25][:len(energies)] + [0.0]
    steps = []
    for lam, E, n1 in zip(lams, list(energies) + [0.0], list(n1s) + [0.5]):
        occ = _filled(orb, n1)
        steps.append({"U_eV": 6.0, "lambda_eV": lam, "energy_eV": E, "bias_energy_eV": 0.0, "converged": True,
                      "occupations": {"0": occ, "1": occ}, "dipole_eA": [0, 0, 0.0]})
    return {"state": state, "protocol": protocol, "spin": "restricted", "U_grid": [6.0], "reading": "energy order",
            "orbitals": EYE, "result": {"steps": steps}}


def _jobs(protocol, b_minus_a_eV):
    """Unbiased reference, a2a2 control and b2b2 with E(b2b2) - E(a2a2) = b_minus_a_eV per cell at n1 1.6-1.8."""
    ref = _job("unbiased", protocol, [], [], EYE[0])
    ref["result"]["steps"] = ref["result"]["steps"][-1:]
    return [ref, _job("a2a2", protocol, [1.0, 0.6], [1.8, 1.6], EYE[0]),
            _job("b2b2", protocol, [1.0 + b_minus_a_eV, 0.6 + b_minus_a_eV], [1.8, 1.6], EYE[1])]


@pytest.mark.parametrize("exp_gap, disagree", [(0.4, False), (-0.4, True)])
def test_the_layer_line_compares_both_layers_at_equal_occupation(monkeypatch, exp_gap, disagree):
    """b2b2 400 meV/cell (200 meV/f.u.) above a2a2 on the relaxed layer; on the experimental layer above or
    below by as much: below it reaches the paper's 100 meV/f.u. and the line says the layers disagree."""
    exp_protocol = afo_dftu_plans.annealed_protocol(6.0, True, "b2b2", "experimental layer", annealed=False)
    relaxed = _jobs(afo_dftu_structure.relaxed_protocol(6.0), 0.4)
    # a start the experimental layer does not plan (d2d2, far above) is left out of the relaxed layer's range
    relaxed.append(dict(_job("d2d2", afo_dftu_structure.relaxed_protocol(6.0), [3.0, 2.6], [1.8, 1.6], EYE[1] + EYE[2])))
    monkeypatch.setattr(afo_dftu_structure, "run", lambda *a, **k: _jobs(exp_protocol, exp_gap))
    page = afo_dftu_structure.page_results("WTe2", {"profile": "paper"}, {"atoms": _atoms()}, {"energy order": {"orbitals": EYE}},
                                           relaxed, 100.0, only_cached=False)
    assert page["U (eV)"] == 6.0
    assert page["layers"]["relaxed"]["margins"]["b2b2"] == pytest.approx({1.6: 200.0, 1.7: 200.0, 1.8: 200.0})
    exp = page["layers"]["experimental"]["margins"]["b2b2"]
    assert min(exp.values()) == pytest.approx(500 * exp_gap)
    line = afo_dftu_structure.layer_line(page)
    assert "relaxed layer +200 to +200" in line
    assert ("the two layers disagree" in line) is disagree
    assert ("reached by b2b2" in line) is disagree


def test_an_uncomputed_layer_is_named_as_such_and_smoke_adds_no_line(monkeypatch):
    monkeypatch.setattr(afo_dftu_structure, "run", lambda *a, **k: [dict(j, result=None) for j in afo_dftu_structure.jobs("paper", EYE, METALS)])
    page = afo_dftu_structure.page_results("WTe2", {"profile": "paper"}, {"atoms": _atoms()}, {"energy order": {"orbitals": EYE}},
                                           _jobs(afo_dftu_structure.relaxed_protocol(6.0), 0.4), 100.0, only_cached=False)
    line = afo_dftu_structure.layer_line(page)
    assert "experimental layer: no b or c start computed" in line and "Not computed yet" in line
    assert len(page["missing"]) == 4
    monkeypatch.setattr(afo_dftu_structure, "run", lambda *a, **k: [])
    assert afo_dftu_structure.layer_line(afo_dftu_structure.page_results("WTe2", {"profile": "smoke"}, {"atoms": _atoms()}, {}, [], 100.0,
                                                                         only_cached=False)) == ""


def _atoms():
    from ase import Atoms
    return Atoms("W2Te4", positions=np.zeros((6, 3)), cell=[3.5, 6.3, 20], pbc=[1, 1, 0])
