"""Ctrl-C and SIGTERM during ``partita run``: the run ends at once, and honestly.

Real ``partita run`` processes get real signals; the SQLite file is read
afterwards. Expected (as Prefect on a crash): the flow run ends CRASHED, task
runs that were running end CRASHED, those not started never start
(CANCELLED), shell commands and kernels are stopped, and the command prints a
short "Interrupted" line and the summary table.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from support.cli import start_cli
from support.processes import alive as _alive, eventually as _eventually, finish, kill_group as _kill, processes_with as _processes_with

DATA = Path(__file__).parents[2] / "data" / "interrupts"
SHELL_MARK = "sleep 59.25"


def _start(args: list[str], home: Path, cwd: Path) -> subprocess.Popen:
    return start_cli(*args, env={"PARTITA_HOME": str(home), "PARTITA_API_URL": None}, cwd=cwd)


def _rows(home: Path, sql: str) -> list[tuple]:
    db = home / "partita.db"
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db, timeout=2) as c:
            return c.execute(sql).fetchall()
    except sqlite3.Error:
        return []


def _wait_running(proc: subprocess.Popen, home: Path, names: set[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = {n for (n,) in _rows(home, "select name from task_run where state_type = 'RUNNING'")}
        if names <= running:
            return
        if proc.poll() is not None:
            raise AssertionError(f"partita run ended early:\n{proc.communicate()[0]}")
        time.sleep(0.2)
    _kill(proc)
    raise AssertionError(f"task runs {names} never all RUNNING")


def _states(home: Path) -> tuple[list[str], dict[str, tuple[str, str]]]:
    flows = [s for (s,) in _rows(home, "select state_type from flow_run")]
    tasks = {n: (t, m or "") for n, t, m in _rows(home, "select name, state_type, state_name from task_run")}
    return flows, tasks


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    shutil.copytree(DATA, work)
    return work


def _check_pipeline_stopped(home: Path, work: Path, out: str) -> None:
    flows, tasks = _states(home)
    assert flows == ["CRASHED"], out
    assert tasks["first"][0] == "COMPLETED"
    assert tasks["long"][0] == "CRASHED", tasks
    assert tasks["nb"][0] == "CRASHED", tasks
    assert tasks["after"] == ("CANCELLED", "Cancelled"), tasks
    assert "Interrupted" in out and "Crashed" in out, out
    assert "after" in out and "not started" in out  # the summary table
    assert _eventually(lambda: not _processes_with(SHELL_MARK)), "the shell command was left running"
    kernel = int((work / "kernel.pid").read_text())
    assert _eventually(lambda: not _alive(kernel)), "the notebook's kernel was left running"


@pytest.mark.timeout(240)
def test_ctrl_c_stops_shell_commands_and_kernels_and_records_a_crash(tmp_path: Path, workdir: Path) -> None:
    home = tmp_path / "home"
    proc = _start(["run", "shell_sleep.yaml"], home, workdir)
    _wait_running(proc, home, {"long", "nb"})
    _eventually(lambda: (workdir / "kernel.pid").exists())
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal sends on Ctrl-C
    out, waited = finish(proc)
    assert proc.returncode == 130, out
    assert waited < 15, f"took {waited:.1f} s to stop"
    _check_pipeline_stopped(home, workdir, out)


@pytest.mark.timeout(240)
def test_sigterm_to_the_process_alone_stops_everything_it_started(tmp_path: Path, workdir: Path) -> None:
    home = tmp_path / "home"
    proc = _start(["run", "shell_sleep.yaml"], home, workdir)
    _wait_running(proc, home, {"long", "nb"})
    _eventually(lambda: (workdir / "kernel.pid").exists())
    os.kill(proc.pid, signal.SIGTERM)  # not the group: only partita itself hears it
    out, waited = finish(proc)
    assert proc.returncode == 143, out
    assert waited < 15, f"took {waited:.1f} s to stop"
    assert "SIGTERM" in out
    _check_pipeline_stopped(home, workdir, out)


@pytest.mark.timeout(240)
def test_a_second_ctrl_c_does_not_leave_the_run_running(tmp_path: Path, workdir: Path) -> None:
    home = tmp_path / "home"
    proc = _start(["run", "sleepy.py:sleepy"], home, workdir)
    _wait_running(proc, home, {"nap"})
    os.killpg(proc.pid, signal.SIGINT)
    time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGINT)
    out, waited = finish(proc)
    assert proc.returncode == 130, out
    assert waited < 15, f"took {waited:.1f} s to stop (the Python task sleeps 60 s)"
    flows, tasks = _states(home)
    assert flows == ["CRASHED"], out
    assert tasks["nap"][0] == "CRASHED"
    assert tasks["after"][0] == "CANCELLED"
    assert "AFTER RAN" not in out


@pytest.mark.timeout(240)
def test_ctrl_c_during_a_cells_run_stops_every_kernel_it_keeps(tmp_path: Path) -> None:
    """Busy kernels, a reused one among them, and idle ones all end with the run."""
    from support.notebooks import make_notebook

    work = tmp_path / "work"
    write_pid = "import os\nopen('{0}.pid', 'w').write(str(os.getpid()))"
    make_notebook(work / "cells.ipynb", [
        "# task: first\n" + write_pid.format("first"),
        (write_pid.format("s1") + "\nimport time\ntime.sleep(59.5)", ["task:s1", "needs:first"]),
        (write_pid.format("s2") + "\nimport time\ntime.sleep(59.5)", ["task:s2", "needs:first"]),
    ])
    home = tmp_path / "home"
    proc = _start(["run", "cells.ipynb", "--kernels", "3"], home, work)
    _wait_running(proc, home, {"s1", "s2"})
    assert _eventually(lambda: (work / "s1.pid").exists() and (work / "s2.pid").exists(), timeout=60)
    pids = {name: int((work / f"{name}.pid").read_text()) for name in ("first", "s1", "s2")}
    assert pids["first"] in (pids["s1"], pids["s2"])  # first's kernel was reused
    import psutil

    kept = {p.pid for p in psutil.Process(proc.pid).children(recursive=True) if "ipykernel" in " ".join(p.cmdline())}
    assert set(pids.values()) <= kept and len(kept) == 3, kept  # the third kernel is idle
    os.killpg(proc.pid, signal.SIGINT)
    out, waited = finish(proc)
    assert proc.returncode == 130, out
    assert waited < 15, f"took {waited:.1f} s to stop"
    flows, tasks = _states(home)
    assert flows == ["CRASHED"] and tasks["s1"][0] == tasks["s2"][0] == "CRASHED", (flows, tasks)
    for pid in kept:
        assert _eventually(lambda: not _alive(pid)), f"kernel {pid} was left running"
