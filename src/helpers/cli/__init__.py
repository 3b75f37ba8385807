"""`python -m helpers`: executing the pages (notebooks), computing what they need (recompute, workflow), the
book, benchmarks (bench). Nothing imports this package.
"""
