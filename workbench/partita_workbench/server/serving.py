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
    host: str | None = None,
    port: int | None = None,
    database_url: str | None = None,
    log_level: str = "info",
    workers: int = 1,
) -> None:
    """Serve the backend, blocking until Ctrl-C / SIGTERM (what ``partita server start`` calls).

    ``workers`` > 1 runs that many server processes on one socket (uvicorn's
    ``--workers``), each building the app from the settings; ``database_url``
    then reaches them as ``PARTITA_DATABASE_URL``. On PostgreSQL they share
    live events (:mod:`partita_workbench.server.events_relay`); on SQLite a
    watcher sees only what its own worker recorded.
    """
    if workers <= 1:
        uvicorn.Server(_config(host, port, database_url, log_level)).run()
        return
    import os

    from partita.settings import get_settings

    if database_url:
        os.environ["PARTITA_DATABASE_URL"] = database_url  # read by every worker's create_app()
    settings = get_settings()
    uvicorn.run(
        "partita_workbench.server.app:create_app",
        factory=True,
        host=host or settings.server_host,
        port=port if port is not None else settings.server_port,
        workers=workers,
        log_level=log_level,
        lifespan="on",
    )
