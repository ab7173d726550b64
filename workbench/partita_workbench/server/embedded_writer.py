"""The embedded backend's write-behind batches, stored by the caller's thread through ``sqlite3``.

In embedded mode the recorder's batches come from this very process: the
SDK's own, trusted rows. Sending them through the in-process ASGI app would
cost an HTTP request, a pydantic validation and several hand-offs between
the recorder thread, the app's event loop and the SQLite driver's thread,
each of which waits for the interpreter lock while the flow's thread runs
tasks. :class:`SQLiteBatchWriter` stores the batch in one transaction on its
own connection of the standard library's :mod:`sqlite3`, in the thread that
calls it, with the semantics of ``POST /api/task_runs/batch``: its rows are
built by the route's own :func:`~partita_workbench.server.operations.batch_rows.batch_rows`
(same columns, conflict rules and encodings of ids, times and JSON) and go
in through the route's statements.

Each table's rows go in as one statement (``INSERT ... VALUES (...), (...),
...``, the route's statement with its ``VALUES`` group repeated), inside
``BEGIN IMMEDIATE`` ... ``COMMIT``: SQLite stores them without the
interpreter lock while the flow's thread goes on running tasks. Every call
into SQLite releases that lock and must wait to get it back from the busy
flow thread (up to a thread-switch interval, 5 ms), so a batch makes four
calls, however many rows it has; ``executemany`` makes one per row.
(Measured here, per 1,000 tasks: about 45 ms of the recorder's CPU, against
80 ms when SQLite unpacked the rows from JSON and converted ids and times
itself.) Live-event subscribers of the app get the batch's states as from
the route.

Only a SQLite file is written this way; with any other database the
recorder sends its batches through the app as a remote client would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any

from partita.exceptions import BackendError
from sqlalchemy.dialects import sqlite

from partita_workbench.server.database.engine import sqlite_connection_setup
from partita_workbench.server.operations.batch_rows import (
    TASK_RUN_COLUMNS,
    TASK_RUN_STATE_COLUMNS,
    batch_rows,
    dangling_reference,
    state_append,
    task_run_upsert,
)
from partita_workbench.server.errors import InvalidRequest
from partita_workbench.server.operations.bulk import SQLITE, compiled_sql

@functools.cache
def _one_row_sql(table: str) -> tuple[str, str, int]:
    """The route's statement for ``table`` (``task_run`` or ``task_run_state``) as SQLite text.

    Returns ``(sql, values_group, width)``: the text, its one ``(?, ..., ?)``
    group of values and the number of columns.
    """
    if table == "task_run":
        stmt, columns = task_run_upsert("sqlite"), TASK_RUN_COLUMNS
    else:
        stmt, columns = state_append("sqlite"), TASK_RUN_STATE_COLUMNS
    sql = compiled_sql(stmt, columns, f"embedded:{table}", sqlite.dialect())
    group = "(" + ", ".join(["?"] * len(columns)) + ")"
    if sql.count(group) != 1:
        raise RuntimeError(f"unexpected statement for {table}: {sql}")
    return sql, group, len(columns)


def _insert(connection: sqlite3.Connection, table: str, rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (encoded, in column order): one statement, or more if they exceed SQLite's bound-values limit."""
    sql, group, width = _one_row_sql(table)
    step = max(1, connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // width)
    for start in range(0, len(rows), step):
        part = rows[start : start + step]
        connection.execute(sql.replace(group, ", ".join([group] * len(part))), [v for row in part for v in row])


class SQLiteBatchWriter:
    """Applies ``TaskRunBatch``-shaped dicts to the SQLite file ``path`` (thread-safe).

    Args:
        path: the database file, already migrated by the app.
        publish: called with each applied batch (a ``{"task_runs", "states"}``
            dict) to hand its states to live-event subscribers, or ``None``.
    """

    def __init__(self, path: Path, publish: Any = None) -> None:
        self.path = path
        self.publish = publish
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self.path, check_same_thread=False)
            sqlite_connection_setup(connection, None)
            self._connection = connection
        return self._connection

    def __call__(self, batch: dict[str, Any]) -> dict[str, int]:
        """Store ``batch`` (``task_runs`` and ``states`` arrays, as the SDK's recorder makes them) in one transaction.

        The last snapshot of a task run sent twice wins, a state sent twice
        is stored once, a run's current state is its last state in the batch
        (none: the stored one is kept), and runs first seen get ``created``
        times a microsecond apart in the order sent — as the route.

        Returns:
            ``{"task_runs": n, "states": m}``: the rows sent (as the route answers).

        Raises:
            partita.exceptions.ObjectNotFound: a task run names an unknown flow
                run, or a state an unknown task run (nothing is stored).
            partita.exceptions.BackendError: the database refused the batch.
        """
        task_runs, states = batch.get("task_runs") or [], batch.get("states") or []
        try:
            runs, state_rows = batch_rows(task_runs, states, dt.datetime.now(dt.timezone.utc), SQLITE)
        except InvalidRequest as exc:  # a value the route would refuse with 422
            raise _client_error(exc) from None
        with self._lock:
            connection = self._connect()
            connection.execute("BEGIN IMMEDIATE")
            try:
                _insert(connection, "task_run", runs)
                _insert(connection, "task_run_state", state_rows)
            except sqlite3.IntegrityError as exc:
                why = self._explain(connection, task_runs, states)
                connection.execute("ROLLBACK")
                raise _client_error(why or exc) from None
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
        if self.publish is not None:
            self.publish(batch)
        return {"task_runs": len({run[0] for run in task_runs}), "states": len({state[1] for state in states})}

    @staticmethod
    def _explain(connection: sqlite3.Connection, task_runs: Any, states: Any) -> Any:
        def known(table: str, ids: set[str]) -> set[str]:
            if not ids:
                return set()
            marks = ",".join("?" * len(ids))
            return {row[0] for row in connection.execute(f"SELECT id FROM {table} WHERE id IN ({marks})", list(ids))}

        flow_runs = {str(run[2]).replace("-", "").lower() for run in task_runs if run[2] is not None}
        task_run_ids = {str(state[0]).replace("-", "").lower() for state in states}
        why = dangling_reference(task_runs, states, known("flow_run", flow_runs), known("task_run", task_run_ids))
        if why is None:
            return None
        from partita_workbench.server.errors import ObjectNotFound

        kind, missing, hint = why
        return ObjectNotFound(kind, uuid.UUID(missing), hint)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


def _client_error(exc: BaseException) -> BackendError:
    """The SDK's error for what the route would have answered with an HTTP error."""
    from partita.client.orchestration import error_for_status

    status = getattr(exc, "status_code", 500)
    return error_for_status(status)(f"task-run batch -> {status}: {exc}")


def batch_writer_for(app: Any, loop: asyncio.AbstractEventLoop) -> SQLiteBatchWriter | None:
    """A writer for the app's database if it is a SQLite file, else ``None``.

    Call once the app's lifespan has started (the database is migrated);
    ``loop`` is the event loop the app runs on, where live events are handed
    to subscribers.
    """
    from partita_workbench.server.database.engine import sqlite_file

    path = sqlite_file(app.state.database_url)
    if path is None:
        return None
    events = app.state.events

    def publish(batch: dict[str, Any]) -> None:
        if events.wanted:
            from partita_workbench.server.api.task_runs import publish_batch

            loop.call_soon_threadsafe(publish_batch, events, batch.get("task_runs", ()), batch.get("states", ()))

    return SQLiteBatchWriter(path, publish=publish)
