"""Reading the server's live events (``GET /api/events/stream``, server-sent events).

:class:`SSEDecoder` turns the stream's lines into :class:`RunEvent` objects
(pure, no I/O); :func:`watch_events` and :func:`awatch_events` are the
blocking and asyncio drivers. The stream format is the W3C/WHATWG
server-sent events one: ``event:`` and ``data:`` fields, a blank line ending
each event, ``:`` comments as keep-alives.

Streaming needs a server (``PARTITA_API_URL``): the in-process embedded
backend answers each request whole, so an endless stream cannot go through
it, and these functions raise :class:`partita.exceptions.BackendError`
there; poll instead.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from partita.client.resource_schemas import RunEvent
from partita.exceptions import BackendError


class SSEDecoder:
    """Feed lines; get a :class:`RunEvent` when one is complete (see module docstring)."""

    def __init__(self) -> None:
        self._data: list[str] = []
        self.connected = False

    def feed(self, line: str) -> RunEvent | None:
        line = line.rstrip("\r")
        if line.startswith(":"):
            if line[1:].strip() == "connected":
                self.connected = True
            return None
        if line:
            field, _, value = line.partition(":")
            if field == "data":
                self._data.append(value[1:] if value.startswith(" ") else value)
            return None
        if not self._data:
            return None
        payload, self._data = "\n".join(self._data), []
        return RunEvent.model_validate_json(payload)


def _params(flow_run_id: uuid.UUID | str | None, heartbeat: float | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if flow_run_id is not None:
        params["flow_run_id"] = str(flow_run_id)
    if heartbeat is not None:
        params["heartbeat"] = heartbeat
    return params


def _check_http(client: Any) -> None:
    if not client.api_url:
        raise BackendError(
            "live events need a Partita server: set PARTITA_API_URL (the embedded backend has no event stream)"
        )


def watch_events(
    client: Any,
    flow_run_id: uuid.UUID | str | None = None,
    heartbeat: float | None = None,
    on_connect: Callable[[], None] | None = None,
) -> Iterator[RunEvent]:
    """Yield the events of one flow run (or of all runs) as they happen, until the caller stops.

    Args:
        client: a :class:`~partita.client.orchestration.SyncPartitaClient` talking to a server.
        flow_run_id: only this flow run's events; None for every run.
        heartbeat: seconds between the server's keep-alive comments.
        on_connect: called once the server has opened the stream (events from
            then on are delivered): the moment to read the current state.

    Raises:
        BackendError: no server configured, or the stream could not be opened.
    """
    _check_http(client)
    decoder = SSEDecoder()
    request = client._request("GET", "/events/stream", params=_params(flow_run_id, heartbeat))
    response = client._http.send(request, stream=True)
    try:
        if response.status_code >= 400:
            response.read()
            client._check(response)
        for line in response.iter_lines():
            event = decoder.feed(line)
            if event is not None:
                yield event
            elif decoder.connected and on_connect is not None:
                on_connect()
                on_connect = None
    finally:
        response.close()


async def awatch_events(
    client: Any, flow_run_id: uuid.UUID | str | None = None, heartbeat: float | None = None
) -> AsyncIterator[RunEvent]:
    """The asyncio form of :func:`watch_events` (``client`` is a :class:`PartitaClient`)."""
    _check_http(client)
    decoder = SSEDecoder()
    request = client._request("GET", "/events/stream", params=_params(flow_run_id, heartbeat))
    response = await client._http.send(request, stream=True)
    try:
        if response.status_code >= 400:
            await response.aread()
            client._check(response)
        async for line in response.aiter_lines():
            event = decoder.feed(line)
            if event is not None:
                yield event
    finally:
        await response.aclose()

