"""``run_notebook`` on a real Jupyter kernel: parameters, outputs, failures, kernels."""

from __future__ import annotations

import fsspec
import nbformat
import pytest

from partita.exceptions import InvalidTarget
from partita.settings import get_settings

from partita_workbench.notebooks import (
    KernelNotFound,
    NotebookCellError,
    default_output_path,
    installed_kernels,
    run_notebook,
)


def stdout_of(notebook) -> str:
    return "".join(o.get("text", "") for c in notebook.cells for o in c.get("outputs", []) if o.get("name") == "stdout")


def test_parameters_are_injected_after_the_parameters_cell(notebooks_dir, tmp_path):
    out = run_notebook(notebooks_dir / "simple_execute.ipynb", {"msg": "héllo ☃"}, output_path=str(tmp_path / "o.ipynb"))
    assert out == str(tmp_path / "o.ipynb")
    executed = nbformat.read(out, as_version=4)
    assert executed.cells[0].metadata.tags == ["parameters"]
    assert executed.cells[1].metadata.tags == ["injected-parameters"]
    assert stdout_of(executed) == "héllo ☃\n"
    assert executed.metadata.papermill.parameters == {"msg": "héllo ☃"}


def test_default_output_is_under_result_storage_and_deterministic_outside_a_run(notebooks_dir):
    source = notebooks_dir / "simple_execute.ipynb"
    expected = default_output_path(source)
    storage = get_settings().resolved_result_storage()
    assert expected.startswith(f"{storage}/notebooks/adhoc/simple_execute-")
    assert default_output_path(source) == expected
    assert run_notebook(source, {"msg": 1}) == expected
    assert stdout_of(nbformat.read(expected, as_version=4)) == "1\n"


def test_output_to_an_fsspec_url(notebooks_dir):
    url = "memory://partita-tests/executed.ipynb"
    assert run_notebook(notebooks_dir / "simple_execute.ipynb", {"msg": "remote"}, output_path=url) == url
    with fsspec.open(url, "r", encoding="utf-8") as file:
        assert stdout_of(nbformat.read(file, as_version=4)) == "remote\n"


def test_failing_cell_names_notebook_cell_and_exception(notebooks_dir, tmp_path):
    out = str(tmp_path / "divide.ipynb")
    with pytest.raises(NotebookCellError) as caught:
        run_notebook(notebooks_dir / "divide.ipynb", {"numerator": 5}, output_path=out)
    error = caught.value
    assert str(error) == (
        f"notebook '{notebooks_dir / 'divide.ipynb'}' failed at cell 3 (0-based, counting all cells of the "
        f"notebook), line 1: ZeroDivisionError: division by zero (executed notebook: {out})"
    )
    assert (error.cell_index, error.executed_cell_index, error.ename, error.evalue) == (
        3, 4, "ZeroDivisionError", "division by zero"
    )
    assert error.execution_count == 4  # In [4]: the injected cell ran too
    executed = nbformat.read(out, as_version=4)  # written although it failed
    assert stdout_of(executed) == "dividing 5 by 0\n"


def test_cell_index_skips_old_papermill_error_banners(notebooks_dir, tmp_path):
    # broken1.ipynb still holds error-banner cells of an earlier papermill run;
    # papermill drops them before running, the index stays that of the file.
    with pytest.raises(NotebookCellError) as caught:
        run_notebook(notebooks_dir / "broken1.ipynb", output_path=str(tmp_path / "b.ipynb"))
    error = caught.value
    assert (error.cell_index, error.ename, error.evalue) == (6, "AssertionError", "")
    assert "failed at cell 6 (0-based, counting all cells of the notebook), line 1: AssertionError (executed" in str(error)
    source = nbformat.read(notebooks_dir / "broken1.ipynb", as_version=4)
    assert source.cells[6].source == "assert False"


def test_failure_in_the_injected_cell(notebooks_dir, tmp_path):
    # Unicode.ipynb has no parameters cell, so any name is injected (at the
    # top, as papermill does); papermill writes "not a name = 1", not Python.
    with pytest.raises(NotebookCellError, match="failed in the injected-parameters cell, line 2: SyntaxError") as caught:
        run_notebook(notebooks_dir / "Unicode.ipynb", {"not a name": 1}, output_path=str(tmp_path / "x.ipynb"))
    assert caught.value.cell_index is None and caught.value.details["source_excerpt"] == "      1 # Parameters\n-->   2 not a name = 1"


def test_missing_kernel_fails_before_starting(notebooks_dir, tmp_path):
    out = tmp_path / "never.ipynb"
    with pytest.raises(KernelNotFound) as caught:
        run_notebook(notebooks_dir / "input.ipynb", {"name": "x"}, output_path=str(out))
    assert str(caught.value) == (
        f"kernel 'python311' not found; available: {', '.join(installed_kernels())}; "
        "choose one with --kernel (partita run) or kernel: (pipeline task), or configure a fallback kernel with "
        "PARTITA_NOTEBOOK_FALLBACK_KERNEL"
    )
    assert not out.exists()
    with pytest.raises(KernelNotFound, match="kernel 'nope' not found"):
        run_notebook(notebooks_dir / "simple_execute.ipynb", kernel_name="nope", output_path=str(out))


def test_kernel_override_runs_a_notebook_whose_kernel_is_missing(notebooks_dir, tmp_path):
    out = run_notebook(
        notebooks_dir / "input.ipynb",
        {"salutation": "Hi", "name": "Ada"},
        kernel_name="python3",
        output_path=str(tmp_path / "i.ipynb"),
    )
    assert stdout_of(nbformat.read(out, as_version=4)).startswith("Hi Ada – welcome to our event on this ")


def test_notebook_without_kernelspec_runs_on_python3(notebooks_dir, tmp_path):
    out = run_notebook(notebooks_dir / "Unicode.ipynb", output_path=str(tmp_path / "u.ipynb"))
    executed = nbformat.read(out, as_version=4)
    assert stdout_of(executed) == "☃\n"
    assert executed.metadata.papermill.get("parameters") == {}


def test_cwd_is_where_the_kernel_runs(notebooks_dir, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    run_notebook(notebooks_dir / "side_effects.ipynb", cwd=work, output_path=str(tmp_path / "s.ipynb"))
    assert (work / "output_side_effect.txt").read_text() == "This file is a test side effect created by the notebook."
    assert not (notebooks_dir / "output_side_effect.txt").exists()


def test_missing_or_unreadable_notebook(tmp_path):
    with pytest.raises(InvalidTarget, match="notebook '.*missing.ipynb' not found"):
        run_notebook(tmp_path / "missing.ipynb")
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json")
    with pytest.raises(InvalidTarget, match="is not a readable notebook"):
        run_notebook(bad)


def test_output_arriving_late_after_the_reply_is_kept(tmp_path):
    """On a loaded machine a cell's last output and the kernel's idle status may come seconds after its reply."""
    from support.notebooks import LATE_OUTPUT_CELL, make_notebook

    path = make_notebook(tmp_path / "late.ipynb", [LATE_OUTPUT_CELL])
    out = run_notebook(path, output_path=str(tmp_path / "late-out.ipynb"))
    assert stdout_of(nbformat.read(out, as_version=4)) == "early\nlate\n"
