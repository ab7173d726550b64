"""Validation of a pipeline document, reporting every problem with its position.

Problems are collected, never raised one at a time, so a user fixes a file in
one pass. Validation works on plain data (dicts and lists, see
:func:`.yamlio.load_plain`); each :class:`Problem` names the *path* of the
offending node (``("tasks", "load", "needs", 0)``), and only when there are
problems is the file parsed again with positions, to turn each path into
``path:line:col`` (1-based, the offending key or value as recorded by
ruamel.yaml). Valid files, the common case, never pay for positions.

Two passes:

1. shapes and types with the pydantic models of :mod:`.spec`; each pydantic
   error's ``loc`` is walked back to its node, and messages are chosen by the
   error's ``type`` (never by its text);
2. meaning (:mod:`.checks`), on the plain document so it runs even when pass 1
   found problems.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic
from ruamel.yaml.comments import TaggedScalar

from partita_workbench.pipelines.spec import (
    PARAMETER_TYPES,
    CacheSpec,
    ParameterSpec,
    PipelineSpec,
    TaskOptions,
    TaskSpec,
)
from partita_workbench.pipelines.suggest import did_you_mean
from partita_workbench.pipelines.yamlio import Position, locate

__all__ = ["Problem", "validate_document", "position_problems", "format_problems"]


@dataclass(frozen=True)
class Problem:
    """One problem found in a pipeline document.

    Attributes:
        where: keys and list indexes from the document root to the node.
        message: what is wrong and, where it helps, what to write instead.
        key: point at the mapping key of the last step rather than its value.
        position: a position already known (YAML syntax errors); otherwise
            it is looked up from ``where``.
    """

    where: tuple[str | int, ...]
    message: str
    key: bool = False
    position: Position | None = None


def position_problems(tree: Any, problems: Sequence[Problem]) -> list[tuple[Position, str]]:
    """``(position, message)`` pairs, looking each problem's path up in the round-trip ``tree``."""
    return [(p.position or locate(tree, p.where, key=p.key), p.message) for p in problems]


def format_problems(path: Path | str, problems: Sequence[tuple[Position, str]]) -> list[str]:
    """``path:line:col: message`` lines, sorted by position (stable)."""
    ordered = sorted(problems, key=lambda p: p[0])
    return [f"{path}:{line}:{col}: {message}" for (line, col), message in ordered]


def validate_document(document: Any, folder: Path, *, stack: tuple[Path, ...] = ()) -> tuple[PipelineSpec | None, list[Problem]]:
    """Check a parsed pipeline document.

    Args:
        document: plain data (:func:`.yamlio.load_plain`).
        folder: the YAML file's folder; notebook paths, ``file.py`` targets,
            ``pipeline:`` files and ``cwd:`` resolve against it, and it is put
            on ``sys.path`` to import ``module:function`` targets.
        stack: pipeline files being validated around this one (for
            ``pipeline:`` tasks that include each other).

    Returns:
        ``(spec, problems)``: the spec is ``None`` whenever there are problems.
    """
    from partita_workbench.pipelines.checks import check_document

    if not isinstance(document, dict):
        return None, [Problem((), "a pipeline must be a mapping with 'name:' and 'tasks:' keys")]
    problems: list[Problem] = list(_tagged(document, ()))
    tagged = {p.where for p in problems}
    spec: PipelineSpec | None = None
    try:
        spec = PipelineSpec.model_validate(document)
    except pydantic.ValidationError as exc:
        problems.extend(p for p in _from_pydantic(exc.errors(), document) if p.where not in tagged)
    problems.extend(check_document(document, folder, stack))
    return (spec if not problems else None), problems


def _tagged(node: Any, where: tuple[Any, ...]) -> Iterator[Problem]:
    """Values with a YAML tag other than the standard ones (``!env x``): not part of the format."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _tagged(value, (*where, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _tagged(value, (*where, index))
    elif isinstance(node, TaggedScalar):
        yield Problem(where, f"YAML tag '{node.tag}' is not supported in a pipeline; write the value without it")


# -- pass 1: pydantic errors → paths ---------------------------------------------------

_UNION_FIELDS: dict[str, tuple[None, str]] = {
    "map": (None, "a list, or an expression giving a list"),
    "if": (None, "an expression or a boolean"),
    "outputs": (None, "a list of paths, or a mapping of names to paths"),
    "cache": (None, "true, false, or a mapping with 'policy:' and 'expiration:'"),
    "retry_delay_seconds": (None, "a number of seconds, or a list of them"),
}
"""Task options whose type is a union, and what is expected of them.

