"""Engines, sessions and migrations of the backend database.

Two back ends are supported: SQLite (``sqlite+aiosqlite:///path``, the
embedded default) and PostgreSQL (``postgresql+asyncpg://...``).

On SQLite every connection is set to WAL journaling, ``synchronous=NORMAL``,
enforced foreign keys and a 30 s busy timeout. The driver's implicit
transaction handling is switched off and SQLAlchemy emits ``BEGIN`` itself:
sessions opened with :meth:`Database.write` start with ``BEGIN IMMEDIATE``, so
a read-then-write transaction holds the write lock from its first statement
and waits (up to the busy timeout) instead of failing when another process
writes at the same time. This is the recipe of SQLAlchemy's pysqlite/aiosqlite
"Serializable isolation / Savepoints / Transactional DDL" section.

Migrations are Alembic revisions shipped inside this package
(``migrations/``); :func:`migrate` runs them in one transaction under a lock
(``BEGIN IMMEDIATE`` on SQLite, an advisory lock on PostgreSQL), so several
processes may start on a fresh database at once. A database already at
:data:`HEAD_REVISION` is recognised with one query on ``alembic_version`` and
left alone without importing Alembic, which is what every start after the
first finds: it keeps ``partita run`` start-up short.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from typing import TYPE_CHECKING

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
HEAD_REVISION = "0002"
"""The newest revision in ``migrations/versions``: raise it with every new migration
(a test compares it with Alembic's own head)."""
SQLITE_BUSY_TIMEOUT = 30.0  # seconds
_BEGIN_OPTION = "partita_sqlite_begin"
_PG_MIGRATION_LOCK = 0x70617274  # any constant shared by every process: b"part"


class DatabaseConfigError(ValueError):
    """The database URL names a driver the backend does not support."""


def _check_url(url: str | URL) -> URL:
    try:
        parsed = make_url(url)
    except ValueError as exc:  # e.g. a port that is not a number (SQLAlchemy's ArgumentError is one too)
        raise DatabaseConfigError(
            f"not a database URL ({exc}); use 'sqlite+aiosqlite:///path/to/partita.db' or "
            "'postgresql+asyncpg://user@host:5432/db'"
        ) from None
    if parsed.drivername not in ("sqlite+aiosqlite", "postgresql+asyncpg"):
        raise DatabaseConfigError(
            f"unsupported database URL driver {parsed.drivername!r}: use "
            "'sqlite+aiosqlite:///path/to/partita.db' or 'postgresql+asyncpg://user@host/db'"
        )
    return parsed


def sqlite_file(url: str | URL) -> Path | None:
    """The file of a SQLite database URL; ``None`` for another database, ``:memory:`` or a ``file:`` URI.

    Raises:
        sqlalchemy.exc.ArgumentError, ValueError: ``url`` is not a URL.
    """
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


def sqlite_connection_setup(dbapi_connection: Any, _record: Any = None) -> None:
    """The settings of every connection to a SQLite database (the module docstring lists them)."""
    dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself (see _on_sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT * 1000)}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def _on_sqlite_begin(connection: Connection) -> None:
    mode = connection.get_execution_options().get(_BEGIN_OPTION, "DEFERRED")
    connection.exec_driver_sql(f"BEGIN {mode}")


def create_engine(url: str | URL, inline: bool = False, **kwargs: Any) -> AsyncEngine:
    """An async engine for ``url``, with the SQLite settings above when it is SQLite.

    The parent folder of a SQLite file is created if missing. ``inline``
    (SQLite files only) runs SQLite calls on the event loop's thread instead
    of aiosqlite's (:mod:`.inline_sqlite`; for the embedded backend).

    Raises:
        DatabaseConfigError: the URL is neither ``sqlite+aiosqlite`` nor
            ``postgresql+asyncpg``.
    """
    parsed = _check_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_async_engine(parsed, **kwargs)
    path = sqlite_file(parsed)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
    if inline and path is not None:
        from partita_workbench.server.database.inline_sqlite import async_creator

        kwargs.setdefault("async_creator", async_creator(str(path), SQLITE_BUSY_TIMEOUT))
    else:
        kwargs.setdefault("connect_args", {}).setdefault("timeout", SQLITE_BUSY_TIMEOUT)
    engine = create_async_engine(parsed, **kwargs)
    event.listen(engine.sync_engine, "connect", sqlite_connection_setup)
    event.listen(engine.sync_engine, "begin", _on_sqlite_begin)
    return engine


