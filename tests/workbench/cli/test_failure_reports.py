"""A failing task's traceback: logged as Prefect does, shown by ``flow-run logs`` and ``inspect``."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

from support.cli import run_cli

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

FLOW = textwrap.dedent(
    """\
    from partita import flow, task


    def lookup(table):
        return table["k"]


    @task
    def inner():
        return lookup({})


    @flow
    def broken():
        return inner()
    """
)


def test_traceback_of_a_failing_task_is_logged_and_inspected(tmp_path: Path) -> None:
    script = tmp_path / "broken_flow.py"
    script.write_text(FLOW)
    env = {"PARTITA_HOME": str(tmp_path / "home")}
    run = run_cli("run", f"{script}:broken", env=env)
    assert run.returncode == 1
    run_id = re.search(rf"flow-run inspect ({UUID})", run.stdout).group(1)

    logs = run_cli("flow-run", "logs", run_id, env=env).stdout
    assert "Task run 'inner' - Task run failed with exception: KeyError('k') - Retries are exhausted" in logs
    assert f'File "{script}", line 5, in lookup' in logs and 'return table["k"]' in logs
    assert "Flow run '" in logs and "Encountered exception during execution: KeyError('k')" in logs
    assert "partita/engine" not in logs  # the engine's own frames are left out

    inspect = run_cli("flow-run", "inspect", run_id, env={**env, "COLUMNS": "300"}).stdout
    assert "Failure of task run 'inner'" in inspect
    assert f"{script}:5 in lookup" in inspect
    assert 'return table["k"]' in inspect


def test_a_retried_attempt_logs_when_the_next_one_starts(tmp_path: Path) -> None:
    script = tmp_path / "retried.py"
    script.write_text(textwrap.dedent(
        """\
        from partita import flow, task

        @task(retries=1, retry_delay_seconds=0)
        def once():
            raise ValueError("first try")

        @flow
        def retried():
            return once()
        """
    ))
    env = {"PARTITA_HOME": str(tmp_path / "home")}
    run = run_cli("run", f"{script}:retried", env=env)
    run_id = re.search(rf"flow-run inspect ({UUID})", run.stdout).group(1)
    logs = run_cli("flow-run", "logs", run_id, env=env).stdout
    assert "Task run failed with exception: ValueError('first try') - Retry 1/1 will start 0 second(s) from now" in logs
    assert "ValueError('first try') - Retries are exhausted" in logs
