"""Notebook tasks inside compiled pipelines, on a real Jupyter kernel."""

from __future__ import annotations

import nbformat
import pytest

from partita.settings import get_settings

from partita_workbench.notebooks import NotebookCellError, installed_kernels, run_notebook
from partita_workbench.pipelines import compile_pipeline


def test_parameter_reaches_the_notebook_and_its_result_is_the_executed_notebook(pipelines_dir):
    state = compile_pipeline(pipelines_dir / "notebook_parameters.yaml")(msg="hi", return_state=True)
    assert state.is_completed(), state.message
    results = state.result()
    storage = get_settings().resolved_result_storage()
    flow_run_id = state.state_details["flow_run_id"]
    assert results["run"] == f"{storage}/runs/{flow_run_id}/run.ipynb"
    assert results["printed"] == "hi from a pipeline"
    executed = nbformat.read(results["run"], as_version=4)
    injected = executed.cells[1]
    assert "injected-parameters" in injected.metadata.tags
    assert 'msg = "hi from a pipeline"' in injected.source


def test_failing_cell_fails_the_task_with_cell_index_and_exception(pipelines_dir, task_run_states):
    state = compile_pipeline(pipelines_dir / "notebook_failure.yaml")(return_state=True)
    assert state.is_failed()
    with pytest.raises(NotebookCellError) as caught:
        state.result()
    error = caught.value
    notebook = str((pipelines_dir.parent / "notebooks" / "divide.ipynb").resolve())
    assert (error.notebook, error.cell_index, error.ename, error.evalue) == (
        notebook, 3, "ZeroDivisionError", "division by zero"
    )
    assert error.executed_cell_index == 4  # papermill's count includes the injected-parameters cell
    states = task_run_states(state)
    name, message = states["divide"]
    assert name == "Failed"
    assert message == (
        f"NotebookCellError: notebook '{notebook}' failed at cell 3 (0-based, counting all cells of the "
        f"notebook), line 1: ZeroDivisionError: division by zero (executed notebook: {error.output_path})"
    )
    assert states["after"][0] != "Completed"  # the downstream task never ran
    executed = nbformat.read(error.output_path, as_version=4)
    assert any(o.get("ename") == "ZeroDivisionError" for c in executed.cells for o in c.get("outputs", []))


def test_kernel_override_and_missing_kernel(pipelines_dir, task_run_states):
    state = compile_pipeline(pipelines_dir / "notebook_kernel.yaml")(return_state=True)
    states = task_run_states(state)
    assert states["chosen-kernel"][0] == "Completed"
    assert states["default-kernel"] == (
        "Failed",
        f"KernelNotFound: kernel 'python311' not found; available: {', '.join(installed_kernels())}; "
        "choose one with --kernel (partita run) or kernel: (pipeline task), or configure a fallback kernel with "
        "PARTITA_NOTEBOOK_FALLBACK_KERNEL",
    )


def test_quickstart_pipeline(quickstart_dir):
    state = compile_pipeline(quickstart_dir / "pipeline.yaml")(who="Ada", return_state=True)
    assert state.is_completed(), state.message
    results = state.result()
    assert results["compose"] == "Hello, Ada!"
    assert results["check"] == "Hello, Ada!"
    assert results["show-file"] == "This file is a test side effect created by the notebook."
    welcome = nbformat.read(results["welcome"], as_version=4)
    assert welcome.cells[-1].outputs[0].text.startswith("Hello Ada – welcome to our event")
    assert (quickstart_dir / "output" / "output_side_effect.txt").is_file()
    assert not (quickstart_dir / "output_side_effect.txt").exists()


def test_notebooks_run_at_once_after_one_ran_in_the_calling_thread(pipelines_dir, tmp_path):
    # jupyter_core keeps its event loop in a ContextVar, which task threads
    # inherit from the flow's thread; each notebook must still get its own loop.
    run_notebook(pipelines_dir.parent / "notebooks" / "simple_execute.ipynb", {"msg": 0}, output_path=str(tmp_path / "o.ipynb"))
    state = compile_pipeline(pipelines_dir / "notebooks_at_once.yaml")(return_state=True)
    assert state.is_completed(), state.message


def test_yaml_values_keep_their_types_in_the_notebook_and_a_date_becomes_an_iso_string(pipelines_dir):
    import json

    state = compile_pipeline(pipelines_dir / "notebook_typed.yaml")(return_state=True)
    assert state.is_completed(), state.message
    executed = nbformat.read(state.result()["typed"], as_version=4)
    text = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []) if o.get("name") == "stdout")
    values = json.loads(text)
    assert (values["code"], values["ratio"], values["flag"], values["day"]) == (
        ["str", "007"], ["float", 0.75], ["bool", False], ["str", "2024-05-01"]
    )
