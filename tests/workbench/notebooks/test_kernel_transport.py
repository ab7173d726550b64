"""Kernels are started over unix sockets (jupyter's ``ipc`` transport).

Over TCP, kernels starting at the same moment could be handed the same free
port ("Address already in use", then "Kernel died before replying to
kernel_info"), and every kernel warned that it ran over TCP without encryption.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from partita import flow, task

from partita_workbench.notebooks.execute import run_notebook

_CELL = (
    "from ipykernel.connect import get_connection_info\n"
    "info = get_connection_info(unpack=True)\n"
    "print('transport=' + info['transport'])"
)


def _notebook(folder: Path, name: str) -> Path:
    nb = new_notebook(cells=[new_code_cell(_CELL)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def test_concurrent_notebook_tasks_run_on_ipc_kernels(tmp_path: Path, capfd) -> None:
    paths = [_notebook(tmp_path, f"nb{i}") for i in range(4)]

    @task
    def execute(path: Path) -> str:
        out = run_notebook(path, output_path=str(path.with_suffix(".out.ipynb")))
        executed = nbformat.read(out, as_version=4)
        return executed.cells[0].outputs[0].text.strip()

    @flow
    def many() -> list[str]:
        return [f.result() for f in execute.map(paths)]  # four kernels start at once

    assert many() == ["transport=ipc"] * 4
    assert "without encryption" not in capfd.readouterr().err


def test_cells_tasks_run_on_ipc_kernels(tmp_path: Path, capfd) -> None:
    from partita_workbench.notebooks.cells import cells_flow
    from support.notebooks import make_notebook

    # three independent tasks: kernels started ahead, at once, by the pool
    path = make_notebook(tmp_path / "cells.ipynb", [f"# task: t{i}\n{_CELL}" for i in range(3)])
    state = cells_flow(path)(return_state=True)
    assert state.is_completed(), state.message
    cells = nbformat.read(state.result(), as_version=4).cells
    assert ["".join(o.get("text", "") for o in cell.outputs).strip() for cell in cells] == ["transport=ipc"] * 3
    assert "without encryption" not in capfd.readouterr().err
