"""Reading a Ploomber task's source: a notebook, or a script in jupytext's percent or light format.

Ploomber's conventions (its "basic concepts" guide and Spec API docs): the
source has a cell tagged ``parameters``; that cell declares the task's
dependencies as ``upstream = ['load', 'clean']`` (or a dict whose keys are the
names, or ``None`` for none) and, when ``meta.extract_product`` is true, its
outputs as ``product = ...``. At run time a cell is injected right after it
with the resolved ``product`` and ``upstream`` values and the task's ``params``.

Scripts are read with jupytext, which recognises both ``# %%`` (percent) and
``# +`` / ``# -`` (light) cell markers.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from partita_workbench.notebooks.parameters import find_parameters_cell

__all__ = ["SourceProblem", "TaskSource", "read_source", "SCRIPT_SUFFIXES", "NOTEBOOK_SUFFIXES"]

SCRIPT_SUFFIXES = (".py",)
NOTEBOOK_SUFFIXES = (".ipynb",)

_CELL_MARKER = re.compile(r"^#\s*(%%|\+)(.*)$")


class SourceProblem(Exception):
    """Something wrong inside a source file.

    Attributes:
        path: the source file.
        position: 1-based ``(line, column)`` in the file (for a notebook, the
            line is ``1`` and ``cell`` says where).
        cell: 0-based cell index, or ``None``.
        message: what is wrong and what to do.
    """

    def __init__(self, path: Path, position: tuple[int, int], message: str, cell: int | None = None) -> None:
        self.path = path
        self.position = position
        self.cell = cell
        self.message = message
        super().__init__(message)


@dataclass(frozen=True)
class TaskSource:
    """A parsed task source.

    Attributes:
        path: absolute path of the file.
        text: the file's text (what the cache key hashes).
        notebook: the source as an nbformat v4 notebook (scripts converted by jupytext).
        parameters_cell: index of the ``parameters`` cell.
        upstream: names declared by ``upstream = ...`` in that cell, in
            order; ``None`` when the cell does not assign ``upstream``.
        product: the literal assigned to ``product`` in that cell, or
            ``None`` when there is none.
        upstream_position: 1-based ``(line, column)`` of the ``upstream``
            assignment (scripts) or ``(1, 1)`` (notebooks).
    """

    path: Path
    text: str
    notebook: Any
    parameters_cell: int
    upstream: tuple[str, ...] | None
    product: Any
    upstream_position: tuple[int, int]

    @property
    def is_script(self) -> bool:
        return self.path.suffix in SCRIPT_SUFFIXES

    def cell_line(self, index: int) -> int | None:
        """1-based line of a script where cell ``index``'s code starts (``None`` for notebooks)."""
        if not self.is_script or not 0 <= index < len(self.notebook.cells):
            return None
        lines = self.text.splitlines()
        start = 0
        for number, cell in enumerate(self.notebook.cells[: index + 1]):
            first = next((line for line in cell.source.splitlines() if line.strip()), None)
            if first is None:
                continue
            found = next((i for i in range(start, len(lines)) if lines[i].strip() == first.strip()), None)
            if found is None:
                return None
            if number == index:
                return found + 1
            start = found + 1
        return None


def _read_notebook(path: Path, text: str) -> Any:
    if path.suffix in NOTEBOOK_SUFFIXES:
        return nbformat.reads(text, as_version=4)
    import jupytext

    return jupytext.reads(text, fmt="py")


def _parameters_line(text: str) -> int:
    """1-based line where a script's ``parameters`` cell content starts (the line after its marker)."""
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if _CELL_MARKER.match(line) and "parameters" in line:
            return number + 1
    return 1


def read_source(path: Path) -> TaskSource:
    """Parse a source file.

    Args:
        path: a ``.py`` script (percent or light format) or a ``.ipynb`` notebook.

    Returns:
        The :class:`TaskSource`.

    Raises:
        SourceProblem: unreadable file, no ``parameters`` cell, or an
            ``upstream`` / ``product`` that is not a literal of the right shape.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceProblem(path, (1, 1), f"cannot read '{path.name}': {exc}") from None
    try:
        notebook = _read_notebook(path, text)
    except Exception as exc:  # nbformat / jupytext raise several kinds for bad files
        raise SourceProblem(path, (1, 1), f"'{path.name}' is not a readable notebook: {type(exc).__name__}: {exc}") from None
    index = find_parameters_cell(notebook)
    if index is None:
        marker = '# %% tags=["parameters"]' if path.suffix in SCRIPT_SUFFIXES else "the tag 'parameters'"
        raise SourceProblem(
            path,
            (1, 1),
            f"'{path.name}' has no cell tagged 'parameters'; add one (mark it with {marker}) "
            "declaring upstream = [...] and product = None, as Ploomber requires",
        )
    first_line = _parameters_line(text) if path.suffix in SCRIPT_SUFFIXES else None
    upstream, upstream_position, product = _declarations(path, notebook.cells[index].source, first_line, index)
    return TaskSource(
        path=path,
        text=text,
        notebook=notebook,
        parameters_cell=index,
        upstream=upstream,
        product=product,
        upstream_position=upstream_position,
    )


def _declarations(
    path: Path, source: str, first_line: int | None, cell: int
) -> tuple[tuple[str, ...] | None, tuple[int, int], Any]:
    """``upstream`` names and ``product`` literal assigned in the parameters cell."""

    def where(node: ast.AST) -> tuple[int, int]:
        if first_line is None:
            return (1, 1)
        return (first_line + node.lineno - 1, node.col_offset + 1)

    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        line = (first_line or 1) + (exc.lineno or 1) - 1 if first_line else 1
        raise SourceProblem(path, (line, exc.offset or 1), f"the parameters cell of '{path.name}' is not valid Python: {exc.msg}", cell) from None
    upstream: tuple[str, ...] | None = None
    upstream_position = (first_line or 1, 1)
    product: Any = None
    for statement in tree.body:
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target, value = statement.targets[0], statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            target, value = statement.target, statement.value
        else:
            continue
        if not isinstance(target, ast.Name) or target.id not in ("upstream", "product"):
            continue
        try:
            literal = ast.literal_eval(value)
        except (ValueError, SyntaxError, TypeError):
            raise SourceProblem(
                path, where(value), f"'{target.id}' in the parameters cell of '{path.name}' must be a literal (a list, dict, string or None)", cell
            ) from None
        if target.id == "product":
            product = literal
            continue
        upstream_position = where(statement)
        if literal is None:
            upstream = ()
        elif isinstance(literal, dict) and all(isinstance(k, str) for k in literal):
            upstream = tuple(literal)
        elif isinstance(literal, (list, tuple)) and all(isinstance(k, str) for k in literal):
            upstream = tuple(literal)
        else:
            raise SourceProblem(
                path,
                where(value),
                f"'upstream' in the parameters cell of '{path.name}' must be a list of task names, a dict keyed by them, or None",
                cell,
            )
    return upstream, upstream_position, product
