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

``run_notebook``, ``default_output_path``, ``NotebookProgress``,
``installed_kernels`` and ``KernelNotFound`` (papermill, jupyter_client) and ``notebook_flow`` / ``notebook_task`` (the SDK engine) are
imported on first use, so reading a parameters cell loads neither.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from partita_workbench.notebooks.errors import (
    NotebookCellError,
    NotebookCellTimeout,
    NotebookExecutionError,
    NotebookKernelDied,
)
from partita_workbench.notebooks.parameters import NotebookParameter, check_parameters, notebook_parameters

if TYPE_CHECKING:
    from partita_workbench.notebooks.cells.document import graph_document
    from partita_workbench.notebooks.execute import NotebookProgress, default_output_path, run_notebook
    from partita_workbench.notebooks.kernels import KernelNotFound, installed_kernels
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

_LAZY = {
    "notebook_flow": "task",
    "notebook_task": "task",
    "run_notebook": "execute",
    "default_output_path": "execute",
    "NotebookProgress": "execute",
    "graph_document": "cells.document",
    "KernelNotFound": "kernels",
    "installed_kernels": "kernels",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
