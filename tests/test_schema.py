"""Every parameter of every notebook is declared in helpers.book.schema and checked before any work.

Property-based (hypothesis): for each parameter of each page, values outside its declaration
(wrong type, text for a number, NaN, infinity, out of range, empty or bad lists, unknown choices)
are refused with a message naming the parameter, its value and what is allowed, before any
calculation, and the cache is byte-for-byte unchanged. The declarations themselves are checked
against the notebooks: the same names, the same defaults, and the check as the first statement
of the cell after the parameters cell.
"""
import ast
import json
import math

import nbformat
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from helpers.book import schema
from helpers.book import schema_fields
from helpers.cli import notebooks as cli_notebooks
from helpers.store import cache
from helpers.store.paths import ROOT

FIELDS = [(page, name) for page, model in schema.PAGES.items() for name in model.model_fields]
FAST = settings(max_examples=12, deadline=None, suppress_health_check=list(HealthCheck), database=None)


def spec(page, name):
    return schema.PAGES[page].model_fields[name].json_schema_extra["spec"]


junk = st.one_of(st.text(max_size=5), st.just("3.0"), st.booleans(), st.just({"a": 1}), st.just(object()))
not_finite = st.sampled_from([math.nan, math.inf, -math.inf])


def outside(lo, hi, lo_open, hi_open):
    """Finite numbers outside [lo, hi] (or on an excluded end)."""
    below = st.floats(max_value=lo, exclude_max=not lo_open, allow_nan=False, allow_infinity=False)
    above = st.floats(min_value=hi, exclude_min=not hi_open, allow_nan=False, allow_infinity=False)
    return st.one_of(below, above, st.integers(max_value=math.floor(lo) - 1), st.integers(min_value=math.ceil(hi) + 1))


def bad_values(sp):
    """Values that the declaration `sp` does not allow."""
    kind = sp[0]
    if kind == "number":
        _, lo, hi, lo_open, hi_open, optional = sp
        out = [junk, not_finite, outside(lo, hi, lo_open, hi_open), st.lists(st.floats(lo, hi), max_size=2)]
        return st.one_of(*out, *([] if optional else [st.none()]))
    if kind == "numbers":
        _, lo, hi, lo_open, hi_open, optional, length = sp
        good = st.floats(lo, hi, exclude_min=lo_open, exclude_max=hi_open)
        bad_item = st.one_of(junk, not_finite, st.none(), outside(lo, hi, lo_open, hi_open))
        with_bad = st.tuples(st.lists(good, max_size=2), bad_item, st.lists(good, max_size=2)).map(
            lambda t: [*t[0], t[1], *t[2]])
        out = [with_bad, st.just([]), junk, st.floats(lo, hi)]
        if length:
            out.append(st.lists(good, min_size=length + 1, max_size=length + 2))
        return st.one_of(*out, *([] if optional else [st.none()]))
    if kind == "choice":
        options = sp[1]
        return st.one_of(st.text(max_size=8).filter(lambda t: t not in options), st.integers(), st.none(),
                         st.just([options[0]]), st.just(options[0].lower() + " ") )
    if kind == "choices":
        options, empty = sp[1], sp[2]
        unknown = st.text(max_size=6).filter(lambda t: t not in options)
        out = [st.lists(unknown, min_size=1, max_size=2).map(lambda l: [options[0], *l]), st.just(options[0]),
               st.just([options[0], options[0]]), st.just([1]), st.none()]
        return st.one_of(*out, *([] if empty else [st.just([])]))
    if kind == "flag":
        optional = sp[1]
        return st.one_of(st.integers(), st.text(max_size=5), st.floats(), *([] if optional else [st.none()]))
    if kind == "int":
        _, lo, hi, optional = sp
        return st.one_of(st.integers(max_value=lo - 1), st.integers(min_value=hi + 1), st.booleans(),
                         st.floats(lo, hi), junk, *([] if optional else [st.none()]))
    if kind == "grid":
        return st.one_of(st.lists(st.integers(-3, 0), min_size=3, max_size=3),
                         st.tuples(st.integers(1, 4), st.integers(-2, 0), st.just(1)).map(list),
                         st.lists(st.integers(1, 4), min_size=0, max_size=2),
                         st.lists(st.integers(1, 4), min_size=4, max_size=5),
                         st.just([4.0, 2.0, 1.0]), st.just([True, 2, 1]), st.just([65, 1, 1]), junk)
    raise AssertionError(f"no strategy for {sp}")


@pytest.fixture(scope="module")
def fake_cache(tmp_path_factory):
    """A small cache with one entry; its bytes must not change."""
    root = tmp_path_factory.mktemp("cache")
    mp = pytest.MonkeyPatch()
    mp.setenv("COMPENDIUM_CACHE", str(root))
    mp.delenv("COMPENDIUM_REQUIRE_CACHE", raising=False)
    cache.cached("toy", "paper", {"x": 1}, lambda w: {"value": 1.0})
    yield root
    mp.undo()


def snapshot(root):
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def no_work(monkeypatch):
    """Any calculation through the cache or GPAW fails the test."""
    def refuse(*a, **k):
        raise AssertionError("a calculation started before the parameters were checked")
    monkeypatch.setattr(cache, "cached", refuse)
    from helpers.dft import jobs as dft_jobs
    monkeypatch.setattr(dft_jobs, "_launch", refuse)


