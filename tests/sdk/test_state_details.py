"""``Task(state_details=...)`` reaches every recorded state of the task's runs."""

from __future__ import annotations

from partita import flow, task


@task(state_details={"origin": {"cell": 3}})
def tagged() -> int:
    return 1


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
