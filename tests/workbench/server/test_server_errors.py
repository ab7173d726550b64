"""Bad input is a 4xx with a JSON ``detail``, never a 500."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/flows/", {"name": ""}),
        ("post", "/api/flows/", {"name": "x", "unknown": 1}),
        ("post", "/api/flows/", ["not", "an", "object"]),
        ("post", "/api/flow_runs/", {"name": "no flow id"}),
        ("post", "/api/flow_runs/", {"flow_id": "not-a-uuid", "name": "x"}),
        ("post", "/api/flow_runs/filter", {"limit": -1}),
        ("post", "/api/flow_runs/filter", {"sort": "SIDEWAYS"}),
        ("post", "/api/flow_runs/filter", {"flow_runs": {"id": {"any_": ["nope"]}}}),
        ("post", "/api/flow_runs/filter", {"flow_runs": {"state": {"type": {"any_": ["DONE"]}}}}),
        ("post", "/api/flow_runs/filter", {"flow_runs": {"name": {"any_": [1]}}}),
        ("post", "/api/flow_runs/count", {"flows": {"name": {"any_": [{"a": 1}]}}}),
        ("post", "/api/task_runs/filter", {"task_runs": {"flow_run_id": {"any_": [3.5]}}}),
        ("post", "/api/task_runs/batch", {"task_runs": [{"name": "missing task_key"}]}),
        ("post", "/api/task_runs/batch", {"states": [{"type": "RUNNING", "name": "r"}]}),
        ("post", "/api/logs/", {"name": "not a list"}),
        ("post", "/api/logs/", [{"name": "x", "level": "loud", "message": "m"}]),
        ("post", "/api/logs/filter", {"logs": {"task_run_id": {"any_": ["zz"]}}}),
        ("get", "/api/flow_runs/not-a-uuid", None),
        ("get", "/api/flow_run_states/", None),
        ("get", "/api/task_run_states/?task_run_id=zz", None),
    ],
)
async def test_malformed_requests_are_422(client, method, path, body):
    kwargs = {"json": body} if method == "post" else {}
    response = await client.request(method.upper(), path, **kwargs)
    assert response.status_code == 422, response.text
    assert "detail" in response.json()


async def test_invalid_json_is_422(client):
    response = await client.post(
        "/api/flow_runs/", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "detail" in response.json()


async def test_set_state_with_bad_state_type_is_422(client, api):
    run = await api.flow_run()
    response = await client.post(
        f"/api/flow_runs/{run['id']}/set_state", json={"state": {"type": "DONE", "name": "x"}}
    )
    assert response.status_code == 422


@pytest.mark.parametrize("level", [2**31, -(2**31) - 1, 2**70])
async def test_integers_out_of_column_range_are_422(client, level):
    response = await client.post("/api/logs/", json=[{"name": "x", "level": level, "message": "m"}])
    assert response.status_code == 422
    assert "level" in response.json()["detail"]


async def test_run_count_out_of_range_is_422(client, api):
    run = await api.flow_run()
    body = {"name": "t", "flow_run_id": run["id"], "task_key": "k", "run_count": 2**40}
    assert (await client.post("/api/task_runs/", json=body)).status_code == 422
    row = [str(uuid.uuid4()), "t", run["id"], "k", "0", None, {}, [], 2**40, None, None, 0.0]
    response = await client.post("/api/task_runs/batch", json={"task_runs": [row]})
    assert response.status_code == 422 and "run_count" in response.json()["detail"]


async def test_values_the_database_refuses_are_422_not_500(client, database_url):
    # PostgreSQL refuses a name over 255 characters and a NUL character in text; SQLite stores both.
    expected = 201 if database_url.startswith("sqlite") else 422
    for body in [{"name": "n" * 1000}, {"name": "nul\u0000char"}]:
        response = await client.post("/api/flows/", json=body)
        assert response.status_code == expected, response.text
        assert "detail" in response.json() or expected == 201


async def test_reusing_a_state_id_of_another_run_is_409(client, api, state):
    first = await api.flow_run(state=state("PENDING"))
    second = await api.flow_run(name="second")
    reused = {**state("PENDING"), "id": first["state"]["id"]}
    response = await client.post(f"/api/flow_runs/{second['id']}/set_state", json={"state": reused})
    assert response.status_code == 409
    assert "conflicts" in response.json()["detail"]


async def test_unknown_paths_and_methods(client):
    assert (await client.get(f"/api/nothing/{uuid.uuid4()}")).status_code == 404
    assert (await client.delete("/api/health")).status_code == 405


@pytest.mark.parametrize("body", [b"\xc3", b"\xff\xfe{}", b"not json", b""])
async def test_a_batch_that_is_not_json_is_a_422(client, body):
    response = await client.post("/api/task_runs/batch", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
