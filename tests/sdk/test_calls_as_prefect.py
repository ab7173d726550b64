"""Calls that must behave as Prefect 3's: ``.map`` without iterables, un-awaited async
tasks, and ``state.result()`` on states read back from the backend."""

from __future__ import annotations

import asyncio
import gc
import warnings

import pytest

from partita import flow, task, unmapped


@task
def add(x, y):
    return x + y


def test_map_without_an_iterable_fails_the_flow():
    @flow
    def f():
        return [fut.result() for fut in add.map(5, 1)]

    state = f(return_state=True)
    assert state.is_failed()
    assert "add.map() needs at least one iterable argument" in state.message


def test_map_with_only_unmapped_arguments_is_refused():
    @flow
    def f():
        return add.map(unmapped([1, 2]), unmapped(3))

    with pytest.raises(ValueError, match="at least one iterable"):
        f()


def test_submit_and_map_outside_a_flow_run_and_are_recorded_without_a_flow_run(client):
    # Prefect 3 lets tasks be submitted outside flows
    future = add.submit(1, 2)
    mapped = add.map([1, 2], unmapped(10))
    assert future.result() == 3
    assert mapped.result() == [11, 12]
    from partita.engine.recorder import flush_all

    flush_all()
    for task_run_id in [future.task_run_id, *(f.task_run_id for f in mapped)]:
        run = client.read_task_run(task_run_id)
        assert run.flow_run_id is None and run.state_type.value == "COMPLETED"


def test_an_async_task_called_without_await_leaves_no_pending_task_run(client):
    @task
    async def later():
        await asyncio.sleep(0)
        return 1

    @flow
    def sync_flow():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            coro = later()  # never awaited
            del coro
            gc.collect()
        return "done"

    state = sync_flow(return_state=True)
    assert state.is_completed()
    runs = client.read_task_runs(state.state_details["flow_run_id"])
    assert [r.state_type.value for r in runs if r.state_type is not None and r.state_type.value == "PENDING"] == []


def test_awaited_async_tasks_are_still_recorded(client):
    @task
    async def later(x):
        await asyncio.sleep(0)
        return x

    @flow
    async def async_flow():
        return await later(3)

    state = asyncio.run(async_flow(return_state=True))
    assert state.result() == 3
    (run,) = client.read_task_runs(state.state_details["flow_run_id"])
    assert run.state_type.value == "COMPLETED"


def test_state_read_from_the_backend_has_result(client):
    @flow(persist_result=True)
    def answer():
        return {"answer": 42}

    state = answer(return_state=True)
    (stored,) = [r for r in client.read_flow_runs() if str(r.id) == state.state_details["flow_run_id"]]
    assert stored.state.result() == {"answer": 42}
    assert stored.state.is_completed()


def test_failed_state_read_from_the_backend_raises_on_result(client):
    from partita.exceptions import FailedRun

    @flow
    def broken():
        raise ValueError("no")

    state = broken(return_state=True)
    (stored,) = [r for r in client.read_flow_runs() if str(r.id) == state.state_details["flow_run_id"]]
    with pytest.raises(FailedRun, match="no"):
        stored.state.result()
    assert isinstance(stored.state.result(raise_on_failure=False), FailedRun)
