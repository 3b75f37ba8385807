"""The generalization to ReSe2 and 1T'-MoTe2: symmetry conditions, site levels and verdicts."""
