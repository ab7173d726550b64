"""Every way the SDK and CLI reach a backend: embedded or over HTTP (real uvicorn), on SQLite or PostgreSQL.

:class:`Backend` is what a test gets from the ``any_backend`` fixture
(``tests/conftest.py``): ``env`` holds the ``PARTITA_*`` variables that point
a process at it (also set in the test's own environment).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from support.server import UvicornServer

KINDS = [("embedded", "sqlite"), ("embedded", "postgresql"), ("http", "sqlite"), ("http", "postgresql")]


@dataclass
class Backend:
    mode: str  # "embedded" or "http"
    database: str  # "sqlite" or "postgresql"
    env: dict[str, str] = field(default_factory=dict)


class Servers:
    """uvicorn servers started on first use, one per database kind, stopped by :meth:`stop_all`."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.servers: dict[str, UvicornServer] = {}

    def get(self, database_url: str, key: str) -> UvicornServer:
        server = self.servers.get(key)
        if server is None:
            home = self.home / key
            server = UvicornServer(database_url, env={"PARTITA_HOME": str(home)}).start()
            self.servers[key] = server
        return server

    def stop_all(self) -> None:
        for server in self.servers.values():
            server.stop()
        self.servers.clear()
