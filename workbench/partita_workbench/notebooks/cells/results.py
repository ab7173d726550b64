"""What a cells task returns (its persisted result) and how its failures are described.

A :class:`CellsResult` holds the task's output variables as cloudpickle
bytes made *inside the kernel* — so Partita's own process never needs the
libraries the values come from (a data frame stays bytes until a kernel loads
it) — plus the outputs of every cell it ran, from which the executed notebook
is assembled, also when the task is later taken from the cache.
"""

from __future__ import annotations

import pickle
import re
from dataclasses import dataclass, field
from typing import Any

from partita.exceptions import RunError

__all__ = ["ExecutedCell", "CellsResult", "CellExecutionFailed", "UnpicklableVariable", "strip_ansi"]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def strip_ansi(text: str) -> str:
    """``text`` without terminal colour codes (IPython colours its tracebacks)."""
    return _ANSI.sub("", text)


@dataclass(frozen=True)
class ExecutedCell:
    """One executed cell.

    Attributes:
        index: 0-based index of the cell in the source notebook.
        outputs: nbformat output dicts (streams, display data, results, errors).
        execution_count: the cell's ``In [n]`` in its task's kernel.
    """

    index: int
    outputs: list[dict[str, Any]]
    execution_count: int | None


@dataclass
class CellsResult:
    """The result of one cells task.

    Attributes:
        task: the task name.
        values: variable → cloudpickle bytes, for the variables later tasks read.
        cells: the task's own cells, executed, in order.
        setup: the setup cells and the parameters cell as run before the task.
        kernel: the kernel name the cells ran on.
    """

    task: str
    values: dict[str, bytes] = field(default_factory=dict)
    cells: list[ExecutedCell] = field(default_factory=list)
    setup: list[ExecutedCell] = field(default_factory=list)
    kernel: str = ""

    def value(self, name: str) -> Any:
        """The value of an output variable, unpickled in this process.

        Raises:
            KeyError: the task has no such output variable.
        """
        return pickle.loads(self.values[name])

    def __repr__(self) -> str:
        return f"CellsResult(task={self.task!r}, values={sorted(self.values)}, cells={[c.index for c in self.cells]})"


class CellExecutionFailed(RunError):
    """A cell of a cells task raised (or its kernel died or timed out).

    The failure is kept as data in the task run's FAILED state
    (``state_details["failure"]``, from :attr:`details`: ``kind``
    ``cell_error``/``cell_timeout``/``kernel_died``, ``task``, ``notebook``,
    ``cell_index``, ``cell_id``, ``execution_count``, ``line``, ``ename``, ``evalue``,
    ``traceback``, ``source_excerpt``, ``output_notebook``, the same keys
    as a whole-notebook run's failure).

    Attributes:
        task: the task name.
        notebook: the notebook path.
        cell_index: 0-based index of the failing cell in the source notebook.
        cell_id: its id (``None`` before nbformat 4.5).
        line: 1-based line inside the cell, when the traceback gives it.
        ename, evalue: the exception's type name and message.
        traceback: the traceback lines, without colour codes.
        source_excerpt: the failing line with up to two lines around it,
            each prefixed with its line number (``"-->"`` marks the failing one).
        output_notebook: where the task's partial executed notebook was written.
        partial: the cells executed so far (outputs included), for the run's
            executed notebook.
        execution_count: the failing cell's ``In [n]`` in the task's kernel.
    """

    def __init__(
        self,
        task: str,
        notebook: str,
        cell_index: int,
        cell_id: str | None,
        line: int | None,
        ename: str,
        evalue: str,
        traceback: list[str],
        source_excerpt: str,
        output_notebook: str | None,
        partial: list[ExecutedCell] | None = None,
        execution_count: int | None = None,
    ) -> None:
        self.task, self.notebook = task, notebook
        self.cell_index, self.cell_id, self.line = cell_index, cell_id, line
        self.ename, self.evalue, self.traceback = ename, evalue, traceback
        self.source_excerpt = source_excerpt
        self.output_notebook = output_notebook
        self.partial = partial or []
        self.details = {
            "kind": {"CellTimeoutError": "cell_timeout", "DeadKernelError": "kernel_died"}.get(ename, "cell_error"),
            "task": task,
            "notebook": notebook,
            "cell_index": cell_index,
            "cell_id": cell_id,
            "execution_count": execution_count,
            "line": line,
            "ename": ename,
            "evalue": evalue,
            "traceback": traceback,
            "source_excerpt": source_excerpt,
            "output_notebook": output_notebook,
        }
        where = f"cell {cell_index}" + (f" (id {cell_id})" if cell_id else "") + (f", line {line}" if line else "")
        error = f"{ename}: {evalue}" if evalue else ename
        tail = f" (partial output: {output_notebook})" if output_notebook else ""
        super().__init__(f"task {task!r} of notebook '{notebook}' failed at {where}: {error}{tail}")

    def __reduce__(self) -> Any:
        return (CellExecutionFailed, (self.task, self.notebook, self.cell_index, self.cell_id, self.line, self.ename,
                                      self.evalue, self.traceback, self.source_excerpt, self.output_notebook, self.partial,
                                      self.details["execution_count"]))


class UnpicklableVariable(RunError):
    """A variable another task reads could not be pickled at the end of its task.

    Stored as data in the FAILED state's ``state_details["failure"]``
    (``kind: "unpicklable_variable"``, ``variable``, ``cell_index``, ``readers``...).

    Attributes:
        task: the task defining it.
        variable: its name.
        cell_index: the cell (0-based) where the task last defines it.
        readers: the tasks that read it.
        reason: the pickling error (``"TypeError: cannot pickle 'generator' object"``).
    """

    def __init__(self, task: str, variable: str, cell_index: int | None, readers: list[str], reason: str) -> None:
        self.task, self.variable, self.cell_index, self.readers, self.reason = task, variable, cell_index, readers, reason
        ename, _, evalue = reason.partition(": ")
        self.details = {"kind": "unpicklable_variable", "task": task, "variable": variable, "cell_index": cell_index,
                        "readers": readers, "ename": ename, "evalue": evalue}
        where = f" (defined in cell {cell_index})" if cell_index is not None else ""
        readers_text = ", ".join(repr(r) for r in readers)
        super().__init__(
            f"task {task!r}: variable {variable!r}{where} is read by task {readers_text} but cannot be pickled: {reason}. "
            f"Turn it into a picklable value (a list, a dict, a data frame...) before the end of task {task!r}, "
            f"or compute it inside {readers_text} instead"
        )

    def __reduce__(self) -> Any:
        return (UnpicklableVariable, (self.task, self.variable, self.cell_index, self.readers, self.reason))
