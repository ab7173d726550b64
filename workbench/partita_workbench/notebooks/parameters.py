"""Reading a notebook's parameters from its ``parameters``-tagged cell.

papermill's convention: the first code cell tagged ``parameters`` holds
assignments of default values (``msg = None``, ``n: int = 3``); values given
at run time are injected in a new cell right after it. This module reads
those assignments with :mod:`ast` without running anything: a value that is a
Python literal (``ast.literal_eval``) gives the parameter's default and type;
any other expression gives a parameter with no known default.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

__all__ = ["PARAMETERS_TAG", "NotebookParameter", "find_parameters_cell", "parse_parameters", "notebook_parameters"]

PARAMETERS_TAG = "parameters"
"""Tag of the cell holding the defaults (papermill's convention)."""

_LITERAL_TYPES = (str, bool, int, float, list, dict)


@dataclass(frozen=True)
class NotebookParameter:
    """One assignment of the parameters cell.

    Attributes:
        name: the variable name.
        default: the literal value, or ``None`` when the value is not a literal.
        literal: whether ``default`` is the assigned literal value.
        annotation: ``str``/``bool``/``int``/``float``/``list``/``dict`` from
            the literal's type, or ``None`` when unknown (``None`` default, a
            non-literal expression, or another literal type).
    """

    name: str
    default: Any
    literal: bool
    annotation: type | None


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
        target, value = None, None
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        if not isinstance(target, ast.Name) or value is None:
            continue
        try:
            default = ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            found[target.id] = NotebookParameter(target.id, None, False, None)
            continue
        annotation = type(default) if isinstance(default, _LITERAL_TYPES) else None
        found[target.id] = NotebookParameter(target.id, default, True, annotation)
    return list(found.values())


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
