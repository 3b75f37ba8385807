"""The energy scales of the introduction: read from the committed paper cache, each consistent with
the page it comes from; nothing computed when the cache is empty; bad input refused."""
import os

import pytest
import yaml

from helpers.book import scales
from helpers.models import pd as pd_models
from helpers.rungs.afe import structure as afe_structure
from helpers.store import params
from helpers.store.paths import ROOT, cache_dir


@pytest.fixture(scope="module")
def models():
    return scales._relaxed_d2_models("paper")


def test_pages_are_chapters_of_the_book():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = {c["file"] for part in toc["parts"] for c in part["chapters"]}
    assert set(scales.PAGES.values()) <= files


def test_thermal_energies():
    kt = scales.thermal_energies()
    assert list(kt) == ["k_B T at 350 K (ferroelectric order)", "k_B T at 565 K (Td–1T′ transition)"]
    assert kt["k_B T at 350 K (ferroelectric order)"] == pytest.approx(0.030161, abs=1e-6)   # 350 K in eV


def _last_gpaw_energy(entry: str) -> tuple[float, int]:
    """Total energy (eV, the last 'Extrapolated:' line of the entry's GPAW text logs) and the number
    of W atoms (from its trajectory): read from the raw files, not from result.json."""
    from ase.io import read
    d = cache_dir() / entry
    logs = sorted(d.glob("gpaw*.txt"))
    lines = [ln for log in logs for ln in log.read_text().splitlines() if ln.strip().startswith("Extrapolated:")]
    n_w = read(d / "relax.traj", index=-1).get_chemical_symbols().count("W")
    return float(lines[-1].split()[1]), n_w


def test_distortion_energy_from_the_raw_gpaw_logs():
    # an independent route: the energies GPAW printed in its own logs, per W counted in the trajectory
    s = scales.distortion_energy("paper")
    (e_a, n_a), (e_b, n_b) = (_last_gpaw_energy(e) for e in s.entries)
    assert n_a == n_b == 2
    energies = {e.split("-paper-")[0].rsplit("-", 1)[-1]: x for e, x in zip(s.entries, (e_a, e_b))}
    assert set(energies) == {"1T", "distorted"}
    assert s.value_eV == pytest.approx((energies["1T"] - energies["distorted"]) / n_a, abs=2e-6)  # log: 6 decimals
    assert s.computed and 0.3 < s.value_eV < 1.5                       # an eV-scale energy per f.u.


def test_candidate_distortion_energy_is_the_generalization_pages_number():
    from helpers.dft import layers as dft_layers
    s = scales.candidate_distortion_energy("paper", "MoTe2")
    r = dft_layers.relax_computed("MoTe2", params.settings("paper"))
    n_fu = len(r["1T"]["final"]["symbols"]) // 3
    assert s.value_eV == pytest.approx((r["1T"]["energy_eV"] - r["1Tprime"]["energy_eV"]) / n_fu, rel=1e-12)
    assert s.computed and len(s.entries) == 2 and s.page == scales.PAGES["generalization"]
    # regression checks of the committed results (not physics the code could break): an eV-scale
    # energy, and Mo-4d distorting less than W-5d
    assert 0.3 < s.value_eV < 1.5
    assert s.value_eV < scales.distortion_energy("paper").value_eV


def test_charging_energy_is_the_papers_annealing_end_point():
    # the U at which the cached annealing (its raw result file) ends, against the paper's value
    import json
    from helpers.store import reference
    s = scales.charging_energy("paper")
    grid = json.loads((cache_dir() / s.entries[0] / "result.json").read_text())["inputs"]["U_grid"]
    assert s.value_eV == min(grid) and grid[0] > grid[-1]             # annealed downwards, ends at its minimum
    assert s.value_eV == pytest.approx(reference.get("realistic_U_eV")["value"])
    assert not s.computed


def test_afo_fo_difference_is_second_order_in_the_hoppings(models):
    # virtual hopping: E2 ~ t^2 / (U + crystal-field differences), so doubling U nearly halves it
    s3 = scales.afo_fo_difference("paper", U=3.0, models=models)
    s6 = scales.afo_fo_difference("paper", U=6.0, models=models)
    assert 1.6 < s3.value_eV / s6.value_eV < 2.2
    assert s3.value_eV > 0 and ("AFO lower" in s3.name or "FO lower" in s3.name)


def test_dipole_coupling_from_both_sites_in_SI(models):
    # independent of the inversion the scale assumes: the AFO partners' dipoles summed from the rows of
    # W1 AND W2 (b2c2: W1 in b, W2 in c), and the energy p E computed in SI (C m x V/m -> J -> eV)
    from scipy.constants import e
    from helpers.rungs.afo import dipoles as afo_dipoles
    a = scales.dipole_field_coupling("paper", field_V_per_nm=0.1, models=models)
    rows = [r for r in afo_dipoles.orbital_dipole_rows(models, 1.0) if r["reading"] == scales.SUB_EV["reading"]]
    p = {(r["W"], r["orbital"]): r["p_z (e·Å)"] for r in rows}
    dp_eA = abs((p[1, "b"] + p[2, "c"]) - (p[1, "c"] + p[2, "b"]))
    n_fu = len(pd_models.metal_atoms(models["eff"]))
    split_eV = dp_eA * e * 1e-10 * 0.1e9 / e / n_fu                     # p (C m) E (V/m) in J, / e -> eV
    assert a.value_eV == pytest.approx(split_eV, rel=0.02)             # W2 = -W1 within the inversion residue
    assert 1e-5 < a.value_eV < 1e-2                # a sub-meV-to-meV coupling for a 0.1 V/nm field


def test_collect_computes_nothing_when_the_cache_is_empty(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPENDIUM_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("COMPENDIUM_REQUIRE_CACHE", raising=False)
    out = scales.collect("paper")
    assert out["scales"] == [] and len(out["skipped"]) == 8                 # two of them on the transition page
    assert all("not in the cache (missing: `" in reason for _, _, reason in out["skipped"])
    assert not [p for p in (tmp_path / "cache").rglob("result.json")]      # no job ran
    assert "COMPENDIUM_REQUIRE_CACHE" not in os.environ                      # restored


@pytest.mark.parametrize("kw,name", [({"U": 0.0}, "U"), ({"field_V_per_nm": -0.1}, "field_V_per_nm"),
                                     ({"profile": "fast"}, "profile")])
def test_bad_input_is_refused(kw, name):
    with pytest.raises(ValueError, match=name):
        scales.collect(**{"profile": "paper", **kw})


def test_table_has_one_row_per_scale_with_a_link(models):
    from test_captions import gfm_cells
    found = {"scales": [scales.distortion_energy("paper"), scales.afo_fo_difference("paper", models=models)],
             "skipped": [("orbital polarization", scales.PAGES["orbitals"], "none | found")],
             "thermal": scales.thermal_energies()}
    rows = gfm_cells(scales.table_markdown(found))
    assert [len(r) for r in rows] == [4] * 6
    assert rows[1][1].endswith(" meV") and rows[3][2] == "not shown: none | found"
