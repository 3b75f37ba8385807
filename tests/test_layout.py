"""The package's layout is the ladder: layers import one way, modules stay small, no import hides in a function.

Layers, lowest first: store, dft, models, manybody, rungs, book, cli (helpers/__init__.py). A module may import
its own package and any lower layer; a rung may import an earlier rung (valence, afe, afo, fe, generalization,
transition), never a later one; nothing but `python -m helpers` imports the command line; nothing imports the
GPAW program (dft.gpaw_job), which may use models (it builds our Wannier functions on its Bloch states)."""
import ast
import json
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "helpers"
LAYERS = ["store", "dft", "models", "manybody", "rungs", "book", "cli"]
RUNGS = ["robustness", "typeset", "valence", "afe", "afo", "fe", "generalization", "transition"]
MAX_LINES = 420                       # "about 400"
#: Where imports of helpers stay inside functions on purpose: the GPAW program imports only what its stage
#: needs under MPI (and its functions keep the syntax their recorded code versions hash).
LAZY = ("dft.gpaw_job",)


def module_name(p: Path) -> str:
    parts = list(p.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(SRC.rglob("*.py"))}


def imports(name: str) -> list[tuple[str, bool]]:
    """(imported helpers module, inside a function?) for every import statement of module `name`."""
    p = MODULES[name]
    package = name.split(".") if p.name == "__init__.py" else name.split(".")[:-1]
    tree = ast.parse(p.read_text())
    top = {id(n) for n in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1] + (node.module.split(".") if node.module else [])
            elif (node.module or "").split(".")[0] == "helpers":
                base = node.module.split(".")[1:]
            else:
                continue
            for a in node.names:
                cand = ".".join(base + [a.name])
                found.append((cand if cand in MODULES else ".".join(base), id(node) not in top))
        elif isinstance(node, ast.Import):
            found += [(a.name.split(".", 1)[1], id(node) not in top) for a in node.names
                      if a.name.startswith("helpers.")]
    return found


def rank(name: str) -> tuple:
    """(layer, rung) of a module; the package root ranks below everything."""
    parts = name.split(".")
    if parts == [""] or parts[0] in ("", "__main__"):
        return (len(LAYERS), 0) if parts[0] == "__main__" else (-1, 0)
    layer = LAYERS.index(parts[0])
    rung = RUNGS.index(parts[1]) if parts[0] == "rungs" and len(parts) > 1 else -1
    return (layer, rung)


def test_every_module_sits_in_a_layer_and_says_what_it_computes():
    for name, p in MODULES.items():
        if name in ("", "__main__"):
            continue
        assert name.split(".")[0] in LAYERS, f"{name}: outside the layers {LAYERS}"
        assert ast.get_docstring(ast.parse(p.read_text())), f"{name}: no docstring"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_imports_run_one_way(name):
    for target, _ in imports(name):
        if not target or target == name:
            continue
        assert target in MODULES, f"{name} imports {target}, which does not exist"
        if name == "__main__":
            continue
        assert not target.startswith("cli") or name.startswith("cli"), f"{name} imports the command line ({target})"
        assert not target.startswith("dft.gpaw_job") or name.startswith("dft.gpaw_job"), \
            f"{name} imports the GPAW program ({target}); start it with helpers.dft.jobs"
        if name.startswith("dft.gpaw_job") and target.startswith("models"):
            continue                  # the program builds our Wannier functions on its Bloch states
        assert rank(target) <= rank(name), \
            f"{name} (layer {rank(name)}) imports {target} (layer {rank(target)}): imports must run down the ladder"


#: The rung each page shows (the introduction and the scorecard read them all).
PAGE_RUNG = {"01_valence": "valence", "02_afe_lattice": "afe", "03_afo_order": "afo", "04_fe_dipole": "fe",
             "05_generalization": "generalization", "06_transition": "transition"}


@pytest.mark.parametrize("page", sorted(PAGE_RUNG))
def test_a_page_uses_its_rung_and_earlier_ones(page):
    """A page imports the helpers of its own rung and of earlier rungs, never of a later one (which would make
    an earlier rung's verdict depend on a later rung's code)."""
    nb = json.loads((SRC.parents[1] / "notebooks" / f"{page}.ipynb").read_text())
    own = RUNGS.index(PAGE_RUNG[page])
    for cell in nb["cells"]:
        if cell["cell_type"] != "code":
            continue
        code = "".join(l if not l.lstrip().startswith(("%", "!")) else "\n" for l in cell["source"])
        for node in ast.walk(ast.parse(code)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("helpers.rungs."):
                rung = node.module.split(".")[2]
                assert RUNGS.index(rung) <= own, f"{page} imports {node.module}, a later rung than {PAGE_RUNG[page]}"


def test_no_import_of_helpers_hides_in_a_function():
    for name in MODULES:
        if name.startswith(LAZY):
            continue
        lazy = sorted({t for t, inside in imports(name) if inside})
        assert not lazy, f"{name} imports {lazy} inside a function: import it at the top (a cycle is a layout error)"


def test_no_import_cycle():
    graph = {n: {t for t, _ in imports(n) if t in MODULES and t != n} for n in MODULES}
    state = {}

    def visit(n, path):
        state[n] = 1
        for t in graph[n]:
            if state.get(t) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(t):] + [t]) if t in path
                                     else f"import cycle through {n} -> {t}")
            if t not in state:
                visit(t, path + [t])
        state[n] = 2
    for n in graph:
        if n not in state:
            visit(n, [n])


def test_modules_stay_small():
    sizes = {n: len(p.read_text().splitlines()) for n, p in MODULES.items()}
    big = {n: s for n, s in sizes.items() if s > MAX_LINES}
    assert not big, f"modules over {MAX_LINES} lines: {big}"


def test_one_hartree_fock_solver():
    """The unrestricted engine (manybody.uhf) is the only self-consistent mean-field solver: the only module with
    functions that take a mixing fraction (its solve, and the spin-restricted use of it)."""
    solvers = [f"{n}.{d.name}" for n, p in MODULES.items() for d in ast.parse(p.read_text()).body
               if isinstance(d, ast.FunctionDef) and "mixing" in [a.arg for a in d.args.args + d.args.kwonlyargs]]
    assert {s.rsplit(".", 1)[0] for s in solvers} == {"manybody.uhf"} and "manybody.uhf.solve" in solvers, solvers
