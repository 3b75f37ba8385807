"""Everything the valence page shows from DFT+U, read from the cache."""
from __future__ import annotations

import numpy as np

from helpers.dft import layers as dft_layers
from helpers.dft import process as dft_process
from helpers.store import params
from .plans import SETTINGS, run
from .status import claim_verdict
from .steps import FILLED_CHECKS, lowest_states, on_grid, step_rows


def page_results(material: str, settings: dict, only_cached: bool | None = None) -> dict:
    """Everything the valence page shows of the DFT+U annealing: the 1T layer of the AFE page, the
    branches of the profile (computed, or with COMPENDIUM_REQUIRE_CACHE=1 read from the cache only,
    the others named in 'missing'), their rows (step_rows) and the lowest state per U_eff
    (lowest_states), also among the spin-restricted states alone ('lowest restricted': the reading in
    which every state is spin 0, as the paper labels its configurations). 'complete': every planned start
    is computed, so the lowest state is the lowest of the plan. `only_cached` (default: COMPENDIUM_REQUIRE_CACHE=1):
    read the cache and compute nothing (another page reading these branches)."""
    import os

    one_t = dft_process.atoms_from(dft_layers.relax_layer(material, "d2", params.settings(settings["profile"]))["1T"]["final"])
    if only_cached is None:
        only_cached = os.environ.get("COMPENDIUM_REQUIRE_CACHE") == "1"
    branches = run(one_t, settings, material, only_cached=only_cached)
    n_fu = sum(s in ("W", "Mo") for s in one_t.get_chemical_symbols())
    missing = [b["start"] for b in branches if b.get("result") is None]

    # branches with GPAW's other d projectors are another functional, those with other numerics (k grid, smearing)
    # another discretization: each read apart ('projector rows', numerics_reading)
    main = [b for b in branches if b.get("projector_scale", True) and not b.get("overrides")]

    def read(filled_min=None) -> dict:
        rows = step_rows(main, one_t, n_fu, filled_min)
        grid = on_grid(rows)
        for r in rows:          # a finer grid's step in between has no state beside it to be measured from
            if not any(r is g for g in grid):
                r["ΔE (meV/f.u.)"] = np.nan
        restricted = [r for r in grid if r["spin"] == "restricted"]
        return {"rows": rows, "lowest": lowest_states(grid),
                "lowest restricted": lowest_states(restricted) if restricted else []}
    page = {"one_t": one_t, "branches": main, "all branches": branches, **read(), "missing": missing,
            "projector rows": step_rows([b for b in branches if not b.get("projector_scale", True)], one_t, n_fu),
            "projector branches": [b for b in branches if not b.get("projector_scale", True)],
            "numerics branches": [b for b in branches if b.get("overrides")],
            "read_at": SETTINGS.get(settings["profile"], {}).get("read_at", []),
            "projector read_at": SETTINGS.get(settings["profile"], {}).get("projector", {}).get("read_at", []),
            "complete": bool(branches) and not missing, "U_last": main[0]["U_grid"][-1] if main else None,
            "results": [b["result"] for b in branches if b.get("result") is not None]}
    # the threshold of a filled t2g spin-orbital is a choice of ours: the verdict read again at FILLED_CHECKS
    page["threshold checks"] = {f: claim_verdict(dict(page, **read(f))) for f in FILLED_CHECKS}
    return page
