"""``${{ ... }}`` expressions in pipeline values.

The spelling is that of GitHub Actions expressions; the language inside is a
Jinja2 expression, evaluated by Jinja2's sandboxed environment with native
(Python) values, never by ``eval``. Names an expression may use:

==========================  =====================================================
``params.NAME``             the value of pipeline parameter ``NAME``
``tasks.NAME.result``       the result of task ``NAME`` (the task then depends on
                            it); attribute and index access go on from there:
                            ``tasks.load.result.rows[0]``, ``tasks.x.result['k']``
``item``                    the current item of a ``map:`` task
``env.NAME``                an environment variable (the pipeline's ``env:`` over
                            the run's environment)
``run.id``                  the flow run's id
``run.scheduled_start``     when the flow run was due to start (a UTC datetime)
==========================  =====================================================

Filters: ``default`` (``x | default(3)``, also for a missing key),
``json``, ``join``, ``date`` (``d | date('%d %b %Y')``, from a date, a
datetime or an ISO 8601 string) and the plain ones ``length``, ``lower``,
``upper``, ``list``, ``first``, ``last``, ``int``, ``float``, ``string``,
``trim``, ``replace``, ``round``.

A string that is exactly one expression is replaced by its value, keeping
its Python type (``"${{ params.count }}"`` gives ``3``, a list stays a list).
An expression embedded in longer text is formatted into it (see
:func:`format_value`). Task keys may hold ``-`` (``tasks.by-file.result``), as
in GitHub Actions.

:func:`analyze` finds the references of an expression without evaluating
it, which is how validation reports unknown tasks and parameters before a run.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, nodes
from jinja2.filters import FILTERS
from jinja2.nativetypes import NativeEnvironment
from jinja2.sandbox import ImmutableSandboxedEnvironment

from partita.exceptions import RunError

from partita_workbench.pipelines.suggest import did_you_mean

__all__ = [
    "ROOT_NAMES",
    "RUN_FIELDS",
    "Reference",
    "Analysis",
    "ExpressionError",
    "SandboxedNativeEnvironment",
    "find_expressions",
    "whole_expression",
    "analyze",
    "iter_strings",
    "render",
    "format_value",
]

ROOT_NAMES = ("params", "tasks", "item", "env", "run")
"""The names an expression may start from."""

RUN_FIELDS = ("id", "scheduled_start")
"""The fields of ``run``."""

_ROOTS_TEXT = ", ".join(ROOT_NAMES[:-1]) + f" or {ROOT_NAMES[-1]}"

_EXPRESSION = re.compile(r"\$\{\{((?:(?!\}\}).)*)\}\}", re.DOTALL)
_HYPHENATED_TASK = re.compile(r"(?<![\w.'\"])tasks\.([A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)+)")
_SIMPLE = re.compile(
    r"(?P<scope>params|env)\.(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|tasks\.(?P<task>[A-Za-z_][A-Za-z0-9_-]*)\.result"
    r"|run\.(?P<run>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<item>item)"
)

Scope = Literal["params", "tasks", "item", "env", "run"]


@dataclass(frozen=True)
class Reference:
    """One name an expression uses.

    Attributes:
        scope: ``"params"``, ``"tasks"``, ``"item"``, ``"env"`` or ``"run"``.
        name: the parameter name, task key, variable name or run field
            (``""`` for ``item``).
    """

    scope: Scope
    name: str


@dataclass(frozen=True)
class Analysis:
    """What :func:`analyze` found in one expression.

    Attributes:
        expression: the text between ``${{`` and ``}}``, stripped.
        references: distinct references, in the order of the expression tree.
        problems: messages for what is wrong beyond unknown parameters and
            tasks (syntax, unknown filter, a root name used the wrong way);
            empty when fine.
    """

    expression: str
    references: tuple[Reference, ...]
    problems: tuple[str, ...]


class ExpressionError(RunError):
    """An expression could not be evaluated in a run (a missing key, a bad index, a sandbox refusal...)."""


def _date(value: Any, format: str = "%Y-%m-%d") -> str:
    """``date`` filter: ``strftime`` of a date, a datetime or an ISO 8601 string."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"date filter: '{value}' is not an ISO 8601 date or datetime") from exc
    if not isinstance(value, (dt.date, dt.datetime)):
        raise ValueError(f"date filter: expected a date, a datetime or an ISO 8601 string, got {type(value).__name__}")
    return value.strftime(format)


