"""Pass 2 of validation: what a pipeline means.

Runs on the plain document, so it reports problems even when the pydantic
pass found some: exactly one task kind, keys that belong to another kind,
``needs:`` and ``${{ ... }}`` references to unknown tasks or parameters,
misused expression names, ``map:`` over something that is not a list,
dependency cycles, missing or unreadable notebook files, missing script and pipeline files, working
directories, python targets that do not import, and ``pipeline:`` files that
are themselves invalid or given unknown parameters.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import keyword
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from partita.exceptions import InvalidTarget

from partita_workbench.pipelines.expressions import analyze, find_expressions, iter_strings, whole_expression
from partita_workbench.pipelines.graph import find_cycles
from partita_workbench.pipelines.spec import PARAMETER_TYPES, TASK_KINDS
from partita_workbench.pipelines.suggest import did_you_mean
from partita_workbench.pipelines.targets import resolve_callable
from partita_workbench.pipelines.validate import Problem

__all__ = ["check_document", "TASK_KEY", "task_expressions"]

TASK_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
"""What a task key may look like (it appears in ``${{ tasks.KEY.result }}``)."""

_RESERVED_PARAMETERS = {"return_state", "wait_for"}
_KIND_ONLY_KEYS = {
    "with": ("python",),
    "parameters": ("notebook", "pipeline"),
    "kernel": ("notebook",),
    "cwd": ("notebook", "shell"),
    "outputs": ("shell",),
}
_KIND_NAMES = ", ".join(f"'{k}:'" for k in TASK_KINDS[:-1]) + f" or '{TASK_KINDS[-1]}:'"


def _mapping(node: Any) -> dict[str, Any]:
    return node if isinstance(node, dict) else {}


def check_document(document: dict[str, Any], folder: Path, stack: tuple[Path, ...]) -> Iterator[Problem]:
    """Every meaning problem of a plain pipeline document (see the module docstring)."""
    parameters = _mapping(document.get("parameters"))
    yield from _check_parameters(parameters)
    yield from _check_tasks(document, parameters, folder, stack)


def _check_parameters(parameters: dict[str, Any]) -> Iterator[Problem]:
    for name, param in parameters.items():
        where = ("parameters", name)
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            yield Problem(where, f"parameter name '{name}' must be a Python identifier", key=True)
        elif name in _RESERVED_PARAMETERS:
            yield Problem(where, f"parameter name '{name}' is reserved; choose another name", key=True)
        if not isinstance(param, dict) or "default" not in param:
            continue
        type_name = param.get("type", "string")
        expected = PARAMETER_TYPES.get(type_name) if isinstance(type_name, str) else None
        default = param["default"]
        if expected is None or default is None or _matches(default, expected):
            continue
        shown = "an ISO 8601 date (YYYY-MM-DD)" if expected is dt.date else "an ISO 8601 datetime" if expected is dt.datetime else type_name
        yield Problem((*where, "default"), f"default of parameter '{name}' is {_type_name(default)}, not {shown}")


def _type_name(value: Any) -> str:
    return f"the string '{value}'" if isinstance(value, str) else type(value).__name__


def _matches(value: Any, expected: type) -> bool:
    if isinstance(value, bool):
        return expected is bool
    if expected is float:
        return isinstance(value, (int, float))
    if expected in (dt.date, dt.datetime) and isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value) if expected is dt.datetime else dt.date.fromisoformat(value)
        except ValueError:
            return False
        return parsed is not None
    return isinstance(value, expected)


def task_expressions(task: dict[str, Any]) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """``(path in the task, string)`` for every string where expressions are allowed.

    Those are the values of ``with:``, ``parameters:``, ``outputs:`` and
    ``map:`` and the strings ``shell:`` and ``if:``.
    """
    for option in ("with", "parameters", "outputs", "map"):
        if isinstance(task.get(option), (dict, list, str)):
            yield from iter_strings(task[option], (option,))
    for option in ("shell", "if"):
        if isinstance(task.get(option), str):
            yield (option,), task[option]


def _check_tasks(document: dict[str, Any], parameters: dict[str, Any], folder: Path, stack: tuple[Path, ...]) -> Iterator[Problem]:
    tasks = _mapping(document.get("tasks"))
    names = [t for t in tasks if isinstance(t, str)]
    dependencies: dict[str, set[str]] = {}
    for key, task in tasks.items():
        where = ("tasks", key)
        if not isinstance(key, str) or not TASK_KEY.fullmatch(key):
            yield Problem(
                where,
                f"task key '{key}' must start with a letter or '_' and hold only letters, digits, '_' and '-'",
                key=True,
            )
            continue
        if not isinstance(task, dict):
            continue  # reported by pass 1
        dependencies[key] = set()
        kind = None
        for problem in _check_kind(key, task):
            if isinstance(problem, str):
                kind = problem
            else:
                yield problem
        needs = task.get("needs")
        for index, need in enumerate(needs if isinstance(needs, list) else []):
            if not isinstance(need, str):
                continue
            if need in names:
                dependencies[key].add(need)
            else:
                yield Problem((*where, "needs", index), f"task '{key}' needs unknown task '{need}'{did_you_mean(need, names)}")
        yield from _check_expressions(key, task, parameters, names, dependencies[key])
        yield from _check_map(key, task, parameters)
        if kind is not None:
            yield from _check_files(key, kind, task, folder, stack)
    for cycle in find_cycles(dependencies):
        yield Problem(("tasks", cycle[0]), f"dependency cycle: {' -> '.join(cycle)} (each task needs the next one)", key=True)


def _check_kind(key: str, task: dict[str, Any]) -> Iterator[Problem | str]:
    """Problems with the task's kind; yields the kind itself (a ``str``) when there is exactly one."""
    kinds = [k for k in task if k in TASK_KINDS]
    if not kinds:
        yield Problem(("tasks", key), f"task '{key}' has no kind: give one of {_KIND_NAMES}", key=True)
        return
    if len(kinds) > 1:
        yield Problem(
            ("tasks", key, kinds[1]),
            f"task '{key}' has more than one kind ({', '.join(kinds)}): give exactly one",
            key=True,
        )
        return
    for option, kinds_allowed in _KIND_ONLY_KEYS.items():
        if option in task and kinds[0] not in kinds_allowed:
            allowed = " or ".join(kinds_allowed)
            yield Problem(
                ("tasks", key, option),
                f"'{option}:' is for {allowed} tasks, not for {kinds[0]} task '{key}'",
                key=True,
            )
    yield kinds[0]


