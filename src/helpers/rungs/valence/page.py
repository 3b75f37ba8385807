"""Everything the valence page shows from the model mean field, computed or read from the cache."""
from __future__ import annotations

from helpers.dft import jobs as dft_jobs
from helpers.dft import layers as dft_layers
from helpers.dft import process as dft_process
from helpers.manybody.layer import BASES, PD_COUNTS, anneal_layer, eg_background, interactions_at, u_grid, valence_starts
from helpers.models import pd as pd_models
from helpers.models.layer import layer_models
from helpers.store import params
from .mean_field import core_starts, probe_survivors, robustness_variants


# --- grids, settings and the notebook's tables and figures -----------------------------------------
#: Annealing step in U (eV) per profile.
ANNEAL_STEP = {"smoke": 2.5, "paper": 0.5}


def page_results(material: str = "WTe2", profile: str = "paper", U_max: float = 10.0, U_min: float = 3.0,
                 U_step: float | None = None, interaction: str = "slater", J: float = 0.5, dc: str = "FLL",
                 f4_over_f2: float = 0.625, width: float = 0.05, grid=None, e_low: float = -1.5,
                 window_width: float = 0.5, basis: str = "dzp", robustness: bool = True,
                 settings: dict | None = None) -> dict:
    """Everything the valence page computes (cached): the 1T layer of the AFE page, its LCAO and the
    two models, the starts, the annealing in both bases with the page's interaction, and, with
    `robustness`, the effective-basis annealing from the core starts for the other interactions
    (`robustness_variants`). Returns {one_t, lcao, models, U_grid, grid, starts, runs (effective
    basis: main and variants), main (its name), pd (the p-d run)}."""
    settings = settings or params.settings(profile)
    grid = tuple(pd_models.HF_GRID[profile] if grid is None else grid)
    U_grid = u_grid(U_max, U_min, ANNEAL_STEP[profile] if U_step is None else U_step)
    interactions_at(interaction, J, dc, f4_over_f2)
    lattice = dft_layers.relax_layer(material, "d2", params.settings(profile))
    one_t = dft_process.atoms_from(lattice["1T"]["final"])
    lcao = dft_jobs.lcao(one_t, settings, f"{material}-1T", basis=basis)
    models = layer_models(lcao, grid, e_low, window_width)
    bg = eg_background(models["pd"][0], models["pd"][2], models["local"], grid, width)
    starts = {"effective": valence_starts(models["local"]),
              "pd": valence_starts(models["local"], PD_COUNTS, first_only=True, background=bg)}
    run = {b: anneal_layer(f"{material}-1T", profile, models, b, starts[b], U_grid, grid, interaction, J, dc,
                           f4_over_f2, width) for b in BASES}
    main = f"{interaction}, J = {J:g} eV, {dc} (main)"
    runs = {main: run["effective"]}
    probes = {main: probe_survivors(f"{material}-1T", profile, models, "effective", run["effective"],
                                    interaction, J, dc, f4_over_f2, width),
              "pd": probe_survivors(f"{material}-1T", profile, models, "pd", run["pd"],
                                    interaction, J, dc, f4_over_f2, width)}
    if robustness:
        core = core_starts(starts["effective"])
        for name, v in robustness_variants(interaction, J, dc).items():
            runs[name] = anneal_layer(f"{material}-1T", profile, models, "effective", core, U_grid, grid,
                                      v["interaction"], v["J"], v["dc"], f4_over_f2, width)
            probes[name] = probe_survivors(f"{material}-1T", profile, models, "effective", runs[name],
                                           v["interaction"], v["J"], v["dc"], f4_over_f2, width)
    return {"one_t": one_t, "lcao": lcao, "models": models, "U_grid": U_grid, "grid": grid, "starts": starts,
            "runs": runs, "main": main, "pd": run["pd"], "probes": probes}
