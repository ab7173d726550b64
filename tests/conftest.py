"""Fixtures shared by every test: an isolated PARTITA_HOME with a real SQLite backend."""

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


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")
