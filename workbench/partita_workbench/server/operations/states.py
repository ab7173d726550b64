"""Setting and reading the states of flow runs and task runs."""

from __future__ import annotations

import uuid

from partita.client.schemas import OrchestrationResult, SetStateStatus, StateModel
from partita.states import StateType
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from partita_workbench.server.database.models import FlowRun, TaskRun
from partita_workbench.server.errors import ObjectNotFound
from partita_workbench.server.operations.common import RunKind, as_utc, state_model, state_row
from partita_workbench.server.database.types import utcnow
from partita_workbench.server.orchestration.accounting import RunAccounting, account
from partita_workbench.server.orchestration.rules import (
    TransitionContext,
    after_transition,
    orchestrate,
    scheduled_time,
)


async def current_state(session: AsyncSession, kind: RunKind, run: FlowRun | TaskRun) -> StateModel | None:
    """The run's state in force, from its history row.

    A task run whose state came only with a write-behind snapshot has no
    history row for it; its state is then rebuilt from the run's columns
    (timestamped with the run's last update).
    """
    if run.state_id is None or run.state_type is None:
        return None
    row = await session.get(kind.state, run.state_id)
    if row is not None:
        return state_model(row)
    return StateModel(
        id=run.state_id, type=StateType(run.state_type), name=run.state_name or "", timestamp=run.updated
    )


async def set_state(
    session: AsyncSession, kind: RunKind, run_id: uuid.UUID, proposed: StateModel, force: bool = False
) -> OrchestrationResult:
    """Propose ``proposed`` for a run; store it and update the run if the rules accept it.

    The run row is locked for the transaction (``SELECT ... FOR UPDATE`` on
    PostgreSQL; on SQLite the write transaction already holds the database's
    write lock). Proposing the state that is already in force (same id) is
    accepted again without change, so a retried request is harmless.

    Raises:
        ObjectNotFound: no run of this kind has ``run_id``.
    """
    run = await session.get(kind.run, run_id, with_for_update=True)
    if run is None:
        raise ObjectNotFound(kind.label, run_id)
    current = await current_state(session, kind, run)
    proposed = proposed.model_copy(update={"timestamp": as_utc(proposed.timestamp)})
    if current is not None and current.id == proposed.id:
        return OrchestrationResult(status=SetStateStatus.ACCEPT, state=current)

    context = TransitionContext(kind.label, current, proposed, run=run, session=session, now=utcnow())
    verdict = await orchestrate(context, force=force)
    if verdict is not None and verdict.state is None:
        return OrchestrationResult(
            status=verdict.status, state=current, reason=verdict.reason, delay_seconds=verdict.delay_seconds
        )
    stored = verdict.state if verdict is not None else context.proposed
    stored = stored.model_copy(update={"timestamp": as_utc(stored.timestamp)})

    session.add(kind.state(**state_row(stored), **{kind.owner_column: run_id}))
    before = RunAccounting(run.run_count, run.start_time, run.end_time, run.total_run_time)
    after = account(before, current, stored)
    run.state_type = stored.type.value
    run.state_name = stored.name
    run.state_id = stored.id
    run.run_count = after.run_count
    run.start_time = after.start_time
    run.end_time = after.end_time
    run.total_run_time = after.total_run_time
    if isinstance(run, FlowRun) and stored.type is StateType.SCHEDULED:
        run.expected_start_time = scheduled_time(stored) or stored.timestamp
    await session.flush()
    context.stored = stored
    await after_transition(context)
    if verdict is not None:
        return OrchestrationResult(status=verdict.status, state=stored, reason=verdict.reason)
    return OrchestrationResult(status=SetStateStatus.ACCEPT, state=stored)


async def state_history(session: AsyncSession, kind: RunKind, run_id: uuid.UUID) -> list[StateModel]:
    """Every state of a run, oldest first.

    Raises:
        ObjectNotFound: no run of this kind has ``run_id``.
    """
    if await session.get(kind.run, run_id) is None:
        raise ObjectNotFound(kind.label, run_id)
    owner = getattr(kind.state, kind.owner_column)
    rows = await session.scalars(
        select(kind.state).where(owner == run_id).order_by(kind.state.timestamp, kind.state.id)
    )
    return [state_model(row) for row in rows]
