"""``run_notebook`` options on a real kernel: fallback kernel, timeout, dead kernel, fsspec, output cap."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from pathlib import Path

import fsspec
import nbformat
import pytest

from partita.exceptions import InvalidTarget, ParameterTypeError
from partita.settings import get_settings

from partita_workbench.notebooks import (
    KernelNotFound,
    NotebookCellTimeout,
    NotebookKernelDied,
    notebook_flow,
    run_notebook,
)


def stdout_of(notebook) -> str:
    return "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []) if o.get("name") == "stdout")


def printed_values(path: str) -> dict:
    return json.loads(stdout_of(nbformat.read(path, as_version=4)))


# -- kernels ---------------------------------------------------------------------------

def test_fallback_kernel_runs_a_notebook_whose_kernel_is_missing(notebooks_dir, tmp_path, caplog):
    caplog.set_level(logging.WARNING, "partita_workbench.notebooks")
    out = run_notebook(notebooks_dir / "input.ipynb", {"salutation": "Hi", "name": "Ada"}, fallback_kernel="python3",
                       output_path=str(tmp_path / "i.ipynb"))
    assert stdout_of(nbformat.read(out, as_version=4)).startswith("Hi Ada")
    assert "kernel 'python311' of notebook" in caplog.text and "fallback kernel 'python3'" in caplog.text


def test_fallback_kernel_from_the_environment(notebooks_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("PARTITA_NOTEBOOK_FALLBACK_KERNEL", "python3")
    get_settings.cache_clear()
    out = run_notebook(notebooks_dir / "input.ipynb", {"salutation": "Hi", "name": "Bo"}, output_path=str(tmp_path / "i.ipynb"))
    assert stdout_of(nbformat.read(out, as_version=4)).startswith("Hi Bo")


def test_a_missing_fallback_still_fails_before_starting(notebooks_dir, tmp_path):
    out = tmp_path / "never.ipynb"
    with pytest.raises(KernelNotFound, match="kernel 'python311' not found; available: "):
        run_notebook(notebooks_dir / "input.ipynb", fallback_kernel="nope", output_path=str(out))
    assert not out.exists()


# -- parameters ------------------------------------------------------------------------

def test_typed_parameters_reach_the_kernel_with_their_types(notebooks_dir, tmp_path):
    import datetime as dt

    out = run_notebook(notebooks_dir / "typed_parameters.ipynb",
                       {"code": "007", "ratio": 1, "flag": False, "count": 3, "day": dt.date(2024, 5, 1), "label": None},
                       output_path=str(tmp_path / "t.ipynb"))
    assert printed_values(out) == {
        "code": ["str", "007"], "ratio": ["float", 1.0], "flag": ["bool", False], "count": ["int", 3],
        "day": ["str", "2024-05-01"], "label": ["NoneType", None],
    }


@pytest.mark.parametrize("values, problem", [
    ({"cout": 1}, "unknown parameter 'cout'"),
    ({"count": "3"}, "parameter 'count' must be int, got str '3'"),
    ({"count": True}, "parameter 'count' must be int, got bool True"),
    ({"flag": "false"}, "parameter 'flag' must be bool, got str 'false'"),
    ({"code": 7}, "parameter 'code' must be str, got int 7"),
    ({"ratio": None}, "parameter 'ratio' must be float, got NoneType None"),
])
def test_undeclared_or_mistyped_parameters_fail_before_the_kernel_starts(notebooks_dir, tmp_path, values, problem):
    out = tmp_path / "never.ipynb"
    with pytest.raises(ParameterTypeError) as caught:
        run_notebook(notebooks_dir / "typed_parameters.ipynb", values, output_path=str(out))
    assert problem in str(caught.value)
    assert str(caught.value).endswith(
        "Its parameters cell declares: code: str = '000', ratio: float = 0.5, flag: bool = True, count: int = 1, "
        "day: str = '2024-01-01', label: str | None = None."
    )
    assert not out.exists()


def test_notebook_without_parameters_cell_gets_them_at_the_top_with_a_warning(notebooks_dir, tmp_path, caplog):
    caplog.set_level(logging.WARNING, "partita_workbench.notebooks")
    out = run_notebook(notebooks_dir / "Unicode.ipynb", {"extra": 5}, output_path=str(tmp_path / "u.ipynb"))
    executed = nbformat.read(out, as_version=4)
    assert executed.cells[0].metadata.tags == ["injected-parameters"]
    assert "extra = 5" in executed.cells[0].source
    assert "has no cell tagged 'parameters'; the parameters are injected in a new cell at the top" in caplog.text


def test_notebook_flow_without_parameters_cell_takes_any_parameter(notebooks_dir):
    path = notebook_flow(notebooks_dir / "Unicode.ipynb")(anything="x")
    assert "anything = \"x\"" in nbformat.read(path, as_version=4).cells[0].source


# -- fsspec ----------------------------------------------------------------------------

def test_input_and_output_through_fsspec_urls(notebooks_dir, tmp_path):
    source = "memory://partita-tests/in/typed_parameters.ipynb"
    with fsspec.open(source, "wb") as file:
        file.write((notebooks_dir / "typed_parameters.ipynb").read_bytes())
    out = run_notebook(source, {"count": 9}, output_path="memory://partita-tests/out/t.ipynb", cwd=tmp_path)
    assert out == "memory://partita-tests/out/t.ipynb"
    with fsspec.open(out, "r", encoding="utf-8") as file:
        assert json.loads(stdout_of(nbformat.read(file, as_version=4)))["count"] == ["int", 9]

    file_url = f"file://{notebooks_dir / 'typed_parameters.ipynb'}"
    out = run_notebook(file_url, {"code": "x"}, output_path=f"file://{tmp_path / 'f.ipynb'}")
    assert printed_values(str(tmp_path / "f.ipynb"))["code"] == ["str", "x"]


def test_a_missing_url_and_the_source_as_output_are_refused(notebooks_dir, tmp_path):
    with pytest.raises(InvalidTarget, match="notebook 'memory://nowhere/x.ipynb' not found"):
        run_notebook("memory://nowhere/x.ipynb")
    copy = tmp_path / "divide.ipynb"
    copy.write_bytes((notebooks_dir / "divide.ipynb").read_bytes())
    with pytest.raises(InvalidTarget, match="the output path is the notebook itself"):
        run_notebook(copy, {"denominator": 1}, output_path=f"file://{copy}")
    assert copy.read_bytes() == (notebooks_dir / "divide.ipynb").read_bytes()


# -- timeouts and dead kernels ---------------------------------------------------------

def test_per_cell_timeout_names_the_cell(notebooks_dir, tmp_path):
    out = str(tmp_path / "s.ipynb")
    started = time.monotonic()
    with pytest.raises(NotebookCellTimeout) as caught:
        run_notebook(notebooks_dir / "sleepy.ipynb", {"seconds": 30}, timeout=1.5, output_path=out)
    assert time.monotonic() - started < 20
    error = caught.value
    assert (error.cell_index, error.cell_id) == (2, "sleepy-2")
    assert "timed out at cell 2 (0-based, counting all cells of the notebook): it ran longer than the per-cell " \
           "timeout of 1.5 s" in str(error)
    assert error.details["kind"] == "cell_timeout" and error.details["source_excerpt"] == "      1 time.sleep(seconds)"
    assert nbformat.read(out, as_version=4).cells[2].execution_count == 3  # the partial notebook is written


def _wait_for_pid(pid_file: Path, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid_file.exists() and pid_file.read_text():
            return int(pid_file.read_text())
        time.sleep(0.05)
    raise AssertionError("the kernel never wrote its pid")


def test_a_kernel_killed_from_outside_fails_the_task_within_seconds(notebooks_dir, tmp_path, client):
    pid_file = tmp_path / "kernel.pid"
    flow = notebook_flow(notebooks_dir / "sleepy.ipynb")
    result: dict = {}
    runner = threading.Thread(target=lambda: result.setdefault("state", flow(pid_file=str(pid_file), return_state=True)))
    runner.start()
    pid = _wait_for_pid(pid_file)
    time.sleep(0.5)  # let the kernel enter the sleeping cell
    killed = time.monotonic()
    os.kill(pid, signal.SIGKILL)
    runner.join(timeout=30)
    assert not runner.is_alive(), "the run hung after the kernel died"
    assert time.monotonic() - killed < 15
    state = result["state"]
    assert state.is_failed()
    (task_run,) = client.read_task_runs(state.state_details["flow_run_id"])
    assert task_run.state.name == "Failed"
    assert "the kernel died while running cell 2 (0-based, counting all cells of the notebook)" in task_run.state.message
    failure = task_run.state.state_details["failure"]
    assert {k: failure[k] for k in ("kind", "cell_index", "cell_id", "ename")} == {
        "kind": "kernel_died", "cell_index": 2, "cell_id": "sleepy-2", "ename": "DeadKernelError"}
    assert nbformat.read(failure["output_notebook"], as_version=4).cells[2].execution_count == 3


# -- chatty cells ----------------------------------------------------------------------

def test_a_very_chatty_cell_completes_with_its_stored_output_capped_and_marked(notebooks_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("PARTITA_NOTEBOOK_OUTPUT_LIMIT", "200000")
    get_settings.cache_clear()
    out = run_notebook(notebooks_dir / "chatty.ipynb", output_path=str(tmp_path / "c.ipynb"))
    executed = nbformat.read(out, as_version=4)
    chatty = executed.cells[1]
    stored = "".join(o.text for o in chatty.outputs if o.output_type == "stream" and o.name == "stdout")
    assert 150_000 < len(stored) <= 200_000 and stored.startswith("line 0\nline 1\n") and stored.endswith("\n")
    kept_lines = stored.count("\n")
    (marker,) = [o for o in chatty.outputs if o.output_type == "stream" and o.name == "stderr"]
    truncated = chatty.metadata.partita.output_truncated
    assert truncated.lines_dropped == 300_000 - kept_lines
    assert marker.text.startswith(f"[partita] output truncated: {300_000 - kept_lines} more line(s), ")
    assert "limit 200000 characters per cell" in marker.text
    assert stdout_of(executed).endswith("done\n")  # the next cell ran and kept its output
    assert (Path(out).stat().st_size) < 1_000_000
