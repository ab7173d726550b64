"""No run writes into the notebooks it executes, in either mode, failing runs included."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from partita.exceptions import ParameterTypeError

from partita_workbench.notebooks import (
    NotebookCellError,
    NotebookCellTimeout,
    NotebookKernelDied,
    notebook_flow,
    run_notebook,
)

from support.cli import run_cli

NAMES = ["divide.ipynb", "typed_parameters.ipynb", "sleepy.ipynb", "broken1.ipynb", "cases/nbclient/Autokill.ipynb",
         "cells/diamond.ipynb", "cells/failing.ipynb"]


@pytest.fixture
def sources(notebooks_dir, tmp_path) -> dict[str, Path]:
    folder = tmp_path / "sources"
    folder.mkdir()
    copies = {}
    for name in NAMES:
        copies[Path(name).stem] = folder / Path(name).name
        shutil.copyfile(notebooks_dir / name, copies[Path(name).stem])
    return copies


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_runs_of_every_outcome_leave_the_source_notebooks_as_they_were(sources, tmp_path):
    folder = sources["divide"].parent
    before = snapshot(folder)

    run_notebook(sources["divide"], {"denominator": 2})  # completes
    notebook_flow(sources["typed_parameters"])(count=2)  # completes in a flow run
    with pytest.raises(NotebookCellError):
        notebook_flow(sources["divide"])()  # a cell raises
    with pytest.raises(NotebookCellError):
        run_notebook(sources["broken1"])  # a cell raises after old error banners
    with pytest.raises(NotebookCellTimeout):
        run_notebook(sources["sleepy"], {"seconds": 30}, timeout=1)
    with pytest.raises(NotebookKernelDied):
        run_notebook(sources["Autokill"])
    with pytest.raises(ParameterTypeError):
        run_notebook(sources["typed_parameters"], {"count": "x"})
    home = {"PARTITA_HOME": str(tmp_path / "home")}
    assert run_cli("run", str(sources["divide"]), "-p", "denominator=4", env=home).returncode == 0
    assert run_cli("run", str(sources["divide"]), env=home).returncode == 1

    assert snapshot(folder) == before  # same files, same bytes: outputs went elsewhere


def test_cells_mode_runs_leave_the_source_notebooks_as_they_were(sources, tmp_path):
    from partita_workbench.notebooks.cells import cells_flow

    folder = sources["diamond"].parent
    before = snapshot(folder)

    assert cells_flow(sources["diamond"])(n=3, return_state=True).is_completed()  # completes
    assert cells_flow(sources["failing"])(return_state=True).is_failed()  # a cell raises, downstream NotReady
    assert cells_flow(sources["diamond"], cell_timeout=0.5)(return_state=True).is_failed()  # B and C time out
    home = {"PARTITA_HOME": str(tmp_path / "home")}
    assert run_cli("run", str(sources["diamond"]), "-p", "n=2", env=home).returncode == 0
    assert run_cli("run", str(sources["failing"]), env=home).returncode == 1
    assert run_cli("run", str(sources["diamond"]), "--mode", "papermill", env=home).returncode == 0

    assert snapshot(folder) == before
