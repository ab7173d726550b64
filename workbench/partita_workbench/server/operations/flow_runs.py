"""Flow runs: create (idempotent by id), read, filter, count."""

from __future__ import annotations

import uuid
from typing import Any

from partita.client.schemas import FlowRunCreate, FlowRunFilter, FlowRunModel, Page
from partita.states import StateType
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from partita_workbench.server.database.models import Flow, FlowRun
from partita_workbench.server.database.types import utcnow
from partita_workbench.server.errors import ObjectNotFound
from partita_workbench.server.operations.common import (
    FLOW_RUN,
    current_state_model,
    insert_if_absent,
    run_with_current_state,
)
from partita_workbench.server.operations.filters import flow_run_keyset, flow_run_order, flow_run_where
from partita_workbench.server.operations.pagination import next_cursor, page_window
from partita_workbench.server.operations.states import set_state


def _runs_with_flow_and_state() -> Select[Any]:
    """Flow runs as Core rows: the run's columns, ``flow_name`` and the current state's ``current_*`` columns."""
    flow = Flow.__table__
    return (
        run_with_current_state(FLOW_RUN)
        .add_columns(flow.c.name.label("flow_name"))
        .join(flow, flow.c.id == FlowRun.__table__.c.flow_id)
    )


_FLOW_EXISTS = select(Flow.id).where(Flow.id == bindparam("flow_id"))
_READ_FLOW_RUN = _runs_with_flow_and_state().where(FlowRun.id == bindparam("run_id"))


def flow_run_model(row: Any) -> FlowRunModel:
    """The API form of a row of :func:`_runs_with_flow_and_state`."""
    return FlowRunModel(
        id=row.id,
        name=row.name,
        flow_id=row.flow_id,
        flow_name=row.flow_name,
        parameters=row.parameters,
        parent_task_run_id=row.parent_task_run_id,
        deployment_id=row.deployment_id,
        empirical_policy=row.empirical_policy or {},
        expected_start_time=row.expected_start_time,
        tags=row.tags,
        state_type=StateType(row.state_type) if row.state_type else None,
        state_name=row.state_name,
        state=current_state_model(FLOW_RUN, row),
        run_count=row.run_count,
        start_time=row.start_time,
        end_time=row.end_time,
        total_run_time=row.total_run_time,
        created=row.created,
        updated=row.updated,
    )


async def create_flow_run(session: AsyncSession, body: FlowRunCreate) -> tuple[FlowRunModel, bool]:
    """Create the run ``body.id`` (or return it unchanged if it exists); and whether it was new.

    A given ``state`` becomes the run's first state (stored in its history).

    Raises:
        ObjectNotFound: ``body.flow_id`` names no flow.
    """
    if (await session.execute(_FLOW_EXISTS, {"flow_id": body.flow_id})).first() is None:
        raise ObjectNotFound("flow", body.flow_id, "create it with POST /api/flows/ first")
    now = utcnow()
    values = body.model_dump(exclude={"state"})
    values.update(created=now, updated=now, run_count=0, total_run_time=0.0)
    created = await insert_if_absent(session, FlowRun.__table__, values, key="id")
    if created and body.state is not None:
        await set_state(session, FLOW_RUN, body.id, body.state, force=True)
    return await read_flow_run(session, body.id), created


async def read_flow_run(session: AsyncSession, run_id: uuid.UUID) -> FlowRunModel:
    """Raises ObjectNotFound for an unknown id."""
    row = (await session.execute(_READ_FLOW_RUN, {"run_id": run_id})).first()
    if row is None:
        raise ObjectNotFound("flow run", run_id)
    return flow_run_model(row)


async def page_flow_runs(session: AsyncSession, flt: FlowRunFilter, with_count: bool = True) -> Page:
    """One page of matching flow runs, in ``flt.sort`` order, from ``flt.cursor`` or ``flt.offset``.

    Raises:
        InvalidRequest: a filter value or the cursor is unusable.
    """
    dialect = session.bind.dialect.name
    where = flow_run_where(flt, dialect)
    keyset = flow_run_keyset(flt.sort)
    extra, offset = page_window(flt.cursor, flt.offset, keyset)
    stmt = (
        _runs_with_flow_and_state()
        .where(*where, *extra)
        .order_by(*flow_run_order(flt.sort))
        .limit(flt.limit + 1)
        .offset(offset)
    )
    rows = list(await session.execute(stmt))
    cursor = next_cursor(rows, flt.limit, offset, keyset, lambda row: (row.created, row.id))
    results = [flow_run_model(row) for row in rows[: flt.limit]]
    count = await count_flow_runs(session, flt) if with_count else len(results)
    return Page(results=results, count=count, limit=flt.limit, next_cursor=cursor)


async def filter_flow_runs(session: AsyncSession, flt: FlowRunFilter) -> list[FlowRunModel]:
    return (await page_flow_runs(session, flt, with_count=False)).results


async def count_flow_runs(session: AsyncSession, flt: FlowRunFilter) -> int:
    stmt = select(func.count()).select_from(FlowRun).join(Flow, Flow.id == FlowRun.flow_id)
    return int(await session.scalar(stmt.where(*flow_run_where(flt, session.bind.dialect.name))) or 0)
