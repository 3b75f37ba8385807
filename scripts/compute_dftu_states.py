"""Compute the DFT+U branches of a profile (helpers.rungs.afo.dftu.plans.SETTINGS) ahead of the AFO page.

    PYTHONPATH=src python scripts/compute_dftu_states.py [paper|smoke] [WTe2]

The same calls as the page's DFT+U section (notebooks/03_afo_order.ipynb): the relaxed d2 layer,
the readings a, b, c of its W-5d Wannier orbitals, then every branch through the cache, so an
interrupted run resumes at the first branch not yet cached and the page afterwards only reads.
"""
import sys
import time

from helpers.models import pd as pd_models
from helpers.rungs.afo import layers as afo_layers
from helpers.rungs.afo.dftu import plans as afo_dftu_plans
from helpers.store import params


def main(profile: str = "paper", material: str = "WTe2") -> None:
    settings = params.settings(profile)
    grid = tuple(pd_models.HF_GRID[profile])
    layers = afo_layers.layer_models(material, settings, "dzp", grid, -1.5, 0.5, [-8.0, 6.0], moments=True)
    scans = afo_layers.scan_defaults(profile)
    path = afo_layers.path_models(material, settings, "dzp", grid, -1.5, 0.5, scans["path_lambdas"], [-8.0, 6.0])
    _, names_from_1T = afo_layers.path_levels(path)
    m = layers["relaxed d2"]
    readings = afo_layers.readings(m, names_from_1T)
    orbs = {r: readings[r]["orbitals"] for r in afo_dftu_plans.SETTINGS[profile]["readings"]}
    metals = [i for i, s in enumerate(m["atoms"].get_chemical_symbols()) if s in ("W", "Mo", "Re")]
    print(f"{len(afo_dftu_plans.branch_jobs(profile, orbs, metals, len(m['atoms'])))} branches at profile {profile}", flush=True)
    t0 = time.time()
    done = afo_dftu_plans.run_branches(m["atoms"], settings, material, orbs)
    done += afo_dftu_plans.run_annealed(m["atoms"], settings, material, orbs["energy order"])
    for j in done:
        st = j["result"]["steps"][-1]
        U = j.get("U_eV", j.get("U_grid", [None])[-1])
        print(f"{j['spin']:10s} U={U:g} {j['reading']:14s} {j['state']:14s} E={st['energy_eV']:.5f} eV"
              f" converged={st['converged']}", flush=True)
    print(f"done in {time.time() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
