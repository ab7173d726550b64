"""The embedded backend's write-behind batches, stored by the caller's thread through ``sqlite3``.

In embedded mode the recorder's batches come from this very process: the
SDK's own, trusted rows. Sending them through the in-process ASGI app would
cost an HTTP request, a pydantic validation and several hand-offs between
the recorder thread, the app's event loop and the SQLite driver's thread,
each of which waits for the interpreter lock while the flow's thread runs
tasks. :class:`SQLiteBatchWriter` applies the same batch, built into the same
rows and statements as ``POST /api/task_runs/batch``
(:mod:`partita_workbench.server.operations.batch_rows`), in one transaction on
its own connection of the standard library's :mod:`sqlite3`, in the thread
that calls it; SQLite's own work then runs without the interpreter lock.
Live-event subscribers of the app get the batch's states as from the route.

Only a SQLite file is written this way; with any other database the
recorder sends its batches through the app as a remote client would.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any

from partita.exceptions import BackendError
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite

from partita_workbench.server.database.engine import sqlite_connection_setup
from partita_workbench.server.errors import ServerError
from partita_workbench.server.operations.batch_rows import (
    TASK_RUN_COLUMNS,
    TASK_RUN_STATE_COLUMNS,
    batch_rows,
    dangling_reference,
    state_append,
    task_run_upsert,
)
from partita_workbench.server.operations.bulk import SQLITE, compiled_sql

_DIALECT = SQLiteDialect_aiosqlite()  # what the app's engine compiles for, so the SQL is the route's


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
        self._upsert = compiled_sql(lambda: task_run_upsert("sqlite"), TASK_RUN_COLUMNS, "upsert task runs", _DIALECT)
        self._append = compiled_sql(lambda: state_append("sqlite"), TASK_RUN_STATE_COLUMNS, "append task run states", _DIALECT)

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None:
            connection = sqlite3.connect(self.path, check_same_thread=False)
            sqlite_connection_setup(connection, None)
            self._connection = connection
        return self._connection

    def __call__(self, batch: dict[str, Any]) -> dict[str, int]:
        """Store ``batch`` (``task_runs`` and ``states`` arrays) in one transaction.

        Returns:
            ``{"task_runs": n, "states": m}`` as the route answers.

        Raises:
            partita.exceptions.ObjectNotFound: a task run names an unknown flow
                run, or a state an unknown task run (nothing is stored).
            partita.exceptions.BackendError: the database refused the batch.
        """
        task_runs, states = batch.get("task_runs", ()), batch.get("states", ())
        try:
            run_rows, state_rows = batch_rows(task_runs, states, dt.datetime.now(dt.timezone.utc), SQLITE)
        except ServerError as exc:
            raise _client_error(exc) from None
        with self._lock:
            connection = self._connect()
            connection.execute("BEGIN IMMEDIATE")
            try:
                if run_rows:
                    connection.executemany(self._upsert, run_rows)
                if state_rows:
                    connection.executemany(self._append, state_rows)
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
        return {"task_runs": len(run_rows), "states": len(state_rows)}

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
    from sqlalchemy.engine import make_url

    url = make_url(app.state.database_url)
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    events = app.state.events

    def publish(batch: dict[str, Any]) -> None:
        if events.subscribers:
            from partita_workbench.server.api.task_runs import publish_batch

            loop.call_soon_threadsafe(publish_batch, events, batch.get("task_runs", ()), batch.get("states", ()))

    return SQLiteBatchWriter(Path(database).expanduser(), publish=publish)