def _json(value: Any, indent: int | None = None) -> str:
    """``json`` filter: the value as JSON text (dates as ISO 8601 strings)."""
    return json.dumps(value, default=_iso_default, ensure_ascii=False, indent=indent)


def _iso_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


_PLAIN_FILTERS = ("default", "join", "length", "lower", "upper", "list", "first", "last", "int", "float",
                  "string", "trim", "replace", "round")


class SandboxedNativeEnvironment(ImmutableSandboxedEnvironment, NativeEnvironment):
    """Jinja2's immutable sandbox with native values, the filters above, no globals.

    Undefined names and keys raise (``StrictUndefined``) unless ``default``
    is applied; private attributes and methods that mutate are refused by
    the sandbox. On a mapping, ``x.name`` looks the key up before any
    attribute, as in GitHub Actions expressions.
    """

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=False)
        self.filters = {name: FILTERS[name] for name in _PLAIN_FILTERS}
        self.filters.update(json=_json, date=_date)
        self.globals = {}

    def getattr(self, obj: Any, attribute: str) -> Any:
        """``x.name`` on a mapping means its key first (``params.items`` is a parameter, not ``dict.items``)."""
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


_ENVIRONMENT = SandboxedNativeEnvironment()


def _normalize(expression: str) -> str:
    """``tasks.by-file.result`` → ``tasks['by-file'].result`` (Jinja reads ``-`` as minus)."""
    return _HYPHENATED_TASK.sub(lambda m: f"tasks['{m.group(1)}']", expression.strip())


def whole_expression(text: str) -> str | None:
    """The content of ``text`` when it is exactly one ``${{ ... }}`` (surrounding blanks allowed), else ``None``."""
    match = _EXPRESSION.fullmatch(text.strip()) if "${{" in text else None
    return match.group(1).strip() if match else None


def find_expressions(text: str) -> list[str]:
    """The contents of every ``${{ ... }}`` in ``text``, stripped, in order."""
    if "${{" not in text:
        return []
    return [m.group(1).strip() for m in _EXPRESSION.finditer(text)]


@functools.lru_cache(maxsize=65536)
def analyze(expression: str) -> Analysis:
    """Find the references of one expression without evaluating it.

    Args:
        expression: the text between ``${{`` and ``}}``.

    Returns:
        An :class:`Analysis`. Names outside :data:`ROOT_NAMES`, ``params`` or
        ``tasks`` not followed by a name, ``tasks.NAME`` without
        ``.result``, an unknown ``run`` field, an unknown filter and syntax
        errors are reported in ``problems``; whether the referenced
        parameters and tasks exist is for the caller to check.
    """
    expression = expression.strip()
    simple = _SIMPLE.fullmatch(expression)
    if simple is not None and (simple.group("run") is None or simple.group("run") in RUN_FIELDS):
        if simple.group("item"):
            reference = Reference("item", "")
        elif simple.group("task"):
            reference = Reference("tasks", simple.group("task"))
        elif simple.group("run"):
            reference = Reference("run", simple.group("run"))
        else:
            reference = Reference(simple.group("scope"), simple.group("name"))  # type: ignore[arg-type]
        return Analysis(expression, (reference,), ())
    if not expression:
        return Analysis(expression, (), ("empty expression",))
    try:
        tree = _ENVIRONMENT.parse("{{ " + _normalize(expression) + " }}")
    except TemplateSyntaxError as exc:
        return Analysis(expression, (), (f"invalid expression: {exc.message}",))
    references: dict[Reference, None] = {}
    problems: list[str] = []
    for node, parent, grandparent in _walk(tree):
        if isinstance(node, (nodes.Filter, nodes.Test)) and node.name is not None:
            known = _ENVIRONMENT.filters if isinstance(node, nodes.Filter) else _ENVIRONMENT.tests
            if node.name not in known:
                what = "filter" if isinstance(node, nodes.Filter) else "test"
                hint = did_you_mean(node.name, known)
                problems.append(f"unknown {what} '{node.name}'{hint or '; use one of ' + ', '.join(sorted(known))}")
        if not isinstance(node, nodes.Name):
            continue
        found = _reference(node.name, parent, grandparent)
        if isinstance(found, Reference):
            references.setdefault(found)
        else:
            problems.append(found)
    return Analysis(expression, tuple(references), tuple(problems))


def _walk(tree: nodes.Node) -> Iterator[tuple[nodes.Node, nodes.Node | None, nodes.Node | None]]:
    stack: list[tuple[nodes.Node, nodes.Node | None, nodes.Node | None]] = [(tree, None, None)]
    while stack:
        node, parent, grandparent = stack.pop()
        yield node, parent, grandparent
        stack.extend((child, node, parent) for child in reversed(list(node.iter_child_nodes())))


