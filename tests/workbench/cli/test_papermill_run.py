"""``partita run NB.ipynb`` (whole-notebook mode) and ``flow-run inspect`` through the real console script."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat

from support.cli import run_cli

NOTEBOOKS = Path(__file__).parents[2] / "data" / "notebooks"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def run_id_of(stdout: str) -> str:
    return re.search(rf"flow-run inspect ({UUID})", stdout).group(1)


def printed(path: Path) -> dict:
    executed = nbformat.read(path, as_version=4)
    text = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []) if o.get("name") == "stdout")
    return json.loads(text)


def test_cli_parameters_are_typed_end_to_end(tmp_path):
    home = tmp_path / "home"
    result = run_cli("run", str(NOTEBOOKS / "typed_parameters.ipynb"), "-p", "code=007", "-p", "ratio=0.75",
                     "-p", "flag=false", "-p", "count=12", "-p", "day=2024-05-01", "-p", "label=x",
                     env={"PARTITA_HOME": str(home)})
    assert result.returncode == 0, result.stderr
    run_id = run_id_of(result.stdout)
    assert "3/3 cells" in result.stdout  # the summary counts the code cells run, the injected one too
    executed = home / "storage" / "runs" / run_id / "typed_parameters.ipynb"
    assert printed(executed) == {
        "code": ["str", "007"], "ratio": ["float", 0.75], "flag": ["bool", False], "count": ["int", 12],
        "day": ["str", "2024-05-01"], "label": ["str", "x"],
    }


def test_cli_refuses_undeclared_and_mistyped_parameters_listing_the_declared_ones(tmp_path):
    env = {"PARTITA_HOME": str(tmp_path / "home")}
    declared = "code: str = '000', ratio: float = 0.5, flag: bool = True, count: int = 1, day: str = '2024-01-01'"
    unknown = run_cli("run", str(NOTEBOOKS / "typed_parameters.ipynb"), "-p", "cout=3", env=env)
    assert unknown.returncode == 2
    assert "unexpected keyword argument 'cout'" in unknown.stderr and declared in unknown.stderr.replace("\n", "")
    mistyped = run_cli("run", str(NOTEBOOKS / "typed_parameters.ipynb"), "-p", "count=many", env=env)
    assert mistyped.returncode != 0
    assert "parameter 'count'" in mistyped.stderr and declared in mistyped.stderr.replace("\n", "")
    assert not (tmp_path / "home" / "storage" / "runs").exists()  # no kernel ran, nothing was written


def test_failed_notebook_is_inspectable_as_data(tmp_path):
    env = {"PARTITA_HOME": str(tmp_path / "home")}
    result = run_cli("run", str(NOTEBOOKS / "divide.ipynb"), "-p", "numerator=7", env=env)
    assert result.returncode == 1
    assert "failed at cell 3 (0-based, counting all cells of the notebook), line 1: ZeroDivisionError" in result.stdout + result.stderr
    run_id = run_id_of(result.stdout)

    inspect = run_cli("flow-run", "inspect", run_id, env=env)
    assert inspect.returncode == 0, inspect.stderr
    text = inspect.stdout
    assert "Failure of task run 'divide'" in text
    assert re.search(r"Cell\s+3, id divide-3, In \[4\], line 1", text)
    assert "ZeroDivisionError: division by zero" in text
    assert "-->   1 quotient = numerator / denominator" in text
    output = tmp_path / "home" / "storage" / "runs" / run_id / "divide.ipynb"
    assert re.search(rf"Executed notebook\s+{re.escape(str(output))}", text)

    as_json = json.loads(run_cli("flow-run", "inspect", run_id, "--json", env=env).stdout)
    (task_run,) = as_json["task_runs"]
    failure = task_run["states"][-1]["state_details"]["failure"]
    assert {k: failure[k] for k in ("kind", "cell_index", "cell_id", "execution_count", "line", "ename", "evalue")} == {
        "kind": "cell_error", "cell_index": 3, "cell_id": "divide-3", "execution_count": 4, "line": 1,
        "ename": "ZeroDivisionError", "evalue": "division by zero",
    }
    assert failure["output_notebook"] == str(output) and output.is_file()
    assert any("ZeroDivisionError" in line for line in failure["traceback"])


def test_live_view_shows_the_running_cell():
    from rich.console import Console

    from partita.engine import events
    from partita_workbench.cli.run import LiveRun
    from partita_workbench.notebooks import notebook_flow

    live, frames = LiveRun(), []

    def listener(kind, run, state):
        live.on_event(kind, run, state)
        if kind == "notebook_cell":
            console = Console(record=True, width=200)
            console.print(live.table())
            frames.append(console.export_text())

    unsubscribe = events.subscribe(listener)
    try:
        notebook_flow(NOTEBOOKS / "sleepy.ipynb")(seconds=0)
    finally:
        unsubscribe()
    text = "\n".join(frames)
    # five code cells: parameters, injected parameters, then source cells 1, 2, 3
    for expected in ("running cell 0 · 0/5 done", "running injected parameters · 1/5 done",
                     "running cell 2 · 3/5 done", "running cell 3 · 5/5 done"):
        assert expected in text
    final = Console(record=True, width=200)
    final.print(live.table(final=True))
    assert "5/5 cells" in final.export_text()


def test_cli_notebook_options_kernel_cwd_timeout_output(tmp_path):
    env = {"PARTITA_HOME": str(tmp_path / "home")}
    work = tmp_path / "work"
    work.mkdir()
    out = tmp_path / "executed" / "input.ipynb"
    ran = run_cli("run", str(NOTEBOOKS / "input.ipynb"), "--kernel", "python3", "-p", "salutation=Hi", "-p", "name=Ada",
                  "--output", str(out), env=env)
    assert ran.returncode == 0, ran.stderr
    executed = nbformat.read(out, as_version=4)
    assert executed.metadata.kernelspec.name == "python3"
    assert any("Hi Ada" in o.get("text", "") for c in executed.cells for o in c.get("outputs", []))

    side = run_cli("run", str(NOTEBOOKS / "side_effects.ipynb"), "--cwd", str(work), env=env)
    assert side.returncode == 0, side.stderr
    assert (work / "output_side_effect.txt").is_file() and not (NOTEBOOKS / "output_side_effect.txt").exists()

    slow = run_cli("run", str(NOTEBOOKS / "sleepy.ipynb"), "--cell-timeout", "1", env=env)
    assert slow.returncode == 1
    flat = re.sub(r"\s*\n\s*", " ", slow.stdout + slow.stderr)
    assert "timed out at cell 2 (0-based, counting all cells of the notebook): it ran longer than the per-cell timeout of 1 s" in flat

    missing = run_cli("run", str(NOTEBOOKS / "input.ipynb"), env=env)
    assert missing.returncode == 2 and "kernel 'python311' not found; available:" in missing.stderr

    flows = Path(__file__).parents[2] / "data" / "flows"
    not_a_notebook = run_cli("run", f"{flows}/simple.py:squares", "--kernel", "python3", "--cell-timeout", "3", env=env)
    assert not_a_notebook.returncode == 2
    assert "--cell-timeout, --kernel apply to notebooks (.ipynb) only" in not_a_notebook.stdout + not_a_notebook.stderr
