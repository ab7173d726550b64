"""Serving the backend over HTTP with uvicorn (``partita server start``)."""

from __future__ import annotations

import uvicorn

from partita_workbench.server.app import create_app


def _config(host: str | None, port: int | None, database_url: str | None, log_level: str) -> uvicorn.Config:
    from partita.settings import get_settings

    settings = get_settings()
    return uvicorn.Config(
        create_app(database_url),
        host=host or settings.server_host,
        port=port if port is not None else settings.server_port,
        log_level=log_level,
        lifespan="on",
    )


async def serve(
    host: str | None = None, port: int | None = None, database_url: str | None = None, log_level: str = "info"
) -> None:
    """Serve the backend on ``host:port`` until cancelled or signalled (in a running event loop).

    ``host`` and ``port`` default to the settings (``PARTITA_SERVER_HOST``,
    ``PARTITA_SERVER_PORT``: 127.0.0.1:4200).
    """
    await uvicorn.Server(_config(host, port, database_url, log_level)).serve()


def run_server(
    host: str | None = None, port: int | None = None, database_url: str | None = None, log_level: str = "info"
) -> None:
    """Serve the backend, blocking until Ctrl-C / SIGTERM (what ``partita server start`` calls)."""
    uvicorn.Server(_config(host, port, database_url, log_level)).run()
