"""Errors of a whole-notebook run, each carrying the failure as data.

::

    RunError (partita.exceptions)
    ├── NotebookCellError         a cell raised (ename, evalue, traceback from the kernel)
    │   └── NotebookCellTimeout   a cell ran longer than the per-cell timeout
    └── NotebookExecutionError    the notebook could not run (kernel did not start...)
        └── NotebookKernelDied    the kernel died (killed, crashed) while a cell ran

Every one of them has ``details`` (see :func:`failure_details`), which the
engine stores in the FAILED state's ``state_details["failure"]``.
"""

from __future__ import annotations

import re
from typing import Any

from partita.exceptions import RunError

__all__ = [
    "NotebookCellError",
    "NotebookCellTimeout",
    "NotebookExecutionError",
    "NotebookKernelDied",
    "CellLocation",
    "failure_details",
]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_EXCERPT_LINES = 12  # lines of cell source kept in the failure details
_TRACEBACK_LINES = 200  # lines of traceback kept in the failure details


class CellLocation:
    """Where a cell is, in the source notebook and in the executed one.

    Attributes:
        cell_index: 0-based index in the *source* notebook, counting every
            cell (markdown too); ``None`` for the cell papermill injected.
        executed_cell_index: 0-based index in the executed notebook.
        cell_id: the cell's ``id`` (nbformat ≥ 4.5) or ``None``.
        execution_count: the cell's ``In [n]``, if it started.
        source: the cell's source.
    """

    __slots__ = ("cell_index", "executed_cell_index", "cell_id", "execution_count", "source")

    def __init__(self, cell_index: int | None, executed_cell_index: int, cell_id: str | None,
                 execution_count: int | None, source: str) -> None:
        self.cell_index = cell_index
        self.executed_cell_index = executed_cell_index
        self.cell_id = cell_id
        self.execution_count = execution_count
        self.source = source

    def describe(self) -> str:
        """``"cell 3 (0-based, counting all cells of the notebook)"`` or the injected cell."""
        if self.cell_index is None:
            return "the injected-parameters cell"
        return f"cell {self.cell_index} (0-based, counting all cells of the notebook)"


def _plain(lines: list[str]) -> list[str]:
    text = "\n".join(_ANSI.sub("", line) for line in lines)
    return text.splitlines()[-_TRACEBACK_LINES:]


def _error_line(traceback: list[str]) -> int | None:
    """1-based line of the cell where the error happened, from IPython's traceback.

    IPython names a cell's frames ``Cell In[4], line 2``; the last such
    frame is the deepest one inside the cell.
    """
    found = None
    for line in traceback:
        for match in re.finditer(r"Cell In\s*\[\s*\d*\s*\], line (\d+)", line):
            found = int(match.group(1))
    return found


