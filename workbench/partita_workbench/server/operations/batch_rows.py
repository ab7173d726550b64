"""The write-behind batch as bulk rows: one logic for the HTTP route and the embedded writer.

A batch (``TaskRunBatch``: task-run snapshots and states as arrays) becomes
two lists of tuples, in the column order of ``task_run`` and
``task_run_state``, encoded for one dialect by a :class:`~.bulk.Codec`, and
two statements: an upsert of the task runs by id and an append of the states
that skips ids already stored. The rows are the same whether the batch was
validated by pydantic from a request body (``StateType`` members, input
models) or handed over in-process by the SDK's recorder (plain strings and
dicts): both spellings are accepted.

Semantics (see :func:`partita_workbench.server.operations.task_runs.apply_batch`):
the last snapshot of a task run sent twice in one batch wins; a state sent
twice counts once; a snapshot's current state is the last of its states in the
batch (none: the stored one is kept); rows first seen in the batch get
``created`` times a microsecond apart, so ``CREATED_ASC`` lists them in the
order they were sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func
from sqlalchemy.sql.dml import Insert

from partita_workbench.server.database.models import TaskRun, TaskRunState
from partita_workbench.server.operations.bulk import Codec
from partita_workbench.server.operations.common import check_int32, dialect_insert

# Columns a later snapshot of a task run overwrites (everything but id and created).
MUTABLE_COLUMNS = (
    "name", "flow_run_id", "task_key", "dynamic_key", "cache_key", "task_inputs", "tags",
    "run_count", "start_time", "end_time", "total_run_time", "updated",
)
_CURRENT_STATE_COLUMNS = ("state_type", "state_name", "state_id")

# Bulk rows are tuples in the tables' column order (checked when the statement is compiled).
TASK_RUN_COLUMNS = tuple(TaskRun.__table__.columns.keys())
TASK_RUN_STATE_COLUMNS = tuple(TaskRunState.__table__.columns.keys())
_TICK = dt.timedelta(microseconds=1)


def task_run_upsert(dialect: str) -> Insert:
    """``INSERT ... ON CONFLICT (id) DO UPDATE`` of task-run snapshots; a missing state keeps the stored one."""
    table = TaskRun.__table__
    stmt = dialect_insert(dialect, table)
    set_ = {name: stmt.excluded[name] for name in MUTABLE_COLUMNS}
    for name in _CURRENT_STATE_COLUMNS:
        set_[name] = func.coalesce(stmt.excluded[name], table.c[name])
    return stmt.on_conflict_do_update(index_elements=[table.c.id], set_=set_)


def state_append(dialect: str) -> Insert:
    """``INSERT ... ON CONFLICT (id) DO NOTHING`` of task-run states (a retried batch is harmless)."""
    return dialect_insert(dialect, TaskRunState.__table__).on_conflict_do_nothing(index_elements=["id"])


def _type_value(kind: Any) -> str:
    return kind if kind.__class__ is str else kind._value_


def _inputs(task_inputs: dict[str, Any], codec: Codec) -> str:
    if not task_inputs:
        return "{}"
    return codec.json({
        key: [i if isinstance(i, dict) else {"input_type": i.input_type, "id": str(i.id) if i.id else None} for i in items]
        for key, items in task_inputs.items()
    })


def _remembering(encode: Any) -> Any:
    """``encode``, remembering what it gave for each value (for one batch)."""
    seen: dict[Any, Any] = {}

    def remembered(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            encoded = seen[value] = encode(value)
            return encoded

    return remembered


def batch_rows(
    task_runs: Iterable[Sequence[Any]], states: Iterable[Sequence[Any]], now: dt.datetime, codec: Codec
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The bulk rows of a batch: ``(task-run rows, state rows)``, deduplicated as the module says.

    Args:
        task_runs: ``TaskRunRow`` arrays.
        states: ``TaskRunStateRow`` arrays, in the order the states happened.
        now: the batch's time (``created`` / ``updated`` of new rows).
        codec: how the dialect's driver wants ids, times and JSON.

    Raises:
        InvalidRequest: a ``run_count`` does not fit an INTEGER column, or a
            time is not a real one.
    """
    runs = list({run[0]: run for run in task_runs}.values())
    unique_states = list({state[1]: state for state in states}.values())
    last_state = {state[0]: state for state in unique_states}
    as_uuid, as_json, as_json_or_null = codec.uuid, codec.json, codec.json_or_null
    as_time = _remembering(codec.timestamp)  # a run's start and end times are its states' times
    run_rows = []
    for i, run in enumerate(runs):
        (run_id, name, flow_run_id, task_key, dynamic_key, cache_key, task_inputs, tags,
         run_count, start_time, end_time, total_run_time) = run
        if not -2_147_483_648 <= run_count <= 2_147_483_647:
            check_int32(run_count, f"task_runs[{i}].run_count")
        state = last_state.get(run_id)
        stamp = codec.timestamp(now + i * _TICK)
        run_rows.append((
            as_uuid(run_id), as_uuid(flow_run_id), task_key, dynamic_key, cache_key, _inputs(task_inputs, codec),
            name, as_json(tags),
            _type_value(state[2]) if state is not None else None,
            state[3] if state is not None else None,
            as_uuid(state[1]) if state is not None else None,
            run_count, as_time(start_time), as_time(end_time), total_run_time, stamp, stamp,
        ))
    state_rows = [
        (as_uuid(run_id), as_uuid(state_id), _type_value(kind), name, as_time(at), message, as_json(details),
         as_json_or_null(data))
        for run_id, state_id, kind, name, at, message, details, data in unique_states
    ]
    return run_rows, state_rows


def dangling_reference(
    task_runs: Sequence[Sequence[Any]], states: Sequence[Sequence[Any]], known_flow_runs: set[str], known_task_runs: set[str]
) -> tuple[str, str, str] | None:
    """Why a batch broke a foreign key: ``(kind, id, what to do)``, or ``None`` if nothing dangles.

    Ids are compared as 32 lowercase hex digits; ``known_*`` are the stored
    ids among those the batch names.
    """
    def key(value: Any) -> str:
        return str(value).replace("-", "").lower()

    flow_runs = sorted({key(run[2]) for run in task_runs if run[2] is not None} - known_flow_runs)
    if flow_runs:
        return "flow run", flow_runs[0], "create the flow run before its task runs"
    wanted = {key(state[0]) for state in states} - {key(run[0]) for run in task_runs}
    missing = sorted(wanted - known_task_runs)
    if missing:
        return "task run", missing[0], "a state was sent for it; send the task run in the batch too"
    return None
