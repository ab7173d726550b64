"""Fixtures for the backend tests: real databases and the app in-process.

* ``database_url`` — parametrized over a SQLite file under ``tmp_path`` and a
  PostgreSQL database (127.0.0.1:5432, user ``postgres``): the session's
  ``postgres_database`` (see ``tests/conftest.py``), its tables emptied
  before each test. When no
  PostgreSQL server answers, the PostgreSQL cases are skipped.
* ``client`` — an ``httpx.AsyncClient`` talking to ``create_app(database_url)``
  through ``httpx.ASGITransport``, inside the app's lifespan (as the SDK's
  embedded mode does).

Async tests run on asyncio through AnyIO's pytest plugin (``pytest.mark.anyio``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from support.postgres import empty_tables, pg_url

from partita_workbench.server import create_app


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def postgres_url(postgres_database: str) -> str:
    """The URL of the session's PostgreSQL database, its tables emptied."""
    url = pg_url(postgres_database)
    asyncio.run(empty_tables(url))
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A database URL for an empty database of each supported kind."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'partita.db'}"
        return
    yield request.getfixturevalue("postgres_url")


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'partita.db'}"


@pytest.fixture
async def client(database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(database_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://partita.test") as http:
            yield http


class Api:
    """Shortcuts for setting up objects through the API in tests."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def flow(self, name: str = "etl") -> dict:
        response = await self.client.post("/api/flows/", json={"name": name})
        assert response.status_code in (200, 201), response.text
        return response.json()

    async def flow_run(self, flow_id: str | None = None, **fields) -> dict:
        if flow_id is None:
            flow_id = (await self.flow())["id"]
        body = {"flow_id": flow_id, "name": fields.pop("name", "run"), **fields}
        response = await self.client.post("/api/flow_runs/", json=body)
        assert response.status_code == 201, response.text
        return response.json()

    async def set_state(self, kind: str, run_id: str, state: dict, force: bool = False) -> dict:
        response = await self.client.post(
            f"/api/{kind}/{run_id}/set_state", json={"state": state, "force": force}
        )
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def api(client: httpx.AsyncClient) -> Api:
    return Api(client)


def state(type_: str, name: str | None = None, **fields) -> dict:
    """A state body: ``state("RUNNING")``, ``state("SCHEDULED", "AwaitingRetry")``."""
    return {"type": type_, "name": name or type_.capitalize(), **fields}


@pytest.fixture(name="state")
def state_fixture():
    return state
