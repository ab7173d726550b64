"""Flow runs cancelled from outside while they run in this process (the engine's side of cancellation).

The cancellation comes as it would from ``partita flow-run cancel``: another
client proposes CANCELLED for the flow run, the server makes it CANCELLING,
and the engine's watcher notices.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest

from partita import flow, task
from partita.client.orchestration import get_client, shared_sync_client
from partita.engine import cancellation
from partita.exceptions import ObjectNotFound
from partita.states import State, StateType


@pytest.fixture(autouse=True)
def _no_flow_run_left_running():
    """A failed test must not leave its endless flow run going into the next tests."""
    yield
    watcher = cancellation._shared
    if watcher is not None:
        for engine in list(watcher._engines.values()):
            engine.cancel("the test ended")


def _cancel_from_outside(flow_run_id) -> None:
    with get_client(sync_client=True) as other:  # a client of its own, as the CLI's
        result = other.set_flow_run_state(flow_run_id, State(StateType.CANCELLED, "Cancelled"))
    assert result.state.type is StateType.CANCELLING


def _run_in_thread(fn):
    outcome: dict = {}

    def target() -> None:
        try:
            outcome["state"] = fn()
        except BaseException as exc:  # reported by the test
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def _when(check, timeout: float = 30.0):
    """What ``check()`` returns once it is true; what it reads may not be recorded yet (written behind)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = check()
        except ObjectNotFound:
            found = None
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("timed out")


def _current_flow_run_id(started: list) -> str:
    return _when(lambda: started[0] if started else None)


@pytest.mark.timeout(60)
def test_a_flow_waiting_on_a_python_task_ends_cancelled_within_seconds():
    started: list = []
    hooks: list = []

    @task
    def loop_forever() -> None:
        from partita import runtime

        started.append(runtime.flow_run.id)
        for _ in range(600):
            time.sleep(0.1)

    @task
    def never() -> None:
        raise AssertionError("must not start")

    @flow(on_cancellation=[lambda f, run, state: hooks.append(state.type)])
    def waits() -> None:
        first = loop_forever.submit()
        never.submit(wait_for=[first]).result()

    thread, outcome = _run_in_thread(lambda: waits(return_state=True))
    flow_run_id = _current_flow_run_id(started)
    asked = time.monotonic()
    _cancel_from_outside(flow_run_id)
    thread.join(timeout=20)
    assert not thread.is_alive()
    assert time.monotonic() - asked < 5
    state = outcome["state"]
    assert state.type is StateType.CANCELLED and hooks == [StateType.CANCELLED]
    client = shared_sync_client()
    assert [s.type.value for s in client.read_flow_run_states(flow_run_id)] == ["PENDING", "RUNNING", "CANCELLING", "CANCELLED"]
    states = {tr.name: tr.state_type.value for tr in client.read_task_runs(flow_run_id)}
    assert states == {"loop_forever": "CANCELLED", "never": "CANCELLED"}


@pytest.mark.timeout(60)
def test_a_cancelled_task_run_keeps_the_run_time_counted_when_it_was_closed():
    """Its code may go on after the flow run closed it; the time it then takes is not added again."""
    started: list = []
    records: list = []
    done = threading.Event()

    @task
    def naps() -> None:
        from partita import runtime
        from partita.context import task_run_ctx

        records.append(task_run_ctx.get().task_run)
        started.append(runtime.flow_run.id)
        time.sleep(3)  # one long call: cancelling cannot stop it
        done.set()

    @flow
    def waits() -> None:
        naps.submit().result()

    thread, outcome = _run_in_thread(lambda: waits(return_state=True))
    flow_run_id = _current_flow_run_id(started)
    _cancel_from_outside(flow_run_id)
    thread.join(timeout=20)
    assert outcome["state"].type is StateType.CANCELLED
    counted = records[0].total_run_time
    assert done.wait(10)
    time.sleep(0.2)  # the task's thread finishes its attempt
    assert records[0].total_run_time == counted


