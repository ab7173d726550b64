"""Notebooks as tasks: run a whole notebook with papermill.

* :func:`run_notebook` — execute a notebook with parameters on a real kernel,
  keep the executed copy under the result storage, return where it is;
* :func:`notebook_flow` — a one-task flow for ``partita run notebook.ipynb``,
  its parameters read from the notebook's ``parameters`` cell;
* :data:`notebook_task` — the :class:`partita.Task` behind it.

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
]

_LAZY = {"notebook_flow", "notebook_task"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from partita_workbench.notebooks import task

        return getattr(task, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
