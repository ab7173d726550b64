"""The backend application: :func:`create_app`.

The app's lifespan opens the database engine, brings the schema to the
latest migration, starts the live-events relay between server processes (on
PostgreSQL, :mod:`partita_workbench.server.events_relay`) and the late-run
marker, and closes everything on shutdown. It relies on nothing specific to uvicorn, so the SDK can run it
in-process (entering ``app.router.lifespan_context(app)`` itself and sending
requests through ``httpx.ASGITransport``), and ``partita server start`` can
serve it over HTTP (:mod:`partita_workbench.server.serving`).

Requests pass, outermost first: CORS (when origins are allowed), the body
size limit, the API key check (when a key or auth string is set), then the
routes (:mod:`partita_workbench.server.security`).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from partita_workbench.server.api import API_PREFIX, api_router
from partita_workbench.server.database.engine import Database, create_engine, migrate
from partita_workbench.server.errors import install_exception_handlers
from partita_workbench.server.events import EventBroker
from partita_workbench.server.events_relay import postgres_event_relay
from partita_workbench.server.security import AuthMiddleware, BodySizeLimitMiddleware
from partita_workbench.server.services.late_runs import late_run_marker
from partita_workbench.server.settings import ServerSettings
from partita_workbench.server.storage import ResultStore


def _default_database_url() -> str:
    from partita.settings import get_settings

    return get_settings().resolved_database_url()


def create_app(
    database_url: str | None = None, settings: ServerSettings | None = None, embedded: bool = False
) -> FastAPI:
    """The Partita backend as a FastAPI app.

    Args:
        database_url: SQLAlchemy URL (``sqlite+aiosqlite:///...`` or
            ``postgresql+asyncpg://...``); default: the settings'
            ``resolved_database_url()`` (``PARTITA_DATABASE_URL``, else a
            SQLite file under ``PARTITA_HOME``).
        settings: server settings; default: read from ``PARTITA_SERVER_*``
            (:mod:`partita_workbench.server.settings`).
        embedded: the app serves only the process it runs in (the SDK's
            embedded backend): a SQLite file is then used without aiosqlite's
            thread (:mod:`partita_workbench.server.database.inline_sqlite`).

    The :class:`~partita_workbench.server.database.engine.Database` is on
    ``app.state.database`` while the lifespan is entered.
    """
    url = database_url or _default_database_url()
    settings = settings or ServerSettings()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(url, inline=embedded)
        try:
            await migrate(engine)
            app.state.database = database = Database(engine)
            async with contextlib.AsyncExitStack() as services:
                if database.dialect == "postgresql" and settings.events_relay:
                    await services.enter_async_context(postgres_event_relay(url, app.state.events))
                await services.enter_async_context(
                    late_run_marker(database, settings.late_runs_interval, settings.late_runs_after, app.state.events)
                )
                yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title="Partita",
        summary="Records flow runs, task runs, states, logs, artifacts and results of Partita pipelines.",
        version=_version(),
        lifespan=lifespan,
    )
    app.state.database_url = url
    app.state.settings = settings
    app.state.events = EventBroker()
    app.state.store = ResultStore(settings.resolved_storage())
    app.include_router(api_router(), prefix=API_PREFIX)
    install_exception_handlers(app)
    if settings.api_key or settings.api_auth_string:
        app.add_middleware(AuthMiddleware, api_key=settings.api_key, auth_string=settings.api_auth_string)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes)
    if settings.cors_allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allowed_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            allow_credentials=True,
        )
    return app


def _version() -> str:
    from partita_workbench.server.api.admin import partita_version

    return partita_version()
