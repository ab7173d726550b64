"""The backend application: :func:`create_app`.

The app's lifespan opens the database engine, brings the schema to the
latest migration, and closes the engine on shutdown. It relies on nothing
specific to uvicorn, so the SDK can run it in-process (entering
``app.router.lifespan_context(app)`` itself and sending requests through
``httpx.ASGITransport``), and ``partita server start`` can serve it over HTTP
(:mod:`partita_workbench.server.serving`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from partita_workbench.server.api import api_router
from partita_workbench.server.database.engine import Database, create_engine, migrate
from partita_workbench.server.errors import install_exception_handlers


def _default_database_url() -> str:
    from partita.settings import get_settings

    return get_settings().resolved_database_url()


def create_app(database_url: str | None = None) -> FastAPI:
    """The Partita backend as a FastAPI app.

    Args:
        database_url: SQLAlchemy URL (``sqlite+aiosqlite:///...`` or
            ``postgresql+asyncpg://...``); default: the settings'
            ``resolved_database_url()`` (``PARTITA_DATABASE_URL``, else a
            SQLite file under ``PARTITA_HOME``).

    The :class:`~partita_workbench.server.database.engine.Database` is on
    ``app.state.database`` while the lifespan is entered.
    """
    url = database_url or _default_database_url()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(url)
        try:
            await migrate(engine)
            app.state.database = Database(engine)
            yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="Partita",
        summary="Records flow runs, task runs, states and logs of Partita pipelines.",
        version=_version(),
        lifespan=lifespan,
    )
    app.state.database_url = url
    app.include_router(api_router())
    install_exception_handlers(app)
    return app


def _version() -> str:
    from partita_workbench.server.api.admin import partita_version

    return partita_version()
