"""The app's public surface: exports, routes, default database."""

from __future__ import annotations

import httpx
import pytest
from partita.settings import get_settings

import partita_workbench.server
from partita_workbench.server import create_app

pytestmark = pytest.mark.anyio

ROUTES = {
    ("DELETE", "/api/artifacts/{artifact_id}"),
    ("DELETE", "/api/concurrency_limits/tag/{tag}"),
    ("DELETE", "/api/v2/concurrency_limits/{id_or_name}"),
    ("DELETE", "/api/variables/name/{name}"),
    ("GET", "/api/artifacts/{artifact_id}"),
    ("GET", "/api/artifacts/{artifact_id}/content"),
    ("GET", "/api/artifacts/{key}/latest"),
    ("GET", "/api/concurrency_limits/tag/{tag}"),
    ("GET", "/api/events/stream"),
    ("GET", "/api/flow_run_states/"),
    ("GET", "/api/flow_runs/{flow_run_id}"),
    ("GET", "/api/flow_runs/{flow_run_id}/graph"),
    ("GET", "/api/flow_runs/{flow_run_id}/result"),
    ("GET", "/api/flows/{flow_id}"),
    ("GET", "/api/health"),
    ("GET", "/api/results/{key}"),
    ("GET", "/api/task_run_states/"),
    ("GET", "/api/task_runs/{task_run_id}"),
    ("GET", "/api/task_runs/{task_run_id}/result"),
    ("GET", "/api/v2/concurrency_limits/{id_or_name}"),
    ("GET", "/api/variables/name/{name}"),
    ("GET", "/api/version"),
    ("HEAD", "/api/results/{key}"),
    ("PATCH", "/api/artifacts/{artifact_id}"),
    ("PATCH", "/api/v2/concurrency_limits/{id_or_name}"),
    ("PATCH", "/api/variables/name/{name}"),
    ("POST", "/api/artifacts/"),
    ("POST", "/api/artifacts/count"),
    ("POST", "/api/artifacts/filter"),
    ("POST", "/api/concurrency_limits/"),
    ("POST", "/api/concurrency_limits/filter"),
    ("POST", "/api/flow_runs/"),
    ("POST", "/api/flow_runs/count"),
    ("POST", "/api/flow_runs/filter"),
    ("POST", "/api/flow_runs/paginate"),
    ("POST", "/api/flow_runs/{flow_run_id}/set_state"),
    ("POST", "/api/flows/"),
    ("POST", "/api/flows/filter"),
    ("POST", "/api/logs/"),
    ("POST", "/api/logs/filter"),
    ("POST", "/api/logs/paginate"),
    ("POST", "/api/task_runs/"),
    ("POST", "/api/task_runs/batch"),
    ("POST", "/api/task_runs/count"),
    ("POST", "/api/task_runs/filter"),
    ("POST", "/api/task_runs/paginate"),
    ("POST", "/api/task_runs/{task_run_id}/set_state"),
    ("POST", "/api/v2/concurrency_limits/"),
    ("POST", "/api/v2/concurrency_limits/decrement"),
    ("POST", "/api/v2/concurrency_limits/filter"),
    ("POST", "/api/v2/concurrency_limits/increment"),
    ("POST", "/api/variables/"),
    ("POST", "/api/variables/count"),
    ("POST", "/api/variables/filter"),
    ("PUT", "/api/results/{key}"),
}


def test_exported_members():
    assert partita_workbench.server.__all__ == ["create_app", "run_server", "serve"]


def test_openapi_lists_every_route(sqlite_url):
    spec = create_app(sqlite_url).openapi()
    found = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    assert found == ROUTES


def test_every_route_has_a_description(sqlite_url):
    spec = create_app(sqlite_url).openapi()
    bare = [(m, p) for p, ops in spec["paths"].items() for m, op in ops.items() if not op.get("description")]
    assert bare == []


async def test_default_database_is_a_sqlite_file_in_partita_home(tmp_path, monkeypatch):
    monkeypatch.setenv("PARTITA_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("PARTITA_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        app = create_app()
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                assert (await client.post("/api/flows/", json={"name": "x"})).status_code == 201
    finally:
        get_settings.cache_clear()
    assert (tmp_path / "home" / "partita.db").exists()


async def test_the_app_can_be_started_twice(sqlite_url):
    app = create_app(sqlite_url)
    for _ in range(2):
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                assert (await client.get("/api/health")).json() is True
