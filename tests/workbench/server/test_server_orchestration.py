"""Orchestration rules that read or change the database, through the API, on both databases."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from partita_workbench.server.database.engine import Database, create_engine
from partita_workbench.server.services.late_runs import mark_late_runs

pytestmark = pytest.mark.anyio


def now(seconds: float = 0) -> str:
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)).isoformat()


async def task_run(client, flow_run_id: str, **fields) -> dict:
    body = {"id": str(uuid.uuid4()), "name": "load", "flow_run_id": flow_run_id, "task_key": "load", **fields}
    response = await client.post("/api/task_runs/", json=body)
    assert response.status_code == 201, response.text
    return response.json()


# --------------------------------------------------------------------------- cached results


async def completed_with_key(client, api, state, flow_run_id: str, key: str, **details) -> dict:
    run = await task_run(client, flow_run_id, cache_key=key)
    await api.set_state("task_runs", run["id"], state("RUNNING"))
    done = state("COMPLETED", data={"storage_key": "/r/1", "serializer": "json", "summary": "42"},
                 state_details={"cache_key": key, **details})
    assert (await api.set_state("task_runs", run["id"], done))["status"] == "ACCEPT"
    return run


async def test_a_cache_hit_completes_as_cached_without_running(client, api, state):
    flow_run = await api.flow_run()
    source = await completed_with_key(client, api, state, flow_run["id"], "k-1")
    again = await task_run(client, flow_run["id"], cache_key="k-1")
    result = await api.set_state("task_runs", again["id"], state("RUNNING"))
    assert result["status"] == "REJECT" and "cache hit" in result["reason"]
    assert result["state"]["type"] == "COMPLETED" and result["state"]["name"] == "Cached"
    assert result["state"]["data"]["storage_key"] == "/r/1"
    assert result["state"]["state_details"]["cached_from_task_run_id"] == source["id"]
    stored = (await client.get(f"/api/task_runs/{again['id']}")).json()
    assert (stored["state_type"], stored["state_name"], stored["run_count"]) == ("COMPLETED", "Cached", 0)


async def test_refresh_and_expiry_and_other_keys_miss_the_cache(client, api, state):
    flow_run = await api.flow_run()
    await completed_with_key(client, api, state, flow_run["id"], "k-2")
    await completed_with_key(client, api, state, flow_run["id"], "k-old", cache_expiration=now(-60))
    for key, details in (("k-2", {"refresh_cache": True}), ("k-old", {}), ("k-other", {})):
        run = await task_run(client, flow_run["id"], cache_key=key)
        result = await api.set_state("task_runs", run["id"], state("RUNNING", state_details=details))
        assert result["status"] == "ACCEPT", (key, result)


# --------------------------------------------------------------------------- tag concurrency


async def test_tag_limit_slots_are_held_while_running(client, api, state):
    response = await client.post("/api/concurrency_limits/", json={"tag": "db", "concurrency_limit": 1})
    assert response.status_code == 200, response.text
    flow_run = await api.flow_run()
    first = await task_run(client, flow_run["id"], tags=["db", "other"])
    second = await task_run(client, flow_run["id"], tags=["db"])
    untagged = await task_run(client, flow_run["id"])

    assert (await api.set_state("task_runs", first["id"], state("RUNNING")))["status"] == "ACCEPT"
    waiting = await api.set_state("task_runs", second["id"], state("RUNNING"))
    assert waiting["status"] == "WAIT" and waiting["delay_seconds"] > 0
    assert "tag:db (1/1)" in waiting["reason"]
    assert (await api.set_state("task_runs", untagged["id"], state("RUNNING")))["status"] == "ACCEPT"
    limit = (await client.get("/api/concurrency_limits/tag/db")).json()
    assert limit["active_slots"] == [first["id"]]

    assert (await api.set_state("task_runs", first["id"], state("COMPLETED")))["status"] == "ACCEPT"
    assert (await client.get("/api/concurrency_limits/tag/db")).json()["active_slots"] == []
    assert (await api.set_state("task_runs", second["id"], state("RUNNING")))["status"] == "ACCEPT"
    assert (await client.get("/api/v2/concurrency_limits/tag:db")).json()["active_slots"] == 1


async def test_a_forced_exit_from_running_releases_the_slot(client, api, state):
    await client.post("/api/concurrency_limits/", json={"tag": "gpu", "concurrency_limit": 1})
    flow_run = await api.flow_run()
    run = await task_run(client, flow_run["id"], tags=["gpu"])
    await api.set_state("task_runs", run["id"], state("RUNNING"))
    await api.set_state("task_runs", run["id"], state("CRASHED"), force=True)
    assert (await client.get("/api/v2/concurrency_limits/tag:gpu")).json()["active_slots"] == 0


async def test_global_limits_take_all_slots_or_none(client):
    for name, size in (("a", 2), ("b", 1)):
        response = await client.post("/api/v2/concurrency_limits/", json={"name": name, "limit": size})
        assert response.status_code == 201, response.text
    taken = await client.post("/api/v2/concurrency_limits/increment", json={"names": ["a", "b"]})
    assert taken.status_code == 200 and {x["name"] for x in taken.json()} == {"a", "b"}
    refused = await client.post("/api/v2/concurrency_limits/increment", json={"names": ["a", "b"]})
    assert refused.status_code == 423 and "b (1/1 taken)" in refused.json()["detail"]
    assert (await client.get("/api/v2/concurrency_limits/a")).json()["active_slots"] == 1
    await client.post("/api/v2/concurrency_limits/decrement", json={"names": ["a", "b"]})
    assert (await client.get("/api/v2/concurrency_limits/b")).json()["active_slots"] == 0
    duplicate = await client.post("/api/v2/concurrency_limits/", json={"name": "a", "limit": 3})
    assert duplicate.status_code == 409


# --------------------------------------------------------------------------- retries, cancellation, late runs


async def test_server_side_retries_go_through_awaiting_retry(client, api, state):
    run = await api.flow_run(empirical_policy={"retries": 1, "retry_delay": 30}, state=state("PENDING"))
    await api.set_state("flow_runs", run["id"], state("RUNNING"))
    failed = await api.set_state("flow_runs", run["id"], state("FAILED", message="boom"))
    assert failed["status"] == "REJECT"
    adopted = failed["state"]
    assert (adopted["type"], adopted["name"], adopted["message"]) == ("SCHEDULED", "AwaitingRetry", "boom")
    due = dt.datetime.fromisoformat(adopted["state_details"]["scheduled_time"])
    assert 25 < (due - dt.datetime.now(dt.timezone.utc)).total_seconds() <= 30
    early = await api.set_state("flow_runs", run["id"], state("RUNNING", "Retrying"))
    assert early["status"] == "WAIT" and 25 < early["delay_seconds"] <= 30
    # the second attempt's failure is final: no retries left
    stored = (await client.get(f"/api/flow_runs/{run['id']}")).json()
    assert stored["expected_start_time"] is not None and stored["empirical_policy"]["retries"] == 1


async def test_cancelling_a_running_flow_run(client, api, state):
    run = await api.flow_run(state=state("RUNNING"))
    asked = await api.set_state("flow_runs", run["id"], state("CANCELLED"))
    assert asked["status"] == "REJECT" and asked["state"]["type"] == "CANCELLING"
    assert (await api.set_state("flow_runs", run["id"], state("RUNNING")))["status"] == "REJECT"
    assert (await api.set_state("flow_runs", run["id"], state("CANCELLED")))["status"] == "ACCEPT"
    history = (await client.get("/api/flow_run_states/", params={"flow_run_id": run["id"]})).json()
    assert [s["type"] for s in history] == ["RUNNING", "CANCELLING", "CANCELLED"]


async def test_late_scheduled_runs_become_late(client, api, state, database_url):
    overdue = await api.flow_run(state=state("SCHEDULED", state_details={"scheduled_time": now(-120)}))
    due_soon = await api.flow_run(state=state("SCHEDULED", state_details={"scheduled_time": now(600)}))
    started = await api.flow_run(state=state("SCHEDULED", state_details={"scheduled_time": now(-120)}))
    await api.set_state("flow_runs", started["id"], state("PENDING"))
    engine = create_engine(database_url)
    try:
        assert await mark_late_runs(Database(engine), after_seconds=15) == 1
        assert await mark_late_runs(Database(engine), after_seconds=15) == 0
    finally:
        await engine.dispose()
    late = (await client.get(f"/api/flow_runs/{overdue['id']}")).json()
    assert (late["state_type"], late["state_name"]) == ("SCHEDULED", "Late")
    assert late["state"]["state_details"]["scheduled_time"] == overdue["state"]["state_details"]["scheduled_time"]
    assert (await client.get(f"/api/flow_runs/{due_soon['id']}")).json()["state_name"] == "Scheduled"
    assert (await client.get(f"/api/flow_runs/{started['id']}")).json()["state_name"] == "Pending"
