"""Tag concurrency limits for task runs: which runs must ask the server before they start.

A task run is recorded write-behind (no round trip) unless one of its tags has
a concurrency limit on the server (``partita concurrency-limit create TAG N``,
Prefect's tag-based limits). Such a run is *orchestrated*, as in Prefect 3:

* it proposes RUNNING synchronously (``POST /api/task_runs/{id}/set_state``);
  the server's ``HoldConcurrencySlots`` rule takes a slot of each limit, or
  answers WAIT with a delay, after which the engine proposes again;
* every later state of the run is proposed synchronously too, so the server's
  ``ReleaseConcurrencySlots`` rule gives the slots back as soon as it leaves
  RUNNING (retrying, finishing, failing, being cancelled).

Before its first synchronous proposal the run's queued states are stored
(the recorder is flushed): a later write-behind batch never carries a state
older than one proposed directly.

Which tags are limited is read from the server once per flow run and kept
for :data:`TTL_SECONDS` (``POST /api/v2/concurrency_limits/filter``, the
active limits named ``tag:<tag>``), so untagged task runs, and tags without
a limit, cost no round trip at all.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from partita.exceptions import BackendError

if TYPE_CHECKING:
    from partita.context import FlowRunContext, TaskRunRecord
    from partita.states import State

TAG_PREFIX = "tag:"  # as the server names tag limits
TTL_SECONDS = 10.0
_PAGE = 200


def fetch_limited_tags(client: Any) -> frozenset[str]:
    """The tags that have an active concurrency limit on the server (one request per 200 limits)."""
    tags: set[str] = set()
    offset = 0
    while True:
        page = client.read_global_concurrency_limits(limit=_PAGE, offset=offset)
        tags.update(limit.name[len(TAG_PREFIX):] for limit in page if limit.active and limit.name.startswith(TAG_PREFIX))
        if len(page) < _PAGE:
            return frozenset(tags)
        offset += _PAGE


def limited_tags(ctx: "FlowRunContext") -> frozenset[str]:
    """The limited tags as known to the flow run ``ctx`` (fetched on first use, then every TTL_SECONDS)."""
    cached = ctx.limited_tags
    if cached is not None and time.monotonic() - cached[0] < TTL_SECONDS:
        return cached[1]
    with ctx._lock:
        cached = ctx.limited_tags
        if cached is None or time.monotonic() - cached[0] >= TTL_SECONDS:
            cached = ctx.limited_tags = (time.monotonic(), fetch_limited_tags(ctx.recorder.client))
    return cached[1]


def must_orchestrate(ctx: "FlowRunContext", record: "TaskRunRecord") -> bool:
    """Whether ``record`` has to propose its states synchronously (a tag of it is limited)."""
    if record.orchestrated:
        return True
    if not record.tags:
        return False
    return not limited_tags(ctx).isdisjoint(record.tags)


def begin_orchestrating(ctx: "FlowRunContext", record: "TaskRunRecord") -> None:
    """Store what is queued for ``record`` and switch it to synchronous proposals."""
    if record.orchestrated:
        return
    ctx.recorder.touch(record)
    ctx.recorder.flush()
    record.orchestrated = True


def record_state(ctx: "FlowRunContext", record: "TaskRunRecord", state: "State") -> None:
    """Make ``state`` the state of ``record``: queued write-behind, or proposed now when orchestrated.

    An orchestrated run's states other than its start are proposed with
    ``force=True`` (the engine decides how its own task runs end; slots are
    released all the same). When the server cannot be reached the state is
    queued write-behind instead, so it is recorded once the server is back.
    """
    if not record.orchestrated:
        ctx.recorder.set_task_run_state(record, state)
        return
    record.state = state
    try:
        ctx.recorder.client.set_task_run_state(record.id, state, force=True)
    except BackendError:
        record.orchestrated = False
        ctx.recorder.set_task_run_state(record, state)
