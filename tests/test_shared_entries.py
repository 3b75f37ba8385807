"""One physical calculation, one cache entry: the AFE page for 1T'-MoTe2 reuses the relaxations
the generalization page computed (before, it started a new relaxation of the same layer)."""
from helpers.dft import jobs as dft_jobs
from helpers.dft import layers as dft_layers
from helpers.store import keys as cache_keys
from helpers.store import params


def requested(monkeypatch, call):
    names = []

    def fake_submit(job, label, profile, force):
        names.append(cache_keys.entry_name(f"{job['task']}-{label}", profile, job))
        return {"final": job["atoms"], "energy_eV": -1.0, "converged": True, "steps": 1}

    monkeypatch.setattr(dft_jobs, "_submit", fake_submit)
    out = call()
    return names, out


def test_afe_page_reuses_the_generalization_relaxation_of_mote2(monkeypatch):
    settings = params.settings("smoke")
    gen_names, _ = requested(monkeypatch, lambda: dft_layers.relax_computed("MoTe2", settings))
    afe_names, out = requested(monkeypatch, lambda: dft_layers.relax_layer("MoTe2", "d2", settings))
    assert set(afe_names) == set(gen_names) and len(set(afe_names)) == 2
    assert out["distorted"]["start"].startswith("the 1T′ prototype")
    # WTe2, which has an experimental structure, still relaxes from its rattled 1T start
    wte2, res = requested(monkeypatch, lambda: dft_layers.relax_layer("WTe2", "d2", settings))
    assert any("-d2-distorted-" in n for n in wte2) and "start" not in res["distorted"]
