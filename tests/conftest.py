"""Test configuration: notebooks collected by nbmake must never start hours of DFT.

Every notebook test runs with COMPENDIUM_REQUIRE_CACHE=1 unless it explicitly uses an empty
temporary cache (the smoke-profile tests), so a cache miss at the `paper` profile fails fast.
"""
import os

os.environ.setdefault("COMPENDIUM_REQUIRE_CACHE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
