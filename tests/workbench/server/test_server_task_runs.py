"""``/api/task_runs`` and ``/api/task_run_states``, including the write-behind batch."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest

from partita_workbench.server.database.engine import create_engine

pytestmark = pytest.mark.anyio

T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)


def at(seconds: float) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).isoformat()


def task_run(flow_run_id: str | None, i: int = 0, **fields) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "name": f"add-{i}",
        "flow_run_id": flow_run_id,
        "task_key": "add-3f2a",
        "dynamic_key": str(i),
        **fields,
    }


def wire(batch: dict) -> dict:
    """A batch written with objects, as the endpoint's rows (``TaskRunRow`` / ``TaskRunStateRow``).

    A snapshot's ``state`` with no matching entry in ``states`` is sent as a state too.
    """
    from partita.client.schemas import TASK_RUN_ROW_FIELDS, TASK_RUN_STATE_ROW_FIELDS

    defaults = {"dynamic_key": "0", "cache_key": None, "task_inputs": {}, "tags": [], "run_count": 0,
                "start_time": None, "end_time": None, "total_run_time": 0.0, "flow_run_id": None}
    states = list(batch.get("states", []))
    sent = {s["id"] for s in states if "id" in s}
    for run in batch.get("task_runs", []):
        state = run.get("state")
        if state and state.get("id") not in sent:
            states.append({**state, "task_run_id": run["id"]})
    state_defaults = {"message": None, "state_details": {}, "data": None, "timestamp": at(0)}
    return {
        "task_runs": [[{**defaults, **run}.get(f, run.get(f)) for f in TASK_RUN_ROW_FIELDS] for run in batch.get("task_runs", [])],
        "states": [[{**state_defaults, "id": str(uuid.uuid4()), **st}.get(f) for f in TASK_RUN_STATE_ROW_FIELDS] for st in states],
    }


async def test_create_and_read_a_task_run(client, api, state):
    run = await api.flow_run()
    upstream = str(uuid.uuid4())
    body = task_run(
        run["id"],
        cache_key="k1",
        tags=["t"],
        task_inputs={"x": [{"input_type": "task_run", "id": upstream}], "y": []},
        state=state("PENDING", timestamp=at(0)),
    )
    response = await client.post("/api/task_runs/", json=body)
    assert response.status_code == 201
    created = response.json()
    assert created["task_inputs"] == {"x": [{"input_type": "task_run", "id": upstream}], "y": []}
    assert created["state_type"] == "PENDING" and created["state"]["timestamp"] == "2024-05-01T12:00:00Z"
    assert (await client.get(f"/api/task_runs/{body['id']}")).json() == created
    again = await client.post("/api/task_runs/", json={**body, "name": "renamed"})
    assert again.status_code == 200 and again.json() == created


async def test_task_run_without_flow_run(client):
    response = await client.post("/api/task_runs/", json=task_run(None))
    assert response.status_code == 201
    assert response.json()["flow_run_id"] is None


async def test_task_run_of_unknown_flow_run_is_404(client):
    missing = str(uuid.uuid4())
    response = await client.post("/api/task_runs/", json=task_run(missing))
    assert response.status_code == 404
    assert missing in response.json()["detail"]


async def test_task_run_set_state_follows_the_rules(client, api, state):
    run = await api.flow_run()
    body = task_run(run["id"], state=state("PENDING", timestamp=at(0)))
    await client.post("/api/task_runs/", json=body)
    assert (await api.set_state("task_runs", body["id"], state("RUNNING", timestamp=at(1))))[
        "status"
    ] == "ACCEPT"
    aborted = await api.set_state("task_runs", body["id"], state("RUNNING", timestamp=at(1.5)))
    assert aborted["status"] == "ABORT" and aborted["reason"].startswith("the task run is already running")
    assert (await api.set_state("task_runs", body["id"], state("FAILED", timestamp=at(2))))[
        "status"
    ] == "ACCEPT"
    awaiting = state("SCHEDULED", "AwaitingRetry", timestamp=at(2.5), state_details={"scheduled_time": at(2.5)})
    assert (await api.set_state("task_runs", body["id"], awaiting))["status"] == "ACCEPT"
    retry = await api.set_state("task_runs", body["id"], state("RUNNING", "Retrying", timestamp=at(3)))
    assert retry["status"] == "ACCEPT"
    assert (await api.set_state("task_runs", body["id"], state("COMPLETED", timestamp=at(4))))[
        "status"
    ] == "ACCEPT"
    rejected = await api.set_state("task_runs", body["id"], state("RUNNING", timestamp=at(5)))
    assert rejected["status"] == "REJECT"
    stored = (await client.get(f"/api/task_runs/{body['id']}")).json()
    assert (stored["run_count"], stored["total_run_time"]) == (2, pytest.approx(2.0))
    history = (await client.get("/api/task_run_states/", params={"task_run_id": body["id"]})).json()
    assert [s["name"] for s in history] == ["Pending", "Running", "Failed", "AwaitingRetry", "Retrying", "Completed"]


def make_batch(flow_run_id: str, n: int, state) -> dict:
    runs, states = [], []
    for i in range(n):
        pending, running, completed = (
            state("PENDING", id=str(uuid.uuid4()), timestamp=at(i)),
            state("RUNNING", id=str(uuid.uuid4()), timestamp=at(i + 0.25)),
            state("COMPLETED", id=str(uuid.uuid4()), timestamp=at(i + 0.75), data={"storage_key": f"k{i}"}),
        )
        run = task_run(
            flow_run_id, i, state=completed, run_count=1, start_time=at(i + 0.25), end_time=at(i + 0.75)
        )
        run["total_run_time"] = 0.5
        runs.append(run)
        states += [{**s, "task_run_id": run["id"]} for s in (pending, running, completed)]
    return {"task_runs": runs, "states": states}


async def test_batch_writes_task_runs_and_states(client, api, state):
    run = await api.flow_run()
    batch = make_batch(run["id"], 20, state)
    response = await client.post("/api/task_runs/batch", json=wire(batch))
    assert response.status_code == 200, response.text
    assert response.json() == {"task_runs": 20, "states": 60}
    stored = (
        await client.post("/api/task_runs/filter", json={"task_runs": {"flow_run_id": {"any_": [run["id"]]}}})
    ).json()
    assert [t["name"] for t in stored] == [f"add-{i}" for i in range(20)]  # CREATED_ASC keeps the sent order
    first = stored[0]
    assert first["state_type"] == "COMPLETED" and first["state"]["data"] == {"storage_key": "k0"}
    assert first["start_time"] == "2024-05-01T12:00:00.250000Z" and first["total_run_time"] == 0.5
    history = (await client.get("/api/task_run_states/", params={"task_run_id": first["id"]})).json()
    assert [s["type"] for s in history] == ["PENDING", "RUNNING", "COMPLETED"]


async def test_sending_a_batch_twice_writes_nothing_twice(client, api, state):
    run = await api.flow_run()
    batch = make_batch(run["id"], 10, state)
    for _ in range(2):
        assert (await client.post("/api/task_runs/batch", json=wire(batch))).status_code == 200
    assert (await client.post("/api/task_runs/count")).json() == 10
    states_total = 0
    for t in batch["task_runs"]:
        states_total += len(
            (await client.get("/api/task_run_states/", params={"task_run_id": t["id"]})).json()
        )
    assert states_total == 30


async def test_batch_updates_snapshots_and_keeps_state_when_none_sent(client, api, state):
    run = await api.flow_run()
    body = task_run(run["id"])
    pending = state("PENDING", id=str(uuid.uuid4()), timestamp=at(0))
    first = {"task_runs": [{**body, "state": pending}], "states": [{**pending, "task_run_id": body["id"]}]}
    assert (await client.post("/api/task_runs/batch", json=wire(first))).status_code == 200
    created = (await client.get(f"/api/task_runs/{body['id']}")).json()

    update = {**body, "name": "renamed", "tags": ["x"], "cache_key": "ck", "run_count": 1}  # no state
    assert (await client.post("/api/task_runs/batch", json=wire({"task_runs": [update]}))).status_code == 200
    stored = (await client.get(f"/api/task_runs/{body['id']}")).json()
    assert (stored["name"], stored["tags"], stored["cache_key"], stored["run_count"]) == (
        "renamed",
        ["x"],
        "ck",
        1,
    )
    assert stored["state"]["id"] == pending["id"] and stored["state_type"] == "PENDING"
    assert stored["created"] == created["created"]


async def test_batch_with_a_state_of_an_unknown_task_run_is_404_and_writes_nothing(client, api, state):
    run = await api.flow_run()
    batch = make_batch(run["id"], 3, state)
    orphan = str(uuid.uuid4())
    batch["states"].append({**state("RUNNING"), "task_run_id": orphan})
    response = await client.post("/api/task_runs/batch", json=wire(batch))
    assert response.status_code == 404
    assert orphan in response.json()["detail"]
    assert (await client.post("/api/task_runs/count")).json() == 0


async def test_batch_with_an_unknown_flow_run_is_404(client, state):
    missing = str(uuid.uuid4())
    response = await client.post("/api/task_runs/batch", json=wire({"task_runs": [task_run(missing)]}))
    assert response.status_code == 404
    assert missing in response.json()["detail"]


async def test_bulk_rows_are_stored_like_orm_rows(client, api, state, database_url):
    """The batch writes at driver level; its rows must equal those written through SQLAlchemy types."""
    run = await api.flow_run()
    fields = dict(
        cache_key="ck",
        tags=["a", "b"],
        task_inputs={"x": [{"input_type": "task_run", "id": str(uuid.uuid4())}]},
        start_time="2024-05-01T14:00:00.5+02:00",
    )
    orm_run = task_run(run["id"], **fields)
    bulk_run = {**task_run(run["id"], **fields), "task_key": orm_run["task_key"]}
    shared_state = dict(
        timestamp="2024-05-01T12:00:00.000001Z", state_details={"a": 1}, data=None, message="m"
    )
    orm_state, bulk_state = state("PENDING", **shared_state), state("PENDING", **shared_state)
    assert (await client.post("/api/task_runs/", json={**orm_run, "state": orm_state})).status_code == 201
    bulk_run["state"] = bulk_state
    batch = {
        "task_runs": [bulk_run],
        "states": [{**bulk_state, "id": str(uuid.uuid4()), "task_run_id": bulk_run["id"]}],
    }
    batch["task_runs"][0]["state"] = {**bulk_state, "id": batch["states"][0]["id"]}
    assert (await client.post("/api/task_runs/batch", json=wire(batch))).status_code == 200

    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            runs = (await connection.exec_driver_sql("SELECT * FROM task_run")).mappings().all()
            states = (await connection.exec_driver_sql("SELECT * FROM task_run_state")).mappings().all()
    finally:
        await engine.dispose()
    ignore = {"id", "state_id", "created", "updated", "task_run_id"}
    assert len(runs) == 2 and len(states) == 2
    assert {k: v for k, v in runs[0].items() if k not in ignore} == {
        k: v for k, v in runs[1].items() if k not in ignore
    }
    assert {k: v for k, v in states[0].items() if k not in ignore} == {
        k: v for k, v in states[1].items() if k not in ignore
    }
    api_views = [(await client.get(f"/api/task_runs/{r['id']}")).json() for r in (orm_run, bulk_run)]
    for view in api_views:
        assert view["start_time"] == "2024-05-01T12:00:00.500000Z"
        assert view["state"]["timestamp"] == "2024-05-01T12:00:00.000001Z"


async def test_filter_task_runs_by_state_and_sort(client, api, state):
    run = await api.flow_run()
    other = await api.flow_run(name="other")
    runs = [
        task_run(run["id"], 0, state=state("COMPLETED"), start_time=at(5)),
        task_run(run["id"], 1, state=state("FAILED"), start_time=at(1)),
        task_run(run["id"], 2),
        task_run(other["id"], 3, state=state("COMPLETED")),
    ]
    assert (await client.post("/api/task_runs/batch", json=wire({"task_runs": runs}))).status_code == 200

    async def names(**flt):
        response = await client.post("/api/task_runs/filter", json=flt)
        assert response.status_code == 200, response.text
        return [t["name"] for t in response.json()]

    mine = {"flow_run_id": {"any_": [run["id"]]}}
    assert await names(task_runs=mine) == ["add-0", "add-1", "add-2"]
    assert await names(task_runs=mine, sort="CREATED_DESC") == ["add-2", "add-1", "add-0"]
    assert await names(task_runs=mine, sort="EXPECTED_START_TIME_ASC") == ["add-1", "add-0", "add-2"]
    assert await names(task_runs={"state": {"type": {"any_": ["COMPLETED"]}}}) == ["add-0", "add-3"]
    assert await names(task_runs={"id": {"any_": [runs[2]["id"]]}}) == ["add-2"]
    assert await names(limit=2, offset=1) == ["add-1", "add-2"]
    count = await client.post("/api/task_runs/count", json={"task_runs": mine})
    assert count.json() == 3


async def test_unknown_task_run_is_404_everywhere(client, state):
    missing = str(uuid.uuid4())
    for response in [
        await client.get(f"/api/task_runs/{missing}"),
        await client.post(f"/api/task_runs/{missing}/set_state", json={"state": state("RUNNING")}),
        await client.get("/api/task_run_states/", params={"task_run_id": missing}),
    ]:
        assert response.status_code == 404
        assert response.json() == {"detail": f"task run {missing} not found"}


async def test_large_batch_is_one_quick_call(client, api, state):
    """1000 task runs and 3000 states in one call (the write-behind hot path); a loose time bound."""
    run = await api.flow_run()
    batch = make_batch(run["id"], 1000, state)
    started = time.perf_counter()
    response = await client.post("/api/task_runs/batch", json=wire(batch))
    elapsed = time.perf_counter() - started
    assert response.json() == {"task_runs": 1000, "states": 3000}
    assert (await client.post("/api/task_runs/count")).json() == 1000
    assert elapsed < 5.0, f"batch took {elapsed:.2f} s"


@pytest.mark.parametrize(
    "timestamp, uuid_text",
    [("2024-02-30T12:00:00+00:00", None), ("yesterday", None), (None, "not-a-uuid"), (None, "g" * 32)],
)
async def test_batch_rows_with_bad_ids_or_times_are_422_and_write_nothing(client, api, state, timestamp, uuid_text):
    run = await api.flow_run()
    batch = wire(make_batch(run["id"], 2, state))
    if timestamp is not None:
        batch["states"][1][4] = timestamp
    if uuid_text is not None:
        batch["states"][1][1] = uuid_text
    response = await client.post("/api/task_runs/batch", json=batch)
    assert response.status_code == 422, response.text
    assert (await client.post("/api/task_runs/count")).json() == 0


async def test_batch_ids_without_dashes_or_in_upper_case_are_the_same_ids(client, api, state):
    run = await api.flow_run()
    batch = wire(make_batch(run["id"], 1, state))
    run_id = batch["task_runs"][0][0]
    batch["states"][0][0] = run_id.replace("-", "").upper()
    assert (await client.post("/api/task_runs/batch", json=batch)).status_code == 200
    history = (await client.get("/api/task_run_states/", params={"task_run_id": run_id})).json()
    assert len(history) == 3
