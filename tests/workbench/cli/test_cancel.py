"""``partita flow-run cancel ID`` against a real ``partita run`` process, on every backend kind.

The run's process notices the CANCELLING state within about a second, stops
its shell commands and kernels, and records the flow run CANCELLED (its
running task runs CANCELLED, those not started CANCELLED "not started"); then
it exits. Expected states follow Prefect 3 (RUNNING → CANCELLING → CANCELLED).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

import pytest

from partita.client.orchestration import shared_sync_client
from partita.states import State, StateType
from support.cli import run_cli, start_cli
from support.processes import alive, eventually, finish, kill_group, processes_with

DATA = Path(__file__).parents[2] / "data"
SHELL_MARK = "sleep 59.25"  # the shell task of interrupts/shell_sleep.yaml


def _wait_running(proc: subprocess.Popen, names: set[str], timeout: float = 120):
    """The flow run of ``proc`` once its task runs ``names`` are all RUNNING."""
    client = shared_sync_client()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = client.read_flow_runs()
        if runs:
            running = {tr.name for tr in client.read_task_runs(runs[0].id) if tr.state_type is StateType.RUNNING}
            if names <= running:
                return runs[0]
        if proc.poll() is not None:
            raise AssertionError(f"partita run ended early:\n{proc.communicate()[0]}")
        time.sleep(0.2)
    kill_group(proc)
    raise AssertionError(f"task runs {names} never all RUNNING")


def _finish(proc: subprocess.Popen) -> tuple[str, float]:
    return finish(proc, after="the cancellation")


def _cancel(run_id, env: dict[str, str]) -> subprocess.CompletedProcess:
    return run_cli("flow-run", "cancel", str(run_id), env=env, timeout=60)


def _history(run_id) -> list[str]:
    return [s.type.value for s in shared_sync_client().read_flow_run_states(run_id)]


def _task_states(run_id) -> dict[str, tuple[str, str | None]]:
    runs = shared_sync_client().read_task_runs(run_id)
    return {tr.name: (tr.state_type.value, tr.state.message if tr.state else None) for tr in runs}


@pytest.mark.timeout(240)
def test_cancelling_a_python_flow_stops_it_and_records_cancelled(any_backend, tmp_path):
    proc = start_cli("run", "sleepy.py:cancellable", env=any_backend.env, cwd=DATA / "interrupts")
    run = _wait_running(proc, {"nap"})
    asked = _cancel(run.id, any_backend.env)
    assert asked.returncode == 0, asked.stdout + asked.stderr
    assert "CANCELLING" in asked.stdout
    out, waited = _finish(proc)
    assert waited < 10, f"took {waited:.1f} s to stop (the Python task sleeps 60 s)"
    assert proc.returncode == 1, out
    assert "Cancelled" in out and "on_cancellation hook" in out and "AFTER RAN" not in out
    assert shared_sync_client().read_flow_run(run.id).state_type is StateType.CANCELLED
    assert _history(run.id) == ["PENDING", "RUNNING", "CANCELLING", "CANCELLED"]
    tasks = _task_states(run.id)
    assert tasks["nap"][0] == "CANCELLED"
    assert tasks["after"] == ("CANCELLED", "not started: the flow run was cancelled")
    inspected = run_cli("flow-run", "inspect", str(run.id), env=any_backend.env)
    assert inspected.returncode == 0, inspected.stderr
    assert inspected.stdout.index("Cancelling") < inspected.stdout.rindex("Cancelled")


@pytest.mark.timeout(240)
@pytest.mark.parametrize("any_backend", ["embedded-sqlite"], indirect=True)
def test_cancelling_a_flow_stuck_in_its_own_thread_ends_the_process(any_backend):
    env = any_backend.env
    proc = start_cli("run", "sleepy.py:dozing", env=env, cwd=DATA / "interrupts")
    run = _wait_running(proc, {"nap"})
    assert _cancel(run.id, env).returncode == 0
    out, waited = _finish(proc)
    assert waited < 10, f"took {waited:.1f} s to stop (the flow's own thread sleeps 60 s in the task)"
    assert proc.returncode == 1, out
    assert "finished in state Cancelled" in out and "Inspect it: partita flow-run inspect" in out
    assert out.count("finished in state") == 1
    assert shared_sync_client().read_flow_run(run.id).state_type is StateType.CANCELLED
    assert _task_states(run.id)["nap"][0] == "CANCELLED"


@pytest.mark.timeout(240)
@pytest.mark.parametrize("any_backend", ["embedded-sqlite"], indirect=True)
def test_a_slow_on_cancellation_hook_finishes_before_partita_run_ends(any_backend):
    proc = start_cli("run", "sleepy.py:dozing_with_slow_hook", env=any_backend.env, cwd=DATA / "interrupts")
    run = _wait_running(proc, {"nap"})
    assert _cancel(run.id, any_backend.env).returncode == 0
    out, waited = _finish(proc)
    assert waited < 15, f"took {waited:.1f} s (the hook takes 3 s, the task sleeps 60 s)"
    assert proc.returncode == 1, out
    assert "slow on_cancellation hook done: CANCELLED" in out
    assert out.count("finished in state Cancelled") == 1


@pytest.mark.timeout(240)
@pytest.mark.parametrize("any_backend", ["embedded-sqlite", "http-postgresql"], indirect=True)
def test_cancelling_stops_shell_commands_and_kernels(any_backend, tmp_path):
    work = tmp_path / "work"
    shutil.copytree(DATA / "interrupts", work)
    proc = start_cli("run", "shell_sleep.yaml", env=any_backend.env, cwd=work)
    run = _wait_running(proc, {"long", "nb"})
    assert eventually(lambda: (work / "kernel.pid").exists(), 60)
    kernel = int((work / "kernel.pid").read_text())
    asked = _cancel(run.id, any_backend.env)
    assert asked.returncode == 0, asked.stdout + asked.stderr
    out, waited = _finish(proc)
    assert waited < 15, f"took {waited:.1f} s to stop"
    assert proc.returncode == 1, out
    assert _history(run.id) == ["PENDING", "RUNNING", "CANCELLING", "CANCELLED"]
    tasks = _task_states(run.id)
    assert tasks["first"][0] == "COMPLETED"
    assert tasks["long"][0] == "CANCELLED" and tasks["nb"][0] == "CANCELLED", tasks
    assert tasks["after"] == ("CANCELLED", "not started: the flow run was cancelled")
    assert eventually(lambda: not processes_with(SHELL_MARK)), "the shell command was left running"
    assert eventually(lambda: not alive(kernel)), "the notebook's kernel was left running"


@pytest.mark.parametrize("any_backend", ["embedded-sqlite", "http-sqlite"], indirect=True)
def test_cancelling_a_finished_run_is_an_error_naming_its_state(any_backend):
    from partita import flow

    @flow
    def quick() -> int:
        return 1

    state = quick(return_state=True)
    run_id = state.state_details["flow_run_id"]
    asked = _cancel(run_id, any_backend.env)
    assert asked.returncode == 1
    assert "has already finished" in asked.stderr and "COMPLETED" in asked.stderr, asked.stderr
    assert shared_sync_client().read_flow_run(run_id).state_type is StateType.COMPLETED


@pytest.mark.parametrize("any_backend", ["embedded-sqlite", "http-sqlite"], indirect=True)
def test_a_run_not_started_is_cancelled_at_once(any_backend):
    client = shared_sync_client()
    flow_id = client.create_flow("later").id
    run = client.create_flow_run(flow_id, "tomorrow", state=State(StateType.SCHEDULED, "Scheduled"))
    asked = _cancel(run.id, any_backend.env)
    assert asked.returncode == 0, asked.stderr
    assert "CANCELLED" in asked.stdout
    assert client.read_flow_run(run.id).state_type is StateType.CANCELLED
    again = _cancel(run.id, any_backend.env)
    assert again.returncode == 1 and "CANCELLED" in again.stderr
