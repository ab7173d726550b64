"""``/api/logs``: bulk write and filtered reads, oldest first."""

from __future__ import annotations

import uuid

import pytest

pytestmark = pytest.mark.anyio


def line(message: str, level: int = 20, second: int = 0, **ids) -> dict:
    return {
        "name": "partita.task_runs",
        "level": level,
        "message": message,
        "timestamp": f"2024-05-01T12:00:{second:02d}Z",
        **ids,
    }


async def test_logs_filtered_by_run_and_level(client):
    run_a, run_b, task = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    logs = [
        line("a3", 40, 3, flow_run_id=run_a),
        line("a1", 10, 1, flow_run_id=run_a),
        line("a2", 20, 2, flow_run_id=run_a, task_run_id=task),
        line("b1", 30, 4, flow_run_id=run_b),
    ]
    response = await client.post("/api/logs/", json=logs)
    assert response.status_code == 201

    async def messages(**flt):
        response = await client.post("/api/logs/filter", json=flt)
        assert response.status_code == 200, response.text
        return [log["message"] for log in response.json()]

    assert await messages() == ["a1", "a2", "a3", "b1"]
    assert await messages(logs={"flow_run_id": {"any_": [run_a]}}) == ["a1", "a2", "a3"]
    assert await messages(logs={"flow_run_id": {"any_": [run_a]}, "level": {"ge_": 20}}) == ["a2", "a3"]
    assert await messages(logs={"task_run_id": {"any_": [task]}}) == ["a2"]
    assert await messages(logs={"level": {"ge_": 30}}) == ["a3", "b1"]
    assert await messages(limit=2, offset=1) == ["a2", "a3"]
    stored = (await client.post("/api/logs/filter", json={"logs": {"task_run_id": {"any_": [task]}}})).json()[
        0
    ]
    assert stored["flow_run_id"] == run_a and stored["timestamp"] == "2024-05-01T12:00:02Z"
    assert uuid.UUID(stored["id"])


async def test_empty_log_list_is_accepted(client):
    assert (await client.post("/api/logs/", json=[])).status_code == 201


async def test_many_log_lines_in_one_call(client):
    run = str(uuid.uuid4())
    logs = [line(f"m{i}", flow_run_id=run) for i in range(2000)]
    assert (await client.post("/api/logs/", json=logs)).status_code == 201
    got = (
        await client.post("/api/logs/filter", json={"logs": {"flow_run_id": {"any_": [run]}}, "limit": 5000})
    ).json()
    assert len(got) == 2000
