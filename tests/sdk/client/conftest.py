"""Client tests run twice: against the embedded backend and against a real uvicorn server.

The server (SQLite file, 127.0.0.1, free port) is started once per module;
``backend`` points ``PARTITA_API_URL`` at it for the ``http`` case.
"""

from __future__ import annotations

import pytest
from support.server import UvicornServer


@pytest.fixture(scope="module")
def http_server(tmp_path_factory: pytest.TempPathFactory):
    home = tmp_path_factory.mktemp("server-home")
    server = UvicornServer(f"sqlite+aiosqlite:///{home / 'partita.db'}", env={"PARTITA_HOME": str(home)})
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["embedded", "http"])
def backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """``"embedded"`` or ``"http"``; in the latter case PARTITA_API_URL names the module's server."""
    from partita.client import orchestration
    from partita.settings import get_settings

    if request.param == "http":
        server = request.getfixturevalue("http_server")
        monkeypatch.setenv("PARTITA_API_URL", server.url)
    orchestration.reset_shared_client()
    get_settings.cache_clear()
    yield request.param
    orchestration.reset_shared_client()
    get_settings.cache_clear()
