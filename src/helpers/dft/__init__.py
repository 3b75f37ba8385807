"""Density-functional layer: crystal structures and materials, geometry and dipoles of structures, GPAW jobs
(jobs, run in their own MPI processes by the program gpaw_job), the relaxed layers every rung starts from
(layers), occupation control of DFT+U, and the readers of DFT+U steps (branch_steps).
"""
