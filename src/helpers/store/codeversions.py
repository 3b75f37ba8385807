"""Which version of the code computed a DFT result: a recorded fingerprint per task.

A cache key (helpers.store) hashes a job's inputs; the code that turns a job into numbers is not
among them. Each GPAW task (`scf`, `relax`, `lcao`, `wannier90`) therefore has a version, stored
in the job as `calc_version` (so in its key), and the SHA-256 of the source that computes it:
the functions of helpers.dft.gpaw_job it runs (calculator settings included: `make_calc`'s
convergence criteria, ...) and those of helpers.dft that build its job. Both are recorded in
`code_versions.json` beside this module. tests/test_code_versions.py fails when the source of a
task differs from the record, until a person decides:

- the change alters what the task computes: `python -m helpers code-versions --bump TASK`
  (a new version: new keys for that task only, so its results are recomputed, never reused);
- it does not (a comment, a rename, a refactor): `python -m helpers code-versions --record TASK`.

Why a recorded fingerprint and not the source hash in the key itself: the committed results stay
valid (every version is 1, the value the keys were made with), a harmless edit does not throw
away hours of DFT, and a task's fingerprint covers only the code that task runs. Docstrings and
comments are not part of it (the fingerprint hashes the syntax tree), and in `helpers.dft.gpaw_job.__main__.main` a
branch `if job["task"] == OTHER:` is left out of every other task's fingerprint, so a new task
(a new function, a new branch) changes no existing fingerprint.
"""
from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path


HERE = Path(__file__).resolve().parent
RECORD = HERE / "code_versions.json"
#: The files of each label (labels, not paths, enter the fingerprints: moving a function keeps them).
MODULES = {"gpaw_job": sorted((HERE.parent / "dft" / "gpaw_job").glob("*.py")),
           "dft": [HERE.parent / "dft" / "jobs.py"],
           "occupation_control": [HERE.parent / "dft" / "occupation_control.py"]}


def source(label: str) -> str:
    """The source text of a label: its files one after the other."""
    return "\n".join(p.read_text() for p in MODULES[label])


#: The functions each task runs: {task: {module: [function, ...]}}.
TASKS = {
    "scf": {"gpaw_job": ["main", "make_calc", "optional_parameters"],
            "dft": ["_job", "_run", "_submit", "single_point", "optional_job_parts"]},
    "relax": {"gpaw_job": ["main", "make_calc", "optional_parameters"],
              "dft": ["_job", "_run", "_submit", "relax", "optional_job_parts"]},
    "lcao": {"gpaw_job": ["main", "lcao_projections", "lcao_calc", "z_matrices", "moment_checks",
                          "optional_parameters", "grid_parameters"],
             "dft": ["_job", "_submit", "lcao", "optional_job_parts", "lcao_grid"]},
    "wannier90": {"gpaw_job": ["main", "wannier90_scf", "wannier90_run", "lcao_calc", "grid_parameters"],
                  "dft": ["_job", "wannier90", "layer_at_origin", "lcao_grid"]},
    "sliding_path": {"gpaw_job": ["main", "sliding_path", "optional_parameters"],
                     "dft": ["_job", "_submit", "sliding_path", "optional_job_parts"]},
    "dftu_branch": {"gpaw_job": ["main", "dftu_branch", "_dftu_steps", "gpaw_mixer", "restart_mixer", "restart_step", "resume_point", "_cut_log", "_resumed_calc", "set_hubbard_U", "final_state_path", "step_maxiter", "grid_parameters"],
                    "dft": ["_job", "_submit", "dftu_branch", "check_mixer", "signed", "same_dftu_job", "lcao_grid"],
                    "occupation_control": ["check_targets", "check_schedule", "occupation_matrix", "_blocks",
                                           "site_occupations", "OccupationBias"]},
}
#: Functions of gpaw_job that do not affect any result (printing).
NO_RESULT = {"say"}


