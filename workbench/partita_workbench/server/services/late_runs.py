"""Mark late runs: SCHEDULED flow runs past their time become ``Late`` (Prefect's MarkLateRuns service).

A flow run whose state is SCHEDULED ``Scheduled`` and whose scheduled time
(``expected_start_time``) is more than ``after_seconds`` ago is moved to a
SCHEDULED state named ``Late`` with the same scheduled time, through the
orchestration rules, so the change is in its history and in the live events.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging

from partita.client.schemas import StateModel
from partita.states import StateType
from sqlalchemy import select

from partita_workbench.server.database.engine import Database
from partita_workbench.server.database.models import FlowRun
from partita_workbench.server.database.types import utcnow
from partita_workbench.server.events import EventBroker
from partita_workbench.server.operations.common import FLOW_RUN
from partita_workbench.server.operations.states import set_state

logger = logging.getLogger("partita.server.late_runs")
BATCH = 500


async def mark_late_runs(
    db: Database, after_seconds: float, events: EventBroker | None = None, now: dt.datetime | None = None
) -> int:
    """Mark the runs late as of ``now`` (default: the current time); returns how many were marked."""
    cutoff = (now or utcnow()) - dt.timedelta(seconds=after_seconds)
    async with db.read() as session:
        ids = list(
            await session.scalars(
                select(FlowRun.id)
                .where(
                    FlowRun.state_type == StateType.SCHEDULED.value,
                    FlowRun.state_name == "Scheduled",
                    FlowRun.expected_start_time < cutoff,
                )
                .order_by(FlowRun.expected_start_time)
                .limit(BATCH)
            )
        )
    marked = 0
    for run_id in ids:
        async with db.write() as session:
            run = await session.get(FlowRun, run_id)
            if run is None or run.state_name != "Scheduled" or run.expected_start_time is None:
                continue
            late = StateModel(
                type=StateType.SCHEDULED,
                name="Late",
                state_details={"scheduled_time": run.expected_start_time.isoformat()},
            )
            result = await set_state(session, FLOW_RUN, run_id, late)
        if result.status.value == "ACCEPT":
            marked += 1
            if events is not None and result.state is not None:
                events.state_changed("flow run", run_id, run_id, None, result.state)
    return marked


async def run_late_run_marker(db: Database, interval: float, after_seconds: float, events: EventBroker) -> None:
    """Sweep every ``interval`` seconds until cancelled; a failed sweep is logged and retried."""
    while True:
        try:
            await mark_late_runs(db, after_seconds, events)
        except asyncio.CancelledError:
            raise
        except Exception:  # the database may be briefly unreachable: try again next time
            logger.exception("marking late runs failed")
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def late_run_marker(db: Database, interval: float, after_seconds: float, events: EventBroker):
    """Run :func:`run_late_run_marker` in the background for the duration of the context (0: off)."""
    if interval <= 0:
        yield
        return
    task = asyncio.create_task(run_late_run_marker(db, interval, after_seconds, events))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
