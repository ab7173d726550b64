"""``/api/events/stream``: server-sent events of state changes and new logs."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from partita_workbench.server.api.dependencies import BrokerDep
from partita_workbench.server.events import Subscription

router = APIRouter(prefix="/events", tags=["events"])

HEARTBEAT_SECONDS = 10.0


async def _stream(request: Request, subscription: Subscription, heartbeat: float) -> AsyncIterator[bytes]:
    try:
        yield b": connected\n\n"
        while True:
            try:
                event = await asyncio.wait_for(subscription.queue.get(), timeout=heartbeat)
            except asyncio.TimeoutError:
                if await request.is_disconnected():
                    return
                yield b": heartbeat\n\n"
                continue
            data = event.model_dump_json()
            yield f"event: {event.kind.value}\ndata: {data}\n\n".encode()
    finally:
        subscription.close()


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "a stream of RunEvent objects"}},
)
async def stream_events(
    request: Request,
    events: BrokerDep,
    flow_run_id: uuid.UUID | None = Query(None, description="only events of this flow run and its task runs"),
    heartbeat: float = Query(HEARTBEAT_SECONDS, ge=0.05, le=300, description="seconds between keep-alive comments"),
) -> StreamingResponse:
    """Server-sent events: ``event: state`` when a run's state changes, ``event: log`` for each new
    log line; ``data`` is a RunEvent as JSON. Comments (``: heartbeat``) keep idle streams open."""
    subscription = events.subscribe(flow_run_id)
    return StreamingResponse(
        _stream(request, subscription, heartbeat),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
