"""The fingerprint of a model: the provenance that keys every cached many-body result computed on it."""
from __future__ import annotations

import hashlib
import json
import numpy as np

from . import wannier as W
from ..store.keys import normalize


def model_fingerprint(model: W.TBModel) -> str:
    """SHA-256 (16 hex digits) identifying a model. A model built from a cached LCAO result is
    identified by its provenance (the LCAO entry, the construction's parameters and recipe version:
    helpers.models.wannier), so the key does not depend on the last digits of H(R), which change with the
    linear-algebra library; any other model by its H(R) rounded to 1e-8 eV. Lattice vectors, shape and
    orbital labels enter both."""
    h = hashlib.sha256()
    prov = model.info.get("provenance")
    if prov is not None:
        h.update(("provenance:" + json.dumps(normalize(prov), sort_keys=True)).encode())
        h.update(str(model.H_R.shape).encode())
    else:
        h.update(np.ascontiguousarray(np.round(model.H_R, 8)).tobytes())
    h.update(np.ascontiguousarray(model.R).tobytes())
    h.update("|".join(model.labels).encode())
    return h.hexdigest()[:16]