@pytest.mark.parametrize("page,name", FIELDS)
def test_a_bad_value_is_refused_before_any_work(page, name, fake_cache, no_work):
    before = snapshot(fake_cache)

    @FAST
    @given(bad_values(spec(page, name)))
    def refused(value):
        namespace = {**schema.defaults(page), name: value, "np": None, "In": []}   # other names ignored
        with pytest.raises(schema_fields.ParameterError) as err:
            schema.check(page, namespace)
        msg = str(err.value)
        assert f"{name}=" in msg and "not allowed" in msg and repr(value)[:20] in msg
        assert "\n" not in msg

    refused()
    assert snapshot(fake_cache) == before


@pytest.mark.parametrize("page", list(schema.PAGES))
def test_the_command_line_refuses_a_bad_value_before_papermill(page, fake_cache, no_work, monkeypatch):
    import papermill
    monkeypatch.setattr(papermill, "execute_notebook", lambda *a, **k: pytest.fail("papermill ran"))
    before = snapshot(fake_cache)
    names = list(schema.PAGES[page].model_fields)

    @FAST
    @given(st.data())
    def refused(data):
        name = data.draw(st.sampled_from([n for n in names if n != "profile"]))
        value = data.draw(bad_values(spec(page, name)))
        with pytest.raises(schema_fields.ParameterError, match=f"{name}="):
            cli_notebooks.execute("paper", [schema.NOTEBOOKS[page]], out=fake_cache.parent / "executed",
                                  parameters={name: value})

    refused()
    assert snapshot(fake_cache) == before
    assert not (fake_cache.parent / "executed").exists()


@given(U=st.floats(0.1, 20), excess=st.floats(1e-6, 5))
@settings(max_examples=30, deadline=None, database=None)
def test_J_above_U_over_3_is_refused_and_says_U_over_3(U, excess):
    J = U / 3 + excess
    if J > 5:
        return
    for page, (u, j) in {"afo": ("U", "J"), "fe": ("U", "J"), "generalization": ("U", "J"),
                         "valence": ("U_min", "J"), "scorecard": ("U", "J_orbital")}.items():
        values = {**schema.defaults(page), u: U, j: J}
        if page == "valence":
            values["U_max"] = max(U + 1, 10)
        if page in ("generalization", "scorecard"):
            values["U_low" if page == "generalization" else "generalization_U_low"] = None
            if page == "scorecard":
                values.update(valence_J=0.0, valence_U_max=max(U + 1, 10))
        with pytest.raises(schema_fields.ParameterError, match=rf"{j}=.* at most {u}/3 = "):
            schema.check(page, values)


@given(U=st.floats(0.1, 20), U_low=st.floats(0.1, 20))
@settings(max_examples=30, deadline=None, database=None)
def test_U_low_must_be_below_U_and_a_bad_U_is_blamed_on_U(U, U_low):
    values = {**schema.defaults("generalization"), "U": U, "U_low": U_low, "J": 0.0}
    if U_low < U:
        schema.check("generalization", values)
    else:
        with pytest.raises(schema_fields.ParameterError, match="U_low=.*below U"):
            schema.check("generalization", values)
    with pytest.raises(schema_fields.ParameterError, match=r"generalization: U=-1 "):
        schema.check("generalization", {**values, "U": -1})


# ---- the declarations agree with the notebooks -------------------------------------------------

def parameters_and_check_cell(stem):
    nb = nbformat.read(ROOT / "notebooks" / f"{stem}.ipynb", as_version=4)
    i = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code" and "parameters" in c.metadata.get("tags", []))
    nxt = next(c for c in nb.cells[i + 1:] if c.cell_type == "code")
    values = {}
    for node in ast.parse(nb.cells[i].source).body:
        assert isinstance(node, ast.Assign), f"{stem}: the parameters cell holds only assignments"
        values[node.targets[0].id] = ast.literal_eval(node.value)
    return values, nxt.source


@pytest.mark.parametrize("page,stem", list(schema.NOTEBOOKS.items()))
def test_schema_matches_the_notebook(page, stem):
    values, check_cell = parameters_and_check_cell(stem)
    assert list(values) == list(schema.PAGES[page].model_fields), "same parameters, same order"
    assert values == schema.defaults(page)
    schema.check(page, values)                                  # the defaults are allowed
    first = [n for n in ast.parse(check_cell).body if not isinstance(n, (ast.Import, ast.ImportFrom))][0]
    assert ast.unparse(first) == f"schema.check('{page}', locals())", "the check comes before any work"


def test_tuples_are_lists_and_a_message_names_the_entry():
    schema.check("valence", {**schema.defaults("valence"), "hf_grid": (4, 2, 1)})
    with pytest.raises(schema_fields.ParameterError, match=r"hf_grid=\[0, 0, 1\] \(entry 0\) is not allowed"):
        schema.check("valence", {"hf_grid": [0, 0, 1]})


def test_missing_entry_names_the_command_with_its_parameters(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPENDIUM_CACHE", str(tmp_path))
    monkeypatch.setenv("COMPENDIUM_REQUIRE_CACHE", "1")
    schema.check("afe", {**schema.defaults("afe"), "material": "MoTe2", "dcounts": ["d2"], "profile": "smoke"})
    with pytest.raises(cache.CacheMiss) as miss:
        cache.cached("relax-MoTe2-d2-1T", "smoke", {"x": 1}, lambda w: {})
    cmd = "python -m helpers execute --profile smoke 02_afe_lattice -p material MoTe2 -p dcounts '[\"d2\"]'"
    assert f"`{cmd}`" in str(miss.value)
    assert list(tmp_path.iterdir()) == []                      # nothing written
    # the command it names is accepted by the command line as it stands
    import shlex
    args = shlex.split(cmd)
    parsed = {args[i + 1]: schema_fields.parse_value(args[i + 2]) for i, a in enumerate(args) if a == "-p"}
    assert parsed == {"material": "MoTe2", "dcounts": ["d2"]}
    schema.validate("afe", parsed)
