"""Cache keys: the SHA-256 of an entry's normalized inputs, and the entry's folder name."""
from __future__ import annotations

import hashlib
import json


SCHEMA = 2  # bump when the meaning of cached results or of their keys changes


def normalize(o, schema: int = SCHEMA):
    """`o` as plain JSON data in the form keys are hashed from.

    Floats are rounded to 10 significant digits. From schema 2 on, -0.0 becomes 0, a float with
    an integral value becomes an int (400.0 and 400 give one key), and numpy scalars and arrays
    become Python numbers and lists (with schema 1 they were already turned into lists).
    """
    if isinstance(o, bool) or o is None or isinstance(o, str):
        return o
    if isinstance(o, float):
        r = float(f"{o:.10g}")
        if schema >= 2 and r.is_integer() and abs(r) < 1e15:
            return int(r)          # also turns -0.0 into 0
        return r
    if isinstance(o, int):
        return int(o)
    if isinstance(o, dict):
        return {str(k): normalize(v, schema) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [normalize(v, schema) for v in o]
    if hasattr(o, "tolist"):
        return normalize(o.tolist(), schema)
    return o


def canonical(obj, schema: int = SCHEMA) -> str:
    """Deterministic JSON text of `obj` (sorted keys, normalized numbers, see `normalize`)."""
    return json.dumps(normalize(obj, schema), sort_keys=True, separators=(",", ":"))


def key(inputs: dict, schema: int = SCHEMA) -> str:
    """16-hex-digit hash of the canonical JSON of `inputs` (with the cache schema)."""
    return hashlib.sha256(canonical({"schema": schema, **inputs}, schema).encode()).hexdigest()[:16]


def entry_name(kind: str, profile: str, inputs: dict) -> str:
    return f"{kind}-{profile}-{key(inputs)}"
