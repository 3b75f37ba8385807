"""Results on disk: cache entries keyed by all their inputs (keys), their manifests and integrity checks
(manifest), loading or computing an entry (cache), resumable checkpoints, schema migration, run settings
(params), paths, reference data from publications (reference) and the code versions of the DFT tasks.
"""
