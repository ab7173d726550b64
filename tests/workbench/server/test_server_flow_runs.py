"""``/api/flow_runs`` and ``/api/flow_run_states``: creation, reads, filters, set_state."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest

pytestmark = pytest.mark.anyio

T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)


def at(seconds: float) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).isoformat()


async def test_create_and_read_a_flow_run(client, api, state):
    flow = await api.flow("etl")
    run_id = str(uuid.uuid4())
    body = {
        "id": run_id,
        "flow_id": flow["id"],
        "name": "brave-otter",
        "parameters": {"date": "2024-05-01", "n": [1, 2]},
        "tags": ["nightly"],
        "state": state("PENDING", timestamp=at(0)),
    }
    response = await client.post("/api/flow_runs/", json=body)
    assert response.status_code == 201
    run = response.json()
    assert run["id"] == run_id and run["flow_name"] == "etl"
    assert run["parameters"] == {"date": "2024-05-01", "n": [1, 2]}
    assert run["state_type"] == "PENDING" and run["state"]["type"] == "PENDING"
    assert run["state"]["timestamp"] == "2024-05-01T12:00:00Z"
    assert (await client.get(f"/api/flow_runs/{run_id}")).json() == run
    history = (await client.get("/api/flow_run_states/", params={"flow_run_id": run_id})).json()
    assert [s["type"] for s in history] == ["PENDING"]


async def test_creating_an_existing_id_returns_the_existing_run(client, api):
    run = await api.flow_run(name="first")
    again = await client.post(
        "/api/flow_runs/", json={"id": run["id"], "flow_id": run["flow_id"], "name": "second"}
    )
    assert again.status_code == 200
    assert again.json() == run


async def test_a_run_of_an_unknown_flow_is_404(client):
    response = await client.post("/api/flow_runs/", json={"flow_id": str(uuid.uuid4()), "name": "x"})
    assert response.status_code == 404
    assert "flow" in response.json()["detail"] and "not found" in response.json()["detail"]


async def test_a_full_run_is_accounted(client, api, state):
    run = await api.flow_run(state=state("PENDING", timestamp=at(0)))
    for proposed in [state("RUNNING", timestamp=at(1)), state("COMPLETED", timestamp=at(3.5))]:
        result = await api.set_state("flow_runs", run["id"], proposed)
        assert result["status"] == "ACCEPT"
        assert result["state"]["type"] == proposed["type"]
    stored = (await client.get(f"/api/flow_runs/{run['id']}")).json()
    assert stored["state_type"] == "COMPLETED" and stored["state_name"] == "Completed"
    assert stored["run_count"] == 1
    assert stored["start_time"] == "2024-05-01T12:00:01Z"
    assert stored["end_time"] == "2024-05-01T12:00:03.500000Z"
    assert stored["total_run_time"] == pytest.approx(2.5)
    history = (await client.get("/api/flow_run_states/", params={"flow_run_id": run["id"]})).json()
    assert [s["type"] for s in history] == ["PENDING", "RUNNING", "COMPLETED"]


async def test_terminal_run_rejects_a_new_state_and_keeps_its_own(client, api, state):
    run = await api.flow_run(state=state("COMPLETED", timestamp=at(0)))
    result = await api.set_state("flow_runs", run["id"], state("RUNNING", timestamp=at(1)))
    assert result["status"] == "REJECT"
    assert "COMPLETED" in result["reason"]
    assert result["state"]["id"] == run["state"]["id"]
    assert (await client.get(f"/api/flow_runs/{run['id']}")).json()["state_type"] == "COMPLETED"
    forced = await api.set_state("flow_runs", run["id"], state("RUNNING", timestamp=at(2)), force=True)
    assert forced["status"] == "ACCEPT"


async def test_failed_run_can_be_retried(client, api, state):
    run = await api.flow_run(state=state("RUNNING", timestamp=at(0)))
    steps = [
        state("FAILED", timestamp=at(2)),
        state("SCHEDULED", "AwaitingRetry", timestamp=at(3)),
        state("RUNNING", timestamp=at(10)),
        state("COMPLETED", timestamp=at(11)),
    ]
    for proposed in steps:
        assert (await api.set_state("flow_runs", run["id"], proposed))["status"] == "ACCEPT"
    stored = (await client.get(f"/api/flow_runs/{run['id']}")).json()
    assert stored["run_count"] == 2
    assert stored["total_run_time"] == pytest.approx(3)
    assert stored["start_time"] == "2024-05-01T12:00:00Z"
    assert stored["end_time"] == "2024-05-01T12:00:11Z"


async def test_running_twice_is_aborted(api, state):
    run = await api.flow_run(state=state("RUNNING"))
    result = await api.set_state("flow_runs", run["id"], state("RUNNING"))
    assert result["status"] == "ABORT"
    assert result["reason"].startswith("the flow run is already running")


async def test_concurrent_starts_of_one_run_accept_exactly_one(api, state):
    run = await api.flow_run(state=state("PENDING"))
    results = await asyncio.gather(
        *(api.set_state("flow_runs", run["id"], state("RUNNING")) for _ in range(5))
    )
    assert sorted(r["status"] for r in results) == ["ABORT"] * 4 + ["ACCEPT"]


async def test_proposing_the_current_state_again_is_harmless(client, api, state):
    run = await api.flow_run(state=state("PENDING"))
    running = state("RUNNING", id=str(uuid.uuid4()))
    first = await api.set_state("flow_runs", run["id"], running)
    second = await api.set_state("flow_runs", run["id"], running)
    assert first["status"] == second["status"] == "ACCEPT"
    assert (await client.get(f"/api/flow_runs/{run['id']}")).json()["run_count"] == 1


async def test_timestamps_with_offsets_come_back_in_utc(client, api, state):
    run = await api.flow_run(state=state("PENDING", timestamp="2024-05-01T14:00:00+02:00"))
    assert run["state"]["timestamp"] == "2024-05-01T12:00:00Z"
    result = await api.set_state("flow_runs", run["id"], state("RUNNING", timestamp="2024-05-01T12:00:01"))
    assert result["status"] == "ACCEPT"  # a naive timestamp is taken as UTC
    stored = (await client.get(f"/api/flow_runs/{run['id']}")).json()
    assert stored["start_time"] == "2024-05-01T12:00:01Z"


async def test_state_data_and_details_round_trip(client, api, state):
    proposed = state(
        "COMPLETED",
        message="done",
        state_details={"cache_key": "abc", "retriable": False},
        data={"storage_key": "/tmp/x", "serializer": "json"},
    )
    run = await api.flow_run(state=proposed)
    got = (await client.get(f"/api/flow_runs/{run['id']}")).json()["state"]
    assert {k: got[k] for k in ("message", "state_details", "data")} == {
        "message": "done",
        "state_details": {"cache_key": "abc", "retriable": False, "flow_run_id": run["id"]},
        "data": {"storage_key": "/tmp/x", "serializer": "json"},
    }


async def _runs(client, **flt) -> list[str]:
    response = await client.post("/api/flow_runs/filter", json=flt)
    assert response.status_code == 200, response.text
    return [run["name"] for run in response.json()]


async def test_filter_sort_and_page_flow_runs(client, api, state):
    etl, report = await api.flow("etl"), await api.flow("report")
    await api.flow_run(etl["id"], name="a", state=state("COMPLETED"))
    await api.flow_run(etl["id"], name="c", state=state("FAILED"))
    await api.flow_run(report["id"], name="b", state=state("RUNNING", timestamp=at(5)))
    await api.flow_run(report["id"], name="d", state=state("RUNNING", timestamp=at(9)))

    assert await _runs(client) == ["d", "b", "c", "a"]  # CREATED_DESC by default
    assert await _runs(client, sort="CREATED_ASC") == ["a", "c", "b", "d"]
    assert await _runs(client, sort="NAME_ASC") == ["a", "b", "c", "d"]
    assert await _runs(client, sort="START_TIME_DESC") == ["d", "b", "c", "a"]  # never started: last
    assert await _runs(client, sort="NAME_ASC", limit=2, offset=1) == ["b", "c"]
    assert await _runs(client, flows={"name": {"any_": ["report"]}}, sort="NAME_ASC") == ["b", "d"]
    assert await _runs(client, flow_runs={"flow_id": {"any_": [etl["id"]]}}, sort="NAME_ASC") == ["a", "c"]
    by_state = {"state": {"type": {"any_": ["COMPLETED", "FAILED"]}}}
    assert await _runs(client, flow_runs=by_state, sort="NAME_ASC") == ["a", "c"]
    assert await _runs(client, flow_runs={"state": {"name": {"any_": ["Failed"]}}}) == ["c"]
    assert await _runs(client, flow_runs={"name": {"any_": ["a", "d"]}}, sort="NAME_ASC") == ["a", "d"]
    assert await _runs(client, flow_runs={"id": {"any_": []}}) == []

    count = await client.post("/api/flow_runs/count", json={"flow_runs": by_state})
    assert count.json() == 2
    assert (await client.post("/api/flow_runs/count")).json() == 4
    assert (
        await client.post("/api/flow_runs/count", json={"flows": {"name": {"any_": ["etl"]}}})
    ).json() == 2


async def test_filter_subflow_runs_by_parent_task_run(client, api):
    flow = await api.flow()
    parent = str(uuid.uuid4())
    await api.flow_run(flow["id"], name="child", parent_task_run_id=parent)
    await api.flow_run(flow["id"], name="top")
    assert await _runs(client, flow_runs={"parent_task_run_id": {"any_": [parent]}}) == ["child"]
    assert await _runs(client, flow_runs={"parent_task_run_id": {"any_": [None]}}) == ["top"]


async def test_unknown_flow_run_is_404_everywhere(client, state):
    missing = str(uuid.uuid4())
    for response in [
        await client.get(f"/api/flow_runs/{missing}"),
        await client.post(f"/api/flow_runs/{missing}/set_state", json={"state": state("RUNNING")}),
        await client.get("/api/flow_run_states/", params={"flow_run_id": missing}),
    ]:
        assert response.status_code == 404
        assert response.json() == {"detail": f"flow run {missing} not found"}
