"""The p-d models of the relaxed layers at each d count (nominal d electrons per W)."""
from __future__ import annotations

import numpy as np

from . import pd as pd_models
from ..dft.process import atoms_from


#: electrons of a filled chalcogen p shell, removed from the p-d count to give the nominal d count
FILLED_P = {"Te": 6, "Se": 6, "S": 6}


def nominal_d_electrons(lcao_result: dict) -> float:
    """Electrons of the p-d manifold minus a filled p shell on every chalcogen: the nominal d count
    of the cell (4 for the two-W cell of WTe2: W4+, d2)."""
    symbols = atoms_from(lcao_result["inputs"]["atoms"]).get_chemical_symbols()
    return pd_models.pd_electrons(lcao_result) - sum(FILLED_P.get(s, 0) for s in symbols)


def layer_models(lcao_result: dict, grid, e_low: float, width: float) -> dict:
    """The two bases of a layer: {'pd': (model, shells, electrons), 'effective': (model, shells,
    nominal electrons)}, and 'local': the crystal-field orbitals a..e of each W (5x5 unitary
    columns, from the effective model, second W matched to the first). The p-d model is checked
    (helpers.models.pd.check_model) before it is used."""
    pd = pd_models.pd_model(lcao_result)
    pd_models.check_model(pd, lcao_result, atoms_from(lcao_result["inputs"]["atoms"]), name="p-d model of the layer")
    eff, _, _ = pd_models.downfold_d(pd, grid, e_low, width)
    return {"pd": (pd, pd_models.d_shells(pd), pd_models.pd_electrons(lcao_result)),
            "effective": (eff, pd_models.d_shells(eff), nominal_d_electrons(lcao_result)),
            "local": [np.real(v) for v in pd_models.site_orbitals(eff)]}