def _excerpt(source: str, line: int | None) -> str:
    lines = source.splitlines()
    if line is None or not 1 <= line <= len(lines):
        chosen = lines[:_EXCERPT_LINES]
        start = 1
    else:
        start = max(1, line - _EXCERPT_LINES // 2)
        chosen = lines[start - 1 : start - 1 + _EXCERPT_LINES]
    marked = [f"{'-->' if start + i == line else '   '} {start + i:>3} {text}" for i, text in enumerate(chosen)]
    return "\n".join(marked)


def failure_details(kind: str, notebook: str, cell: CellLocation | None, output_path: str, *,
                    ename: str, evalue: str, traceback: list[str] | None = None) -> dict[str, Any]:
    """The failure of a notebook run as JSON-ready data.

    Returns:
        ``{"kind", "notebook", "cell_index", "cell_id", "executed_cell_index",
        "execution_count", "line", "ename", "evalue", "traceback" (plain text
        lines, ANSI colours removed, last 200), "source_excerpt" (up to 12
        numbered lines of the cell around ``line``, ``-->`` marking it),
        "output_notebook"}``; ``kind`` is ``"cell_error"``, ``"cell_timeout"``
        or ``"kernel_died"``.
    """
    plain = _plain(traceback or [])
    line = _error_line(plain) if plain else None
    return {
        "kind": kind,
        "notebook": notebook,
        "cell_index": cell.cell_index if cell else None,
        "cell_id": cell.cell_id if cell else None,
        "executed_cell_index": cell.executed_cell_index if cell else None,
        "execution_count": cell.execution_count if cell else None,
        "line": line,
        "ename": ename,
        "evalue": evalue,
        "traceback": plain,
        "source_excerpt": _excerpt(cell.source, line) if cell else "",
        "output_notebook": output_path,
    }


class NotebookCellError(RunError):
    """A cell of a notebook raised an exception.

    Attributes:
        notebook: the notebook path as given.
        cell_index: 0-based index of the failing cell in the *source*
            notebook, counting every cell (markdown too); ``None`` when the
            cell papermill injected with the parameters failed.
        executed_cell_index: 0-based index in the executed notebook (before
            papermill adds its error banners, counting the injected cell).
        cell_id: the failing cell's id (nbformat ≥ 4.5), else ``None``.
        execution_count: the failing cell's ``In [n]`` in the executed notebook.
        ename, evalue: the exception's type name and message, from the kernel.
        output_path: where the executed (partial) notebook was written.
        details: :func:`failure_details`.
    """

    kind = "cell_error"

    def __init__(self, notebook: str, cell: CellLocation, ename: str, evalue: str, output_path: str,
                 traceback: list[str] | None = None) -> None:
        self.notebook = notebook
        self.cell_index = cell.cell_index
        self.executed_cell_index = cell.executed_cell_index
        self.cell_id = cell.cell_id
        self.execution_count = cell.execution_count
        self.ename = ename
        self.evalue = evalue
        self.output_path = output_path
        self.details = failure_details(self.kind, notebook, cell, output_path, ename=ename, evalue=evalue, traceback=traceback)
        super().__init__(self._message(cell))

    def _message(self, cell: CellLocation) -> str:
        error = f"{self.ename}: {self.evalue}" if self.evalue else self.ename
        where = "in the injected-parameters cell" if cell.cell_index is None else f"at {cell.describe()}"
        line = f", line {self.details['line']}" if self.details["line"] else ""
        return f"notebook '{self.notebook}' failed {where}{line}: {error} (executed notebook: {self.output_path})"


class NotebookCellTimeout(NotebookCellError):
    """A cell ran longer than the per-cell timeout (the kernel is then shut down)."""

    kind = "cell_timeout"

    def __init__(self, notebook: str, cell: CellLocation, timeout: float, output_path: str) -> None:
        self.timeout = timeout
        super().__init__(notebook, cell, "CellTimeoutError", f"the cell ran longer than {timeout:g} s", output_path)

    def _message(self, cell: CellLocation) -> str:
        return (
            f"notebook '{self.notebook}' timed out at {cell.describe()}: it ran longer than the per-cell timeout "
            f"of {self.timeout:g} s; raise the timeout or shorten the cell (executed notebook: {self.output_path})"
        )


class NotebookExecutionError(RunError):
    """The notebook could not be executed (the kernel did not start, or similar)."""


class NotebookKernelDied(NotebookExecutionError):
    """The kernel died (killed from outside, crashed, exited) while a cell ran.

    Attributes:
        notebook, output_path: as for :class:`NotebookCellError`.
        cell_index, cell_id: the cell that was running (source notebook).
        details: :func:`failure_details` with ``kind="kernel_died"``.
    """

    def __init__(self, notebook: str, cell: CellLocation | None, output_path: str) -> None:
        self.notebook = notebook
        self.output_path = output_path
        self.cell_index = cell.cell_index if cell else None
        self.cell_id = cell.cell_id if cell else None
        self.details = failure_details("kernel_died", notebook, cell, output_path, ename="DeadKernelError",
                                       evalue="the kernel died while the cell ran")
        where = f"while running {cell.describe()}" if cell else "before any cell ran"
        super().__init__(
            f"notebook '{notebook}': the kernel died {where}; it was killed or crashed (out of memory, a "
            f"native crash, os.kill); see the executed notebook {output_path}"
        )