class Database:
    """An engine and its session factory: what the API routes work with.

    Use ``async with db.write() as session`` for work that changes data (one
    transaction, committed on exit, rolled back on error) and ``db.read()``
    for queries.
    """

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.dialect = engine.dialect.name
        self.sessions = async_sessionmaker(engine, expire_on_commit=False, autoflush=False)
        writer = (
            engine.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"}) if self.dialect == "sqlite" else engine
        )
        self._write_sessions = async_sessionmaker(writer, expire_on_commit=False, autoflush=False)

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        async with self._write_sessions() as session, session.begin():
            yield session

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self.sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()


# --------------------------------------------------------------------------- migrations


def alembic_config() -> Config:
    """An Alembic config for the migrations shipped in this package (no ``alembic.ini``)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _run_alembic(connection: Connection, action: str, revision: str) -> None:
    from alembic import command

    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    config = alembic_config()
    config.attributes["connection"] = connection
    if action == "upgrade":
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)


async def _alembic(engine: AsyncEngine, action: str, revision: str) -> None:
    async with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection = await connection.execution_options(**{_BEGIN_OPTION: "IMMEDIATE"})
        async with connection.begin():
            await connection.run_sync(_run_alembic, action, revision)


@contextlib.asynccontextmanager
async def _engine_for(url_or_engine: str | URL | AsyncEngine) -> AsyncIterator[AsyncEngine]:
    if isinstance(url_or_engine, AsyncEngine):
        yield url_or_engine
        return
    engine = create_engine(url_or_engine)
    try:
        yield engine
    finally:
        await engine.dispose()


def _stored_revisions(connection: Connection) -> set[str]:
    if not inspect(connection).has_table("alembic_version"):
        return set()
    return {row[0] for row in connection.execute(text("SELECT version_num FROM alembic_version"))}


async def current_revisions(url: str | URL | AsyncEngine) -> set[str]:
    """The revisions recorded in the database's ``alembic_version`` table (empty when there is none).

    One read, no lock and no Alembic import; a linear history holds one revision.
    """
    async with _engine_for(url) as engine, engine.connect() as connection:
        return await connection.run_sync(_stored_revisions)


async def migrate(url: str | URL | AsyncEngine, revision: str = "head") -> None:
    """Bring the database schema up to ``revision`` (``alembic upgrade``).

    Safe to call on every start and from several processes at once: the
    upgrade runs in one locked transaction and is a no-op at head. A database
    already at :data:`HEAD_REVISION` is left alone after one read of
    ``alembic_version`` (Alembic is not even imported); a fresh, older or
    unknown one goes through Alembic under the lock, exactly as before.

    Args:
        url: a database URL, or an engine made by :func:`create_engine`.
        revision: the Alembic revision to upgrade to.
    """
    async with _engine_for(url) as engine:
        if revision in ("head", HEAD_REVISION) and await current_revisions(engine) == {HEAD_REVISION}:
            return
        await _alembic(engine, "upgrade", revision)


async def downgrade(url: str | URL | AsyncEngine, revision: str = "base") -> None:
    """Take the schema down to ``revision``; ``"base"`` drops every table (data is lost)."""
    async with _engine_for(url) as engine:
        await _alembic(engine, "downgrade", revision)


async def reset(url: str | URL | AsyncEngine) -> None:
    """Drop everything and recreate the schema at head: an empty database."""
    async with _engine_for(url) as engine:
        await _alembic(engine, "downgrade", "base")
        await _alembic(engine, "upgrade", "head")
