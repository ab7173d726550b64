"""Artifacts, variables, filters, pagination, logs, run graph and results through the API, on both databases."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

pytestmark = pytest.mark.anyio

T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)


def at(seconds: float) -> str:
    return (T0 + dt.timedelta(seconds=seconds)).isoformat()


async def test_keyed_artifacts_keep_their_versions(client, api):
    run = await api.flow_run()
    ids = []
    for i, (kind, data) in enumerate([("markdown", "# v1"), ("table", [{"a": 1}]), ("markdown", "# v3")]):
        response = await client.post("/api/artifacts/", json={"key": "report", "type": kind, "data": data,
                                                              "flow_run_id": run["id"]})
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    await client.post("/api/artifacts/", json={"key": "other", "type": "link", "data": {"link": "https://x.org"}})
    latest = (await client.get("/api/artifacts/report/latest")).json()
    assert latest["id"] == ids[2] and latest["data"] == "# v3"
    versions = (await client.post("/api/artifacts/filter", json={"artifacts": {"key": {"any_": ["report"]}},
                                                                 "sort": "CREATED_ASC"})).json()
    assert [v["id"] for v in versions] == ids
    newest = (await client.post("/api/artifacts/filter", json={"latest_only": True, "sort": "KEY_ASC"})).json()
    assert [(a["key"], a["data"]) for a in newest] == [("other", {"link": "https://x.org"}), ("report", "# v3")]
    assert (await client.post("/api/artifacts/count", json={"artifacts": {"flow_run_id": {"any_": [run["id"]]}}})).json() == 3
    assert (await client.get("/api/artifacts/missing/latest")).status_code == 404


async def test_progress_artifacts_update_in_place_and_data_is_checked(client):
    made = (await client.post("/api/artifacts/", json={"type": "progress", "data": 5})).json()
    assert (await client.patch(f"/api/artifacts/{made['id']}", json={"data": 80})).status_code == 204
    assert (await client.get(f"/api/artifacts/{made['id']}")).json()["data"] == 80
    assert (await client.patch(f"/api/artifacts/{made['id']}", json={"data": 101})).status_code == 422
    for kind, data in [("markdown", 3), ("table", "rows"), ("link", {"text": "x"}), ("image", {}), ("progress", True)]:
        response = await client.post("/api/artifacts/", json={"type": kind, "data": data})
        assert response.status_code == 422, (kind, response.text)
    assert (await client.post("/api/artifacts/", json={"type": "markdown", "data": "x", "key": "Bad Key"})).status_code == 422
    assert (await client.delete(f"/api/artifacts/{made['id']}")).status_code == 204
    assert (await client.get(f"/api/artifacts/{made['id']}")).status_code == 404


async def test_variables_by_name(client):
    assert (await client.post("/api/variables/", json={"name": "batch_size", "value": 500, "tags": ["etl"]})).status_code == 201
    assert (await client.post("/api/variables/", json={"name": "batch_size", "value": 1})).status_code == 409
    assert (await client.get("/api/variables/name/batch_size")).json()["value"] == 500
    assert (await client.patch("/api/variables/name/batch_size", json={"value": {"rows": 5}})).status_code == 204
    assert (await client.get("/api/variables/name/batch_size")).json()["value"] == {"rows": 5}
    await client.post("/api/variables/", json={"name": "batch_window", "value": None})
    await client.post("/api/variables/", json={"name": "region", "value": "eu"})
    names = [v["name"] for v in (await client.post("/api/variables/filter", json={"name_like": "batch_"})).json()]
    assert names == ["batch_size", "batch_window"]
    tagged = (await client.post("/api/variables/filter", json={"tags": {"any_": ["etl"]}})).json()
    assert [v["name"] for v in tagged] == ["batch_size"]
    assert (await client.post("/api/variables/count", json={})).json() == 3
    assert (await client.delete("/api/variables/name/region")).status_code == 204
    assert (await client.get("/api/variables/name/region")).status_code == 404
    assert (await client.post("/api/variables/", json={"name": "Bad Name", "value": 1})).status_code == 422


async def test_flow_run_filters_cover_tags_deployment_parent_and_times(client, api, state):
    flow = await api.flow()
    deployment = str(uuid.uuid4())
    a = await api.flow_run(flow["id"], name="a", tags=["nightly", "eu"], deployment_id=deployment)
    b = await api.flow_run(flow["id"], name="b", tags=["nightly"], state=state("RUNNING", timestamp=at(10)))
    c = await api.flow_run(flow["id"], name="c", state=state("SCHEDULED", state_details={"scheduled_time": at(100)}))
    task = {"id": str(uuid.uuid4()), "name": "sub", "flow_run_id": b["id"], "task_key": "sub"}
    assert (await client.post("/api/task_runs/", json=task)).status_code == 201
    child = await api.flow_run(flow["id"], name="child", parent_task_run_id=task["id"])

    async def names(**fields) -> list[str]:
        body = {"flow_runs": fields, "sort": "NAME_ASC"}
        response = await client.post("/api/flow_runs/filter", json=body)
        assert response.status_code == 200, response.text
        return [r["name"] for r in response.json()]

    assert await names(tags={"all_": ["nightly"]}) == ["a", "b"]
    assert await names(tags={"all_": ["nightly", "eu"]}) == ["a"]
    assert await names(tags={"any_": ["eu", "nope"]}) == ["a"]
    assert await names(tags={"is_null_": True}) == ["c", "child"]
    assert await names(deployment_id={"any_": [deployment]}) == ["a"]
    assert await names(parent_flow_run_id={"any_": [b["id"]]}) == ["child"]
    assert await names(start_time={"after_": at(5), "before_": at(15)}) == ["b"]
    assert await names(expected_start_time={"after_": at(50)}) == ["c"]
    assert await names(state={"type": {"any_": ["SCHEDULED", "RUNNING"]}}) == ["b", "c"]
    count = await client.post("/api/flow_runs/count", json={"flow_runs": {"tags": {"all_": ["nightly"]}}})
    assert count.json() == 2
    assert child["parent_task_run_id"] == task["id"] and a["deployment_id"] == deployment


async def test_cursor_pages_walk_every_run_once(client, api):
    flow = await api.flow()
    made = [await api.flow_run(flow["id"], name=f"r{i}") for i in range(7)]
    for sort in ("CREATED_DESC", "CREATED_ASC", "NAME_ASC"):
        seen, cursor = [], None
        while True:
            body = {"sort": sort, "limit": 3, **({"cursor": cursor} if cursor else {})}
            page = (await client.post("/api/flow_runs/paginate", json=body)).json()
            assert page["count"] == 7 and page["limit"] == 3
            seen += [r["id"] for r in page["results"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(r["id"] for r in made) and len(seen) == 7, sort
    created_asc = (await client.post("/api/flow_runs/filter", json={"sort": "CREATED_ASC", "offset": 2, "limit": 2})).json()
    assert [r["id"] for r in created_asc] == [made[2]["id"], made[3]["id"]]
    bad = await client.post("/api/flow_runs/paginate", json={"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and "cursor" in bad.json()["detail"]


async def test_logs_batched_paginated_and_filtered_by_level(client, api):
    run = await api.flow_run()
    lines = [{"name": "etl", "level": level, "message": f"m{i}", "timestamp": at(i), "flow_run_id": run["id"]}
             for i, level in enumerate([10, 20, 30, 40, 20, 50])]
    assert (await client.post("/api/logs/", json=lines)).status_code == 201
    warn = (await client.post("/api/logs/filter", json={"logs": {"level": {"ge_": 30}}})).json()
    assert [l["message"] for l in warn] == ["m2", "m3", "m5"]
    middle = (await client.post("/api/logs/filter", json={"logs": {"level": {"ge_": 20, "le_": 30}}})).json()
    assert [l["message"] for l in middle] == ["m1", "m2", "m4"]
    window = (await client.post("/api/logs/filter", json={"logs": {"timestamp": {"after_": at(1), "before_": at(3)}}})).json()
    assert [l["message"] for l in window] == ["m1", "m2", "m3"]
    first = (await client.post("/api/logs/paginate", json={"logs": {"flow_run_id": {"any_": [run["id"]]}}, "limit": 4})).json()
    assert first["count"] == 6 and [l["message"] for l in first["results"]] == ["m0", "m1", "m2", "m3"]
    rest = (await client.post("/api/logs/paginate", json={"limit": 4, "cursor": first["next_cursor"]})).json()
    assert [l["message"] for l in rest["results"]] == ["m4", "m5"] and rest["next_cursor"] is None


async def test_run_graph_nodes_edges_states_and_durations(client, api, state):
    run = await api.flow_run()
    ids = [str(uuid.uuid4()) for _ in range(3)]
    rows = [[ids[0], "extract", run["id"], "extract", "0", None, {}, [], 1, at(0), at(2), 2.0],
            [ids[1], "transform", run["id"], "transform", "0", None, {"x": [{"input_type": "task_run", "id": ids[0]}]},
             [], 1, at(2), at(5), 3.0],
            [ids[2], "load", run["id"], "load", "0", None,
             {"x": [{"input_type": "task_run", "id": ids[1]}], "wait_for": [{"input_type": "task_run", "id": ids[0]}]},
             [], 1, at(5), None, 0.0]]
    states = [[ids[0], str(uuid.uuid4()), "COMPLETED", "Completed", at(2), None, {}, None],
              [ids[1], str(uuid.uuid4()), "COMPLETED", "Cached", at(5), None, {}, None],
              [ids[2], str(uuid.uuid4()), "RUNNING", "Running", at(5), None, {}, None]]
    assert (await client.post("/api/task_runs/batch", json={"task_runs": rows, "states": states})).status_code == 200
    graph = (await client.get(f"/api/flow_runs/{run['id']}/graph")).json()
    nodes = {n["label"]: n for n in graph["nodes"]}
    assert list(nodes) == ["extract", "transform", "load"]
    assert graph["root_node_ids"] == [ids[0]]
    assert {(e["source"], e["target"]) for e in graph["edges"]} == {(ids[0], ids[1]), (ids[1], ids[2]), (ids[0], ids[2])}
    assert nodes["transform"]["state_name"] == "Cached" and nodes["transform"]["duration"] == 3.0
    assert nodes["load"]["state_type"] == "RUNNING" and nodes["load"]["duration"] is None
    assert sorted(nodes["load"]["parents"]) == sorted([ids[0], ids[1]])
    assert (await client.get(f"/api/flow_runs/{uuid.uuid4()}/graph")).status_code == 404


async def test_result_records_and_their_bytes(client, api, state, tmp_path):
    done = state("COMPLETED", data={"storage_key": "/elsewhere/abc", "serializer": "cloudpickle", "summary": "[1, 2]"})
    run = await api.flow_run(state=done)
    record = (await client.get(f"/api/flow_runs/{run['id']}/result")).json()
    assert record == {**record, "serializer": "cloudpickle", "summary": "[1, 2]", "fetchable": False,
                      "storage_key": "/elsewhere/abc"}
    assert (await client.put("/api/results/abc", content=b"\x80\x04K\x01.")).status_code == 204
    uploaded = await api.flow_run(state=state("COMPLETED", data={"storage_key": "abc", "serializer": "pickle"}))
    record = (await client.get(f"/api/flow_runs/{uploaded['id']}/result")).json()
    assert record["fetchable"] is True and record["storage_key"] == "abc"
    assert (await client.get("/api/results/abc")).content == b"\x80\x04K\x01."
    bare = await api.flow_run(state=state("COMPLETED"))
    assert (await client.get(f"/api/flow_runs/{bare['id']}/result")).status_code == 404
