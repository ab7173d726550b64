"""Validation of a pipeline document, reporting every problem with its position.

Problems are collected, never raised one at a time, so a user fixes a file in
one pass. Each problem is ``(position, message)``; :func:`validate_document`
formats them as ``path:line:col: message`` (1-based, the position of the
offending key or value as recorded by ruamel.yaml).

Two passes:

1. shapes and types with the pydantic models of :mod:`.spec`; each pydantic
   error's ``loc`` is walked back to its node, and messages are chosen by the
   error's ``type`` (never by its text);
2. meaning, on the raw document (so it runs even when pass 1 found problems):
   exactly one task kind, keys that belong to another kind, ``needs:`` and
   ``${{ ... }}`` references to unknown tasks or parameters, dependency cycles,
   missing notebook files and working directories, python targets that do
   not import.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pydantic
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from partita.exceptions import InvalidTarget

from partita_workbench.pipelines.graph import find_cycles
from partita_workbench.pipelines.references import UnsupportedExpression, iter_strings, scan_references
from partita_workbench.pipelines.spec import PARAMETER_TYPES, TASK_KINDS, ParameterSpec, PipelineSpec, TaskSpec
from partita_workbench.pipelines.suggest import did_you_mean
from partita_workbench.pipelines.targets import resolve_callable
from partita_workbench.pipelines.yamlio import Position, locate, to_plain

__all__ = ["Problem", "validate_document", "format_problems", "TASK_KEY"]

Problem = tuple[Position, str]

TASK_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
"""What a task key may look like (it appears in ``${{ tasks.KEY.result }}``)."""

_RESERVED_PARAMETERS = {"return_state", "wait_for"}
_KIND_ONLY_KEYS = {"with": ("python",), "parameters": ("notebook",), "kernel": ("notebook",), "cwd": ("notebook", "shell")}
_MODELS_BY_DEPTH: dict[tuple[str, int], type[pydantic.BaseModel]] = {
    ("", 1): PipelineSpec,
    ("tasks", 3): TaskSpec,
    ("parameters", 3): ParameterSpec,
}


def format_problems(path: Path | str, problems: list[Problem]) -> list[str]:
    """``path:line:col: message`` lines, sorted by position (stable)."""
    ordered = sorted(problems, key=lambda p: p[0])
    return [f"{path}:{line}:{col}: {message}" for (line, col), message in ordered]


def validate_document(tree: Any, folder: Path) -> tuple[PipelineSpec | None, list[Problem]]:
    """Check a parsed pipeline document.

    Args:
        tree: the ruamel document (:func:`.yamlio.read_yaml`).
        folder: the YAML file's folder; notebook paths, ``file.py`` targets
            and ``cwd:`` resolve against it, and it is put on ``sys.path`` to
            import ``module:function`` targets.

    Returns:
        ``(spec, problems)``: the spec is ``None`` whenever there are problems.
    """
    if not isinstance(tree, CommentedMap):
        return None, [((1, 1), "a pipeline must be a mapping with 'name:' and 'tasks:' keys")]
    problems: list[Problem] = []
    spec: PipelineSpec | None = None
    try:
        spec = PipelineSpec.model_validate(to_plain(tree))
    except pydantic.ValidationError as exc:
        problems.extend(_from_pydantic(tree, error) for error in exc.errors())
    problems.extend(_check_parameters(tree))
    problems.extend(_check_tasks(tree, folder))
    return (spec if not problems else None), problems


# -- pass 1: pydantic errors → positions ------------------------------------------


def _from_pydantic(tree: CommentedMap, error: Any) -> Problem:
    loc = tuple(error["loc"])
    kind = error["type"]
    where = _describe(loc)
    if kind == "extra_forbidden":
        model = _MODELS_BY_DEPTH.get((str(loc[0]) if len(loc) > 1 else "", len(loc)))
        allowed = [f.alias or name for name, f in model.model_fields.items()] if model else []
        hint = did_you_mean(str(loc[-1]), allowed)
        return locate(tree, loc, key=True), f"unknown key '{loc[-1]}'{where}{hint}"
    if kind == "missing":
        return locate(tree, loc[:-1]), f"missing required key '{loc[-1]}'{where}"
    if kind == "literal_error" and loc[0] == "parameters" and loc[-1] == "type":
        names = ", ".join(PARAMETER_TYPES)
        hint = did_you_mean(str(error["input"]), PARAMETER_TYPES)
        return locate(tree, loc), f"unknown parameter type '{error['input']}'; use one of {names}{hint}"
    if kind == "too_short" and loc == ("tasks",):
        return locate(tree, loc), "a pipeline needs at least one task under 'tasks:'"
    field = next((str(step) for step in reversed(loc) if isinstance(step, str) and step != "[key]"), "value")
    return locate(tree, loc), f"invalid '{field}'{where}: {error['msg']}"


def _describe(loc: tuple[Any, ...]) -> str:
    if len(loc) >= 3 and loc[0] == "tasks":
        return f" in task '{loc[1]}'"
    if len(loc) >= 3 and loc[0] == "parameters":
        return f" in parameter '{loc[1]}'"
    return ""


# -- pass 2: meaning ---------------------------------------------------------------


def _mapping(node: Any) -> CommentedMap:
    return node if isinstance(node, CommentedMap) else CommentedMap()


def _check_parameters(tree: CommentedMap) -> Iterator[Problem]:
    for name, param in _mapping(tree.get("parameters")).items():
        where = ("parameters", name)
        if not isinstance(name, str) or not name.isidentifier() or keyword.iskeyword(name):
            yield locate(tree, where, key=True), f"parameter name '{name}' must be a Python identifier"
        elif name in _RESERVED_PARAMETERS:
            yield locate(tree, where, key=True), f"parameter name '{name}' is reserved; choose another name"
        if not isinstance(param, CommentedMap) or "default" not in param:
            continue
        type_name = param.get("type", "string")
        expected = PARAMETER_TYPES.get(type_name) if isinstance(type_name, str) else None
        default = to_plain(param["default"])
        if expected is None or default is None or _matches(default, expected):
            continue
        yield (
            locate(tree, (*where, "default")),
            f"default of parameter '{name}' is {type(default).__name__}, not {type_name}",
        )


def _matches(value: Any, expected: type) -> bool:
    if isinstance(value, bool):
        return expected is bool
    if expected is float:
        return isinstance(value, (int, float))
    return isinstance(value, expected)


def _check_tasks(tree: CommentedMap, folder: Path) -> Iterator[Problem]:
    tasks = _mapping(tree.get("tasks"))
    params = [p for p in _mapping(tree.get("parameters")) if isinstance(p, str)]
    names = [t for t in tasks if isinstance(t, str)]
    dependencies: dict[str, set[str]] = {}
    for key, task in tasks.items():
        where = ("tasks", key)
        if not isinstance(key, str) or not TASK_KEY.fullmatch(key):
            yield (
                locate(tree, where, key=True),
                f"task key '{key}' must start with a letter or '_' and hold only letters, digits, '_' and '-'",
            )
            continue
        if not isinstance(task, CommentedMap):
            continue  # reported by pass 1
        dependencies[key] = set()
        yield from _check_kind(tree, key, task)
        for index, need in enumerate(task.get("needs") if isinstance(task.get("needs"), CommentedSeq) else []):
            if not isinstance(need, str):
                continue
            if need in names:
                dependencies[key].add(need)
            else:
                hint = did_you_mean(need, names)
                yield locate(tree, (*where, "needs", index)), f"task '{key}' needs unknown task '{need}'{hint}"
        for sub_path, text in _template_strings(task):
            position = locate(tree, (*where, *sub_path))
            for ref in scan_references(text):
                if isinstance(ref, UnsupportedExpression):
                    yield position, f"{ref} (in task '{key}')"
                    continue
                known = params if ref.scope == "params" else names
                if ref.name in known:
                    if ref.scope == "tasks":
                        dependencies[key].add(ref.name)
                    continue
                what = "parameter" if ref.scope == "params" else "task"
                hint = did_you_mean(ref.name, known)
                yield position, f"task '{key}' refers to unknown {what} '{ref.name}'{hint}"
        yield from _check_files(tree, key, task, folder)
    for cycle in find_cycles(dependencies):
        yield (
            locate(tree, ("tasks", cycle[0]), key=True),
            f"dependency cycle: {' -> '.join(cycle)} (each task needs the next one)",
        )


def _check_kind(tree: CommentedMap, key: str, task: CommentedMap) -> Iterator[Problem]:
    kinds = [k for k in task if k in TASK_KINDS]
    if not kinds:
        yield (
            locate(tree, ("tasks", key), key=True),
            f"task '{key}' has no kind: give one of 'python:', 'notebook:' or 'shell:'",
        )
        return
    if len(kinds) > 1:
        yield (
            locate(tree, ("tasks", key, kinds[1]), key=True),
            f"task '{key}' has more than one kind ({', '.join(kinds)}): give exactly one",
        )
        return
    for option, kinds_allowed in _KIND_ONLY_KEYS.items():
        if option in task and kinds[0] not in kinds_allowed:
            allowed = " or ".join(kinds_allowed)
            yield (
                locate(tree, ("tasks", key, option), key=True),
                f"'{option}:' is for {allowed} tasks, not for {kinds[0]} task '{key}'",
            )


def _template_strings(task: CommentedMap) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Strings where references are allowed: ``with:``, ``parameters:`` and ``shell:``."""
    for option in ("with", "parameters"):
        if isinstance(task.get(option), CommentedMap):
            yield from iter_strings(task[option], (option,))
    if isinstance(task.get("shell"), str):
        yield ("shell",), task["shell"]


def _check_files(tree: CommentedMap, key: str, task: CommentedMap, folder: Path) -> Iterator[Problem]:
    notebook = task.get("notebook")
    if isinstance(notebook, str) and not (folder / notebook).is_file():
        yield (
            locate(tree, ("tasks", key, "notebook")),
            f"notebook file '{notebook}' not found (looked for {(folder / notebook).resolve()})",
        )
    cwd = task.get("cwd")
    if isinstance(cwd, str) and not (folder / cwd).is_dir():
        yield (
            locate(tree, ("tasks", key, "cwd")),
            f"working directory '{cwd}' of task '{key}' not found (looked for {(folder / cwd).resolve()})",
        )
    target = task.get("python")
    if isinstance(target, str):
        try:
            resolve_callable(target, folder)
        except InvalidTarget as exc:
            yield locate(tree, ("tasks", key, "python")), f"task '{key}': {exc}"
