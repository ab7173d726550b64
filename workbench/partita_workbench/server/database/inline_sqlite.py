"""An aiosqlite-shaped connection that runs SQLite calls inline, on the event loop's own thread.

aiosqlite runs every call on a thread of its own and hands the result back
to the event loop: a few hand-offs per statement, each a thread wake-up
(measured here: ~0.9 ms per statement through SQLAlchemy's adapter, against
~0.05 ms for the call itself). The embedded backend serves only its own
process, whose callers wait for each answer anyway, so it uses this
connection instead: the same ``sqlite3`` calls, made directly. SQLAlchemy's
``sqlite+aiosqlite`` dialect drives it unchanged (through
``create_async_engine(..., async_creator=...)``); it implements the parts of
aiosqlite's ``Connection`` and ``Cursor`` that the dialect uses.

A server (``partita server start``) keeps aiosqlite: there a slow query
must not stop the event loop from serving other clients.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from typing import Any


class _InlineQueue:
    """Stands in for aiosqlite's request queue: runs ``(future, function)`` at once."""

    @staticmethod
    def put_nowait(item: tuple[Any, Callable[[], Any]]) -> None:
        future, function = item
        try:
            future.set_result(function())
        except BaseException as exc:  # handed to the awaiting caller, as aiosqlite does
            future.set_exception(exc)


class Cursor:
    """aiosqlite's ``Cursor`` API over a ``sqlite3.Cursor``, without a thread."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> "Cursor":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self._cursor.close()

    def __await__(self) -> Any:
        async def itself() -> "Cursor":
            return self

        return itself().__await__()

    async def execute(self, sql: str, parameters: Iterable[Any] = ()) -> "Cursor":
        self._cursor.execute(sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> "Cursor":
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value


class Connection:
    """aiosqlite's ``Connection`` API over a ``sqlite3.Connection``, without a thread.

    ``_conn``, ``_connection`` and ``_tx`` are the attributes SQLAlchemy's
    aiosqlite adapter reaches into (to set ``isolation_level`` and to tell an
    open connection from a closed one).
    """

    def __init__(self, connection: sqlite3.Connection) -> None:
        self._conn: sqlite3.Connection | None = connection
        self._tx = _InlineQueue()

    @property
    def _connection(self) -> sqlite3.Connection | None:
        return self._conn

    def _open(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError("no active connection")
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._open().isolation_level

    @property
    def in_transaction(self) -> bool:
        return self._open().in_transaction

    def cursor(self) -> Cursor:
        return Cursor(self._open().cursor())

    async def execute(self, sql: str, parameters: Iterable[Any] = ()) -> Cursor:
        return Cursor(self._open().execute(sql, parameters))

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Cursor:
        return Cursor(self._open().executemany(sql, parameters))

    async def commit(self) -> None:
        self._open().commit()

    async def rollback(self) -> None:
        self._open().rollback()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._open().create_function(*args, **kwargs)

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def stop(self) -> None:
        """Close at once (SQLAlchemy's forced ``terminate``)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def async_creator(path: str, timeout: float) -> Callable[[], Any]:
    """An ``async_creator`` for ``create_async_engine``: opens ``path`` with ``sqlite3``.

    The connection may be used from any thread (the engine's event loop may
    not be the thread that made it); SQLAlchemy's pool gives it to one
    caller at a time.
    """

    async def connect() -> Connection:
        return Connection(sqlite3.connect(path, timeout=timeout, check_same_thread=False))

    return connect