def _check_expressions(
    key: str, task: dict[str, Any], parameters: dict[str, Any], names: list[str], dependencies: set[str]
) -> Iterator[Problem]:
    mapped = task.get("map") is not None
    for sub_path, text in task_expressions(task):
        where = ("tasks", key, *sub_path)
        for expression in find_expressions(text):
            analysis = analyze(expression)
            for message in analysis.problems:
                yield Problem(where, f"'${{{{ {expression} }}}}' in task '{key}': {message}")
            for ref in analysis.references:
                if ref.scope == "item":
                    if not mapped:
                        yield Problem(where, f"task '{key}' uses 'item' but has no 'map:'; 'item' is the current item of a map")
                    elif sub_path[0] == "map":
                        yield Problem(where, f"'map:' of task '{key}' cannot use 'item': it is what defines the items")
                elif ref.scope == "params" and ref.name not in parameters:
                    hint = did_you_mean(ref.name, [str(p) for p in parameters])
                    yield Problem(where, f"task '{key}' refers to unknown parameter '{ref.name}'{hint}")
                elif ref.scope == "tasks":
                    if ref.name in names:
                        dependencies.add(ref.name)
                    else:
                        yield Problem(where, f"task '{key}' refers to unknown task '{ref.name}'{did_you_mean(ref.name, names)}")


def _check_map(key: str, task: dict[str, Any], parameters: dict[str, Any]) -> Iterator[Problem]:
    """``map:`` must be a list, or one whole expression that can give a list."""
    value = task.get("map")
    if not isinstance(value, str):
        return  # a list is fine; other types are reported by pass 1
    where = ("tasks", key, "map")
    expression = whole_expression(value)
    if expression is None:
        yield Problem(where, f"'map:' of task '{key}' must be a list, or one ${{{{ ... }}}} expression giving a list, not the text '{value}'")
        return
    analysis = analyze(expression)
    refs = analysis.references
    if len(refs) == 1 and refs[0].scope == "params" and analysis.expression == f"params.{refs[0].name}":
        param = parameters.get(refs[0].name)
        type_name = param.get("type", "string") if isinstance(param, dict) else None
        if isinstance(type_name, str) and type_name in PARAMETER_TYPES and type_name != "array":
            yield Problem(where, f"'map:' of task '{key}' is over parameter '{refs[0].name}' of type {type_name}, not a list (type: array)")
    if len(refs) == 1 and refs[0].scope == "run" and analysis.expression == f"run.{refs[0].name}":
        yield Problem(where, f"'map:' of task '{key}' is over run.{refs[0].name}, which is not a list")


