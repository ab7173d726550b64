"""The app's public surface: exports, routes, default database."""

from __future__ import annotations

import httpx
import pytest
from partita.settings import get_settings

import partita_workbench.server
from partita_workbench.server import create_app

pytestmark = pytest.mark.anyio

ROUTES = {
    ("GET", "/api/health"),
    ("GET", "/api/version"),
    ("POST", "/api/flows/"),
    ("GET", "/api/flows/{flow_id}"),
    ("POST", "/api/flows/filter"),
    ("POST", "/api/flow_runs/"),
    ("GET", "/api/flow_runs/{flow_run_id}"),
    ("POST", "/api/flow_runs/filter"),
    ("POST", "/api/flow_runs/count"),
    ("POST", "/api/flow_runs/{flow_run_id}/set_state"),
    ("GET", "/api/flow_run_states/"),
    ("POST", "/api/task_runs/"),
    ("GET", "/api/task_runs/{task_run_id}"),
    ("POST", "/api/task_runs/filter"),
    ("POST", "/api/task_runs/count"),
    ("POST", "/api/task_runs/batch"),
    ("POST", "/api/task_runs/{task_run_id}/set_state"),
    ("GET", "/api/task_run_states/"),
    ("POST", "/api/logs/"),
    ("POST", "/api/logs/filter"),
}


def test_exported_members():
    assert partita_workbench.server.__all__ == ["create_app", "run_server", "serve"]


def test_openapi_lists_every_route(sqlite_url):
    spec = create_app(sqlite_url).openapi()
    found = {(method.upper(), path) for path, ops in spec["paths"].items() for method in ops}
    assert found == ROUTES


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
