"""The embedded backend's write-behind batches, stored by the caller's thread through ``sqlite3``.

In embedded mode the recorder's batches come from this very process: the
SDK's own, trusted rows. Sending them through the in-process ASGI app would
cost an HTTP request, a pydantic validation and several hand-offs between
the recorder thread, the app's event loop and the SQLite driver's thread,
each of which waits for the interpreter lock while the flow's thread runs
tasks. :class:`SQLiteBatchWriter` stores the batch in one transaction on its
own connection of the standard library's :mod:`sqlite3`, in the thread that
calls it, with the semantics of ``POST /api/task_runs/batch``
(:mod:`partita_workbench.server.operations.batch_rows`: the same columns,
conflict rules and encodings of ids, times and JSON).

The rows go to SQLite as one JSON document per table, taken apart by
SQLite's ``json_each`` inside a single ``INSERT ... SELECT``: SQLite then
does the whole batch in one call, without the interpreter lock, while the
flow's thread goes on running tasks (``executemany`` takes and releases the
lock once per row, and each time waits for the busy flow thread to let go
of it). Live-event subscribers of the app get the batch's states as from
the route.

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
from pydantic_core import to_json

from partita_workbench.server.database.engine import sqlite_connection_setup
from partita_workbench.server.operations.batch_rows import MUTABLE_COLUMNS, dangling_reference


def _uuid(value: str) -> str:
    """SQL: a UUID as SQLAlchemy's ``Uuid`` stores it on SQLite (32 lowercase hex digits)."""
    return f"replace(lower({value}), '-', '')"


def _time(value: str) -> str:
    """SQL: an ISO 8601 time (as pydantic-core writes a ``datetime``) as SQLAlchemy's SQLite DATETIME text.

    ``strftime`` turns any offset into UTC (no offset: UTC); the microseconds
    are kept (pydantic-core writes six digits, or none when there are none).
    """
    return f"strftime('%Y-%m-%d %H:%M:%S', {value}) || CASE WHEN substr({value}, 20, 1) = '.' THEN substr({value}, 20, 7) ELSE '.000000' END"


def _stamp(microseconds: str) -> str:
    """SQL: Unix microseconds as SQLAlchemy's SQLite DATETIME text."""
    return f"strftime('%Y-%m-%d %H:%M:%S', ({microseconds}) / 1000000, 'unixepoch') || printf('.%06d', ({microseconds}) % 1000000)"


def _fields(n: int) -> str:
    return ", ".join(f"json_extract(value, '$[{i}]') AS f{i}" for i in range(n))


# A run row is a TaskRunRow plus its last state in the batch: [..., state_type, state_name, state_id].
_UPSERT_RUNS = f"""
INSERT INTO task_run (id, name, flow_run_id, task_key, dynamic_key, cache_key, task_inputs, tags,
                      run_count, start_time, end_time, total_run_time, state_type, state_name, state_id,
                      created, updated)
SELECT {_uuid('f0')}, f1, {_uuid('f2')}, f3, f4, f5, coalesce(f6, '{{}}'), coalesce(f7, '[]'),
       f8, {_time('f9')}, {_time('f10')}, f11, f12, f13, {_uuid('f14')},
       {_stamp('?2 + key')}, {_stamp('?2 + key')}
FROM (SELECT key, {_fields(15)} FROM json_each(?1)) WHERE true
ON CONFLICT (id) DO UPDATE SET
  {', '.join(f'{c} = excluded.{c}' for c in MUTABLE_COLUMNS)},
  {', '.join(f'{c} = coalesce(excluded.{c}, task_run.{c})' for c in ('state_type', 'state_name', 'state_id'))}
"""

_APPEND_STATES = f"""
INSERT INTO task_run_state (task_run_id, id, type, name, timestamp, message, state_details, data)
SELECT {_uuid('f0')}, {_uuid('f1')}, f2, f3, {_time('f4')}, f5, coalesce(f6, '{{}}'), f7
FROM (SELECT {_fields(8)} FROM json_each(?1)) WHERE true
ON CONFLICT (id) DO NOTHING
"""


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
        last_state = {state[0]: state for state in states}
        runs = []
        for run in task_runs:
            state = last_state.get(run[0])
            runs.append([*run, state[2], state[3], state[1]] if state is not None else run)
        now = dt.datetime.now(dt.timezone.utc)
        created = (int(now.timestamp()) * 1_000_000) + now.microsecond
        with self._lock:
            connection = self._connect()
            connection.execute("BEGIN IMMEDIATE")
            try:
                if runs:
                    connection.execute(_UPSERT_RUNS, (to_json(runs).decode(), created))
                if states:
                    connection.execute(_APPEND_STATES, (to_json(states).decode(),))
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
    from sqlalchemy.engine import make_url

    url = make_url(app.state.database_url)
    database = url.database
    if url.get_backend_name() != "sqlite" or not database or database == ":memory:" or database.startswith("file:"):
        return None
    events = app.state.events

    def publish(batch: dict[str, Any]) -> None:
        if events.wanted:
            from partita_workbench.server.api.task_runs import publish_batch

            loop.call_soon_threadsafe(publish_batch, events, batch.get("task_runs", ()), batch.get("states", ()))

    return SQLiteBatchWriter(Path(database).expanduser(), publish=publish)
