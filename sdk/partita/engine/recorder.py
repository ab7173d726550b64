"""Write-behind recording of task runs, task-run states and logs.

The engine never waits for the backend on a task's hot path: it appends to the
:class:`Recorder`'s buffers, and a background thread sends them as batches
(``POST /api/task_runs/batch`` and ``POST /api/logs/``) every
``PARTITA_RECORDER_INTERVAL`` seconds (default 0.1) or as soon as
``PARTITA_RECORDER_BATCH`` records (default 500) are waiting.

:meth:`Recorder.flush` blocks until everything enqueued before the call is in
the database; the flow engine calls it before a flow run reports its final
state, and :func:`flush_all` runs at interpreter exit. A batch that fails to
send is kept and retried, never dropped. Killing the process (SIGKILL) can
lose at most what was enqueued since the last send: one interval or one batch.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import weakref
from typing import Any

from partita.context import TaskRunRecord
from partita.states import State

_recorders: "weakref.WeakSet[Recorder]" = weakref.WeakSet()
_shared: "Recorder | None" = None
_shared_lock = threading.Lock()


class Recorder:
    """Buffers task-run snapshots, states and logs and sends them in batches.

    Args:
        client: a :class:`partita.client.SyncPartitaClient`.
        interval: seconds between sends.
        batch_size: number of waiting records that triggers an early send.
    """

    def __init__(self, client: Any, interval: float = 0.1, batch_size: int = 500) -> None:
        self.client = client
        self.interval = interval
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._done = threading.Condition(self._lock)
        self._dirty: dict[Any, TaskRunRecord] = {}
        self._states: list[dict[str, Any]] = []
        self._logs: list[dict[str, Any]] = []
        self._enqueued = 0  # sequence number of the last record enqueued
        self._sent = 0  # sequence number up to which everything is stored
        self._failures = 0
        self._closed = False
        self._flush_asked = False
        self._thread = threading.Thread(target=self._loop, name="partita-recorder", daemon=True)
        self._thread.start()
        _recorders.add(self)

    # -- enqueue (hot path) -----------------------------------------------------------
    def set_task_run_state(self, record: TaskRunRecord, state: State) -> None:
        """Make ``state`` the current state of ``record`` and queue both for sending."""
        doc = state.to_json()
        doc["task_run_id"] = str(record.id)
        with self._lock:
            record.state = state
            self._dirty[record.id] = record
            self._states.append(doc)
            self._enqueued += 1
            if len(self._states) >= self.batch_size:
                self._wake.notify()

    def touch(self, record: TaskRunRecord) -> None:
        """Queue a snapshot of ``record`` (after changing fields other than its state)."""
        with self._lock:
            self._dirty[record.id] = record
            self._enqueued += 1

    def add_log(self, doc: dict[str, Any]) -> None:
        with self._lock:
            self._logs.append(doc)
            self._enqueued += 1
            if len(self._logs) >= self.batch_size:
                self._wake.notify()

    # -- flushing ------------------------------------------------------------------------
    def flush(self, timeout: float | None = 60.0) -> bool:
        """Block until everything enqueued so far is stored; ``False`` on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            target = self._enqueued
            if self._sent >= target:
                return True
            self._flush_asked = True
            self._wake.notify()
            while self._sent < target:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                if not self._thread.is_alive():
                    break
                self._done.wait(remaining if remaining is not None else 1.0)
        if self._sent < target:  # the thread is gone (interpreter exit): send inline
            self._send_pending()
        return self._sent >= target

    def _take(self) -> tuple[int, dict[Any, TaskRunRecord], list[dict[str, Any]], list[dict[str, Any]]]:
        seq = self._enqueued
        records, states, logs = self._dirty, self._states, self._logs
        self._dirty, self._states, self._logs = {}, [], []
        return seq, records, states, logs

    def _send_pending(self) -> None:
        with self._lock:
            seq, records, states, logs = self._take()
        self._send(records, states, logs)
        with self._lock:
            self._sent = max(self._sent, seq)
            self._done.notify_all()

    def _send(self, records: dict[Any, TaskRunRecord], states: list[dict[str, Any]], logs: list[dict[str, Any]]) -> None:
        if records or states:
            runs = [r.to_json() for r in records.values()]
            self.client.write_task_run_batch({"task_runs": runs, "states": states})
        if logs:
            self.client.write_logs(logs)

    def _loop(self) -> None:
        while True:
            with self._lock:
                urgent = self._closed or self._flush_asked or len(self._states) + len(self._logs) >= self.batch_size
                if not urgent:
                    self._wake.wait(self.interval)
                if self._closed and self._enqueued == self._sent:
                    return
                self._flush_asked = False
                seq, records, states, logs = self._take()
            if not (records or states or logs):
                with self._lock:
                    self._sent = max(self._sent, seq)
                    self._done.notify_all()
                continue
            try:
                self._send(records, states, logs)
            except Exception as exc:  # keep the records and retry after a pause
                self._failures += 1
                with self._lock:
                    for record_id, record in records.items():
                        self._dirty.setdefault(record_id, record)
                    self._states[:0] = states
                    self._logs[:0] = logs
                if self._failures in (1, 10) or self._failures % 100 == 0:
                    print(f"partita: could not record runs yet ({exc}); retrying", file=sys.stderr)
                time.sleep(min(5.0, 0.2 * self._failures))
                continue
            self._failures = 0
            with self._lock:
                self._sent = max(self._sent, seq)
                self._done.notify_all()

    def close(self) -> None:
        self.flush()
        with self._lock:
            self._closed = True
            self._wake.notify()


def get_recorder(client: Any) -> Recorder:
    """The process-wide recorder for the shared client (started on first use)."""
    global _shared
    if _shared is None or _shared.client is not client:
        with _shared_lock:
            if _shared is None or _shared.client is not client:
                from partita.settings import get_settings

                settings = get_settings()
                _shared = Recorder(client, settings.recorder_interval, settings.recorder_batch)
    return _shared


def flush_all(timeout: float = 60.0) -> None:
    """Flush every live recorder (called at interpreter exit)."""
    for recorder in list(_recorders):
        try:
            recorder.flush(timeout)
        except Exception as exc:  # at exit there is nobody left to raise to
            logging.getLogger("partita").error("could not record every run before exit: %s", exc)