def _check_files(key: str, kind: str, task: dict[str, Any], folder: Path, stack: tuple[Path, ...]) -> Iterator[Problem]:
    where = ("tasks", key)
    target = task.get(kind)
    if kind == "notebook" and isinstance(target, str):
        path = folder / target
        if not path.is_file():
            yield Problem((*where, "notebook"), f"notebook file '{target}' not found (looked for {path.resolve()})")
        else:
            stat = path.stat()
            problem = _notebook_problem(path.resolve(), stat.st_mtime_ns, stat.st_size)
            if problem:
                yield Problem((*where, "notebook"), f"notebook file '{target}' of task '{key}' {problem}")
    cwd = task.get("cwd")
    if isinstance(cwd, str) and not (folder / cwd).is_dir():
        yield Problem(
            (*where, "cwd"), f"working directory '{cwd}' of task '{key}' not found (looked for {(folder / cwd).resolve()})"
        )
    if kind == "python" and isinstance(target, str):
        try:
            resolve_callable(target, folder)
        except InvalidTarget as exc:
            yield Problem((*where, "python"), f"task '{key}': {exc}")
    if kind == "pipeline" and isinstance(target, str):
        yield from _check_subpipeline(key, task, folder / target, target, stack)


@functools.lru_cache(maxsize=256)
def _notebook_problem(path: Path, mtime_ns: int, size: int) -> str | None:
    """What makes ``path`` unusable as a notebook (the rest of the message), or ``None``.

    The checks nbformat makes before it reads a notebook (JSON, an integer
    ``nbformat`` version, version 4's ``cells`` list), done with the standard
    library so validating a pipeline does not import nbformat. One read per
    file version (``mtime_ns``, ``size``), however many tasks name it.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"cannot be read ({type(exc).__name__}: {exc}); check that it is a notebook saved by Jupyter and readable by you"
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        return (
            f"is not valid JSON (line {exc.lineno}, column {exc.colno} of the file: {exc.msg}); "
            "repair it or restore it from version control, then check that it opens in Jupyter"
        )
    version = document.get("nbformat") if isinstance(document, dict) else None
    if not isinstance(version, int) or isinstance(version, bool) or (version >= 4 and not isinstance(document.get("cells"), list)):
        return "is not a Jupyter notebook (a notebook is JSON with an 'nbformat' version and a 'cells' list); name an .ipynb file saved by Jupyter"
    return None


def _check_subpipeline(key: str, task: dict[str, Any], path: Path, shown: str, stack: tuple[Path, ...]) -> Iterator[Problem]:
    from partita.exceptions import ValidationError

    from partita_workbench.pipelines.loader import load_pipeline

    where = ("tasks", key, "pipeline")
    absolute = path.resolve()
    if not absolute.is_file():
        yield Problem(where, f"pipeline file '{shown}' of task '{key}' not found (looked for {absolute})")
        return
    if absolute in stack:
        chain = " -> ".join(p.name for p in (*stack[stack.index(absolute):], absolute))
        yield Problem(where, f"task '{key}': pipeline files include each other ({chain})")
        return
    try:
        child = load_pipeline(absolute, _stack=stack)
    except ValidationError as exc:
        for line in exc.problems:
            yield Problem(where, f"task '{key}': pipeline '{shown}' is invalid: {line}")
        return
    except InvalidTarget as exc:
        yield Problem(where, f"task '{key}': {exc}")
        return
    given = _mapping(task.get("parameters"))
    known = child.spec.parameters
    for name in given:
        if name not in known:
            hint = did_you_mean(str(name), list(known))
            yield Problem(("tasks", key, "parameters", name), f"pipeline '{shown}' has no parameter '{name}'{hint}", key=True)
    missing = [n for n, p in known.items() if p.required and n not in given]
    if missing:
        yield Problem(where, f"task '{key}' must give the required parameter(s) {', '.join(missing)} of pipeline '{shown}' under 'parameters:'")