@pytest.mark.timeout(60)
def test_an_async_flow_is_cancelled_on_its_event_loop():
    started: list = []

    @task
    async def sleeps() -> None:
        from partita import runtime

        started.append(runtime.flow_run.id)
        await asyncio.sleep(60)

    @flow
    async def async_flow() -> str:
        await sleeps()
        return "finished"

    thread, outcome = _run_in_thread(lambda: asyncio.run(async_flow(return_state=True)))
    flow_run_id = _current_flow_run_id(started)
    _cancel_from_outside(flow_run_id)
    thread.join(timeout=20)
    assert not thread.is_alive() and "error" not in outcome, outcome
    assert outcome["state"].type is StateType.CANCELLED
    assert shared_sync_client().read_flow_run(flow_run_id).state_type is StateType.CANCELLED


@pytest.mark.timeout(60)
def test_cancelling_a_flow_cancels_its_subflow_runs_first():
    started: list = []

    @task
    def busy() -> None:
        from partita import runtime

        started.append(runtime.flow_run.id)
        for _ in range(600):
            time.sleep(0.1)

    @flow
    def child() -> None:
        busy()

    @flow
    def parent() -> None:
        child()

    thread, outcome = _run_in_thread(lambda: parent(return_state=True))
    child_run_id = _current_flow_run_id(started)
    client = shared_sync_client()
    parent_run_id = _when(lambda: client.read_flow_run(child_run_id).parent_task_run_id and
                          client.read_task_run(client.read_flow_run(child_run_id).parent_task_run_id).flow_run_id)
    _cancel_from_outside(parent_run_id)
    thread.join(timeout=20)
    assert not thread.is_alive() and outcome["state"].type is StateType.CANCELLED
    assert client.read_flow_run(child_run_id).state_type is StateType.CANCELLED
    assert client.read_flow_run(parent_run_id).state_type is StateType.CANCELLED
    (subflow_task_run,) = client.read_task_runs(parent_run_id)
    assert subflow_task_run.state_type is StateType.CANCELLED  # the parent's task run of the subflow follows it


@pytest.mark.timeout(60)
def test_a_task_run_waiting_for_a_concurrency_slot_is_not_started():
    tag = f"db-{uuid.uuid4().hex[:8]}"
    client = shared_sync_client()
    client.create_concurrency_limit(tag, 0)
    flow_runs: list = []

    @task(tags=[tag])
    def held() -> None:
        raise AssertionError("must not start")

    @flow
    def blocked() -> None:
        from partita import runtime

        flow_runs.append(runtime.flow_run.id)
        held()

    thread, outcome = _run_in_thread(lambda: blocked(return_state=True))
    flow_run_id = _current_flow_run_id(flow_runs)
    _when(lambda: client.read_task_runs(flow_run_id))
    time.sleep(1.5)  # told to WAIT at least once
    _cancel_from_outside(flow_run_id)
    thread.join(timeout=20)
    assert not thread.is_alive() and outcome["state"].type is StateType.CANCELLED
    (task_run,) = client.read_task_runs(flow_run_id)
    assert task_run.state_type is StateType.CANCELLED
    assert client.read_concurrency_limit_by_tag(tag).active_slots == []


def test_the_watcher_polls_only_while_flow_runs_are_running(monkeypatch):
    from partita.client import orchestration
    from partita.settings import get_settings

    monkeypatch.setenv("PARTITA_CANCELLATION_POLL_INTERVAL", "0.1")
    get_settings.cache_clear()
    orchestration.reset_shared_client()
    seen: list = []

    @flow
    def short() -> int:
        watcher = cancellation.get_watcher(shared_sync_client())
        seen.append(watcher._thread is not None)
        time.sleep(0.3)
        return 1

    assert short() == 1
    assert seen == [True]
    watcher = cancellation.get_watcher(shared_sync_client())
    _when(lambda: watcher._thread is None, timeout=5)
    assert watcher._engines == {}
