"""Setting and reading the states of flow runs and task runs."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from partita.client.schemas import OrchestrationResult, SetStateStatus, StateModel
from partita.states import StateType
from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from partita_workbench.server.database.models import FlowRun
from partita_workbench.server.errors import ObjectNotFound
from partita_workbench.server.operations.common import (
    RunKind,
    as_utc,
    current_state_model,
    run_with_current_state,
    state_model,
    state_row,
)
from partita_workbench.server.database.types import utcnow
from partita_workbench.server.orchestration.accounting import RunAccounting, account
from partita_workbench.server.orchestration.rules import (
    TransitionContext,
    after_transition,
    orchestrate,
    scheduled_time,
)


@functools.cache
def _statements(kind: RunKind, dialect: str) -> tuple[Select[Any], Any, Any]:
    """The statements of one state change, built once per run kind and dialect.

    The first reads the run with its current state
    (:func:`~partita_workbench.server.operations.common.run_with_current_state`),
    locking the run row on PostgreSQL; the second inserts a history row; the
    third updates the run. SQLAlchemy reuses their compiled form from its
    statement cache.
    """
    run = kind.run.__table__
    read = run_with_current_state(kind).where(run.c.id == bindparam("run_id"))
    if dialect == "postgresql":
        read = read.with_for_update(of=run)
    return read, kind.state.__table__.insert(), run.update().where(run.c.id == bindparam("run_id"))


def _current_state(kind: RunKind, row: Any) -> StateModel | None:
    """The run's state in force, from the joined row read by :func:`set_state`.

    A task run whose state came only with a write-behind snapshot has no
    history row for it; its state is then rebuilt from the run's columns
    (timestamped with the run's last update).
    """
    if row.state_id is None or row.state_type is None:
        return None
    return current_state_model(kind, row) or StateModel(
        id=row.state_id, type=StateType(row.state_type), name=row.state_name or "", timestamp=row.updated
    )


async def set_state(
    session: AsyncSession, kind: RunKind, run_id: uuid.UUID, proposed: StateModel, force: bool = False
) -> OrchestrationResult:
    """Propose ``proposed`` for a run; store it and update the run if the rules accept it.

    The run row is locked for the transaction (``SELECT ... FOR UPDATE`` on
    PostgreSQL; on SQLite the write transaction already holds the database's
    write lock). Proposing the state that is already in force (same id) is
    accepted again without change, so a retried request is harmless. The
    rules see the run as a read-only row of its columns.

    Raises:
        ObjectNotFound: no run of this kind has ``run_id``.
    """
    read, insert_state, update_run = _statements(kind, session.bind.dialect.name)
    run = (await session.execute(read, {"run_id": run_id})).first()
    if run is None:
        raise ObjectNotFound(kind.label, run_id)
    current = _current_state(kind, run)
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

    await session.execute(insert_state, {**state_row(stored), kind.owner_column: run_id})
    before = RunAccounting(run.run_count, run.start_time, run.end_time, run.total_run_time)
    after = account(before, current, stored)
    changes: dict[str, Any] = {
        "state_type": stored.type.value,
        "state_name": stored.name,
        "state_id": stored.id,
        "run_count": after.run_count,
        "start_time": after.start_time,
        "end_time": after.end_time,
        "total_run_time": after.total_run_time,
    }
    if kind.run is FlowRun and stored.type is StateType.SCHEDULED:
        changes["expected_start_time"] = scheduled_time(stored) or stored.timestamp
    await session.execute(update_run.values(**changes), {"run_id": run_id})
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
