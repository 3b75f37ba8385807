"""Shared helpers of the WTe2 antiferro-orbital compendium."""
