"""Running cells-as-tasks notebooks on real kernels, recorded in the real SQLite backend."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from partita.settings import get_settings
from partita.states import State

from partita_workbench.notebooks.cells import CellExecutionFailed, CellsRunFailed, UnpicklableVariable, cells_flow


def run_all(path: Path) -> list:
    """The notebook run top to bottom in one kernel ("Restart kernel and run all")."""
    notebook = nbformat.read(str(path), as_version=4)
    NotebookClient(notebook, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return notebook.cells


def streams(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def task_runs_by_name(client, state):
    return {tr.name: tr for tr in client.read_task_runs(state.state_details["flow_run_id"])}


@pytest.fixture
def diamond(notebooks_dir, tmp_path) -> Path:
    target = tmp_path / "diamond.ipynb"
    shutil.copy(notebooks_dir / "cells" / "diamond.ipynb", target)
    return target


def test_diamond_gives_the_answers_of_run_all_and_runs_b_and_c_together(diamond, fresh_home, client):
    before = diamond.read_bytes()
    state = cells_flow(diamond)(return_state=True)
    assert state.is_completed(), state.message
    runs = task_runs_by_name(client, state)
    assert {name: tr.state_name for name, tr in runs.items()} == {"A": "Completed", "B": "Completed", "C": "Completed", "D": "Completed"}
    b, c = runs["B"], runs["C"]
    assert b.start_time < c.end_time and c.start_time < b.end_time, "B and C did not overlap"

    executed_path = state.result()
    flow_run_id = state.state_details["flow_run_id"]
    assert executed_path == f"{get_settings().resolved_result_storage()}/runs/{flow_run_id}/diamond.ipynb"
    executed = nbformat.read(executed_path, as_version=4)
    nbformat.validate(executed)  # opens in JupyterLab
    reference = run_all(diamond)
    produced = [streams(c) for c in executed.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    assert produced == [streams(c) for c in reference]
    assert produced[7] == '{"n": 4, "squares": [0, 1, 4, 9, 16], "total": 60}\n'

    # the values later tasks read are persisted, and equal those of one kernel
    values = {}
    for name in ("A", "B", "C"):
        result = State.from_json(client.read_task_run(runs[name].id).state).result()  # loaded from storage
        values.update({var: result.value(var) for var in result.values})
    assert values == {"base": [0, 1, 2, 3], "total": 60, "squares": [0, 1, 4, 9, 16]}
    assert diamond.read_bytes() == before


def test_a_raising_cell_fails_its_task_with_structured_data_and_downstream_never_starts(notebooks_dir, tmp_path, client):
    source = tmp_path / "failing.ipynb"
    shutil.copy(notebooks_dir / "cells" / "failing.ipynb", source)
    before = source.read_bytes()
    state = cells_flow(source)(return_state=True)
    assert state.is_failed()
    assert "task 'ratios'" in state.message and "cell 3" in state.message and "line 2" in state.message
    runs = task_runs_by_name(client, state)
    assert {n: tr.state_name for n, tr in runs.items()} == {"load": "Completed", "ratios": "Failed", "roots": "Completed", "summary": "NotReady"}
    assert runs["summary"].start_time is None and runs["summary"].run_count == 0

    error = state.result(raise_on_failure=False).failures["ratios"]
    assert isinstance(error, CellExecutionFailed)
    assert (error.cell_index, error.line, error.ename, error.evalue) == (3, 2, "ZeroDivisionError", "division by zero")
    assert error.cell_id == nbformat.read(str(source), as_version=4).cells[3].id
    assert "--> 2 ratios = [first / v for v in values]" in error.source_excerpt
    assert any("ZeroDivisionError" in line for line in error.traceback)
    assert not any("\x1b[" in line for line in error.traceback)
    partial = nbformat.read(error.output_notebook, as_version=4)
    assert streams(partial.cells[2]) == "computing ratios\n" and partial.cells[3].outputs[-1]["output_type"] == "error"

    executed = nbformat.read(state.result(raise_on_failure=False).output_notebook, as_version=4)
    assert streams(executed.cells[4]).startswith("[2.0, 1.4142")  # roots ran
    assert executed.cells[5].outputs == []  # summary never ran
    assert executed.metadata["partita"]["tasks"]["summary"]["state"] == "NotReady"
    assert source.read_bytes() == before


def test_an_unpicklable_variable_names_the_variable_cell_reader_and_fix(notebooks_dir, client):
    state = cells_flow(notebooks_dir / "cells" / "unpicklable.ipynb")(return_state=True)
    assert state.is_failed()
    runs = task_runs_by_name(client, state)
    assert runs["make"].state_name == "Failed" and runs["use"].state_name == "NotReady"
    error = state.result(raise_on_failure=False).failures["make"]
    assert isinstance(error, UnpicklableVariable)
    assert (error.variable, error.cell_index, error.readers) == ("numbers", 0, ["use"])
    assert "cannot pickle 'generator' object" in str(error)
    assert "variable 'numbers' (defined in cell 0) is read by task 'use'" in str(error)
    assert "Turn it into a picklable value" in str(error)


def test_magics_shell_escapes_and_display_run_with_ipython_semantics(notebooks_dir):
    state = cells_flow(notebooks_dir / "cells" / "magics.ipynb")(return_state=True)
    assert state.is_completed(), state.message
    cells = nbformat.read(state.result(), as_version=4).cells
    assert "from-the-shell" in streams(cells[1]) and "Wall time" in streams(cells[1])
    assert streams(cells[2]) == ""  # %%capture kept it
    outputs = cells[3].outputs
    assert outputs[0]["output_type"] == "display_data" and outputs[0]["data"]["text/markdown"] == "**2 words**"
    assert streams(cells[3]) == "hello hidden ['one', 'two']\n"
    assert outputs[-1]["output_type"] == "execute_result" and outputs[-1]["data"]["text/plain"] == "2"


def test_parameters_are_injected_and_typed(notebooks_dir, tmp_path):
    flow = cells_flow(notebooks_dir / "cells" / "diamond.ipynb")
    state = flow(n=2, return_state=True)
    assert state.is_completed(), state.message
    cells = nbformat.read(state.result(), as_version=4).cells
    assert cells[3].metadata["tags"] == ["injected-parameters"] and cells[3].source == "# Parameters\nn = 2\n"
    assert streams(cells[-1]) == '{"n": 2, "squares": [0, 1, 4], "total": 10}\n'
    from partita.exceptions import ParameterTypeError

    with pytest.raises(ParameterTypeError, match="'n'"):
        flow(n="many")


def test_task_runs_record_their_cells_and_failures_as_data(notebooks_dir, tmp_path, fresh_home, client):
    source = tmp_path / "failing.ipynb"
    shutil.copy(notebooks_dir / "cells" / "failing.ipynb", source)
    ids = [c.id for c in nbformat.read(str(source), as_version=4).cells]
    state = cells_flow(source)(return_state=True)
    runs = task_runs_by_name(client, state)
    for name, cells in {"load": [1], "ratios": [2, 3], "roots": [4], "summary": [5]}.items():
        for recorded in client.read_task_run_states(runs[name].id):  # every state, NotReady included
            assert recorded.state_details["notebook"] == {
                "path": str(source), "task": name, "cell_indices": cells, "cell_ids": [ids[i] for i in cells]}
    error = runs["ratios"].state.state_details["failure"]
    assert error["kind"] == "cell_error"
    assert {k: error[k] for k in ("task", "cell_index", "cell_id", "line", "ename", "evalue")} == {
        "task": "ratios", "cell_index": 3, "cell_id": ids[3], "line": 2, "ename": "ZeroDivisionError", "evalue": "division by zero"}
    assert error["output_notebook"].endswith(f"/runs/{state.state_details['flow_run_id']}/ratios.partial.ipynb")
    assert "--> 2" in error["source_excerpt"] and error["traceback"]
    logs = client.read_logs(flow_run_id=state.state_details["flow_run_id"])
    printed = {(str(r.task_run_id), r.message) for r in logs}
    assert (str(runs["load"].id), "output of cell 1:\nloaded [4, 2, 0]") in printed  # each cell's output, in its task run's logs


def test_notebooks_before_nbformat_4_5_record_cell_indices(notebooks_dir, client):
    state = cells_flow(notebooks_dir / "cells" / "old_format.ipynb")(return_state=True)
    assert state.is_completed(), state.message
    runs = task_runs_by_name(client, state)
    assert runs["second"].state.state_details["notebook"]["cell_indices"] == [1]
    assert runs["second"].state.state_details["notebook"]["cell_ids"] is None
    executed = nbformat.read(state.result(), as_version=4)
    assert streams(executed.cells[1]) == "42\n"
    assert all("id" not in c for c in executed.cells)


def test_parameter_values_are_injected_right_after_the_parameters_cell(tmp_path):
    from support.notebooks import make_notebook

    path = make_notebook(tmp_path / "nb.ipynb", [
        ("n = 2", ["parameters"]),
        "LIMIT = n * 10",
        "# task: a\nprint(LIMIT)",
    ])
    state = cells_flow(path)(n=5, return_state=True)
    assert state.is_completed(), state.message
    assert streams(nbformat.read(state.result(), as_version=4).cells[-1]) == "50\n"


def test_editing_one_cell_reruns_its_task_and_downstream_only(diamond, fresh_home, client):
    first = cells_flow(diamond)(return_state=True)
    assert first.is_completed(), first.message
    runs = task_runs_by_name(client, first)
    assert {n: tr.state.state_details.get("cache_miss_reason") for n, tr in runs.items()} == dict.fromkeys("ABCD", "no previous run")

    notebook = nbformat.read(str(diamond), as_version=4)
    notebook.cells[6].source = "squares.append(-1)\nprint('C', squares)"  # a cell of task C
    nbformat.write(notebook, str(diamond))
    second = cells_flow(diamond)(return_state=True)
    assert second.is_completed(), second.message
    runs = task_runs_by_name(client, second)
    assert {n: tr.state_name for n, tr in runs.items()} == {"A": "Cached", "B": "Cached", "C": "Completed", "D": "Completed"}
    assert runs["C"].state.state_details["cache_miss_reason"] == "source changed"
    assert runs["D"].state.state_details["cache_miss_reason"] == "upstream changed"
    assert runs["A"].total_run_time < 0.5  # taken from the cache: no kernel started (one takes about a second)
    cells = nbformat.read(second.result(), as_version=4).cells
    assert streams(cells[4]) == "A [0, 1, 2, 3]\n"  # outputs of cached tasks come from their stored results
    assert streams(cells[-1]) == '{"n": 4, "squares": [0, 1, 4, 9, -1], "total": 60}\n'

    third = cells_flow(diamond)(n=3, return_state=True)
    runs = task_runs_by_name(client, third)
    assert runs["A"].state.state_details["cache_miss_reason"] == "inputs changed"
    assert {runs[n].state.state_details["cache_miss_reason"] for n in ("B", "C")} == {"upstream changed"}


def test_a_dead_kernel_or_a_cell_timeout_fails_the_task_naming_the_cell(tmp_path, client):
    from support.notebooks import make_notebook

    path = make_notebook(tmp_path / "nb.ipynb", [
        "# task: dies\nimport os, signal\nprint('before')\nos.kill(os.getpid(), signal.SIGKILL)",
        "# task: slow\nimport time\ntime.sleep(30)",
        "# task: after\nprint('never')",
    ])
    state = cells_flow(path, cell_timeout=3)(return_state=True)
    assert state.is_failed()
    failures = state.result(raise_on_failure=False).failures
    died, slow = failures["dies"], failures["slow"]
    assert (died.details["kind"], died.cell_index) == ("kernel_died", 0)
    assert (slow.details["kind"], slow.cell_index) == ("cell_timeout", 1)
    runs = task_runs_by_name(client, state)
    assert runs["slow"].total_run_time < 20
    assert runs["after"].state_name == "Completed"


def test_parameters_are_checked_like_whole_notebook_runs(tmp_path):
    from partita.exceptions import ParameterTypeError
    from support.notebooks import make_notebook

    path = make_notebook(tmp_path / "nb.ipynb", [
        ("day = '2024-05-01'\nlabel: str | None = None\nrate = 0.5", ["parameters"]),
        "# task: show\nprint(repr(day), repr(label), repr(rate))",
    ])
    flow = cells_flow(path)
    state = flow(day="2024-06-02", rate=1, return_state=True)  # an int for a float becomes a float
    assert state.is_completed(), state.message
    assert streams(nbformat.read(state.result(), as_version=4).cells[-1]) == "'2024-06-02' None 1.0\n"
    with pytest.raises(ParameterTypeError, match="rate"):
        flow(rate="fast")


def test_stdout_stderr_and_displays_are_captured_per_cell(tmp_path):
    from support.notebooks import make_notebook

    path = make_notebook(tmp_path / "nb.ipynb", [
        "# task: talk\nimport sys\nprint('out')\nprint('err', file=sys.stderr)",
        "from IPython.display import HTML, display\ndisplay(HTML('<b>hi</b>'))\n6 * 7",
    ])
    state = cells_flow(path)(return_state=True)
    assert state.is_completed(), state.message
    first, second = nbformat.read(state.result(), as_version=4).cells
    assert [(o["output_type"], o.get("name"), o.get("text")) for o in first.outputs] == [
        ("stream", "stdout", "out\n"), ("stream", "stderr", "err\n")]
    assert [o["output_type"] for o in second.outputs] == ["display_data", "execute_result"]
    assert second.outputs[0]["data"]["text/html"] == "<b>hi</b>" and second.outputs[1]["data"]["text/plain"] == "42"


def test_output_arriving_late_after_the_reply_is_kept(tmp_path):
    """On a loaded machine a cell's last output and the kernel's idle status may come seconds after its reply."""
    from support.notebooks import LATE_OUTPUT_CELL, make_notebook

    path = make_notebook(tmp_path / "nb.ipynb", ["# task: talk\n" + LATE_OUTPUT_CELL])
    state = cells_flow(path)(return_state=True)
    assert state.is_completed(), state.message
    assert streams(nbformat.read(state.result(), as_version=4).cells[0]) == "early\nlate\n"


def test_a_kernel_that_died_leaves_no_connection_file(tmp_path):
    import os
    import signal

    from partita_workbench.notebooks.cells.pool import KernelPool

    pool = KernelPool("python3", str(tmp_path), expected=1, size=1)

    async def kill(km):
        os.kill(km.provisioner.pid, signal.SIGKILL)
        await km.provisioner.wait()
        return km.connection_file, False  # a dead kernel is not given back for reuse

    try:
        connection_file = pool.run(kill)
    finally:
        pool.close()
    assert not os.path.exists(connection_file)
