"""``${{ ... }}`` references in pipeline values (first cut).

Two forms are understood, the same spelling as GitHub Actions expressions:

* ``${{ params.NAME }}`` — the value of pipeline parameter ``NAME``;
* ``${{ tasks.NAME.result }}`` — the result of task ``NAME`` (which makes the
  task depend on ``NAME``).

A string that is exactly one reference is replaced by the value itself, keeping
its Python type (``"${{ params.count }}"`` gives ``3``, not ``"3"``). A
reference embedded in longer text is formatted into it (see
:func:`format_value`). The content of ``${{ ... }}`` is matched by a regular
expression accepting only these two forms; nothing is evaluated.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

__all__ = [
    "Reference",
    "UnsupportedExpression",
    "parse_references",
    "scan_references",
    "iter_strings",
    "render",
    "format_value",
]

_EXPRESSION = re.compile(r"\$\{\{((?:(?!\}\}).)*)\}\}", re.DOTALL)
_PARAM = re.compile(r"params\.([A-Za-z_][A-Za-z0-9_]*)")
_TASK = re.compile(r"tasks\.([A-Za-z_][A-Za-z0-9_-]*)\.result")


@dataclass(frozen=True)
class Reference:
    """One parsed ``${{ ... }}`` reference.

    Attributes:
        scope: ``"params"`` or ``"tasks"``.
        name: the parameter name or task key.
    """

    scope: Literal["params", "tasks"]
    name: str


class UnsupportedExpression(ValueError):
    """The content of a ``${{ ... }}`` is not one of the two supported forms."""

    def __init__(self, expression: str) -> None:
        self.expression = expression
        super().__init__(
            f"unsupported expression '${{{{ {expression} }}}}': only "
            "'${{ params.NAME }}' and '${{ tasks.NAME.result }}' are supported"
        )


def _parse_expression(content: str) -> Reference:
    expression = content.strip()
    if match := _PARAM.fullmatch(expression):
        return Reference("params", match.group(1))
    if match := _TASK.fullmatch(expression):
        return Reference("tasks", match.group(1))
    raise UnsupportedExpression(expression)


def parse_references(text: str) -> list[Reference]:
    """The references in one string, in order.

    Raises:
        UnsupportedExpression: for the first ``${{ ... }}`` of another form.
    """
    return [_parse_expression(m.group(1)) for m in _EXPRESSION.finditer(text)]


def scan_references(text: str) -> Iterator[Reference | UnsupportedExpression]:
    """Like :func:`parse_references`, but yields each bad expression as an error object.

    Used by validation, which reports every problem instead of stopping at
    the first.
    """
    for match in _EXPRESSION.finditer(text):
        try:
            yield _parse_expression(match.group(1))
        except UnsupportedExpression as exc:
            yield exc


def iter_strings(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    """Every string inside nested dicts/lists, with its path of keys and indexes.

    Mapping keys are not visited: references are only allowed in values.
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

    Strings are inserted as they are, integers and floats with ``str()``, and
    anything else (booleans, ``None``, lists, dicts) as JSON, so a boolean
    reads ``true`` as in the YAML it came from.
    """
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return json.dumps(value, default=str, ensure_ascii=False)


def render(
    value: Any,
    params: Mapping[str, Any],
    results: Mapping[str, Any],
    *,
    quote: Callable[[str], str] | None = None,
) -> Any:
    """Replace references inside ``value`` (nested dicts/lists/strings).

    Args:
        value: a template from the YAML (plain data).
        params: parameter values by name.
        results: upstream task results by task key.
        quote: applied to each formatted value inserted into text (the shell
            task passes ``shlex.quote``); when given, a whole-string reference
            is formatted and quoted too, so the result is always text.

    Returns:
        A new structure; input is not modified.

    Raises:
        UnsupportedExpression: a ``${{ ... }}`` of another form.
        KeyError: a referenced name missing from ``params`` / ``results``
            (validation rules this out for loaded pipelines).
    """
    if isinstance(value, str):
        return _render_text(value, params, results, quote)
    if isinstance(value, Mapping):
        return {k: render(v, params, results, quote=quote) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [render(v, params, results, quote=quote) for v in value]
    return value


def _lookup(reference: Reference, params: Mapping[str, Any], results: Mapping[str, Any]) -> Any:
    source = params if reference.scope == "params" else results
    return source[reference.name]


def _render_text(
    text: str,
    params: Mapping[str, Any],
    results: Mapping[str, Any],
    quote: Callable[[str], str] | None,
) -> Any:
    whole = _EXPRESSION.fullmatch(text.strip())
    if whole is not None and quote is None:
        return _lookup(_parse_expression(whole.group(1)), params, results)

    def replace(match: re.Match[str]) -> str:
        formatted = format_value(_lookup(_parse_expression(match.group(1)), params, results))
        return quote(formatted) if quote is not None else formatted

    return _EXPRESSION.sub(replace, text)
