"""Cells as tasks: a notebook whose tagged cells become the tasks of a flow.

* :func:`analyse_notebook` — the task graph of a notebook (static analysis, nothing run);
* :func:`graph_document` — that graph in the canonical graph-document form;
* :func:`check_problems` — what ``partita notebook check`` reports;
* :func:`cells_flow` — the notebook as a :class:`partita.Flow`, one task per task cell,
  each run on a kernel of the run's bounded set, reset between tasks (:mod:`.pool`);
  the executed notebook is the flow's result.
"""

from __future__ import annotations

from partita_workbench.notebooks.cells.analysis import analyse_notebook, has_task_cells, task_name_of
from partita_workbench.notebooks.cells.document import graph_document
from partita_workbench.notebooks.cells.model import Cell, CellTask, Definition, Edge, NotebookGraph, Problem
from partita_workbench.notebooks.cells.results import CellExecutionFailed, CellsResult, ExecutedCell, UnpicklableVariable

__all__ = [
    "analyse_notebook",
    "has_task_cells",
    "task_name_of",
    "graph_document",
    "cells_flow",
    "CellsRunFailed",
    "Cell",
    "CellTask",
    "Definition",
    "Edge",
    "NotebookGraph",
    "Problem",
    "CellsResult",
    "ExecutedCell",
    "CellExecutionFailed",
    "UnpicklableVariable",
]


def __getattr__(name: str):
    if name in ("cells_flow", "CellsRunFailed"):
        from partita_workbench.notebooks.cells import compiler

        return getattr(compiler, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
