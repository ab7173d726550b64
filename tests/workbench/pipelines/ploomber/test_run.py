"""Running a Ploomber project: products where Ploomber writes them, injected values, incremental re-runs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nbformat
import pytest

from partita.exceptions import InvalidTarget, RunError
from partita_workbench.pipelines.ploomber import compile_ploomber, load_ploomber

pytestmark = pytest.mark.timeout(240)


def _rows(path: Path) -> list[str]:
    with path.open(newline="") as handle:
        return [row["n"] for row in csv.DictReader(handle)]


def _injected(notebook: Path) -> str:
    nb = nbformat.read(str(notebook), as_version=4)
    cells = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1
    return cells[0].source


def test_project_runs_with_products_where_ploomber_writes_them(project, fresh_home, task_run_details):
    folder = project("basic")
    flow = compile_ploomber(folder / "pipeline.yaml")
    assert flow.name == "basic"

    state = flow(return_state=True)

    assert state.is_completed(), state.message
    assert task_run_details(state) == {
        "load": ("Completed", "no previous run"),
        "clean": ("Completed", "no previous run"),
        "report": ("Completed", "no previous run"),
    }
    output = folder / "output"
    # products relative to pipeline.yaml's folder; the executed notebooks too
    assert sorted(p.name for p in output.iterdir()) == [
        "clean.csv", "clean.html", "load.ipynb", "numbers.csv", "report.ipynb", "summary.json",
    ]
    assert _rows(output / "numbers.csv") == ["1", "2", "3", "4", "5"]  # params.count injected over the default 3
    assert _rows(output / "clean.csv") == ["1", "3", "5"]
    assert json.loads((output / "summary.json").read_text()) == {"count": 3, "total": 9}
    # clean.html is nbconvert's HTML export; the intermediate .ipynb is gone
    assert (output / "clean.html").read_text().lstrip().lower().startswith("<!doctype html>")
    assert not (output / "clean.ipynb").exists()
    # the injected cell holds the resolved product, the upstream products and the params
    injected = _injected(output / "load.ipynb")
    assert f"product = {{\"nb\": \"{output / 'load.ipynb'}\", \"data\": \"{output / 'numbers.csv'}\"}}" in injected
    assert "upstream = {}" in injected and "count = 5" in injected
    report = _injected(output / "report.ipynb")
    assert f"upstream = {{\"clean\": {{\"nb\": \"{output / 'clean.html'}\", \"data\": \"{output / 'clean.csv'}\"}}}}" in report
    assert state.result() == {
        "load": {"nb": str(output / "load.ipynb"), "data": str(output / "numbers.csv")},
        "clean": {"nb": str(output / "clean.html"), "data": str(output / "clean.csv")},
        "report": {"nb": str(output / "report.ipynb"), "summary": str(output / "summary.json")},
    }


def test_second_run_is_cached_and_a_change_reruns_that_task_and_its_downstream(project, fresh_home, task_run_details):
    folder = project("basic")
    assert compile_ploomber(folder / "pipeline.yaml")(return_state=True).is_completed()

    again = compile_ploomber(folder / "pipeline.yaml")(return_state=True)
    assert again.is_completed()
    assert {name: detail[0] for name, detail in task_run_details(again).items()} == {
        "load": "Cached", "clean": "Cached", "report": "Cached",
    }

    script = folder / "scripts" / "clean.py"
    script.write_text(script.read_text().replace("if n % 2]", "if n % 2 == 0]"))
    changed = compile_ploomber(folder / "pipeline.yaml")(return_state=True)
    assert changed.is_completed()
    assert task_run_details(changed) == {
        "load": ("Cached", None),
        "clean": ("Completed", "source changed"),
        "report": ("Completed", "upstream changed"),
    }
    assert json.loads((folder / "output" / "summary.json").read_text()) == {"count": 2, "total": 6}


def test_refresh_runs_named_tasks_and_their_downstream(project, fresh_home, task_run_details):
    folder = project("basic")
    assert compile_ploomber(folder / "pipeline.yaml")(return_state=True).is_completed()
    state = compile_ploomber(folder / "pipeline.yaml", refresh=["clean"])(return_state=True)
    assert task_run_details(state) == {
        "load": ("Cached", None),
        "clean": ("Completed", "refresh asked"),
        "report": ("Completed", "refresh asked"),
    }
    with pytest.raises(InvalidTarget, match=r"cannot refresh unknown task\(s\) clear; the tasks are load, clean, report"):
        compile_ploomber(folder / "pipeline.yaml", refresh=["clear"])


def test_a_missing_product_runs_its_task_again(project, fresh_home, task_run_details):
    folder = project("basic")
    assert compile_ploomber(folder / "pipeline.yaml")(return_state=True).is_completed()
    (folder / "output" / "summary.json").unlink()
    state = compile_ploomber(folder / "pipeline.yaml")(return_state=True)
    details = task_run_details(state)
    assert details["load"][0] == details["clean"][0] == "Cached"
    assert details["report"] == ("Completed", "products changed")
    assert (folder / "output" / "summary.json").is_file()
    # products back: the stored run is used again
    again = compile_ploomber(folder / "pipeline.yaml")(return_state=True)
    assert {name: d[0] for name, d in task_run_details(again).items()} == {"load": "Cached", "clean": "Cached", "report": "Cached"}
    # an upstream product gone: that task and its downstream run
    (folder / "output" / "numbers.csv").unlink()
    rebuilt = compile_ploomber(folder / "pipeline.yaml")(return_state=True)
    assert task_run_details(rebuilt) == {
        "load": ("Completed", "products changed"),
        "clean": ("Completed", "upstream changed"),
        "report": ("Completed", "upstream changed"),
    }


def test_a_task_that_does_not_write_its_product_fails_naming_it(project, fresh_home, task_run_details):
    folder = project("basic")
    script = folder / "scripts" / "load.py"
    script.write_text(script.read_text().replace('with open(product["data"], "w", newline="") as handle:', 'with open("elsewhere.csv", "w", newline="") as handle:'))
    state = compile_ploomber(folder / "pipeline.yaml")(return_state=True)
    assert state.is_failed()
    message = task_run_details(state)
    assert message["load"][0] == "Failed"
    with pytest.raises(RunError, match=r"task 'load' finished without writing its product 'data' \(.*output/numbers.csv\)"):
        state.result()


def test_a_failing_cell_names_the_script_line(project, fresh_home, task_run_details):
    folder = project("basic")
    script = folder / "scripts" / "clean.py"
    script.write_text(script.read_text().replace("odd = [n for n in numbers if n % 2]", "odd = [n for n in numbers if n % 2]\nodd = 1 / 0"))
    state = compile_ploomber(folder / "pipeline.yaml")(return_state=True)
    assert state.is_failed()
    assert task_run_details(state)["report"][0] == "NotReady"
    executed = folder / "output" / "clean.ipynb"
    assert state.message == (
        "TaskCellError: task 'clean' failed in cell 3, which starts at clean.py:13: ZeroDivisionError: "
        f"division by zero (partially executed notebook: {executed})"
    )
    assert executed.is_file() and not (folder / "output" / "clean.html").exists()


def test_grid_wildcards_script_runner_and_env(project, fresh_home, task_run_details):
    folder = project("grid")
    pipeline = load_ploomber(folder / "pipeline.yaml")
    assert list(pipeline.tasks) == ["square-0", "square-1", "square-2", "cube-2", "cube-3", "combine"]
    assert pipeline.tasks["combine"].upstream == ("square-0", "square-1", "square-2", "cube-2", "cube-3")
    state = compile_ploomber(pipeline)(return_state=True)
    assert state.is_completed(), state.message
    out = folder / "out"
    # no placeholders: "<stem>-<index>"; with [[...]]: the values
    assert sorted(p.name for p in (out / "squares").iterdir()) == [
        "square-0.ipynb", "square-0.txt", "square-1.ipynb", "square-1.txt", "square-2.ipynb", "square-2.txt",
    ]
    assert sorted(p.name for p in (out / "cubes").iterdir()) == ["n=2.ipynb", "n=2.txt", "n=3.ipynb", "n=3.txt"]
    # grid values are injected like params
    assert "n = 3" in _injected(out / "cubes" / "n=3.ipynb") and "exponent = 3" in _injected(out / "cubes" / "n=3.ipynb")
    # ScriptRunner: no notebook; env.yaml placeholder rendered; wildcard upstream grouped
    assert (out / "combined.txt").read_text() == "Powers: 1 4 9 | 8 27\n"
    assert not list(out.glob("*.ipynb"))


def test_list_spec_with_an_old_notebook_as_its_only_product(project, fresh_home):
    folder = project("legacy")
    state = compile_ploomber(folder / "pipeline.yaml")(return_state=True)
    assert state.is_completed(), state.message
    executed = nbformat.read(str(folder / "executed" / "simple.ipynb"), as_version=4)
    outputs = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "hello from Ploomber" in outputs
    assert 'msg = "hello from Ploomber"' in _injected(folder / "executed" / "simple.ipynb")


def test_env_yaml_keys_are_flow_parameters(project, fresh_home):
    folder = project("grid")
    flow = compile_ploomber(folder / "pipeline.yaml")
    assert str(flow.signature) == "(*, title: str = 'Powers')"
    state = flow(title="Cubes and squares", return_state=True)
    assert state.is_completed(), state.message
    assert (folder / "out" / "combined.txt").read_text() == "Cubes and squares: 1 4 9 | 8 27\n"


def test_function_tasks_are_called_with_product_upstream_and_params(project, fresh_home, task_run_details):
    folder = project("functions")
    state = compile_ploomber(folder / "pipeline.yaml")(return_state=True)
    assert state.is_completed(), state.message
    assert (folder / "output" / "numbers.json").read_text() == "[1, 2, 3, 4]"
    assert (folder / "output" / "total.txt").read_text() == "10"
    assert (folder / "output" / "report.txt").read_text() == "total = 10\n"
    again = compile_ploomber(folder / "pipeline.yaml")(return_state=True)
    assert {name: d[0] for name, d in task_run_details(again).items()} == {"make_numbers": "Cached", "total": "Cached", "report": "Cached"}
