"""Engine semantics, checked against what the real SQLite backend recorded."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from partita import Completed, Failed, State, as_completed, flow, get_run_logger, task, unmapped, wait
from partita.exceptions import FailedRun, ParameterTypeError


def flow_run_id(state: State) -> str:
    return state.state_details["flow_run_id"]


def recorded(client, state: State) -> dict[str, list[str]]:
    """Task run name → its recorded state names, oldest first."""
    out = {}
    for tr in client.read_task_runs(flow_run_id(state)):
        out[tr.name] = [s.name for s in client.read_task_run_states(tr.id)]
    return out


@task
def add(x, y=0):
    return x + y


@task
def boom(message="boom"):
    raise ValueError(message)


def test_task_outside_a_flow_is_a_plain_call():
    assert add(2, 3) == 5


def test_flow_records_flow_run_task_runs_and_full_state_histories(client):
    @flow
    def pipeline(n: int = 2):
        return add(add(1, n), 10)

    state = pipeline(3, return_state=True)
    assert state.is_completed() and state.result() == 14
    run = client.read_flow_run(flow_run_id(state))
    assert run.state_name == "Completed" and run.parameters == {"n": 3} and run.flow_name == "pipeline"
    assert [s.name for s in client.read_flow_run_states(run.id)] == ["Pending", "Running", "Completed"]
    histories = recorded(client, state)
    assert histories == {"add": ["Pending", "Running", "Completed"], "add-1": ["Pending", "Running", "Completed"]}
    assert run.end_time is not None and run.total_run_time >= 0


def test_failed_task_fails_its_flow_and_the_error_propagates(client):
    @flow
    def fails():
        boom("bad input")

    with pytest.raises(ValueError, match="bad input"):
        fails()
    state = fails(return_state=True)
    assert state.is_failed() and "ValueError: bad input" in state.message
    assert recorded(client, state) == {"boom": ["Pending", "Running", "Failed"]}


def test_flow_that_handles_a_failed_task_completes(client):
    @flow
    def handles():
        s = boom(return_state=True)
        assert s.is_failed()
        try:
            boom()
        except ValueError:
            pass
        return "fine"

    state = handles(return_state=True)
    assert state.is_completed() and state.result() == "fine"


def test_unobserved_failed_submission_fails_the_flow(client):
    # a failed task fails its flow unless the flow handles it (stricter than Prefect 3)
    @flow
    def fire_and_forget():
        boom.submit("lost")
        add.submit(1)

    state = fire_and_forget(return_state=True)
    assert state.is_failed()
    assert "1 of 2 task runs did not complete: 'boom'" in state.message
    assert recorded(client, state)["boom"][-1] == "Failed"


def test_a_failed_submission_the_flow_looked_at_does_not_fail_it(client):
    @flow
    def handles_it():
        future = boom.submit("seen")
        return future.state.name

    assert handles_it(return_state=True).is_completed()


def test_returned_failed_future_fails_the_flow(client):
    @flow
    def returns_it():
        return boom.submit("kept")

    assert returns_it(return_state=True).is_failed()


def test_retries_with_delay_list_go_through_awaiting_retry(client):
    calls = []

    @task(retries=2, retry_delay_seconds=[0.05, 0.1])
    def flaky():
        calls.append(time.perf_counter())
        if len(calls) < 3:
            raise RuntimeError("not yet")
        return "ok"

    @flow
    def retrying():
        return flaky()

    state = retrying(return_state=True)
    assert state.result() == "ok"
    assert calls[1] - calls[0] >= 0.05 and calls[2] - calls[1] >= 0.1
    assert recorded(client, state)["flaky"] == [
        "Pending", "Running", "AwaitingRetry", "Retrying", "AwaitingRetry", "Retrying", "Completed",
    ]
    tr = client.read_task_runs(flow_run_id(state))[0]
    assert tr.run_count == 3


def test_retries_exhausted_fail(client):
    @task(retries=1)
    def always():
        raise KeyError("k")

    @flow
    def f():
        return always(return_state=True)

    state = f(return_state=True)
    assert state.is_failed()
    assert recorded(client, state)["always"][-1] == "Failed"


def test_task_timeout_ends_timed_out_promptly(client):
    @task(timeout_seconds=0.2)
    def slow():
        time.sleep(3)

    @flow
    def f():
        return slow(return_state=True)

    started = time.perf_counter()
    state = f(return_state=True)
    assert time.perf_counter() - started < 2
    inner = client.read_task_runs(flow_run_id(state))[0]
    assert inner.state_name == "TimedOut" and "timeout of 0.2 s" in inner.state.message


def test_flow_timeout_and_flow_retries(client):
    attempts = []

    @flow(timeout_seconds=0.2)
    def slow_flow():
        time.sleep(2)

    state = slow_flow(return_state=True)
    assert state.is_failed() and state.name == "TimedOut"

    @flow(retries=1)
    def second_time_lucky():
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("first")
        return len(attempts)

    state = second_time_lucky(return_state=True)
    assert state.result() == 2
    assert [s.name for s in client.read_flow_run_states(flow_run_id(state))] == [
        "Pending", "Running", "AwaitingRetry", "Retrying", "Completed",
    ]


def test_subflow_is_a_child_flow_run_linked_to_a_parent_task_run(client):
    @flow
    def child(x: int):
        return add(x, 1)

    @flow
    def parent():
        return child(41)

    state = parent(return_state=True)
    assert state.result() == 42
    parent_id = flow_run_id(state)
    task_runs = client.read_task_runs(parent_id)
    assert [tr.name for tr in task_runs] == ["child"]
    link = task_runs[0]
    from partita.client.schemas import FlowRunFilter

    children = client.read_flow_runs(FlowRunFilter.model_validate({"flow_runs": {"parent_task_run_id": {"any_": [str(link.id)]}}}))
    assert len(children) == 1 and children[0].state_name == "Completed"
    assert [s.name for s in client.read_task_run_states(link.id)] == ["Pending", "Running", "Completed"]


def test_submit_futures_wait_and_as_completed():
    # each task waits for its gate; the flow opens one gate at a time, so the
    # completion order is fixed whatever the machine's load
    gates = {x: threading.Event() for x in (1, 2, 3)}

    @task
    def gated(x):
        assert gates[x].wait(30)
        return x

    @flow
    def f():
        futures = [gated.submit(x) for x in (3, 1, 2)]
        gates[1].set()
        order = []
        for fut in as_completed(futures, timeout=60):
            order.append(fut.result())
            if order[-1] < 3:
                gates[order[-1] + 1].set()
        done, not_done = wait(futures)
        assert len(done) == 3 and not not_done
        assert all(fut.state.is_completed() for fut in futures)
        return order

    assert f() == [1, 2, 3]


def test_independent_submissions_run_concurrently():
    @task
    def nap():
        time.sleep(0.5)
        return threading.current_thread().name

    @flow
    def f():
        return [fut.result() for fut in [nap.submit() for _ in range(4)]]

    started = time.perf_counter()
    names = f()
    assert time.perf_counter() - started < 1.5
    assert len(set(names)) == 4


def test_map_with_unmapped_and_wait_for(client):
    order = []

    @task
    def first():
        time.sleep(0.1)
        order.append("first")

    @task
    def scale(x, factor):
        order.append("scale")
        return x * factor

    @flow
    def f():
        gate = first.submit()
        return scale.map([1, 2, 3], unmapped(10), wait_for=[gate]).result()

    state = f(return_state=True)
    assert state.result() == [10, 20, 30]
    assert order[0] == "first"
    runs = {tr.name: tr for tr in client.read_task_runs(flow_run_id(state))}
    assert set(runs) == {"first", "scale", "scale-1", "scale-2"}
    assert runs["scale"].task_inputs["upstream"][0].id == runs["first"].id


def test_futures_passed_as_arguments_are_resolved_and_upstream_failure_blocks():
    @flow
    def f():
        a = add.submit(1, 2)
        b = add.submit([a, a], [])
        bad = boom.submit()
        c = add.submit(bad, 1)
        c.wait()
        return b.result(), c.state

    (b, c_state) = f()
    assert b == [3, 3]
    assert c_state.is_pending() and c_state.name == "NotReady" and "'boom'" in c_state.message


def test_async_flow_and_tasks(client):
    @task
    async def double(x):
        await asyncio.sleep(0.01)
        return 2 * x

    @flow
    async def async_flow(x: int):
        direct = await double(x)
        futures = double.map([1, 2, 3])
        return direct + sum(f.result() for f in futures)

    state = asyncio.run(async_flow(5, return_state=True))
    assert state.result() == 22
    assert len(client.read_task_runs(flow_run_id(state))) == 4


def test_wrong_parameter_type_fails_before_running_naming_the_parameter(client):
    ran = []

    @flow
    def typed(count: int, label: str = "x"):
        ran.append(1)

    with pytest.raises(ParameterTypeError, match="parameter 'count'.*valid integer.*'many'"):
        typed("many")
    state = typed("many", return_state=True)
    assert not ran and state.is_failed()
    assert [s.name for s in client.read_flow_run_states(flow_run_id(state))] == ["Pending", "Failed"]
    with pytest.raises(ParameterTypeError, match="unexpected keyword argument 'nope'"):
        typed(1, nope=2)


def test_parameters_are_coerced():
    @flow
    def typed(count: int, ratio: float = 0.5):
        return count, ratio

    assert typed("3", "0.25") == (3, 0.25)


def test_logs_and_log_prints_reach_the_backend(client):
    @task(log_prints=True)
    def chatty():
        print("hello from a task")
        get_run_logger().warning("careful")

    @flow
    def f():
        get_run_logger().info("flow says hi")
        chatty()

    state = f(return_state=True)
    logs = client.read_logs(flow_run_id=flow_run_id(state))
    messages = {(l.message, l.task_run_id is not None) for l in logs}
    assert ("flow says hi", False) in messages
    assert ("hello from a task", True) in messages and ("careful", True) in messages
    assert client.read_logs(flow_run_id=flow_run_id(state), level=30)[0].message == "careful"


def test_returned_state_decides_the_flow_state():
    @flow
    def returns_failed():
        return Failed(message="decided to fail")

    @flow
    def returns_completed():
        return Completed(message="fine")

    assert returns_failed(return_state=True).message == "decided to fail"
    assert returns_completed(return_state=True).is_completed()
    with pytest.raises(FailedRun, match="decided to fail"):
        returns_failed()


def test_with_options_copies_and_overrides():
    renamed = add.with_options(name="plus", retries=3)
    assert renamed.name == "plus" and renamed.retries == 3 and add.name == "add"
    with pytest.raises(TypeError, match="unknown task option"):
        add.with_options(bogus=1)

    @flow
    def base():
        return renamed(1, 1)

    assert base.with_options(name="other").name == "other"
    assert base() == 2


def test_hooks_run_on_completion_and_failure():
    seen = []

    @task(on_failure=[lambda t, tr, s: seen.append(("task", s.name))])
    def bad():
        raise ValueError("x")

    @flow(on_completion=[lambda f, fr, s: seen.append(("flow", s.name))])
    def f():
        bad(return_state=True)

    f()
    assert seen == [("task", "Failed"), ("flow", "Completed")]


def test_a_task_returning_a_state_ends_in_that_state():
    from partita import Completed, Failed, flow, task

    @task
    def skip():
        return Completed(name="Skipped", message="nothing to do")

    @task
    def refuse():
        return Failed(message="not today")

    seen = []

    @flow
    def returns_states():
        seen.extend([skip(return_state=True), refuse(return_state=True)])

    returns_states()
    skipped, refused = seen
    assert (skipped.type.value, skipped.name, skipped.message, skipped.result()) == ("COMPLETED", "Skipped", "nothing to do", None)
    assert (refused.type.value, refused.name, refused.message) == ("FAILED", "Failed", "not today")
