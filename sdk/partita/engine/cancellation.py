"""Noticing that a flow run of this process was cancelled from outside.

``partita flow-run cancel ID`` (or any client proposing CANCELLED) moves a
RUNNING flow run to CANCELLING on the server; the process running it must
then stop it. One watcher thread per process asks the server, every
``PARTITA_CANCELLATION_POLL_INTERVAL`` seconds (default 1), for the states of
all flow runs running here, in one request (``POST /api/flow_runs/filter``,
runs in CANCELLING or CANCELLED); task runs cost nothing. For each one found
it calls :meth:`partita.engine.flow_engine.FlowRunEngine.cancel`, which stops
the run as an interrupt does (see :mod:`partita.engine.interrupts`) and ends
it CANCELLED. A flow run whose parent flow run is cancelled as well is left
to its parent, which cancels its subflow runs first.

The thread runs only while flow runs are watched, and the first poll comes
one interval after a flow run starts, so short runs never cause one.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from partita.engine.flow_engine import FlowRunEngine

_shared: "CancellationWatcher | None" = None
_shared_lock = threading.Lock()
STOPPING = ("CANCELLING", "CANCELLED")


class CancellationWatcher:
    """Polls the server for cancellations of the flow runs it watches.

    Args:
        client: a :class:`partita.client.SyncPartitaClient`.
        interval: seconds between polls.
    """

    def __init__(self, client: Any, interval: float = 1.0) -> None:
        self.client = client
        self.interval = interval
        self._engines: dict[str, "FlowRunEngine"] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def watch(self, engine: "FlowRunEngine") -> None:
        with self._lock:
            self._engines[engine.info.id] = engine
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="partita-cancellation", daemon=True)
                self._thread.start()

    def unwatch(self, engine: "FlowRunEngine") -> None:
        with self._lock:
            self._engines.pop(engine.info.id, None)

    def children(self, flow_run_id: str) -> list["FlowRunEngine"]:
        """The watched subflow runs whose parent flow run is ``flow_run_id``."""
        with self._lock:
            engines = list(self._engines.values())
        return [e for e in engines if e.parent_ctx is not None and e.parent_ctx.flow_run.id == flow_run_id]

    def _loop(self) -> None:
        stop = threading.Event()
        while True:
            stop.wait(self.interval)
            with self._lock:
                engines = {i: e for i, e in self._engines.items() if not e.finished()}
                self._engines = engines
                if not engines:
                    self._thread = None
                    return
            try:
                cancelled = self._cancelled_ids(list(engines))
            except Exception:  # the server may be restarting: ask again next time
                continue
            for run_id in cancelled:
                if not _ancestor_in(engines[run_id], cancelled, engines):
                    try:
                        engines[run_id].cancel("the flow run was cancelled")
                    except Exception as exc:  # keep watching the others; the run's own thread still ends it
                        logging.getLogger("partita").error("could not cancel flow run %s: %s", run_id, exc)

    def _cancelled_ids(self, ids: list[str]) -> set[str]:
        from partita.client.schemas import AnyFilter, FlowRunFilter, FlowRunFilterFields, StateFilter

        fields = FlowRunFilterFields(id=AnyFilter(any_=ids), state=StateFilter(type=AnyFilter(any_=list(STOPPING))))
        runs = self.client.read_flow_runs(FlowRunFilter(flow_runs=fields, limit=len(ids)))
        return {str(run.id) for run in runs}


def _ancestor_in(engine: "FlowRunEngine", ids: set[str], engines: dict[str, "FlowRunEngine"]) -> bool:
    """Whether a flow run above ``engine``'s (parent, grandparent...) is among ``ids``."""
    seen: set[str] = set()
    while engine.parent_ctx is not None:
        parent_id = engine.parent_ctx.flow_run.id
        if parent_id in ids:
            return True
        if parent_id in seen or parent_id not in engines:
            return False
        seen.add(parent_id)
        engine = engines[parent_id]
    return False


def get_watcher(client: Any) -> CancellationWatcher:
    """The process's watcher for ``client`` (created on first use, again when the client changes)."""
    global _shared
    if _shared is None or _shared.client is not client:
        with _shared_lock:
            if _shared is None or _shared.client is not client:
                from partita.settings import get_settings

                _shared = CancellationWatcher(client, get_settings().cancellation_poll_interval)
    return _shared
