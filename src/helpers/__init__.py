"""Code of the WTe2 antiferro-orbital compendium, in layers that follow the paper's ladder of energy scales.

    store     results on disk: cache entries keyed by their inputs, manifests, checkpoints, parameters, paths
    dft       crystal structures and GPAW calculations (relaxations, LCAO, Wannier90, DFT+U branches)
    models    tight-binding models of the W-5d and Te-5p bands built on the DFT results
    manybody  interactions, unrestricted Hartree-Fock, annealing in U, exact diagonalization
    rungs     one package per page of the book: valence, afe, afo, fe, generalization, transition; robustness
              and typeset are shared by all rungs
    book      what the pages show: captions, tables, figures, verdict boxes, scorecard, page parameters
    cli       `python -m helpers`: executing the pages, computing what they need, the book

A module imports only from its own package or a layer earlier in this list (lower on the ladder), a rung also
from an earlier rung; nothing imports the command line. One exception: the GPAW program dft.gpaw_job builds our
projected Wannier functions (models) on the Bloch states of its Wannier90 stage.
"""
