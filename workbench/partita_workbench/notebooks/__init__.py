"""Notebooks as tasks: run a whole notebook with papermill.

* :func:`run_notebook` — execute a notebook with parameters on a real kernel
  (parameters checked against the parameters cell and the kernel checked to
  be installed first; per-cell timeout; dead kernels detected; stream output
  capped), keep the executed copy under the result storage, return where it is;
* :func:`check_parameters`, :func:`notebook_parameters` — the parameters cell
  read without running anything, and values checked against it;
* :class:`NotebookCellError`, :class:`NotebookCellTimeout`,
  :class:`NotebookKernelDied` — failures that carry their details as data
  (stored in the FAILED state's ``state_details["failure"]``);
* :func:`notebook_flow` — a one-task flow for ``partita run notebook.ipynb``,
  its parameters read from the notebook's ``parameters`` cell;
* :data:`notebook_task` — the :class:`partita.Task` behind it;
* :func:`graph_document` — the task graph of a notebook whose cells are tasks
  (:mod:`partita_workbench.notebooks.cells`), in the canonical graph form.

``notebook_flow`` and ``notebook_task`` are imported lazily (they need the
SDK engine).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from partita_workbench.notebooks.errors import (
    NotebookCellError,
    NotebookCellTimeout,
    NotebookExecutionError,
    NotebookKernelDied,
)
from partita_workbench.notebooks.execute import NotebookProgress, default_output_path, run_notebook
from partita_workbench.notebooks.kernels import KernelNotFound, installed_kernels
from partita_workbench.notebooks.parameters import NotebookParameter, check_parameters, notebook_parameters

if TYPE_CHECKING:
    from partita_workbench.notebooks.cells.document import graph_document
    from partita_workbench.notebooks.task import notebook_flow, notebook_task

__all__ = [
    "run_notebook",
    "default_output_path",
    "notebook_flow",
    "notebook_task",
    "notebook_parameters",
    "check_parameters",
    "NotebookParameter",
    "NotebookProgress",
    "installed_kernels",
    "NotebookCellError",
    "NotebookCellTimeout",
    "NotebookExecutionError",
    "NotebookKernelDied",
    "KernelNotFound",
    "graph_document",
]

_LAZY = {"notebook_flow", "notebook_task"}


def __getattr__(name: str) -> Any:
    if name == "graph_document":
        from partita_workbench.notebooks.cells.document import graph_document

        return graph_document
    if name in _LAZY:
        from partita_workbench.notebooks import task

        return getattr(task, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
