"""Every task run and state reaches the database, whatever way the process ends.

Each scenario runs in a fresh subprocess with its own PARTITA_HOME, and the
SQLite file is then read directly with :mod:`sqlite3`.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

PRELUDE = """
import sys, time
from partita import flow, task

@task
def noop(i):
    return i
"""


def run_script(body: str, home: Path, **env: str) -> subprocess.CompletedProcess:
    code = textwrap.dedent(PRELUDE) + textwrap.dedent(body)
    full_env = {**os.environ, "PARTITA_HOME": str(home), **env}
    full_env.pop("PARTITA_API_URL", None)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env, timeout=300)


def counts(home: Path) -> tuple[int, int, dict[str, int]]:
    with sqlite3.connect(home / "partita.db") as db:
        runs = db.execute("select count(*) from task_run").fetchone()[0]
        states = db.execute("select count(*) from task_run_state").fetchone()[0]
        flow_states = dict(db.execute("select state_type, count(*) from flow_run group by state_type").fetchall())
    return runs, states, flow_states


def test_a_thousand_task_flow_is_fully_recorded_when_the_process_exits_right_after(tmp_path):
    result = run_script(
        """
        @flow
        def many():
            for i in range(1000):
                noop(i)

        many()
        sys.exit(0)
        """,
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    runs, states, flows = counts(tmp_path)
    assert (runs, states) == (1000, 3000)
    assert flows == {"COMPLETED": 1}
    with sqlite3.connect(tmp_path / "partita.db") as db:
        histories = db.execute(
            "select group_concat(name, '>') from (select task_run_id, name from task_run_state order by timestamp) group by task_run_id"
        ).fetchall()
    assert {h[0] for h in histories} == {"Pending>Running>Completed"}


def test_submitted_task_runs_are_recorded_when_the_script_then_raises(tmp_path):
    result = run_script(
        """
        @flow
        def fan_out():
            return noop.map(range(300)).result()

        fan_out()
        raise RuntimeError("the script fails after the flow")
        """,
        tmp_path,
    )
    assert result.returncode == 1 and "the script fails after the flow" in result.stderr
    assert counts(tmp_path)[:2] == (300, 900)


def test_an_interrupt_inside_a_task_ends_crashed_with_everything_recorded(tmp_path):
    result = run_script(
        """
        @task
        def interrupted():
            raise KeyboardInterrupt

        @flow
        def f():
            for i in range(200):
                noop(i)
            interrupted()

        f()
        """,
        tmp_path,
    )
    assert result.returncode != 0
    runs, states, flows = counts(tmp_path)
    assert runs == 201 and states == 200 * 3 + 3
    assert flows == {"CRASHED": 1}


def test_sigkill_loses_at_most_the_batch_in_flight(tmp_path):
    """With a 0.2 s recorder interval, nothing finished more than interval + one send before the kill is lost."""
    interval = 0.2
    script = textwrap.dedent(PRELUDE) + textwrap.dedent(
        """
        @task
        def step(i):
            time.sleep(0.002)
            print(i, time.time(), flush=True)
            return i

        @flow
        def endless():
            for i in range(100_000):
                step(i)

        endless()
        """
    )
    env = {**os.environ, "PARTITA_HOME": str(tmp_path), "PARTITA_RECORDER_INTERVAL": str(interval)}
    env.pop("PARTITA_API_URL", None)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    finished: list[tuple[int, float]] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        i, stamp = line.split()
        finished.append((int(i), float(stamp)))
        if len(finished) >= 600:
            break
    os.kill(proc.pid, signal.SIGKILL)
    killed_at = time.time()
    proc.wait()

    with sqlite3.connect(tmp_path / "partita.db") as db:
        completed = db.execute("select count(*) from task_run where state_type = 'COMPLETED'").fetchone()[0]
    done = len(finished)
    lost = done - completed
    assert completed > 0, "nothing was recorded before the kill"
    assert lost <= 500, f"lost {lost} finished task runs, more than one batch"
    # every task run that finished before (kill - interval - time for one send) is in the database
    deadline = killed_at - interval - 1.0
    old_enough = sum(1 for _, stamp in finished if stamp < deadline)
    assert completed >= old_enough, (completed, old_enough, done)


def test_sigkill_of_a_fast_flow_loses_at_most_two_batches(tmp_path):
    """A producer faster than the backend is held back: the backlog stays within two batches of records."""
    batch = 300
    script = textwrap.dedent(PRELUDE) + textwrap.dedent(
        """
        @flow
        def fast():
            for i in range(1_000_000):
                noop(i)
                if i % 250 == 0:
                    print(i, flush=True)

        fast()
        """
    )
    env = {**os.environ, "PARTITA_HOME": str(tmp_path), "PARTITA_RECORDER_BATCH": str(batch)}
    env.pop("PARTITA_API_URL", None)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    last = 0
    for line in proc.stdout:
        last = int(line)
        if last >= 6000:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(tmp_path / "partita.db") as db:
        completed = db.execute("select count(*) from task_run where state_type = 'COMPLETED'").fetchone()[0]
    # every task run finished before the last line read is stored, but for two batches of records
    assert completed >= last + 1 - 2 * batch, (completed, last)
