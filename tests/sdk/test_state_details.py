"""``Task(state_details=...)`` and exceptions carrying ``state_details`` reach every recorded state."""

from __future__ import annotations

from partita import flow, task


class Described(Exception):
    state_details = {"why": {"code": 7}}


@task(state_details={"origin": {"cell": 3}})
def tagged() -> int:
    return 1


@task
def failing() -> None:
    raise Described("no")


def test_task_state_details_are_on_every_state(client):
    @flow
    def one() -> int:
        return tagged()

    state = one(return_state=True)
    (run,) = client.read_task_runs(state.state_details["flow_run_id"])
    states = client.read_task_run_states(run.id)
    assert [s.name for s in states] == ["Pending", "Running", "Completed"]
    assert all(s.state_details["origin"] == {"cell": 3} for s in states)
    assert tagged.with_options(name="other").state_details == {"origin": {"cell": 3}}


def test_an_exception_state_details_are_merged_into_the_failed_state(client):
    @flow
    def two() -> None:
        failing.submit().wait()

    state = two(return_state=True)
    (run,) = client.read_task_runs(state.state_details["flow_run_id"])
    assert run.state.name == "Failed" and run.state.state_details["why"] == {"code": 7}
