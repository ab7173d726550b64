"""Value objects of a notebook compiled into tasks (no execution here).

Cell numbers are 0-based indices counting every cell of the notebook
(markdown and raw cells too), as in :class:`partita_workbench.notebooks.NotebookCellError`;
line and column numbers inside a cell are 1-based.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["Cell", "Definition", "Edge", "CellTask", "Problem", "NotebookGraph"]


@dataclass(frozen=True)
class Cell:
    """One cell of the source notebook.

    Attributes:
        index: 0-based position in the notebook.
        id: the cell's ``id`` (nbformat >= 4.5), else ``None``.
        cell_type: ``code``, ``markdown`` or ``raw``.
        source: the cell's text.
        tags: the cell's ``metadata.tags``.
    """

    index: int
    id: str | None
    cell_type: str
    source: str
    tags: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """The cell's id, or its index as text for notebooks without cell ids."""
        return self.id if self.id is not None else str(self.index)


@dataclass(frozen=True)
class Definition:
    """Where a variable gets the value another task reads: the last definition in its task.

    Attributes:
        name: the variable.
        cell: 0-based cell index.
        line: 1-based line inside the cell.
    """

    name: str
    cell: int
    line: int


@dataclass(frozen=True)
class Edge:
    """``upstream`` must run before ``downstream``, because of ``variables`` and/or ``needs``.

    Attributes:
        upstream, downstream: task names.
        variables: the variables ``downstream`` reads from ``upstream``, each
            with the place ``upstream`` defines it.
        needs_cell: the cell holding a ``needs:UPSTREAM`` tag of
            ``downstream``, or ``None`` when there is no such tag.
    """

    upstream: str
    downstream: str
    variables: tuple[Definition, ...] = ()
    needs_cell: int | None = None


@dataclass(frozen=True)
class CellTask:
    """A task made of consecutive cells.

    Attributes:
        name: from the ``task:NAME`` tag or the ``# task: NAME`` first line.
        cells: indices of every cell the task covers (markdown cells too),
            from its task cell to the cell before the next task cell.
        code_cells: the code cells among them, run in order.
        needs: task names from ``needs:NAME`` tags.
        inputs: variable → upstream task it is read from.
        parameters: flow parameters the task reads.
        outputs: variables it defines that later tasks read (persisted as its result).
        implicit: the task holds code cells before the first task cell that
            are not setup (it is named ``prelude``).
    """

    name: str
    cells: tuple[int, ...]
    code_cells: tuple[int, ...]
    needs: tuple[str, ...] = ()
    inputs: dict[str, str] = field(default_factory=dict)
    parameters: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    implicit: bool = False

    @property
    def first_cell(self) -> int:
        return self.cells[0]


@dataclass(frozen=True)
class Problem:
    """An analysis problem, at a cell and line when known.

    Attributes:
        message: what is wrong and what to do.
        cell: 0-based cell index, or ``None`` for the notebook as a whole.
        line, column: 1-based, or ``None``.
        code: a short stable identifier (``undefined-name``, ``empty-task``,
            ``star-import``, ``syntax-error``, ``duplicate-task``,
            ``unknown-need``, ``cycle``, ``bad-task-name``).
    """

    message: str
    cell: int | None = None
    line: int | None = None
    column: int | None = None
    code: str = ""

    def render(self, path: str) -> str:
        """``path: cell 3, line 2, col 5: message``."""
        where = [path]
        if self.cell is not None:
            place = f"cell {self.cell}"
            if self.line is not None:
                place += f", line {self.line}"
                if self.column is not None:
                    place += f", col {self.column}"
            where.append(place)
        return ": ".join([*where, self.message])


@dataclass
class NotebookGraph:
    """A notebook compiled into tasks: cells, setup, parameters, tasks, edges, problems.

    Attributes:
        path: the notebook path as given.
        name: the notebook's file stem.
        nbformat: ``(major, minor)`` version of the file.
        cells: every cell, in order.
        setup_cells: code cells run before every task (imports, functions,
            constants before the first task cell).
        parameters_cell: index of the ``parameters``-tagged cell, or ``None``.
        parameters: the parameters it declares
            (:class:`partita_workbench.notebooks.NotebookParameter`).
        tasks: in notebook order; empty when no cell is a task cell.
        edges: sorted by (upstream, downstream).
        problems: analysis problems (see :class:`Problem`).
        kernelspec: the notebook's ``metadata.kernelspec`` (may be empty).
    """

    path: str
    name: str
    nbformat: tuple[int, int]
    cells: list[Cell]
    setup_cells: tuple[int, ...]
    parameters_cell: int | None
    parameters: list[Any]
    tasks: list[CellTask]
    edges: list[Edge]
    problems: list[Problem]
    kernelspec: dict[str, Any] = field(default_factory=dict)

    @property
    def has_cell_ids(self) -> bool:
        """Whether cells carry ids (nbformat 4.5 and later)."""
        return self.nbformat >= (4, 5)

    def task(self, name: str) -> CellTask:
        """The task called ``name``.

        Raises:
            KeyError: no such task.
        """
        for task in self.tasks:
            if task.name == name:
                return task
        raise KeyError(name)

    def upstream_of(self, name: str) -> list[str]:
        """Names of the tasks ``name`` depends on, in notebook order."""
        order = {t.name: i for i, t in enumerate(self.tasks)}
        return sorted({e.upstream for e in self.edges if e.downstream == name}, key=order.__getitem__)
