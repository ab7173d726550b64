"""Fixtures shared by every test: an isolated PARTITA_HOME with a real SQLite backend; a PostgreSQL database."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

collect_ignore = ["data"]  # inputs of the tests (notebooks among them), not tests


def _reset_partita() -> None:
    from partita.client import orchestration
    from partita.settings import get_settings

    orchestration.reset_shared_client()
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def session_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("partita-home")


@pytest.fixture(autouse=True)
def partita_home(session_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test runs against the embedded backend in one session-wide home.

    Tests that need an empty database use ``fresh_home`` instead.
    """
    monkeypatch.setenv("PARTITA_HOME", str(session_home))
    monkeypatch.delenv("PARTITA_API_URL", raising=False)
    monkeypatch.delenv("PARTITA_DATABASE_URL", raising=False)
    monkeypatch.delenv("PARTITA_RESULT_STORAGE", raising=False)
    _reset_partita()
    yield session_home
    _reset_partita()


@pytest.fixture
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A new, empty PARTITA_HOME for this test only."""
    home = tmp_path / "home"
    monkeypatch.setenv("PARTITA_HOME", str(home))
    _reset_partita()
    return home


@pytest.fixture
def client():
    """A blocking client on the current PARTITA_HOME's backend."""
    from partita.client.orchestration import shared_sync_client

    return shared_sync_client()


@pytest.fixture(scope="session")
def postgres_database():
    """Name of a PostgreSQL database made for this test session (dropped afterwards); skips without a server."""
    import asyncio

    from support.postgres import PG_HOST, PG_PORT, create_database, drop_database

    try:
        name = create_database()
    except (OSError, asyncio.TimeoutError) as exc:
        pytest.skip(f"no PostgreSQL server at {PG_HOST}:{PG_PORT} ({exc})")
    yield name
    drop_database(name)


@pytest.fixture(scope="module")
def uvicorn_servers(tmp_path_factory: pytest.TempPathFactory):
    """Real uvicorn servers for the module's tests, one per database kind, started on first use."""
    from support.backends import Servers

    servers = Servers(tmp_path_factory.mktemp("servers"))
    yield servers
    servers.stop_all()


@pytest.fixture(params=["embedded-sqlite", "embedded-postgresql", "http-sqlite", "http-postgresql"])
def any_backend(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The SDK pointed at each kind of backend (a fresh home; PostgreSQL: the session's database).

    Yields a :class:`support.backends.Backend` whose ``env`` is also set here.
    """
    from support.backends import Backend
    from support.postgres import pg_url

    mode, database = request.param.split("-")
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'server.db'}"
    if database == "postgresql":
        database_url = pg_url(request.getfixturevalue("postgres_database"))
    backend = Backend(mode, database, {"PARTITA_HOME": str(tmp_path / "home")})
    if mode == "http":
        server = request.getfixturevalue("uvicorn_servers").get(database_url, database)
        backend.env["PARTITA_API_URL"] = server.url
    elif database == "postgresql":
        backend.env["PARTITA_DATABASE_URL"] = database_url
    for name, value in backend.env.items():
        monkeypatch.setenv(name, value)
    _reset_partita()
    yield backend
    _reset_partita()
    if backend.mode == "embedded" and database == "postgresql":  # not left running after its database is dropped
        from partita.client.embedded import shutdown_embedded_backends

        shutdown_embedded_backends()


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