Pydantic reports one error per union member, with the member's tag in the
``loc``. When the value is a mapping or a list and the union has a member
of that shape, that member's errors are reported (``cache: {polcy: x}`` is
an unknown key); otherwise they are folded into one problem saying what is
expected."""


def _field_index(loc: tuple[Any, ...]) -> int | None:
    """Where the task-option field sits in ``loc`` (tasks: 2, defaults: 1)."""
    if len(loc) >= 3 and loc[0] == "tasks":
        return 2
    if len(loc) >= 2 and loc[0] == "defaults":
        return 1
    return None


def _value_at(document: Any, loc: tuple[Any, ...]) -> Any:
    node = document
    for step in loc:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _member_matches(tag: Any, value: Any) -> bool:
    """Whether union member ``tag`` (``"CacheSpec"``, ``"list[float]"``, ``"bool"``...) is the one meant for ``value``."""
    tag = str(tag)
    if isinstance(value, dict):
        return tag[:1].isupper() or tag.startswith("dict[")
    if isinstance(value, list):
        return tag.startswith("list[")
    return False


def _from_pydantic(errors: list[Any], document: Any) -> list[Problem]:
    problems: list[Problem] = []
    folded: set[tuple[Any, ...]] = set()
    for error in errors:
        loc = tuple(error["loc"])
        index = _field_index(loc)
        field = str(loc[index]) if index is not None else None
        if index is not None and field in _UNION_FIELDS and len(loc) > index + 1:
            head = loc[: index + 1]
            value = _value_at(document, head)
            meant = [e for e in errors if tuple(e["loc"][: index + 1]) == head and len(e["loc"]) > index + 1
                     and _member_matches(e["loc"][index + 1], value)]
            if meant and error in meant and not (error["type"] in ("model_type", "list_type") and len(loc) == index + 2):
                loc = (*head, *loc[index + 2 :])  # an error inside the member meant: report it as such
            elif meant and error not in meant:
                continue
            else:
                if head not in folded:
                    folded.add(head)
                    problems.append(Problem(head, _union_message(head, field, _UNION_FIELDS[field][1], type(value).__name__)))
                continue
        problems.append(_problem(loc, error))
    return problems


def _union_message(loc: tuple[Any, ...], field: str, expected: str, got: str) -> str:
    if field == "map":
        return f"'map:' of task '{loc[1]}' must be {expected}, not {got}"
    return f"invalid '{field}'{_describe((*loc, field))}: expected {expected}, not {got}"


def _model_at(loc: tuple[Any, ...]) -> type[pydantic.BaseModel] | None:
    """The model whose keys are allowed at ``loc`` (the path of a mapping)."""
    if loc == ():
        return PipelineSpec
    if loc == ("defaults",):
        return TaskOptions
    if len(loc) == 2 and loc[0] == "tasks":
        return TaskSpec
    if len(loc) == 2 and loc[0] == "parameters":
        return ParameterSpec
    if loc[-1:] == ("cache",):
        return CacheSpec
    return None


def _problem(loc: tuple[Any, ...], error: Any) -> Problem:
    kind = error["type"]
    where = _describe(loc)
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = [f.alias or name for name, f in model.model_fields.items()] if model else []
        return Problem(loc, f"unknown key '{loc[-1]}'{where}{did_you_mean(str(loc[-1]), allowed)}", key=True)
    if kind == "missing":
        return Problem(loc[:-1], f"missing required key '{loc[-1]}'{where}")
    if kind == "literal_error" and loc[0] == "parameters" and loc[-1] == "type":
        names = ", ".join(PARAMETER_TYPES)
        hint = did_you_mean(str(error["input"]), PARAMETER_TYPES)
        return Problem(loc, f"unknown parameter type '{error['input']}'; use one of {names}{hint}")
    if kind == "too_short" and loc == ("tasks",):
        return Problem(loc, "a pipeline needs at least one task under 'tasks:'")
    field = next((str(step) for step in reversed(loc) if isinstance(step, str) and step != "[key]"), "value")
    message = str(error["ctx"]["error"]) if kind == "value_error" and "error" in error.get("ctx", {}) else error["msg"]
    return Problem(loc, f"invalid '{field}'{where}: {message}")


def _describe(loc: tuple[Any, ...]) -> str:
    if len(loc) >= 3 and loc[0] == "tasks":
        return f" in task '{loc[1]}'"
    if len(loc) >= 3 and loc[0] == "parameters":
        return f" in parameter '{loc[1]}'"
    if len(loc) >= 2 and loc[0] == "defaults":
        return " in 'defaults:'"
    if len(loc) >= 2 and loc[0] == "env":
        return " in 'env:'"
    return ""

