"""Live events across server processes on one PostgreSQL database: LISTEN/NOTIFY.

Several server processes may share a database (uvicorn ``--workers``, or
servers on several machines behind one URL). Each process's
:class:`~partita_workbench.server.events.EventBroker` delivers what was
recorded through it; the relay makes a watcher connected to any process see
what every process recorded:

* events published in this process are sent, JSON-encoded and packed into
  payloads under PostgreSQL's 8,000-byte limit, with ``pg_notify`` on the
  channel ``partita_events``;
* notifications on that channel from *other* processes (another backend
  pid) are decoded and delivered to this process's subscribers.

The relay holds one dedicated asyncpg connection (not one of the engine's
pool; ``application_name`` ``partita-events-relay``), used both to listen and to notify, so its own notifications are
recognised by their pid and not delivered twice. Sending happens in a
background task, off the request path; a published event waits in a bounded
outbox (the oldest dropped beyond ``OUTBOX_SIZE``). When the connection is
lost the relay reconnects every ``RECONNECT_SECONDS``; events published
meanwhile are sent after reconnecting, notifications sent by others
meanwhile are missed (watchers read the run for its current state).

An event too large for one notification travels with its long fields cut
(state message and details, log message) and ``truncated=True``.
PostgreSQL delivers notifications of one session in the order sent and of
committed transactions in commit order, so each watcher sees the events of
one writer process in order.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from partita.client.resource_schemas import RunEvent
from pydantic import TypeAdapter
from sqlalchemy.engine import make_url

from partita_workbench.server.events import EventBroker

CHANNEL = "partita_events"
APPLICATION_NAME = "partita-events-relay"  # how the relay's connection shows in pg_stat_activity
MAX_PAYLOAD = 7_900  # bytes; PostgreSQL refuses NOTIFY payloads of 8,000 bytes or more
OUTBOX_SIZE = 100_000  # events
RECONNECT_SECONDS = 1.0
CONNECT_WAIT_SECONDS = 10.0  # how long start-up waits for the first LISTEN

logger = logging.getLogger("partita.server.events")
_EVENTS = TypeAdapter(list[RunEvent])


def _cut(text: str | None, limit: int) -> str | None:
    if text is None or len(text.encode()) <= limit:
        return text
    return text.encode()[:limit].decode(errors="ignore") + "…"


def encode_event(event: RunEvent, limit: int = MAX_PAYLOAD - 2) -> str:
    """``event`` as JSON of at most ``limit`` bytes (UTF-8), long fields cut when needed."""
    encoded = event.model_dump_json()
    text_limit = limit // 2
    while len(encoded.encode()) > limit:
        update: dict[str, Any] = {"truncated": True}
        if event.log is not None:
            update["log"] = {**event.log, "message": _cut(str(event.log.get("message", "")), text_limit)}
        if event.state is not None:
            update["state"] = event.state.model_copy(
                update={"message": _cut(event.state.message, text_limit), "state_details": {}, "data": None}
            )
        encoded = event.model_copy(update=update).model_dump_json()
        text_limit //= 2
    return encoded


def pack(events: list[RunEvent], limit: int = MAX_PAYLOAD) -> list[str]:
    """``events`` as JSON arrays of at most ``limit`` bytes each, in order."""
    payloads: list[str] = []
    current: list[str] = []
    size = 2
    for event in events:
        encoded = encode_event(event, limit - 2)
        length = len(encoded.encode()) + 1
        if current and size + length > limit:
            payloads.append("[" + ",".join(current) + "]")
            current, size = [], 2
        current.append(encoded)
        size += length
    if current:
        payloads.append("[" + ",".join(current) + "]")
    return payloads


def _dsn(database_url: str) -> str:
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresEventRelay:
    """See the module docstring. Use :func:`postgres_event_relay` to run one."""

    def __init__(self, database_url: str, broker: EventBroker) -> None:
        self.dsn = _dsn(database_url)
        self.broker = broker
        self.outbox: collections.deque[RunEvent] = collections.deque(maxlen=OUTBOX_SIZE)
        self.listening = asyncio.Event()
        self._wake = asyncio.Event()
        self._pid: int | None = None

    def send(self, events: list[RunEvent]) -> None:
        """Queue ``events`` for the other processes (called by the broker, on the event loop)."""
        self.outbox.extend(events)
        self._wake.set()

    def _received(self, _connection: Any, pid: int, _channel: str, payload: str) -> None:
        if pid == self._pid:
            return  # sent by this process, already delivered here
        try:
            events = _EVENTS.validate_json(payload)
        except ValueError:
            logger.warning("ignored a notification on %s that is not a list of run events", CHANNEL)
            return
        self.broker.deliver(events)

    async def run(self) -> None:
        """Listen and send until cancelled, reconnecting after failures."""
        import asyncpg

        while True:
            connection = None
            try:
                connection = await asyncpg.connect(
                    self.dsn, timeout=CONNECT_WAIT_SECONDS, server_settings={"application_name": APPLICATION_NAME}
                )
                lost = asyncio.Event()
                connection.add_termination_listener(lambda _c: (lost.set(), self._wake.set()))
                await connection.add_listener(CHANNEL, self._received)
                self._pid = connection.get_server_pid()
                self.listening.set()
                await self._send_loop(connection, lost)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # lost or refused connection: try again shortly
                logger.warning("live events relay: %s: %s; reconnecting", type(exc).__name__, exc)
            finally:
                self.listening.clear()
                if connection is not None and not connection.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.shield(connection.close(timeout=2))
            await asyncio.sleep(RECONNECT_SECONDS)

    async def _send_loop(self, connection: Any, lost: asyncio.Event) -> None:
        while not lost.is_set():
            await self._wake.wait()
            self._wake.clear()
            while self.outbox and not lost.is_set():
                events = [self.outbox.popleft() for _ in range(min(len(self.outbox), 1_000))]
                try:
                    await connection.execute(
                        "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload", CHANNEL, pack(events)
                    )
                except Exception:
                    self.outbox.extendleft(reversed(events))  # sent again after reconnecting
                    raise
        raise ConnectionError("the connection to PostgreSQL was lost")


@contextlib.asynccontextmanager
async def postgres_event_relay(database_url: str, broker: EventBroker) -> AsyncIterator[PostgresEventRelay]:
    """Run a relay for ``broker`` while the block runs (start-up waits up to
    ``CONNECT_WAIT_SECONDS`` for it to listen, then goes on and the relay keeps trying)."""
    relay = PostgresEventRelay(database_url, broker)
    task = asyncio.create_task(relay.run(), name="partita-events-relay")
    broker.relay = relay.send
    try:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(relay.listening.wait(), CONNECT_WAIT_SECONDS)
        yield relay
    finally:
        broker.relay = None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
