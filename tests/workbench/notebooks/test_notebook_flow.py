"""``notebook_flow``: a notebook as a one-task flow, its parameters from the parameters cell."""

from __future__ import annotations

import inspect

import nbformat
import pytest

from partita.exceptions import InvalidTarget, ParameterTypeError
from partita.settings import get_settings

from partita_workbench.notebooks import NotebookCellError, notebook_flow


def test_flow_is_named_after_the_notebook_with_its_parameters(notebooks_dir):
    flow = notebook_flow(notebooks_dir / "divide.ipynb")
    assert flow.name == "divide"
    params = inspect.signature(flow.fn).parameters
    assert {n: (p.annotation, p.default) for n, p in params.items()} == {"numerator": (int, 1), "denominator": (int, 0)}
    untyped = inspect.signature(notebook_flow(notebooks_dir / "simple_execute.ipynb").fn).parameters["msg"]
    assert (untyped.annotation, untyped.default) == (inspect.Parameter.empty, None)


def test_run_injects_parameters_and_returns_the_executed_notebook(notebooks_dir, client):
    state = notebook_flow(notebooks_dir / "divide.ipynb")(numerator=3, denominator=2, return_state=True)
    assert state.is_completed(), state.message
    path = state.result()
    flow_run_id = state.state_details["flow_run_id"]
    (task_run,) = client.read_task_runs(flow_run_id)
    assert task_run.name == "divide"
    assert path == f"{get_settings().resolved_result_storage()}/runs/{flow_run_id}/divide.ipynb"
    executed = nbformat.read(path, as_version=4)
    assert executed.cells[-1].outputs[0].text == "1.5\n"


def test_parameters_are_type_checked(notebooks_dir):
    with pytest.raises(ParameterTypeError, match="numerator"):
        notebook_flow(notebooks_dir / "divide.ipynb")(numerator="lots")


def test_defaults_can_be_replaced(notebooks_dir):
    flow = notebook_flow(notebooks_dir / "divide.ipynb", {"denominator": 4})
    assert inspect.signature(flow.fn).parameters["denominator"].default == 4
    executed = nbformat.read(flow(numerator=2), as_version=4)
    assert executed.cells[-1].outputs[0].text == "0.5\n"


def test_failure_propagates_as_notebook_cell_error(notebooks_dir):
    with pytest.raises(NotebookCellError, match="failed at cell 3 .*ZeroDivisionError: division by zero"):
        notebook_flow(notebooks_dir / "divide.ipynb")()


def test_missing_notebook(tmp_path):
    with pytest.raises(InvalidTarget, match="not found"):
        notebook_flow(tmp_path / "nope.ipynb")
