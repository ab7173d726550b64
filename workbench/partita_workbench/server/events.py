"""Live events: an in-process broker of state changes and new log lines, streamed as SSE.

Routes publish after their transaction has committed; every subscriber gets
its own bounded queue (a subscriber too slow to keep up loses the oldest
events, never blocks a writer).

Events reach the subscribers of this server process, and, when a relay is
attached (:mod:`partita_workbench.server.events_relay`: PostgreSQL's
LISTEN/NOTIFY), the other server processes on the same database, which
deliver them to theirs. On SQLite there is no relay: each server process
streams what was recorded through it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterable

from partita.client.resource_schemas import EventKind, RunEvent
from partita.client.schemas import LogCreate, StateModel

from partita_workbench.server.database.types import utcnow

QUEUE_SIZE = 10_000


class Subscription:
    """Events for one flow run (``flow_run_id``) or for all runs (None)."""

    def __init__(self, broker: "EventBroker", flow_run_id: uuid.UUID | None) -> None:
        self.broker = broker
        self.flow_run_id = flow_run_id
        self.queue: asyncio.Queue[RunEvent] = asyncio.Queue(QUEUE_SIZE)

    def wants(self, event: RunEvent) -> bool:
        return self.flow_run_id is None or event.flow_run_id == self.flow_run_id

    def put(self, event: RunEvent) -> None:
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(event)

    def close(self) -> None:
        self.broker.subscribers.discard(self)


class EventBroker:
    """Fan-out of :class:`RunEvent` to the open subscriptions (all on the server's event loop)."""

    def __init__(self) -> None:
        self.subscribers: set[Subscription] = set()
        self.relay: Callable[[list[RunEvent]], None] | None = None
        """Sends published events to the other server processes (set by the relay while it runs)."""

    @property
    def wanted(self) -> bool:
        """Whether a published event goes anywhere: a subscriber here, or a relay to other processes."""
        return bool(self.subscribers) or self.relay is not None

    def subscribe(self, flow_run_id: uuid.UUID | None = None) -> Subscription:
        subscription = Subscription(self, flow_run_id)
        self.subscribers.add(subscription)
        return subscription

    def publish(self, events: Iterable[RunEvent]) -> None:
        """Deliver ``events`` to this process's subscribers and hand them to the relay."""
        if not self.wanted:
            return
        events = list(events)
        self.deliver(events)
        if self.relay is not None:
            self.relay(events)

    def deliver(self, events: Iterable[RunEvent]) -> None:
        """Deliver ``events`` to this process's subscribers only (what the relay calls with others' events)."""
        if not self.subscribers:
            return
        for event in events:
            for subscription in list(self.subscribers):
                if subscription.wants(event):
                    subscription.put(event)

    def state_changed(
        self, run_kind: str, run_id: uuid.UUID, flow_run_id: uuid.UUID | None, name: str | None, state: StateModel
    ) -> None:
        if not self.wanted:
            return
        is_task = run_kind == "task run"
        self.publish(
            [
                RunEvent(
                    kind=EventKind.STATE,
                    run_kind=run_kind,
                    flow_run_id=flow_run_id,
                    task_run_id=run_id if is_task else None,
                    name=name,
                    state=state,
                    occurred=utcnow(),
                )
            ]
        )

    def logs_written(self, logs: list[LogCreate]) -> None:
        if not self.wanted:
            return
        now = utcnow()
        self.publish(
            RunEvent(
                kind=EventKind.LOG,
                flow_run_id=log.flow_run_id,
                task_run_id=log.task_run_id,
                log=log.model_dump(mode="json"),
                occurred=now,
            )
            for log in logs
        )