def _member(node: nodes.Node | None, child_name: str | None = None) -> str | None:
    """The constant name that ``node`` selects (``x.NAME`` or ``x['NAME']``), else ``None``."""
    if isinstance(node, nodes.Getattr):
        return node.attr
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        return node.arg.value
    return None


def _reference(name: str, parent: nodes.Node | None, grandparent: nodes.Node | None) -> Reference | str:
    if name not in ROOT_NAMES:
        return f"unknown name '{name}'; an expression starts from {_ROOTS_TEXT}{did_you_mean(name, ROOT_NAMES)}"
    if name == "item":
        return Reference("item", "")
    member = _member(parent)
    if name == "params":
        return Reference("params", member) if member else "write params.NAME to use a parameter"
    if name == "env":
        return Reference("env", member) if member else "write env.NAME to use an environment variable"
    if name == "run":
        if member in RUN_FIELDS:
            return Reference("run", member)
        return f"unknown run field '{member}'; use run.id or run.scheduled_start" if member else "write run.id or run.scheduled_start"
    if member is None:
        return "write tasks.NAME.result to use a task's result"
    if _member(grandparent) != "result":
        return f"write tasks.{member}.result to use the result of task '{member}'"
    return Reference("tasks", member)


def iter_strings(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string inside nested dicts/lists, with its path of keys and indexes.

    Mapping keys are not visited: expressions are only allowed in values.
    """
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from iter_strings(item, (*path, key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from iter_strings(item, (*path, index))


def format_value(value: Any) -> str:
    """How a value is written into text around it.

    Strings are inserted as they are, integers and floats with ``str()``,
    dates and datetimes in ISO 8601, and anything else (booleans, ``None``,
    lists, dicts) as JSON, so a boolean reads ``true`` as in the YAML it came
    from.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return json.dumps(value, default=_iso_default, ensure_ascii=False)


@functools.lru_cache(maxsize=65536)
def _compiled(expression: str) -> Callable[..., Any]:
    return _ENVIRONMENT.compile_expression(_normalize(expression), undefined_to_none=False)


def evaluate(expression: str, namespace: Mapping[str, Any]) -> Any:
    """The value of one expression.

    Args:
        expression: the text between ``${{`` and ``}}``.
        namespace: ``{"params": {...}, "tasks": {key: {"result": ...}},
            "env": {...}, "run": {...}, "item": ...}`` (what is referenced).

    Raises:
        ExpressionError: the expression does not parse, uses something
            undefined, or fails (the message names the expression).
    """
    shown = f"'${{{{ {expression.strip()} }}}}'"
    try:
        value = _compiled(expression.strip())(**namespace)
    except TemplateSyntaxError as exc:
        raise ExpressionError(f"invalid expression {shown}: {exc.message}") from None
    except Exception as exc:
        raise ExpressionError(f"cannot evaluate {shown}: {type(exc).__name__}: {exc}") from exc
    if isinstance(value, Undefined):
        raise ExpressionError(f"cannot evaluate {shown}: it is undefined; add '| default(...)' for a fallback")
    return value


def render(value: Any, namespace: Mapping[str, Any], *, quote: Callable[[str], str] | None = None) -> Any:
    """Evaluate the expressions inside ``value`` (nested dicts/lists/strings).

    Args:
        value: a template from the YAML (plain data).
        namespace: see :func:`evaluate`.
        quote: applied to each formatted value inserted into text (the shell
            task passes ``shlex.quote``); when given, a whole-string
            expression is formatted and quoted too, so the result is text.

    Returns:
        A new structure; the input is not modified.

    Raises:
        ExpressionError: see :func:`evaluate`.
    """
    if isinstance(value, str):
        return _render_text(value, namespace, quote)
    if isinstance(value, Mapping):
        return {k: render(v, namespace, quote=quote) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [render(v, namespace, quote=quote) for v in value]
    return value


def _render_text(text: str, namespace: Mapping[str, Any], quote: Callable[[str], str] | None) -> Any:
    if "${{" not in text:
        return text
    whole = whole_expression(text)
    if whole is not None and quote is None:
        return evaluate(whole, namespace)

    def replace(match: re.Match[str]) -> str:
        formatted = format_value(evaluate(match.group(1), namespace))
        return quote(formatted) if quote is not None else formatted

    return _EXPRESSION.sub(replace, text)
