"""The executed notebook of a cells run: the source notebook with each cell's outputs from its task.

Written under ``<storage>/runs/<flow run id>/<notebook stem>.ipynb`` (and, for
a failing task, its partial notebook as ``<task>.partial.ipynb`` beside it); the
source notebook is only read. Setup cells and the parameters cell show the
outputs of their run before the first task; the flow's parameter values
follow the parameters cell in a cell tagged ``injected-parameters``
(papermill's convention), so the file opens in JupyterLab as if the
notebook had been run top to bottom. Cells of tasks that did not run have
no outputs. Each code cell's ``metadata.partita.task`` names its task, and
``metadata.partita`` of the notebook maps tasks to their state and cells.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import fsspec
import nbformat

from partita_workbench.notebooks.cells.results import ExecutedCell

__all__ = ["run_folder", "executed_notebook", "partial_notebook", "write_notebook", "INJECTED_TAG"]

INJECTED_TAG = "injected-parameters"


def run_folder(storage: str | None = None) -> str | None:
    """``<storage>/runs/<flow run id>`` of the current flow run, or ``None`` outside a run."""
    from partita import runtime

    flow_run_id = runtime.flow_run.id
    if not flow_run_id:
        return None
    if storage is None:
        from partita.settings import get_settings

        storage = get_settings().resolved_result_storage()
    return f"{storage.rstrip('/')}/runs/{flow_run_id}"


def _clear(notebook: Any) -> None:
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None


def _apply(notebook: Any, executed: list[ExecutedCell], task: str | None) -> None:
    for item in executed:
        if 0 <= item.index < len(notebook.cells):
            cell = notebook.cells[item.index]
            cell.outputs = [nbformat.from_dict(o) for o in item.outputs]
            cell.execution_count = item.execution_count
            if task is not None:
                cell.metadata.setdefault("partita", {})["task"] = task


def partial_notebook(source: Any, executed: list[ExecutedCell]) -> Any:
    """A copy of ``source`` holding only the outputs of ``executed``."""
    notebook = copy.deepcopy(source)
    _clear(notebook)
    _apply(notebook, executed, None)
    return notebook


def _parameters_source(parameters: dict[str, Any]) -> str:
    lines = ["# Parameters"] + [f"{name} = {value!r}" for name, value in parameters.items()]
    return "\n".join(lines) + "\n"


def executed_notebook(
    source: Any,
    tasks: list[dict[str, Any]],
    parameters_cell: int | None,
    parameters: dict[str, Any],
    flow_run_id: str | None,
) -> Any:
    """Assemble the executed notebook.

    Args:
        source: the source notebook (nbformat node; not modified).
        tasks: per task, in notebook order: ``{"name", "state", "cells"
            (covered cell indices), "executed" (list of ExecutedCell),
            "setup" (list of ExecutedCell, may be empty)}``.
        parameters_cell: index of the parameters cell, or ``None``.
        parameters: injected parameter values (``None`` values are left out).
        flow_run_id: recorded in the notebook's metadata.

    Returns:
        A new nbformat notebook node.
    """
    notebook = copy.deepcopy(source)
    _clear(notebook)
    setup_from = next((t["setup"] for t in tasks if t.get("setup")), [])
    _apply(notebook, setup_from, None)
    for task in tasks:
        for index in task["cells"]:
            if 0 <= index < len(notebook.cells):
                notebook.cells[index].metadata.setdefault("partita", {})["task"] = task["name"]
        _apply(notebook, task.get("executed", []), task["name"])
    notebook.metadata["partita"] = {
        "flow_run_id": flow_run_id,
        "tasks": {t["name"]: {"state": t["state"], "cells": list(t["cells"])} for t in tasks},
    }
    injected = {k: v for k, v in parameters.items() if v is not None}
    if parameters_cell is not None and injected:
        cell = nbformat.v4.new_code_cell(_parameters_source(injected))
        cell.metadata["tags"] = [INJECTED_TAG]
        if (notebook.get("nbformat"), notebook.get("nbformat_minor", 0)) < (4, 5):
            cell.pop("id", None)
        notebook.cells.insert(parameters_cell + 1, cell)
    return notebook


def write_notebook(notebook: Any, destination: str) -> str:
    """Write a notebook to a path or fsspec URL (folders created); returns ``destination``."""
    fs, path = fsspec.core.url_to_fs(destination)
    parent = re.sub(r"/[^/]*$", "", path)
    if parent:
        fs.makedirs(parent, exist_ok=True)
    with fs.open(path, "w", encoding="utf-8") as fh:
        nbformat.write(notebook, fh)
    return destination
