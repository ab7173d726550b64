"""Task runs: create, read, filter, count, and the write-behind batch upsert."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from typing import Any

from partita.client.schemas import (
    BatchResult,
    Page,
    TaskRunBatch,
    TaskRunCreate,
    TaskRunFilter,
    TaskRunModel,
)
from partita.states import StateType
from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from partita_workbench.server.database.models import FlowRun, TaskRun, TaskRunState
from partita_workbench.server.database.types import utcnow
from partita_workbench.server.errors import ObjectNotFound
from partita_workbench.server.operations.batch_rows import (
    TASK_RUN_COLUMNS,
    TASK_RUN_STATE_COLUMNS,
    batch_rows,
    dangling_reference,
    state_append,
    task_run_upsert,
)
from partita_workbench.server.operations.bulk import codec_for, execute_many
from partita_workbench.server.operations.common import (
    TASK_RUN,
    check_int32,
    insert_if_absent,
    state_model,
)
from partita_workbench.server.operations.filters import task_run_keyset, task_run_order, task_run_where
from partita_workbench.server.operations.pagination import next_cursor, page_window
from partita_workbench.server.operations.states import set_state

def _runs_with_state() -> Select[Any]:
    return select(TaskRun, TaskRunState).outerjoin(TaskRunState, TaskRunState.id == TaskRun.state_id)


def task_run_model(run: TaskRun, state: TaskRunState | None) -> TaskRunModel:
    return TaskRunModel(
        id=run.id,
        name=run.name,
        flow_run_id=run.flow_run_id,
        task_key=run.task_key,
        dynamic_key=run.dynamic_key,
        cache_key=run.cache_key,
        task_inputs=run.task_inputs,
        tags=run.tags,
        state=state_model(state) if state is not None else None,
        state_type=StateType(run.state_type) if run.state_type else None,
        state_name=run.state_name,
        run_count=run.run_count,
        start_time=run.start_time,
        end_time=run.end_time,
        total_run_time=run.total_run_time,
        created=run.created,
        updated=run.updated,
    )


def _snapshot_row(run: TaskRunCreate, now: dt.datetime) -> dict[str, Any]:
    """Column values of a task run snapshot (for single inserts through SQLAlchemy)."""
    state = run.state
    return {
        "id": run.id,
        "name": run.name,
        "flow_run_id": run.flow_run_id,
        "task_key": run.task_key,
        "dynamic_key": run.dynamic_key,
        "cache_key": run.cache_key,
        "task_inputs": _task_inputs(run),
        "tags": run.tags,
        "state_type": state.type.value if state is not None else None,
        "state_name": state.name if state is not None else None,
        "state_id": state.id if state is not None else None,
        "run_count": run.run_count,
        "start_time": run.start_time,
        "end_time": run.end_time,
        "total_run_time": run.total_run_time,
        "created": now,
        "updated": now,
    }


def _task_inputs(run: TaskRunCreate) -> dict[str, list[dict[str, Any]]]:
    return {
        key: [{"input_type": i.input_type, "id": str(i.id) if i.id else None} for i in inputs]
        for key, inputs in run.task_inputs.items()
    }


_READ_TASK_RUN = _runs_with_state().where(TaskRun.id == bindparam("run_id"))


async def _check_flow_runs_exist(session: AsyncSession, ids: set[uuid.UUID]) -> None:
    if not ids:
        return
    found = set(await session.scalars(select(FlowRun.id).where(FlowRun.id.in_(ids))))
    missing = sorted(ids - found, key=str)
    if missing:
        raise ObjectNotFound("flow run", missing[0], "create the flow run before its task runs")


async def create_task_run(session: AsyncSession, body: TaskRunCreate) -> tuple[TaskRunModel, bool]:
    """Create the task run ``body.id`` (or return it unchanged if it exists); and whether it was new.

    A given ``state`` becomes its first state (stored in its history).

    Raises:
        ObjectNotFound: ``body.flow_run_id`` names no flow run.
    """
    check_int32(body.run_count, "run_count")
    if body.flow_run_id is not None:
        await _check_flow_runs_exist(session, {body.flow_run_id})
    row = _snapshot_row(body, utcnow())
    row.update(state_type=None, state_name=None, state_id=None, run_count=0)
    created = await insert_if_absent(session, TaskRun.__table__, row, key="id")
    if created and body.state is not None:
        await set_state(session, TASK_RUN, body.id, body.state, force=True)
    return await read_task_run(session, body.id), created


async def read_task_run(session: AsyncSession, run_id: uuid.UUID) -> TaskRunModel:
    """Raises ObjectNotFound for an unknown id."""
    row = (await session.execute(_READ_TASK_RUN, {"run_id": run_id})).first()
    if row is None:
        raise ObjectNotFound("task run", run_id)
    return task_run_model(*row)


async def page_task_runs(session: AsyncSession, flt: TaskRunFilter, with_count: bool = True) -> Page:
    """One page of matching task runs, in ``flt.sort`` order, from ``flt.cursor`` or ``flt.offset``."""
    keyset = task_run_keyset(flt.sort)
    extra, offset = page_window(flt.cursor, flt.offset, keyset)
    stmt = (
        _runs_with_state()
        .where(*task_run_where(flt, session.bind.dialect.name), *extra)
        .order_by(*task_run_order(flt.sort))
        .limit(flt.limit + 1)
        .offset(offset)
    )
    rows = list(await session.execute(stmt))
    cursor = next_cursor(rows, flt.limit, offset, keyset, lambda row: (row[0].created, row[0].id))
    results = [task_run_model(*row) for row in rows[: flt.limit]]
    count = await count_task_runs(session, flt) if with_count else len(results)
    return Page(results=results, count=count, limit=flt.limit, next_cursor=cursor)


async def filter_task_runs(session: AsyncSession, flt: TaskRunFilter) -> list[TaskRunModel]:
    return (await page_task_runs(session, flt, with_count=False)).results


async def count_task_runs(session: AsyncSession, flt: TaskRunFilter) -> int:
    stmt = select(func.count()).select_from(TaskRun).where(*task_run_where(flt, session.bind.dialect.name))
    return int(await session.scalar(stmt) or 0)


async def apply_batch(session: AsyncSession, batch: TaskRunBatch) -> BatchResult:
    """Upsert the batch's task runs by id, then append its states (existing state ids are skipped).

    Two bulk statements (``INSERT ... ON CONFLICT``), no per-row queries;
    the rows and their rules are :mod:`.batch_rows`'s.

    Returns:
        the number of distinct task runs upserted and of distinct states sent
        (including states already stored, which are left unchanged).

    Raises:
        ObjectNotFound: a task run names an unknown flow run, or a state an
            unknown task run (the caller's transaction is then rolled back:
            nothing of the batch is stored).
    """
    dialect = session.bind.dialect.name
    run_rows, state_rows = batch_rows(batch.task_runs, batch.states, utcnow(), codec_for(session))
    # After a failed statement PostgreSQL refuses further queries in the transaction, SQLite does
    # not: a savepoint there keeps the explaining queries possible.
    try:
        async with session.begin_nested() if dialect == "postgresql" else contextlib.nullcontext():
            await execute_many(session, lambda: task_run_upsert(dialect), TASK_RUN_COLUMNS, run_rows, "upsert task runs")
            await execute_many(session, lambda: state_append(dialect), TASK_RUN_STATE_COLUMNS, state_rows,
                               "append task run states")
    except IntegrityError:
        await _explain_dangling_reference(session, batch)
        raise
    return BatchResult(task_runs=len(run_rows), states=len(state_rows))


async def _explain_dangling_reference(session: AsyncSession, batch: TaskRunBatch) -> None:
    """Raise ObjectNotFound naming what the batch referred to that is not stored."""
    flow_run_ids = {uuid.UUID(run[2]) for run in batch.task_runs if run[2] is not None}
    task_run_ids = {uuid.UUID(state[0]) for state in batch.states}
    known_flow_runs = set(await session.scalars(select(FlowRun.id).where(FlowRun.id.in_(flow_run_ids)))) if flow_run_ids else set()
    known_task_runs = set(await session.scalars(select(TaskRun.id).where(TaskRun.id.in_(task_run_ids)))) if task_run_ids else set()
    why = dangling_reference(batch.task_runs, batch.states, {u.hex for u in known_flow_runs}, {u.hex for u in known_task_runs})
    if why is not None:
        kind, missing, hint = why
        raise ObjectNotFound(kind, uuid.UUID(missing), hint)
