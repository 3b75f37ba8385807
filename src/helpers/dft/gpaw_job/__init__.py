"""The GPAW program behind every DFT job: `gpaw python -m helpers.dft.gpaw_job JOB.json OUT`. Nothing imports
it; helpers.dft.jobs starts it in its own MPI process. Stages: calculators (common), LCAO projections
(lcao), Wannier90 (wannier90), DFT+U branches with occupation control (dftu), the sliding path (sliding).
"""
