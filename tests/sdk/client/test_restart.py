"""The SDK keeps running through a server restart: a 200-task flow run still ends fully recorded."""

from __future__ import annotations

import threading
import time

from support.server import UvicornServer

from partita import flow, task
from partita.client.orchestration import SyncPartitaClient
from partita.client.schemas import TaskRunFilter, TaskRunFilterFields, AnyFilter

TASKS = 200


def test_a_flow_run_survives_a_server_restart(tmp_path, monkeypatch):
    from partita.client import orchestration
    from partita.settings import get_settings

    home = tmp_path / "server-home"
    server = UvicornServer(f"sqlite+aiosqlite:///{home / 'partita.db'}", env={"PARTITA_HOME": str(home)})
    server.start()
    monkeypatch.setenv("PARTITA_API_URL", server.url)
    get_settings.cache_clear()
    orchestration.reset_shared_client()
    done = []

    @task
    def step(i: int) -> int:
        time.sleep(0.03)
        done.append(i)
        return i

    @flow
    def long_run() -> int:
        return sum(step(i) for i in range(TASKS))

    outcome: dict = {}

    def run() -> None:
        try:
            outcome["state"] = long_run(return_state=True)
        except BaseException as exc:  # reported below
            outcome["error"] = exc

    runner = threading.Thread(target=run)
    try:
        runner.start()
        while len(done) < 40:
            time.sleep(0.01)
        server.stop()  # SIGKILL mid-run
        killed_at = len(done)
        time.sleep(2.0)
        server.start()
        runner.join(timeout=240)
        assert not runner.is_alive()
        assert "error" not in outcome, outcome.get("error")
        assert killed_at < TASKS
        state = outcome["state"]
        assert state.type.value == "COMPLETED" and state.result() == sum(range(TASKS))
        orchestration.reset_shared_client()  # flushes the write-behind queue
        with SyncPartitaClient(server.url) as client:
            flow_run_id = state.state_details["flow_run_id"]
            run = client.read_flow_run(flow_run_id)
            assert run.state_type.value == "COMPLETED"
            flt = TaskRunFilter(task_runs=TaskRunFilterFields(flow_run_id=AnyFilter(any_=[flow_run_id])), limit=1000)
            task_runs = client.filter_task_runs(flt)
            assert len(task_runs) == TASKS
            assert {tr.state_type.value for tr in task_runs} == {"COMPLETED"}
            history = [s.type.value for s in client.read_flow_run_states(flow_run_id)]
            assert history == ["PENDING", "RUNNING", "COMPLETED"]
            states = client.read_task_run_states(task_runs[killed_at].id)
            assert [s.type.value for s in states][-1] == "COMPLETED"
    finally:
        server.stop()
        orchestration.reset_shared_client()
