"""Reading a notebook's parameters from its ``parameters``-tagged cell.

papermill's convention: the first code cell tagged ``parameters`` holds
assignments of default values (``msg = None``, ``n: int = 3``); values given
at run time are injected in a new cell right after it. This module reads
those assignments with :mod:`ast` without running anything: a value that is a
Python literal (``ast.literal_eval``) gives the parameter's default and type;
any other expression gives a parameter with no known default. An annotation
(``rate: float = 1``, ``label: str | None = None``, ``Optional[int]``) wins
over the default's type.

:func:`check_parameters` checks values against those declarations before a
kernel starts (see its docstring for the rules, dates included).
"""

from __future__ import annotations

import ast
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Collection

import nbformat

from partita.exceptions import ParameterTypeError

__all__ = [
    "PARAMETERS_TAG",
    "NotebookParameter",
    "find_parameters_cell",
    "parse_parameters",
    "notebook_parameters",
    "check_parameters",
    "describe_parameters",
]

PARAMETERS_TAG = "parameters"
"""Tag of the cell holding the defaults (papermill's convention)."""

_LITERAL_TYPES = (str, bool, int, float, list, dict)
_ANNOTATION_NAMES: dict[str, type] = {
    "str": str, "bool": bool, "int": int, "float": float, "list": list, "dict": dict,
    "List": list, "Dict": dict, "Sequence": list, "Mapping": dict,
}


@dataclass(frozen=True)
class NotebookParameter:
    """One assignment of the parameters cell.

    Attributes:
        name: the variable name.
        default: the literal value, or ``None`` when the value is not a literal.
        literal: whether ``default`` is the assigned literal value.
        annotation: ``str``/``bool``/``int``/``float``/``list``/``dict``, from
            the cell's annotation when it names one of those, else from the
            literal's type; ``None`` when unknown (``None`` default, a
            non-literal expression, another type), and then any value is accepted.
        nullable: ``None`` is accepted: the default is ``None`` or the
            annotation is ``Optional[...]`` / ``... | None``.
        line: 1-based line of the assignment in the parameters cell.
    """

    name: str
    default: Any
    literal: bool
    annotation: type | None
    nullable: bool = False
    line: int = 0

    def describe(self) -> str:
        """``"rate: float = 0.5"``, as a signature shows it."""
        text = self.name
        if self.annotation is not None:
            text += f": {self.annotation.__name__}" + (" | None" if self.nullable else "")
        if self.literal:
            text += f" = {self.default!r}"
        return text


def find_parameters_cell(notebook: Any) -> int | None:
    """Index of the first code cell tagged ``parameters``, or ``None``."""
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and PARAMETERS_TAG in cell.get("metadata", {}).get("tags", []):
            return index
    return None


def parse_parameters(source: str) -> list[NotebookParameter]:
    """The assignments in a parameters cell's source, in order.

    Lines that are not valid Python (papermill's own test notebooks have one)
    are skipped instead of failing the whole cell: lines are parsed in the
    largest chunks that parse, so multi-line values still work.

    Returns:
        One parameter per assigned name (a later assignment wins).
    """
    found: dict[str, NotebookParameter] = {}
    for statement in _statements(source.splitlines()):
        target, value, annotation_node = None, None, None
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value, annotation_node = statement.target, statement.value, statement.annotation
        if not isinstance(target, ast.Name) or value is None:
            continue
        declared, declared_nullable = _annotation(annotation_node) if annotation_node is not None else (None, False)
        line = getattr(statement, "lineno", 0)
        try:
            default = ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            found[target.id] = NotebookParameter(target.id, None, False, declared, declared_nullable, line)
            continue
        annotation = declared
        if annotation_node is None and isinstance(default, _LITERAL_TYPES):  # an unknown annotation: unchecked
            annotation = type(default)
        nullable = declared_nullable or default is None
        found[target.id] = NotebookParameter(target.id, default, True, annotation, nullable, line)
    return list(found.values())


def _annotation(node: ast.expr) -> tuple[type | None, bool]:
    """``(type, nullable)`` from an annotation; ``(None, True)`` when not understood."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # a string annotation
        try:
            node = ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return None, True
    if isinstance(node, ast.Constant) and node.value is None:
        return None, True
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # X | None
        parts = [node.left, node.right]
        nones = [p for p in parts if isinstance(p, ast.Constant) and p.value is None]
        if len(nones) == 1:
            other = next(p for p in parts if p not in nones)
            return _annotation(other)[0], True
        return None, True
    if isinstance(node, ast.Subscript):
        head = _dotted(node.value)
        if head == "Optional":
            return _annotation(node.slice)[0], True
        if head in _ANNOTATION_NAMES:
            return _ANNOTATION_NAMES[head], False
        return None, True
    name = _dotted(node)
    if name in _ANNOTATION_NAMES:
        return _ANNOTATION_NAMES[name], False
    return None, True


def _dotted(node: ast.expr) -> str | None:
    """Last part of ``typing.Optional`` / ``Optional``, else ``None``."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return None


