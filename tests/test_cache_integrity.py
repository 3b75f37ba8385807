"""Cache integrity (manifests, refusal of damaged entries, migration, verify) and the fast,
guarded rebuild (`execute` skips unchanged notebooks; non-converged paper results stop the book)."""
import ast
import json
import shutil

import nbformat
import pytest

from helpers.cli import main as cli_main
from helpers.cli import notebooks as cli_notebooks
from helpers.store import cache
from helpers.cli import recompute
from helpers.store import keys as cache_keys
from helpers.store import manifest as store_manifest
from helpers.store import migrate
from helpers.store import paths
from helpers.store.paths import DATA, ROOT


def snapshot(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def tmp_cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("COMPENDIUM_CACHE", str(root))
    monkeypatch.delenv("COMPENDIUM_REQUIRE_CACHE", raising=False)
    monkeypatch.delenv("COMPENDIUM_READ_LOG", raising=False)

    def compute(work):
        (work / "log.txt").write_text("GPAW log\n" * 100)
        return {"value": 1.5, "converged": True}

    a = cache.cached("toy", "paper", {"x": 1}, compute)
    b = cache.cached("toy", "paper", {"x": 2}, compute)
    return root, a["key"], b["key"], compute


def test_new_entry_has_a_manifest_of_every_file(tmp_cache):
    root, a, _, _ = tmp_cache
    manifest = json.loads((root / a / "manifest.json").read_text())
    assert set(manifest["files"]) == {"inputs.json", "log.txt", "result.json"}
    assert store_manifest.problems(root / a) == []


@pytest.mark.parametrize("damage,problem", [
    (lambda e: (e / "log.txt").write_bytes((e / "log.txt").read_bytes()[:50]), "truncated"),
    (lambda e: (e / "result.json").write_text((e / "result.json").read_text().replace("1.5", "2.5")), "altered"),
    (lambda e: (e / "log.txt").unlink(), "missing"),
    (lambda e: (e / "manifest.json").unlink(), "no manifest.json"),
])
def test_damaged_entry_is_refused_and_nothing_else_changes(tmp_cache, damage, problem):
    root, a, b, compute = tmp_cache
    damage(root / a)
    before = snapshot(root)
    with pytest.raises(store_manifest.CacheCorrupt) as err:
        cache.cached("toy", "paper", {"x": 1}, compute)
    msg = str(err.value)
    assert a in msg and problem in msg
    assert f"python -m helpers recompute --profile paper --entry {a}" in msg
    assert snapshot(root) == before                      # refused entry left as it is, nothing else touched
    assert cache.cached("toy", "paper", {"x": 2}, compute)["key"] == b   # the other entry still serves
    with pytest.raises(SystemExit) as code:
        cli_main.main(["verify"])
    assert code.value.code == 1


def test_keys_are_normalized():
    assert cache_keys.key({"charge": -0.0, "e": 400.0}) == cache_keys.key({"charge": 0.0, "e": 400})
    assert cache_keys.key({"charge": -0.0}, schema=1) != cache_keys.key({"charge": 0.0}, schema=1)
    assert cache_keys.key({"a": 0.1}) != cache_keys.key({"a": 0.1000001})


def test_a_dftu_job_written_with_other_orbital_signs_reads_the_same_entry(tmp_cache, monkeypatch):
    """Target orbitals are fixed by an eigensolver only up to sign, and a degenerate pair of the subspace up to a
    rotation; the bias sees their projectors, so such a job is the committed entry (helpers.dft.jobs.same_dftu_job),
    while a job with another target is not."""
    import numpy as np
    from helpers.dft import jobs as dft_jobs
    c, s = np.cos(0.3), np.sin(0.3)
    e = np.eye(5)
    sub = [e[0], e[1], e[2]]
    job = {"task": "dftu_branch", "U_grid": [8, 3], "targets": {"0": {"both": [e[1].tolist()], "subspace": [v.tolist() for v in sub]}}}
    calls = []

    def compute(work):
        calls.append(1)
        return {"converged": True}

    first = cache.cached("dftu_branch-toy", "paper", job, compute, same=dft_jobs.same_dftu_job)
    rotated = [e[0], c * e[1] + s * e[2], -s * e[1] + c * e[2]]
    other = {**job, "targets": {"0": {"both": [(-e[1]).tolist()], "subspace": [v.tolist() for v in rotated]}}}
    assert cache_keys.entry_name("dftu_branch-toy", "paper", other) != first["key"]
    monkeypatch.setenv("COMPENDIUM_REQUIRE_CACHE", "1")
    assert cache.cached("dftu_branch-toy", "paper", other, compute, same=dft_jobs.same_dftu_job)["key"] == first["key"]
    assert len(calls) == 1
    moved = {**job, "targets": {"0": {"both": [e[2].tolist()], "subspace": [v.tolist() for v in sub]}}}
    assert not dft_jobs.same_dftu_job(cache_keys.normalize(job), cache_keys.normalize(moved))
    with pytest.raises(cache.CacheMiss):
        cache.cached("dftu_branch-toy", "paper", moved, compute, same=dft_jobs.same_dftu_job)
    assert not dft_jobs.same_dftu_job(cache_keys.normalize(job), cache_keys.normalize({**job, "U_grid": [8, 4]}))
    n = cache_keys.normalize
    spin = {**job, "targets": {"0": {"up": [e[1].tolist()], "dn": []}}}
    swapped = {**job, "targets": {"0": {"up": [], "dn": [e[1].tolist()]}}}
    assert not dft_jobs.same_dftu_job(n(spin), n(swapped))                            # which spin is biased matters
    assert not dft_jobs.same_dftu_job(n(job), n(spin))                                # restricted is not polarized
    bare = {**job, "targets": {"0": {"both": [e[1].tolist()]}}}
    assert not dft_jobs.same_dftu_job(n(job), n(bare))                                # a subspace on one side only
    two = {**job, "targets": {"0": {"both": [e[1].tolist(), e[2].tolist()], "subspace": [v.tolist() for v in sub]}}}
    assert not dft_jobs.same_dftu_job(n(job), n(two))                                 # another count of targets
    # an entry whose stored inputs no longer give its name (another cache schema, a renamed directory) is no twin
    entry = paths.cache_dir() / first["key"]
    data = json.loads((entry / "result.json").read_text())
    data["inputs"]["U_grid"] = [8, 3.5]
    (entry / "result.json").write_text(json.dumps(data))
    assert cache.equivalent_entry("dftu_branch-toy", "paper", other, dft_jobs.same_dftu_job) is None


def test_migration_rekeys_a_schema1_entry_with_minus_zero(tmp_path):
    root = tmp_path / "cache"
    inputs = {"charge": -0.0, "positions": [[-0.0, 1.0]], "task": "scf"}
    old = f"scf-toy-paper-{cache_keys.key(inputs, schema=1)}"
    (root / old).mkdir(parents=True)
    result = {"kind": "scf-toy", "profile": "paper", "key": old, "inputs": inputs, "energy_eV": -1.25,
              "converged": True}
    (root / old / "result.json").write_text(json.dumps(result, indent=1, sort_keys=True))
    (root / old / "gpaw.txt").write_text("log")
    store_manifest.write_manifest(root / old)              # recorded when it was computed
    new = f"scf-toy-paper-{cache_keys.key({'charge': 0.0, 'positions': [[0.0, 1]], 'task': 'scf'})}"
    assert new != old
    assert migrate.migrate(root) == [f"migrated {old} -> {new}"]
    assert not (root / old).exists() and store_manifest.problems(root / new) == []
    moved = json.loads((root / new / "result.json").read_text())
    assert moved.pop("key") == new and result.pop("key") == old and moved == result
    assert (root / new / "gpaw.txt").read_text() == "log"
    assert migrate.migrate(root) == [f"current {new}"]            # idempotent
    assert migrate.verify_all(root) == [(new, [])]


def old_entry(root, inputs=None):
    """A schema-1 entry (its name the schema-1 key) with the manifest recorded when it was made."""
    inputs = inputs or {"charge": -0.0}
    old = f"scf-toy-paper-{cache_keys.key(inputs, schema=1)}"
    (root / old).mkdir(parents=True)
    (root / old / "result.json").write_text(json.dumps({"kind": "scf-toy", "profile": "paper", "key": old,
                                                        "inputs": inputs, "energy_eV": -1.0}))
    (root / old / "log.txt").write_text("GPAW log")
    store_manifest.write_manifest(root / old)
    return old, f"scf-toy-paper-{cache_keys.key(inputs)}"


def test_migration_resumes_after_an_interruption(tmp_path):
    root = tmp_path / "cache"
    old, new = old_entry(root)
    # interrupted while building the new entry: a half-made staging folder, the old entry intact
    (root / f".migrate-{new}").mkdir()
    (root / f".migrate-{new}" / "result.json").write_text("{")
    assert migrate.migrate(root) == [f"migrated {old} -> {new}"]
    assert migrate.verify_all(root) == [(new, [])]
    assert sorted(p.name for p in root.iterdir()) == [new]


def test_migration_finishes_a_rename_that_was_interrupted(tmp_path):
    root = tmp_path / "cache"
    old, new = old_entry(root)
    shutil.copytree(root / old, root / new)
    assert migrate.migrate_entry(root / new).startswith("key field updated")   # the new one is made
    assert migrate.migrate(root) == [f"migrated {old} -> {new}", f"current {new}"]
    assert migrate.verify_all(root) == [(new, [])]


@pytest.mark.parametrize("damage,problem", [
    (lambda e: (e / "manifest.json").unlink(), "no manifest.json"),
    (lambda e: (e / "result.json").write_text((e / "result.json").read_text().replace("-1.0", "-2.0")), "altered"),
    (lambda e: (e / "log.txt").write_text("GPAW"), "truncated"),
])
def test_migrate_refuses_what_it_cannot_check(tmp_path, damage, problem, capsys):
    """A deleted manifest and an edited number: `migrate` refuses the entry (before, it wrote a
    fresh manifest over the edited file and `verify` then called every entry verified)."""
    root = tmp_path / "cache"
    old, new = old_entry(root)
    damage(root / old)
    before = snapshot(root)
    lines = migrate.migrate(root)
    assert len(lines) == 1 and lines[0].startswith(f"REFUSED cache entry {old}") and problem in lines[0]
    assert f"python -m helpers recompute --profile paper --entry {old}" in lines[0]
    assert snapshot(root) == before
    assert migrate.verify_all(root)[0][1]                     # still not verified


def test_migrate_on_the_command_line_exits_1_on_a_refusal(tmp_cache, capsys):
    root, a, _, _ = tmp_cache
    (root / a / "manifest.json").unlink()
    with pytest.raises(SystemExit) as code:
        cli_main.main(["migrate"])
    assert code.value.code == 1
    out = capsys.readouterr().out
    assert f"REFUSED cache entry {a}" in out and "Traceback" not in out
    assert not (root / a / "manifest.json").exists()


def test_a_stray_file_is_to_be_removed(tmp_cache):
    root, a, _, compute = tmp_cache
    (root / a / "notes.txt").write_text("mine")
    with pytest.raises(store_manifest.CacheCorrupt) as err:
        cache.cached("toy", "paper", {"x": 1}, compute)
    msg = str(err.value)
    assert "notes.txt" in msg and "stray file: remove it" in msg
    assert f"`rm {root / a / 'notes.txt'}`" in msg and "recompute" not in msg.lower()
    (root / a / "notes.txt").unlink()
    assert cache.cached("toy", "paper", {"x": 1}, compute)["value"] == 1.5


def test_a_file_that_grew_is_caught_by_its_size(tmp_cache, monkeypatch):
    root, a, _, _ = tmp_cache
    (root / a / "log.txt").write_text((root / a / "log.txt").read_text() + "x")
    sha = store_manifest._sha256
    monkeypatch.setattr(store_manifest, "_sha256", lambda p: pytest.fail("hashed although the size differs")
                        if p.name == "log.txt" else sha(p))
    assert store_manifest.problems(root / a) == ["file log.txt has grown (901 bytes, 900 recorded)"]


def test_committed_cache_verifies():
    report = migrate.verify_all(DATA / "cache")
    assert report and all(not bad for _, bad in report), [r for r in report if r[1]]


# ---- fast rebuild and the non-converged guard, with a tiny notebook (no DFT) ----

def toy_notebook(path, converged=True, value=1, kind="toy"):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
    nb.metadata["language_info"] = {"name": "python"}
    params = nbformat.v4.new_code_cell('profile = "paper"')
    params.metadata["tags"] = ["parameters"]
    nb.cells = [params, nbformat.v4.new_code_cell(
        "from helpers.store import cache\n"
        f"r = cache.cached('{kind}', profile, {{'x': -0.0}}, lambda w: {{'value': {value}, 'converged': {converged}}})\n"
        "print(r['value'])")]
    nbformat.write(nb, path)


@pytest.fixture
def toy_book(tmp_path, monkeypatch):
    books = tmp_path / "notebooks"
    books.mkdir()
    monkeypatch.setattr(cli_notebooks, "NOTEBOOKS", books)
    monkeypatch.setenv("COMPENDIUM_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("COMPENDIUM_REQUIRE_CACHE", raising=False)
    monkeypatch.delenv("COMPENDIUM_READ_LOG", raising=False)
    return books, tmp_path / "executed"


def test_execute_skips_unchanged_notebooks(toy_book, capsys):
    books, out = toy_book
    toy_notebook(books / "01_toy.ipynb")
    cli_notebooks.execute("paper", out=out)
    state = json.loads((out / "01_toy.hash.json").read_text())
    assert [r["entry"] for r in state["reads"]] == [f"toy-paper-{cache_keys.key({'x': 0})}"]
    assert "executing" in capsys.readouterr().out

    cli_notebooks.execute("paper", out=out)                                    # nothing changed
    assert "up to date" in capsys.readouterr().out

    entry = next((out.parent / "cache").glob("toy-*"))
    (entry / "result.json").write_text((entry / "result.json").read_text() + " ")
    store_manifest.write_manifest(entry)                                      # a cache entry it read changed
    cli_notebooks.execute("paper", out=out)
    assert "executing" in capsys.readouterr().out

    toy_notebook(books / "01_toy.ipynb", value=2)                    # the notebook changed
    cli_notebooks.execute("paper", out=out)
    assert "executing" in capsys.readouterr().out

    (out / "01_toy.ipynb").unlink()                                  # executed copy gone
    cli_notebooks.execute("paper", out=out)
    assert "executing" in capsys.readouterr().out


def test_book_refuses_a_non_converged_paper_result(toy_book):
    books, out = toy_book
    toy_notebook(books / "01_toy.ipynb", converged=False)
    cli_notebooks.execute("paper", out=out)
    with pytest.raises(SystemExit, match="toy-paper-.*did not converge"):
        cli_notebooks.check_converged("paper", out=out)
    cli_notebooks.check_converged("smoke", out=out)                            # smoke pages are not judged


def test_a_dftu_branch_that_ends_unconverged_is_a_finding_its_pages_mark(toy_book):
    """DFT+U branches record convergence per step and their pages mark unconverged steps themselves: the
    book does not refuse them (cli.STEPWISE_CONVERGENCE); any other task still is refused."""
    books, out = toy_book
    toy_notebook(books / "01_toy.ipynb", converged=False, kind="dftu_branch-toy")
    cli_notebooks.execute("paper", out=out)
    cli_notebooks.check_converged("paper", out=out)
    toy_notebook(books / "01_toy.ipynb", converged=False, kind="dftu-toy")
    cli_notebooks.execute("paper", out=out)
    with pytest.raises(SystemExit, match="dftu-toy-paper-.*did not converge"):
        cli_notebooks.check_converged("paper", out=out)


def _aliases(tree, module: str) -> dict:
    """Names bound by `from ... import ...` in a module (or notebook, module='') -> qualified names."""
    out = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = module.split(".")[:len(module.split(".")) - node.level] if node.level else []
            base = ".".join(base + ([node.module] if node.module else []))
            for a in node.names:
                out[a.asname or a.name] = f"{base}.{a.name}"
    return out


def _called(tree, alias: dict, module: str) -> set:
    """Qualified names of the functions called in an AST ('helpers.dft.layers.relax_layer')."""
    out = set()
    for c in ast.walk(tree):
        if isinstance(c, ast.Call):
            f = c.func
            if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in alias:
                out.add(f"{alias[f.value.id]}.{f.attr}")
            elif isinstance(f, ast.Attribute) and f.attr == "cached":
                out.add("helpers.store.cache.cached")
            elif isinstance(f, ast.Name):
                out.add(alias.get(f.id, f"{module}.{f.id}"))
    return out


def _call_graph() -> dict:
    """{qualified helper function: qualified functions it calls}, from the sources of src/helpers."""
    src = ROOT / "src"
    graph = {}
    for f in (src / "helpers").rglob("*.py"):
        mod = ".".join(f.relative_to(src).with_suffix("").parts).removesuffix(".__init__")
        tree = ast.parse(f.read_text())
        alias = _aliases(tree, mod)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                graph.setdefault(f"{mod}.{node.name}", set()).update(_called(node, alias, mod))
    return graph


def _reach(graph: dict, names) -> set:
    """Every helper function reached from `names` through the call graph (names included)."""
    out, todo = set(names), list(names)
    while todo:
        for m in graph.get(todo.pop(), ()):
            if m not in out:
                out.add(m)
                todo.append(m)
    return out


def _notebook_calls(stem: str, caching: set) -> set:
    """The caching helper functions (qualified) that a notebook's code cells call."""
    nb = nbformat.read(cli_notebooks.NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    tree = ast.parse("\n".join(c.source for c in nb.cells if c.cell_type == "code"))
    return _called(tree, _aliases(tree, ""), "__notebook__") & caching


def test_dependencies_cover_what_the_notebooks_read():
    """DEPENDS against the notebooks' own code (helper calls resolved through their imports): each
    declared dependency is a notebook whose cached results this one reaches (a caching helper the other
    calls, reached from this one's calls), and two notebooks that may run at once (neither depends on the
    other) never call the same caching helper unless a notebook both depend on calls it first (else both
    would compute the same entries at once). A caching helper reaches helpers.store.cache.cached."""
    graph = _call_graph()
    caching = {f for f in graph if "helpers.store.cache.cached" in _reach(graph, [f])}
    calls = {s: _notebook_calls(s, caching) for s in cli_notebooks.DEPENDS}
    assert all(calls.values()), {s for s, c in calls.items() if not c}

    def ancestors(s):
        out, todo = set(), list(cli_notebooks.DEPENDS[s])
        while todo:
            d = todo.pop()
            if d not in out:
                out.add(d)
                todo += cli_notebooks.DEPENDS[d]
        return out

    for x, deps in cli_notebooks.DEPENDS.items():
        for y in deps:
            assert _reach(graph, calls[x]) & calls[y], f"{x} declares {y} but reads none of its results"
    order = [b.stem for wave in cli_notebooks.waves([cli_notebooks.NOTEBOOKS / f"{s}.ipynb" for s in cli_notebooks.DEPENDS]) for b in wave]
    for x in cli_notebooks.DEPENDS:
        assert all(order.index(d) < order.index(x) for d in ancestors(x))          # waves respect DEPENDS
        for y in cli_notebooks.DEPENDS:
            if x >= y or y in ancestors(x) or x in ancestors(y):
                continue
            common = ancestors(x) & ancestors(y)
            racing = [f for f in calls[x] & calls[y] if not any(f in calls[z] for z in common)]
            assert not racing, f"{x} and {y} may run at once and both compute {racing}"


@pytest.mark.parametrize("change,message", [
    (lambda d: d["04_fe_dipole"].remove("03_afo_order"), "may run at once"),      # a dependency dropped
    (lambda d: d["01_valence"].append("03_afo_order"), "reads none of its results"),   # one invented
])
def test_dependency_check_catches_a_wrong_graph(monkeypatch, change, message):
    deps = {k: list(v) for k, v in cli_notebooks.DEPENDS.items()}
    change(deps)
    monkeypatch.setattr(cli_notebooks, "DEPENDS", deps)
    with pytest.raises(AssertionError, match=message):
        test_dependencies_cover_what_the_notebooks_read()


def test_recompute_entry_replaces_only_that_entry(tmp_cache, monkeypatch):
    root, a, b, compute = tmp_cache
    (root / a / "log.txt").write_text("damaged")
    other = snapshot(root / b)

    def fake_compute(profile, names=None, **kw):
        cache.cached("toy", "paper", {"x": 1}, compute)
        cache.cached("toy", "paper", {"x": 2}, compute)

    monkeypatch.setattr(recompute, "compute", fake_compute)
    cli_main.main(["recompute", "--profile", "paper", "--entry", a])
    assert store_manifest.problems(root / a) == [] and snapshot(root / b) == other
    assert not list(root.glob(".backup-*"))


def test_pages_run_on_the_engine_in_dependency_order_and_at_once(tmp_path, monkeypatch):
    """Two workers: 02 first, then 01 and 03 at once, each in its own process. 01 and 03 each wait
    (up to 60 s) until the other has started: run one after the other, neither would see the other."""
    books = tmp_path / "notebooks"
    books.mkdir()
    stamps = tmp_path / "stamps"
    stamps.mkdir()
    other = {"01_valence": "03_afo_order", "03_afo_order": "01_valence"}
    for stem in ("01_valence", "02_afe_lattice", "03_afo_order"):
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "language": "python", "display_name": "Python 3"}
        nb.metadata["language_info"] = {"name": "python"}
        params = nbformat.v4.new_code_cell('profile = "paper"')
        params.metadata["tags"] = ["parameters"]
        wait = (f"while not p.with_name({other[stem] + '.start'!r}).exists() and time.time() - t0 < 60:\n"
                f"    time.sleep(0.1)\n" if stem in other else "time.sleep(1)\n")
        nb.cells = [params, nbformat.v4.new_code_cell(
            f"import pathlib, time\np = pathlib.Path({str(stamps / stem)!r} + '.start')\n"
            f"t0 = time.time(); p.write_text(str(t0))\n{wait}"
            f"p.with_name({stem + '.end'!r}).write_text(str(time.time()))")]
        nbformat.write(nb, books / f"{stem}.ipynb")
    monkeypatch.setenv("COMPENDIUM_NOTEBOOKS", str(books))
    monkeypatch.setenv("COMPENDIUM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("COMPENDIUM_RANKS", "2")
    monkeypatch.setattr(cli_notebooks, "NOTEBOOKS", books)
    from helpers.cli import workflow
    stems = [b.stem for b in cli_notebooks.notebooks()]
    workflow.run(workflow.page_tasks("paper", stems, cli_notebooks.DEPENDS, out=str(tmp_path / "executed")), workers=2)
    t = {f.name: float(f.read_text()) for f in stamps.iterdir()}
    assert t["01_valence.start"] >= t["02_afe_lattice.end"] and t["03_afo_order.start"] >= t["02_afe_lattice.end"]
    assert t["01_valence.start"] < t["03_afo_order.end"] and t["03_afo_order.start"] < t["01_valence.end"]
    assert max(t["01_valence.end"] - t["01_valence.start"], t["03_afo_order.end"] - t["03_afo_order.start"]) < 60


# ---- a damaged entry is never "up to date"; refusals are one line -------------------------------

def test_a_truncated_entry_is_not_up_to_date(toy_book, capsys):
    """Before, `execute` hashed only the manifest of each entry read and said "up to date"."""
    books, out = toy_book
    toy_notebook(books / "01_toy.ipynb")
    cli_notebooks.execute("paper", out=out)
    entry = next((out.parent / "cache").glob("toy-*"))
    (entry / "result.json").write_bytes((entry / "result.json").read_bytes()[:20])
    capsys.readouterr()
    with pytest.raises(SystemExit) as err:
        cli_main.main(["execute", "--profile", "paper", "--out", str(out)])
    msg = str(err.value.code)
    assert "up to date" not in capsys.readouterr().out
    assert entry.name in msg and "truncated" in msg and "\n" not in msg
    assert f"python -m helpers recompute --profile paper --entry {entry.name}" in msg


def test_force_on_a_damaged_entry_is_refused_in_one_line(toy_book, capsys):
    """Before, the refusal was buried in some 78 lines of traceback."""
    books, out = toy_book
    toy_notebook(books / "01_toy.ipynb")
    cli_notebooks.execute("paper", out=out)
    entry = next((out.parent / "cache").glob("toy-*"))
    (entry / "result.json").write_bytes((entry / "result.json").read_bytes()[:20])
    with pytest.raises(SystemExit) as err:
        cli_main.main(["execute", "--profile", "paper", "--out", str(out), "--force"])
    msg = str(err.value.code)
    assert msg.startswith(f"01_toy: cache entry {entry.name} is damaged") and "truncated" in msg
    assert "Traceback" not in msg and "\n" not in msg


def test_a_refused_recompute_leaves_nothing_behind(tmp_cache):
    root, a, b, _ = tmp_cache
    before = snapshot(root)
    for argv in (["recompute", "--profile", "nosuch"], ["recompute", "--profile", "paper", "nosuch_notebook"],
                 ["recompute", "--profile", "paper", "--entry", "toy-paper-0000000000000000"]):
        with pytest.raises(SystemExit) as err:
            cli_main.main(argv)
        assert err.value.code != 0
        assert snapshot(root) == before
        assert not list(root.glob(".backup-*")), argv


def test_execute_refuses_an_unknown_or_bad_parameter(tmp_cache, capsys):
    root, _, _, _ = tmp_cache
    before = snapshot(root)
    for argv, words in ((["-p", "w3_U", "abc"], "w3_U='abc' is not allowed"),
                        (["-p", "convergence_kpt_densities", "[0]"], "convergence_kpt_densities=[0]"),
                        (["-p", "cutoff", "300"], "cutoff is not a parameter")):
        with pytest.raises(SystemExit) as err:
            cli_main.main(["execute", "--profile", "paper", "02_afe", *argv])
        assert words in str(err.value.code) and "\n" not in str(err.value.code)
    assert snapshot(root) == before
