"""Server-side cache lookup: a task run whose cache key has a valid result completes as ``Cached``.

As Prefect's ``CacheRetrieval`` rule: when a task run proposes RUNNING with a
cache key (``state_details["cache_key"]`` of the proposal, else the run's
``cache_key``), and another task run with that key is COMPLETED with a
result that has not expired (its state's ``state_details["cache_expiration"]``,
ISO time, absent = never), the proposal is rejected and a COMPLETED state
named ``Cached`` is stored instead, carrying that run's result record.
``state_details["refresh_cache"] = true`` on the proposal skips the lookup.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from partita.client.schemas import SetStateStatus, StateModel
from partita.states import StateType

from partita_workbench.server.database.models import TaskRun, TaskRunState
from partita_workbench.server.orchestration.rules import OrchestrationRule, TransitionContext, Verdict

CACHED = "Cached"


def _expired(details: dict, now: dt.datetime) -> bool:
    value = details.get("cache_expiration")
    if not isinstance(value, str):
        return False
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    when = when.replace(tzinfo=dt.timezone.utc) if when.tzinfo is None else when
    return when <= now


class ReturnCachedResults(OrchestrationRule):
    """Complete a task run as ``Cached`` instead of running it when its cache key has a valid result."""

    FROM_TYPES = frozenset(StateType) - {StateType.RUNNING} | {None}
    TO_TYPES = frozenset({StateType.RUNNING})
    RUN_KINDS = frozenset({"task run"})

    async def before_transition(self, context: TransitionContext) -> Verdict | None:
        session, run, proposed = context.session, context.run, context.proposed
        if session is None or run is None or proposed.state_details.get("refresh_cache") is True:
            return None
        key = proposed.state_details.get("cache_key") or run.cache_key
        if not isinstance(key, str) or not key:
            return None
        stmt = (
            select(TaskRun.id, TaskRunState)
            .join(TaskRunState, TaskRunState.id == TaskRun.state_id)
            .where(TaskRun.cache_key == key, TaskRun.state_type == StateType.COMPLETED.value, TaskRun.id != run.id)
            .order_by(TaskRun.end_time.desc())
            .limit(20)
        )
        for source_id, state in await session.execute(stmt):
            if state.data is None or _expired(state.state_details or {}, context.now):
                continue
            details = {"cache_key": key, "cached_from_task_run_id": str(source_id)}
            if "cache_expiration" in (state.state_details or {}):
                details["cache_expiration"] = state.state_details["cache_expiration"]
            cached = StateModel(
                type=StateType.COMPLETED,
                name=CACHED,
                timestamp=context.now,
                message=f"result of task run {source_id} (cache key {key})",
                state_details=details,
                data=state.data,
            )
            return Verdict(
                SetStateStatus.REJECT,
                f"cache hit for key {key!r}: completed from task run {source_id} without running",
                state=cached,
            )
        return None
