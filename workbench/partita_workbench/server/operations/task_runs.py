"""Task runs: create, read, filter, count, and the write-behind batch upsert."""

from __future__ import annotations

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
    TaskRunRow,
    TaskRunStateRow,
)
from partita.states import StateType
from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from partita_workbench.server.database.models import FlowRun, TaskRun, TaskRunState
from partita_workbench.server.database.types import utcnow
from partita_workbench.server.errors import ObjectNotFound
from partita_workbench.server.operations.bulk import Codec, codec_for, execute_many
from partita_workbench.server.operations.common import (
    TASK_RUN,
    check_int32,
    insert_for,
    insert_if_absent,
    state_model,
)
from partita_workbench.server.operations.filters import task_run_keyset, task_run_order, task_run_where
from partita_workbench.server.operations.pagination import next_cursor, page_window
from partita_workbench.server.operations.states import set_state

# Columns a later snapshot of a task run overwrites (everything but id and created).
_MUTABLE = (
    "name",
    "flow_run_id",
    "task_key",
    "dynamic_key",
    "cache_key",
    "task_inputs",
    "tags",
    "run_count",
    "start_time",
    "end_time",
    "total_run_time",
    "updated",
)
_CURRENT_STATE_COLUMNS = ("state_type", "state_name", "state_id")


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


# Bulk rows are tuples in the tables' column order (checked when the statement is compiled).
_TASK_RUN_COLUMNS = tuple(TaskRun.__table__.columns.keys())
_TASK_RUN_STATE_COLUMNS = tuple(TaskRunState.__table__.columns.keys())


def _snapshot_tuple(run: TaskRunRow, state: TaskRunStateRow | None, now: dt.datetime, codec: Codec) -> tuple[Any, ...]:
    """Bulk row of a batch snapshot; ``state`` is the run's last state in the batch (or ``None``)."""
    (run_id, name, flow_run_id, task_key, dynamic_key, cache_key, task_inputs, tags,
     run_count, start_time, end_time, total_run_time) = run
    stamp = codec.timestamp(now)
    return (
        codec.uuid(run_id),
        codec.uuid(flow_run_id),
        task_key,
        dynamic_key,
        cache_key,
        codec.json(_row_inputs(task_inputs)) if task_inputs else "{}",
        name,
        codec.json(tags),
        state[2]._value_ if state is not None else None,
        state[3] if state is not None else None,
        codec.uuid(state[1]) if state is not None else None,
        run_count,
        codec.timestamp(start_time),
        codec.timestamp(end_time),
        total_run_time,
        stamp,
        stamp,
    )


def _row_inputs(task_inputs: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {
        key: [{"input_type": i.input_type, "id": str(i.id) if i.id else None} for i in inputs]
        for key, inputs in task_inputs.items()
    }


def _state_rows(states: list[TaskRunStateRow], codec: Codec) -> list[tuple[Any, ...]]:
    """Bulk rows of a batch's states (the hot path: thousands per batch, so one comprehension)."""
    as_uuid, as_time, as_json, as_json_or_null = codec.uuid, codec.timestamp, codec.json, codec.json_or_null
    return [
        (as_uuid(run_id), as_uuid(state_id), kind._value_, name, as_time(at), message, as_json(details), as_json_or_null(data))
        for run_id, state_id, kind, name, at, message, details, data in states
    ]


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
    row = (await session.execute(_runs_with_state().where(TaskRun.id == run_id))).first()
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

    Two bulk statements (``INSERT ... ON CONFLICT``), no per-row queries. A
    snapshot's ``state`` sets the run's current state columns but adds no
    history row; a snapshot without one keeps the stored state. Rows first
    seen in this batch get ``created`` times a microsecond apart, so
    ``CREATED_ASC`` lists them in the order they were sent.

    Returns:
        the number of distinct task runs upserted and of distinct states sent
        (including states already stored, which are left unchanged).

    Raises:
        ObjectNotFound: a task run names an unknown flow run, or a state an
            unknown task run (the whole batch is then rolled back).
    """
    now = utcnow()
    codec = codec_for(session)
    # The last snapshot of a task run sent twice in one batch wins; a state sent twice counts once.
    task_runs = list({run[0]: run for run in batch.task_runs}.values())
    states = list({state[1]: state for state in batch.states}.values())
    last_state = {state[0]: state for state in states}  # states come in the order they happened
    for i, run in enumerate(task_runs):
        check_int32(run[8], f"task_runs[{i}].run_count")
    if task_runs:
        table = TaskRun.__table__
        stmt = insert_for(session, table)
        set_ = {name: stmt.excluded[name] for name in _MUTABLE}
        for name in _CURRENT_STATE_COLUMNS:  # a snapshot without a state keeps the stored one
            set_[name] = func.coalesce(stmt.excluded[name], table.c[name])
        stmt = stmt.on_conflict_do_update(index_elements=[table.c.id], set_=set_)
        tick = dt.timedelta(microseconds=1)
        rows = [_snapshot_tuple(run, last_state.get(run[0]), now + i * tick, codec) for i, run in enumerate(task_runs)]
        await _execute_checked(session, stmt, _TASK_RUN_COLUMNS, rows, batch, "upsert task runs")
    if states:
        stmt = insert_for(session, TaskRunState.__table__).on_conflict_do_nothing(index_elements=["id"])
        rows = _state_rows(states, codec)
        await _execute_checked(session, stmt, _TASK_RUN_STATE_COLUMNS, rows, batch, "append task run states")
    return BatchResult(task_runs=len(task_runs), states=len(states))


async def _execute_checked(
    session: AsyncSession,
    stmt: Any,
    columns: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    batch: TaskRunBatch,
    name: str,
) -> None:
    """Run a bulk statement; turn a dangling reference into a precise ObjectNotFound."""
    try:
        async with session.begin_nested():
            await execute_many(session, stmt, columns, rows, name)
    except IntegrityError:
        await _explain_dangling_reference(session, batch)
        raise


async def _explain_dangling_reference(session: AsyncSession, batch: TaskRunBatch) -> None:
    flow_run_ids = {uuid.UUID(run[2]) for run in batch.task_runs if run[2] is not None}
    await _check_flow_runs_exist(session, flow_run_ids)
    sent = {uuid.UUID(run[0]) for run in batch.task_runs}
    wanted = {uuid.UUID(state[0]) for state in batch.states} - sent
    if wanted:
        found = set(await session.scalars(select(TaskRun.id).where(TaskRun.id.in_(wanted))))
        missing = sorted(wanted - found, key=str)
        if missing:
            raise ObjectNotFound(
                "task run", missing[0], "a state was sent for it; send the task run in the batch too"
            )
