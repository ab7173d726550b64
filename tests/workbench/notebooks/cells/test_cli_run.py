"""``partita run NB.ipynb``: cells mode when a cell is a task cell, papermill otherwise, ``--mode`` forces one."""

from __future__ import annotations

import re

from support.cli import run_cli

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def test_task_cells_choose_cells_mode_and_mode_papermill_forces_one_task(notebooks_dir, tmp_path):
    home = tmp_path / "home"
    path = str(notebooks_dir / "cells" / "diamond.ipynb")
    cells = run_cli("run", path, "-p", "n=3", env={"PARTITA_HOME": str(home)})
    assert cells.returncode == 0, cells.stderr
    assert "finished in state Completed" in cells.stdout
    for name in ("A", "B", "C", "D"):
        assert re.search(rf"│ {name}\s+│ Completed", cells.stdout), cells.stdout
    assert "diamond.ipynb" in cells.stdout  # the executed notebook is the result

    whole = run_cli("run", path, "--mode", "papermill", "-p", "n=3", env={"PARTITA_HOME": str(home)})
    assert whole.returncode == 0, whole.stderr
    assert re.search(r"│ diamond\s+│ Completed", whole.stdout), whole.stdout
    assert not re.search(r"│ A\s+│", whole.stdout)


def test_a_notebook_without_task_cells_runs_with_papermill_unless_cells_is_forced(notebooks_dir, tmp_path):
    env = {"PARTITA_HOME": str(tmp_path / "home")}
    path = str(notebooks_dir / "simple_execute.ipynb")
    default = run_cli("run", path, "-p", "msg=hi", env=env)
    assert default.returncode == 0, default.stderr
    assert re.search(r"│ simple_execute\s+│ Completed", default.stdout)
    forced = run_cli("run", path, "--mode", "cells", env=env)
    assert forced.returncode == 2 and "has no task cells" in forced.stderr
    bad = run_cli("run", path, "--mode", "fast", env=env)
    assert bad.returncode == 2 and "use one of cells, papermill" in bad.stderr


def test_blocking_problems_stop_the_run_before_it_starts(tmp_path):
    from support.notebooks import make_notebook

    path = make_notebook(tmp_path / "bad.ipynb", ["# task: a\nx = (", ("y = 1", ["task:b", "needs:nope"])])
    result = run_cli("run", str(path), env={"PARTITA_HOME": str(tmp_path / "home")})
    assert result.returncode == 2
    assert "cell 0, line 2" in result.stderr and "syntax error" in result.stderr
    assert "needs 'nope', which is not a task" in result.stderr


def test_inspect_shows_cells_and_the_failing_cell(notebooks_dir, tmp_path):
    env = {"PARTITA_HOME": str(tmp_path / "home")}
    result = run_cli("run", str(notebooks_dir / "cells" / "failing.ipynb"), env=env)
    assert result.returncode == 1
    assert "task 'ratios'" in result.stderr and "cell 3" in result.stderr
    run_id = re.search(rf"flow-run inspect ({UUID})", result.stdout).group(1)
    inspect = run_cli("flow-run", "inspect", run_id, env=env)
    assert inspect.returncode == 0, inspect.stderr
    out = inspect.stdout
    assert re.search(r"ratios\s+│ cells 2, 3\s+│ Failed", out), out
    assert re.search(r"summary\s+│ cells 5\s+│ NotReady", out), out
    assert "Failure of task run 'ratios'" in out
    assert re.search(r"Cell\s+3, id [0-9a-f]+, In \[\d+\], line 2", out), out
    assert "ZeroDivisionError: division by zero" in out
    assert "--> 2 ratios = [first / v for v in values]" in out
    assert "ratios.partial.ipynb" in out


def test_summary_and_inspect_say_why_each_task_ran(notebooks_dir, tmp_path):
    import shutil

    env = {"PARTITA_HOME": str(tmp_path / "home")}
    notebook = tmp_path / "diamond.ipynb"
    shutil.copy(notebooks_dir / "cells" / "diamond.ipynb", notebook)
    first = run_cli("run", str(notebook), env=env)
    assert first.returncode == 0, first.stderr
    assert len(re.findall(r"ran: no previous run", first.stdout)) == 4, first.stdout
    again = run_cli("run", str(notebook), "-p", "n=5", env=env)
    assert re.search(r"│ A\s+│ Completed\s+│[^│]+│ ran: inputs changed", again.stdout), again.stdout
    assert re.search(r"│ B\s+│ Completed\s+│[^│]+│ ran: upstream changed", again.stdout), again.stdout
    same = run_cli("run", str(notebook), "-p", "n=5", env=env)
    assert len(re.findall(r"│ Cached\s+│[^│]+│ hit", same.stdout)) == 4, same.stdout
    run_id = re.search(rf"flow-run inspect ({UUID})", again.stdout).group(1)
    inspect = run_cli("flow-run", "inspect", run_id, env=env)
    assert re.search(r"A\s+│ cells 3\s+│ Completed\s+│ ran: inputs changed", inspect.stdout), inspect.stdout
    refreshed = run_cli("run", str(notebook), "-p", "n=5", "--refresh", env=env)
    assert len(re.findall(r"ran: refresh asked", refreshed.stdout)) == 4, refreshed.stdout
