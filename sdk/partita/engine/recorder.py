"""Write-behind recording of task runs, task-run states and logs.

The engine never waits for the backend on a task's hot path: it appends
``(record, state)`` pairs and log records to a deque (an atomic operation, no
lock), and a background thread turns them into batches of at most
``PARTITA_RECORDER_BATCH`` records (default 500)
(``POST /api/task_runs/batch`` and ``POST /api/logs/``), every
``PARTITA_RECORDER_INTERVAL`` seconds (default 0.1) or as soon as a batch is
waiting. When the engine produces faster than the backend stores, the engine
waits once a second batch is queued behind the one being sent (back
pressure), so the backlog never exceeds two batches.

:meth:`Recorder.flush` blocks until everything enqueued before the call is in
the database: it enqueues a marker and waits until the thread has sent all
that came before it. The flow engine flushes before a flow run reports its
final state, and :func:`flush_all` runs at interpreter exit. A batch that
fails to send is kept and retried, never dropped (new records then wait in
the queue, which stays bounded by the back pressure). Killing the process
(SIGKILL) loses at most the batch being sent and the one queued behind it:
what was enqueued in the last interval, and never more than two batches.
"""

from __future__ import annotations

import collections
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


class _Marker:
    """A flush request travelling through the queue."""

    __slots__ = ("done",)

    def __init__(self) -> None:
        self.done = threading.Event()


class Recorder:
    """Buffers task-run snapshots, states and logs and sends them in batches.

    Args:
        client: a :class:`partita.client.SyncPartitaClient`.
        interval: seconds between sends.
        batch_size: number of waiting records that triggers an early send.
    """

    def __init__(self, client: Any, interval: float = 0.1, batch_size: int = 500) -> None:
        self.client = client
        writer = getattr(client, "task_run_batch_writer", None)
        self._write_batch = writer() if writer is not None else client.write_task_run_batch
        self.interval = interval
        self.batch_size = batch_size
        self._queue: collections.deque[Any] = collections.deque()
        self._wake = threading.Event()
        self._room = threading.Event()  # set by the thread whenever it takes items off the queue
        self._high_water = 2 * max(1, batch_size)
        self._failures = 0
        self._closed = False
        self._flushing = False  # a flush waits: send everything now, don't wait for the interval
        # what the thread has taken off the queue but not yet stored
        self._records: dict[Any, TaskRunRecord] = {}
        self._states: list[dict[str, Any]] = []
        self._logs: list[dict[str, Any]] = []
        self._thread = threading.Thread(target=self._loop, name="partita-recorder", daemon=True)
        self._thread.start()
        _recorders.add(self)

    # -- enqueue (hot path: no lock, no serialization) ------------------------------
    def set_task_run_state(self, record: TaskRunRecord, state: State) -> None:
        """Make ``state`` the current state of ``record`` and queue both for sending."""
        record.state = state
        queue = self._queue
        queue.append((record, state))
        if len(queue) >= self.batch_size:
            if not self._wake.is_set():
                self._wake.set()
            if len(queue) >= self._high_water:
                self._wait_for_room()

    def _wait_for_room(self) -> None:
        """Back pressure: wait until the thread has taken the queue below two batches."""
        while len(self._queue) >= self._high_water and self._thread.is_alive():
            self._room.clear()
            self._wake.set()
            self._room.wait(0.5)

    def touch(self, record: TaskRunRecord) -> None:
        """Queue a snapshot of ``record`` (after changing fields other than its state)."""
        self._queue.append((record, None))

    def add_log(self, doc: dict[str, Any]) -> None:
        queue = self._queue
        queue.append(doc)
        if len(queue) >= self.batch_size:
            if not self._wake.is_set():
                self._wake.set()
            if len(queue) >= self._high_water and not threading.current_thread().name.startswith("partita-"):
                self._wait_for_room()  # never in the recorder's or the backend's own threads

    # -- flushing ------------------------------------------------------------------------
    def flush(self, timeout: float | None = 60.0) -> bool:
        """Block until everything enqueued so far is stored; ``False`` on timeout."""
        marker = _Marker()
        self._queue.append(marker)
        self._flushing = True
        self._wake.set()
        if self._thread.is_alive():
            deadline = None if timeout is None else time.monotonic() + timeout
            while not marker.done.wait(0.5):
                if not self._thread.is_alive() or (deadline is not None and time.monotonic() > deadline):
                    break
        if not marker.done.is_set() and not self._thread.is_alive():
            self._drain_and_send()  # the thread is gone (interpreter exit): send here
        return marker.done.is_set()

    def _drain(self, limit: float = float("inf")) -> list[_Marker]:
        """Move up to ``limit`` queued items into the pending buffers; return flush markers met."""
        markers: list[_Marker] = []
        queue, records, states, logs = self._queue, self._records, self._states, self._logs
        taken = 0
        while taken < limit:
            try:
                item = queue.popleft()
            except IndexError:
                break
            taken += 1
            if type(item) is tuple:
                record, state = item
                records[record.id] = record
                if state is not None:
                    states.append(state.to_wire(record.id))
            elif type(item) is _Marker:
                markers.append(item)
            else:
                logs.append(item)
        self._room.set()
        return markers

    def _send_pending(self) -> None:
        """Send the pending buffers; on success clear them (raises on failure)."""
        if self._records or self._states:
            runs = [r.to_row() for r in self._records.values()]
            self._write_batch({"task_runs": runs, "states": self._states})
            self._records, self._states = {}, []
        if self._logs:
            self.client.write_logs(self._logs)
            self._logs = []

    def _drain_and_send(self) -> None:
        markers = self._drain()
        self._send_pending()
        for marker in markers:
            marker.done.set()

    def _loop(self) -> None:
        while True:
            if len(self._queue) < self.batch_size and not self._flushing:
                self._wake.wait(self.interval)
            self._wake.clear()
            if not self._queue:
                self._flushing = False  # what a flush waited for was taken (set again by the next flush)
            # after a failed send only the kept batch is retried; the queue waits (bounded)
            pending = self._records or self._states or self._logs
            markers = [] if pending else self._drain(self.batch_size)
            try:
                self._send_pending()
            except Exception as exc:  # keep everything and retry after a pause
                self._failures += 1
                if self._failures in (1, 10) or self._failures % 100 == 0:
                    print(f"partita: could not record runs yet ({exc}); retrying", file=sys.stderr)
                self._queue.extendleft(reversed(markers))
                time.sleep(min(5.0, 0.2 * self._failures))
                continue
            self._failures = 0
            for marker in markers:
                marker.done.set()
            if self._closed and not self._queue:
                return

    def close(self) -> None:
        self.flush()
        self._closed = True
        self._wake.set()


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