def _statements(lines: list[str]) -> list[ast.stmt]:
    """Top-level statements of the lines, skipping lines that never parse."""
    try:
        return list(ast.parse("\n".join(lines)).body)
    except SyntaxError as exc:
        bad = (exc.lineno or 1) - 1
    # Parse what precedes the error, then continue after the smallest
    # chunk starting at the error line that parses (or skip that line).
    head = _statements(lines[:bad]) if bad > 0 else []
    for end in range(bad + 1, len(lines) + 1):
        try:
            chunk = ast.parse("\n".join(lines[bad:end])).body
        except SyntaxError:
            continue
        return head + list(chunk) + _statements(lines[end:])
    return head + _statements(lines[bad + 1 :])


def notebook_parameters(path: str | Path) -> list[NotebookParameter]:
    """Parameters declared by a notebook file (empty without a parameters cell)."""
    notebook = nbformat.read(str(path), as_version=4)
    index = find_parameters_cell(notebook)
    return [] if index is None else parse_parameters(notebook.cells[index].source)


def describe_parameters(declared: list[NotebookParameter]) -> str:
    """``"a: int = 1, b: str = 'x'"``, or ``"none"``."""
    return ", ".join(p.describe() for p in declared) or "none"


def check_parameters(notebook: str, declared: list[NotebookParameter], values: dict[str, Any], has_cell: bool = True,
                     untyped: Collection[str] = ()) -> dict[str, Any]:
    """Check parameter values against the parameters cell, before any kernel starts.

    Rules (papermill injects the values as Python literals, so they must fit
    the notebook's declarations):

    * an undeclared name is an error when the notebook has a parameters cell
      (papermill only warns); without one every name is accepted;
    * a parameter with a known type takes only that type, with two
      widenings: an ``int`` for a ``float`` becomes a float, a tuple for a
      ``list`` becomes a list; ``bool`` is not taken for ``int``/``float``;
    * a ``datetime.date`` or ``datetime.datetime`` (a YAML file's unquoted
      ``2024-05-01``) becomes its ISO 8601 string (``"2024-05-01"``,
      ``"2024-05-01T10:00:00"``): that is the documented type of a date
      parameter, whose default in the cell is a string; for a parameter of
      another known type it is an error;
    * ``None`` is taken by nullable parameters only.

    Args:
        notebook: the notebook's path, for messages.
        declared: :func:`parse_parameters` of its parameters cell.
        values: the values given.
        has_cell: whether the notebook has a parameters cell.
        untyped: declared names whose values are not type-checked (Ploomber's
            ``upstream``, declared as a list of task names and given a dict
            of their products).

    Returns:
        The values to inject (converted as above), in the given order.

    Raises:
        partita.exceptions.ParameterTypeError: every unknown name and every
            mismatch, with the list of declared parameters.
    """
    by_name = {p.name: p for p in declared}
    problems: list[str] = []
    checked: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, (dt.date, dt.datetime)):
            value = value.isoformat()
        param = by_name.get(name)
        if param is None:
            if has_cell:
                problems.append(f"unknown parameter {name!r}")
            checked[name] = value
            continue
        fitted, ok = (value, True) if name in untyped else _fit(param, value)
        if not ok:
            expected = param.annotation.__name__ + (" or None" if param.nullable else "")  # type: ignore[union-attr]
            problems.append(f"parameter {name!r} must be {expected}, got {type(value).__name__} {value!r}")
        checked[name] = fitted
    if problems:
        raise ParameterTypeError(
            f"notebook '{notebook}': " + "; ".join(problems)
            + f". Its parameters cell declares: {describe_parameters(declared)}."
        )
    return checked


def _fit(param: NotebookParameter, value: Any) -> tuple[Any, bool]:
    expected = param.annotation
    if value is None:
        return None, param.nullable or expected is None
    if expected is None:
        return value, True
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value), True
    if expected is list and isinstance(value, tuple):
        return list(value), True
    if expected in (int, float) and isinstance(value, bool):
        return value, False
    return value, isinstance(value, expected)
