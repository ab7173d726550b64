"""End to end: the README's quickstart through the CLI, then every run read back from the database."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import nbformat

from partita.client.orchestration import SyncPartitaClient
from support.cli import Server, run_cli

QUICKSTART = Path(__file__).parents[3] / "notebooks" / "quickstart" / "pipeline.yaml"
TASKS = {"compose", "greet", "check", "welcome", "side-effects", "show-file"}


def _run_id(stdout: str) -> str:
    return re.search(r"flow-run inspect ([0-9a-f-]{36})", stdout).group(1)


def test_quickstart_runs_and_is_fully_recorded(tmp_path):
    home = tmp_path / "home"
    result = run_cli("run", str(QUICKSTART), "-p", "who=Ada", env={"PARTITA_HOME": str(home)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "finished in state Completed" in result.stdout
    run_id = _run_id(result.stdout)

    with sqlite3.connect(home / "partita.db") as db:  # read the file directly, not through our code
        # SQLAlchemy's Uuid type stores ids on SQLite as 32 hex digits
        state, params = db.execute("select state_type, parameters from flow_run where id = ?", (run_id.replace("-", ""),)).fetchone()
        assert state == "COMPLETED" and '"Ada"' in params
        rows = db.execute("select id, name, state_type from task_run").fetchall()
        assert {name for _, name, _ in rows} == TASKS
        assert all(st == "COMPLETED" for _, _, st in rows)
        for task_run_id, name, _ in rows:
            history = [r[0] for r in db.execute(
                "select name from task_run_state where task_run_id = ? order by timestamp", (task_run_id,))]
            assert history == ["Pending", "Running", "Completed"], (name, history)

    inspect = run_cli("flow-run", "inspect", run_id, "--json", env={"PARTITA_HOME": str(home)})
    assert inspect.returncode == 0

    doc = json.loads(inspect.stdout)
    by_name = {tr["name"]: tr for tr in doc["task_runs"]}
    assert set(by_name) == TASKS
    assert by_name["check"]["state"]["data"]["summary"] == "'Hello, Ada!'"
    executed = by_name["greet"]["state"]["data"]["summary"].strip("'")
    assert executed.endswith(".ipynb") and Path(executed).is_file()
    nb = nbformat.read(executed, as_version=4)
    assert any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    assert "Hello, Ada!" in json.dumps([c.get("outputs", []) for c in nb.cells])


def test_quickstart_over_http_is_recorded_the_same(tmp_path):
    server = Server(tmp_path / "server-home").start()
    try:
        env = {"PARTITA_API_URL": server.url, "PARTITA_HOME": str(tmp_path / "client-home")}
        result = run_cli("run", str(QUICKSTART), env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        run_id = _run_id(result.stdout)
        server.stop()
        server.start()  # the data survives a restart
        with SyncPartitaClient(server.url) as client:
            assert client.read_flow_run(run_id).state_name == "Completed"
            task_runs = client.read_task_runs(run_id)
            assert {tr.name for tr in task_runs} == TASKS
            for tr in task_runs:
                assert [s.name for s in client.read_task_run_states(tr.id)] == ["Pending", "Running", "Completed"]
    finally:
        server.stop()


# What a cached re-run on SQLite never needs: the notebook runner, the migration tool, the HTTP
# server, the PostgreSQL dialect.
NOT_NEEDED_WHEN_CACHED = (
    "papermill", "nbclient", "jupyter_client", "zmq", "alembic", "uvicorn", "sqlalchemy.dialects.postgresql", "asyncpg",
)
_RUN_AND_LIST_MODULES = (
    "import atexit, sys\n"
    "watch = sys.argv[1].split(',')\n"
    "atexit.register(lambda: print('LOADED', ','.join(m for m in watch if m in sys.modules)))\n"
    "from partita_workbench.cli import main\n"
    "sys.argv = ['partita', 'run', *sys.argv[2:]]\n"
    "main()\n"
)


def test_cached_rerun_loads_no_notebook_runner_nor_migrations(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "PARTITA_HOME": str(tmp_path / "home"), "COLUMNS": "200"}
    first = run_cli("run", str(QUICKSTART), "-p", "who=Ada", env=env)
    assert first.returncode == 0, first.stdout + first.stderr
    again = subprocess.run(
        [sys.executable, "-c", _RUN_AND_LIST_MODULES, ",".join(NOT_NEEDED_WHEN_CACHED), str(QUICKSTART), "-p", "who=Ada"],
        capture_output=True, text=True, env=env, timeout=180,
    )
    assert again.returncode == 0, again.stdout + again.stderr
    assert "finished in state Completed" in again.stdout
    assert again.stdout.count("Cached") >= len(TASKS)
    loaded = again.stdout.rsplit("LOADED", 1)[1].strip()
    assert loaded == "", f"a cached re-run imported {loaded}"


def test_importing_the_cli_loads_no_notebook_runner():
    import subprocess
    import sys

    code = (
        "import sys\nimport partita_workbench.cli\n"
        f"print(','.join(m for m in {NOT_NEEDED_WHEN_CACHED + ('nbformat', 'fastapi', 'sqlalchemy')!r} if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""
