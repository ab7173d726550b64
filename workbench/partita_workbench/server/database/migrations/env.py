"""Alembic environment of the backend database.

Normally run through :func:`partita_workbench.server.database.engine.migrate`,
which passes an open connection (inside a locked transaction) in
``config.attributes["connection"]``. Without one, the URL comes from the
config's ``sqlalchemy.url`` or from Partita's settings, and an async engine
is created here (``connection.run_sync``), so ``alembic`` commands also work
when pointed at this folder.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from partita_workbench.server.database.models import Base

target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_on_connection(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def run_with_new_engine(url: str) -> None:
    from partita_workbench.server.database.engine import create_engine

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_on_connection)
            await connection.commit()
    finally:
        await engine.dispose()


def _url() -> str:
    url = context.config.get_main_option("sqlalchemy.url")
    if url:
        return url
    from partita.settings import get_settings

    return get_settings().resolved_database_url()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    given = context.config.attributes.get("connection")
    if given is not None:
        run_on_connection(given)
    else:
        asyncio.run(run_with_new_engine(_url()))
