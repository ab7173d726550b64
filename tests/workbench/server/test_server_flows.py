"""Health, version and ``/api/flows``."""

from __future__ import annotations

import asyncio
from importlib.metadata import version

import pytest

pytestmark = pytest.mark.anyio


async def test_health_and_version(client):
    assert (await client.get("/api/health")).json() is True
    assert (await client.get("/api/version")).json() == {"version": version("partita")}


async def test_create_flow_then_get_it_back(client):
    response = await client.post("/api/flows/", json={"name": "etl", "tags": ["nightly"]})
    assert response.status_code == 201
    flow = response.json()
    assert flow["name"] == "etl" and flow["tags"] == ["nightly"]
    got = await client.get(f"/api/flows/{flow['id']}")
    assert got.status_code == 200 and got.json() == flow


async def test_creating_an_existing_name_returns_that_flow(client, api):
    first = await api.flow("etl")
    response = await client.post("/api/flows/", json={"name": "etl", "tags": ["other"]})
    assert response.status_code == 200
    assert response.json() == first


async def test_concurrent_creates_of_one_name_return_the_same_flow(client):
    responses = await asyncio.gather(*(client.post("/api/flows/", json={"name": "race"}) for _ in range(8)))
    assert {r.status_code for r in responses} <= {200, 201}
    assert [r.status_code for r in responses].count(201) == 1
    assert len({r.json()["id"] for r in responses}) == 1


async def test_filter_flows_pages_by_name(client, api):
    for name in ["c", "a", "b", "d"]:
        await api.flow(name)
    names = lambda response: [flow["name"] for flow in response.json()]  # noqa: E731
    assert names(await client.post("/api/flows/filter")) == ["a", "b", "c", "d"]
    assert names(await client.post("/api/flows/filter", json={"limit": 2, "offset": 1})) == ["b", "c"]
    selected = await client.post("/api/flows/filter", json={"flows": {"name": {"any_": ["d", "a", "zz"]}}})
    assert names(selected) == ["a", "d"]


async def test_unknown_flow_is_404(client):
    response = await client.get("/api/flows/9b2f3c1e-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.json() == {"detail": "flow 9b2f3c1e-0000-4000-8000-000000000000 not found"}