def _functions(text: str) -> dict[str, ast.FunctionDef]:
    """The top-level functions and classes of a label's source, by name (a name defined twice is refused)."""
    found = [n for n in ast.parse(text).body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
    names = [n.name for n in found]
    if len(set(names)) != len(names):
        raise ValueError(f"a function is defined twice in one label's files: {sorted({x for x in names if names.count(x) > 1})}")
    return {n.name: n for n in found}


def _task_test(node) -> str | None:
    """OTHER if `node` is the test `job["task"] == "OTHER"`, else None."""
    if (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq)
            and isinstance(node.left, ast.Subscript) and isinstance(node.left.value, ast.Name)
            and node.left.value.id == "job" and isinstance(node.left.slice, ast.Constant)
            and node.left.slice.value == "task" and isinstance(node.comparators[0], ast.Constant)):
        return node.comparators[0].value
    return None


class _ForTask(ast.NodeTransformer):
    """Drop docstrings, and the branches that run only for another task."""

    def __init__(self, task: str):
        self.task = task

    def visit_If(self, node):
        other = _task_test(node.test)
        if other is not None and other != self.task and not node.orelse:
            return None
        return self.generic_visit(node)

    def generic_visit(self, node):
        body = getattr(node, "body", None)
        if (isinstance(body, list) and body and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str)):
            node.body = body[1:] or [ast.Pass()]
        return super().generic_visit(node)


def task_literals(source: str) -> set[str]:
    """The task names that gpaw_job's source compares `job["task"]` with."""
    return {t for n in ast.walk(ast.parse(source)) if (t := _task_test(n)) is not None}


def fingerprint(task: str, sources: dict[str, str] | None = None) -> str:
    """SHA-256 of the syntax trees (docstrings and other tasks' branches left out) of the functions
    `task` runs, from `sources` ({module: source text}; default: the files)."""
    sources = {**{m: source(m) for m in MODULES}, **(sources or {})}
    h = hashlib.sha256()
    for module, names in TASKS[task].items():
        funcs = _functions(sources[module])
        for name in names:
            if name not in funcs:
                raise KeyError(f"{module}.{name} (listed for task {task!r} in TASKS) does not exist")
            tree = _ForTask(task).visit(ast.parse(ast.unparse(funcs[name])))
            h.update(f"{module}.{name}\n{ast.dump(tree, annotate_fields=False)}\n".encode())
    return h.hexdigest()


def recorded() -> dict:
    """{task: {"version": int, "sha256": str}} from code_versions.json."""
    return json.loads(RECORD.read_text())


def version(task: str) -> int:
    """The recorded version of `task` (part of its jobs' keys as `calc_version`)."""
    rec = recorded()
    if task not in rec:
        raise KeyError(f"GPAW task {task!r} has no recorded code version: list its functions in "
                       f"helpers.store.codeversions.TASKS and run `python -m helpers code-versions --record {task}`")
    return int(rec[task]["version"])


def stale(sources: dict[str, str] | None = None) -> list[str]:
    """The tasks whose source differs from the recorded fingerprint (or that have no record)."""
    rec = recorded()
    return [t for t in TASKS if t not in rec or rec[t]["sha256"] != fingerprint(t, sources)]


def command(record: list[str], bump: list[str]) -> list[str]:
    """`python -m helpers code-versions`: record or bump tasks, then one line per task."""
    rec = recorded()
    for t in [*record, *bump]:
        if t not in TASKS:
            raise SystemExit(f"code-versions: no task {t!r}; tasks: {list(TASKS)}")
    for t in record:
        rec.setdefault(t, {"version": 1})["sha256"] = fingerprint(t)
    for t in bump:
        rec[t] = {"version": int(rec.get(t, {"version": 0})["version"]) + 1, "sha256": fingerprint(t)}
    if record or bump:
        RECORD.write_text(json.dumps(rec, indent=1, sort_keys=True) + "\n")
    return [f"{t}: version {rec[t]['version']}, "
            + ("source as recorded" if rec[t]["sha256"] == fingerprint(t) else
               "SOURCE CHANGED since recorded: --bump it if results change, else --record it")
            for t in TASKS if t in rec] + [f"{t}: not recorded" for t in TASKS if t not in rec]
