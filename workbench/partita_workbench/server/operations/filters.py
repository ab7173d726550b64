"""Translate the API's filter models into SQL ``WHERE`` and ``ORDER BY`` clauses.

An ``any_`` list matches rows whose column equals one of its values (an empty
list matches nothing; ``None`` in an id list also matches a NULL column).
Values that cannot match the column's type raise :class:`InvalidRequest`
(HTTP 422) instead of reaching the database.
"""

from __future__ import annotations

import uuid
from typing import Any

from partita.client.schemas import (
    AnyFilter,
    FlowRunFilter,
    FlowRunSort,
    LogFilter,
    StateFilter,
    TagsFilter,
    TaskRunFilter,
    TaskRunSort,
    TimeFilter,
)
from partita.states import StateType
from sqlalchemy import ColumnElement, cast, func, literal, not_, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from partita_workbench.server.database.models import Flow, FlowRun, Log, TaskRun
from partita_workbench.server.errors import InvalidRequest
from partita_workbench.server.operations.common import as_utc, parse_uuid
from partita_workbench.server.operations.pagination import Keyset


def any_strings(values: list[Any], where: str) -> list[str]:
    bad = [v for v in values if not isinstance(v, str)]
    if bad:
        raise InvalidRequest(f"{where}: expected strings, got {bad[0]!r}")
    return values


def any_state_types(values: list[Any], where: str) -> list[str]:
    try:
        return [StateType(v).value for v in values]
    except ValueError as exc:
        known = ", ".join(t.value for t in StateType)
        raise InvalidRequest(f"{where}: {exc}; state types are {known}") from None


def _uuid_clause(column: InstrumentedAttribute, values: list[Any], where: str) -> ColumnElement[bool]:
    ids: list[uuid.UUID] = []
    for value in values:
        if value is None:
            continue
        try:
            ids.append(parse_uuid(value))
        except (TypeError, ValueError):
            raise InvalidRequest(f"{where}: {value!r} is not a UUID") from None
    clause = column.in_(ids)
    return or_(clause, column.is_(None)) if None in values else clause


def _uuid_filter(
    column: InstrumentedAttribute, flt: AnyFilter | None, where: str
) -> list[ColumnElement[bool]]:
    if flt is None or flt.any_ is None:
        return []
    return [_uuid_clause(column, flt.any_, where)]


def _state_filter(model: type[FlowRun] | type[TaskRun], flt: StateFilter | None, where: str) -> list:
    clauses: list[ColumnElement[bool]] = []
    if flt is None:
        return clauses
    if flt.type is not None and flt.type.any_ is not None:
        clauses.append(model.state_type.in_(any_state_types(flt.type.any_, f"{where}.type.any_")))
    if flt.name is not None and flt.name.any_ is not None:
        clauses.append(model.state_name.in_(any_strings(flt.name.any_, f"{where}.name.any_")))
    return clauses


def _has_tag(column: InstrumentedAttribute, tag: str, dialect: str) -> ColumnElement[bool]:
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import JSONB  # imported only for a PostgreSQL database

        return cast(column, JSONB).contains(cast(literal([tag], JSONB), JSONB))
    each = func.json_each(column).table_valued("value")
    return select(literal(1)).select_from(each).where(each.c.value == tag).exists()


def _tags_filter(column: InstrumentedAttribute, flt: TagsFilter | None, where: str, dialect: str) -> list:
    clauses: list[ColumnElement[bool]] = []
    if flt is None:
        return clauses
    if flt.all_ is not None:
        clauses += [_has_tag(column, tag, dialect) for tag in any_strings(flt.all_, f"{where}.all_")]
    if flt.any_ is not None:
        tags = any_strings(flt.any_, f"{where}.any_")
        clauses.append(or_(*[_has_tag(column, tag, dialect) for tag in tags]) if tags else literal(False))
    if flt.is_null_ is not None:
        empty = func.json_array_length(column) == 0
        clauses.append(empty if flt.is_null_ else not_(empty))
    return clauses


def _time_filter(column: InstrumentedAttribute, flt: TimeFilter | None) -> list:
    clauses: list[ColumnElement[bool]] = []
    if flt is None:
        return clauses
    if flt.after_ is not None:
        clauses.append(column >= as_utc(flt.after_))
    if flt.before_ is not None:
        clauses.append(column <= as_utc(flt.before_))
    return clauses


def flow_run_where(flt: FlowRunFilter, dialect: str = "sqlite") -> list[ColumnElement[bool]]:
    """Conditions on ``flow_run`` joined with ``flow``; ``dialect`` picks the JSON tag test."""
    clauses: list[ColumnElement[bool]] = []
    runs = flt.flow_runs
    if runs is not None:
        clauses += _uuid_filter(FlowRun.deployment_id, runs.deployment_id, "flow_runs.deployment_id.any_")
        clauses += _tags_filter(FlowRun.tags, runs.tags, "flow_runs.tags", dialect)
        clauses += _time_filter(FlowRun.start_time, runs.start_time)
        clauses += _time_filter(FlowRun.end_time, runs.end_time)
        clauses += _time_filter(FlowRun.expected_start_time, runs.expected_start_time)
        clauses += _time_filter(FlowRun.created, runs.created)
        if runs.parent_flow_run_id is not None and runs.parent_flow_run_id.any_ is not None:
            parents = select(TaskRun.id).where(
                _uuid_clause(TaskRun.flow_run_id, runs.parent_flow_run_id.any_, "flow_runs.parent_flow_run_id.any_")
            )
            clauses.append(FlowRun.parent_task_run_id.in_(parents))
        clauses += _uuid_filter(FlowRun.id, runs.id, "flow_runs.id.any_")
        clauses += _uuid_filter(FlowRun.flow_id, runs.flow_id, "flow_runs.flow_id.any_")
        clauses += _uuid_filter(
            FlowRun.parent_task_run_id, runs.parent_task_run_id, "flow_runs.parent_task_run_id.any_"
        )
        if runs.name is not None and runs.name.any_ is not None:
            clauses.append(FlowRun.name.in_(any_strings(runs.name.any_, "flow_runs.name.any_")))
        clauses += _state_filter(FlowRun, runs.state, "flow_runs.state")
    if flt.flows is not None and flt.flows.name is not None and flt.flows.name.any_ is not None:
        clauses.append(Flow.name.in_(any_strings(flt.flows.name.any_, "flows.name.any_")))
    return clauses


def flow_run_order(sort: FlowRunSort) -> list:
    if sort is FlowRunSort.START_TIME_DESC:
        return [FlowRun.start_time.desc().nulls_last(), FlowRun.created.desc(), FlowRun.id]
    if sort is FlowRunSort.CREATED_ASC:
        return [FlowRun.created.asc(), FlowRun.id]
    if sort is FlowRunSort.NAME_ASC:
        return [FlowRun.name.asc(), FlowRun.created.desc(), FlowRun.id]
    return [FlowRun.created.desc(), FlowRun.id]


def flow_run_keyset(sort: FlowRunSort) -> Keyset | None:
    """The keyset of a sort order that cursors can follow by value (else cursors hold offsets)."""
    if sort is FlowRunSort.CREATED_DESC:
        return Keyset(FlowRun.created, FlowRun.id, descending=True)
    if sort is FlowRunSort.CREATED_ASC:
        return Keyset(FlowRun.created, FlowRun.id)
    return None


def task_run_keyset(sort: TaskRunSort) -> Keyset | None:
    if sort is TaskRunSort.CREATED_DESC:
        return Keyset(TaskRun.created, TaskRun.id, descending=True)
    if sort is TaskRunSort.CREATED_ASC:
        return Keyset(TaskRun.created, TaskRun.id)
    return None


LOG_KEYSET = Keyset(Log.timestamp, Log.id)


def task_run_where(flt: TaskRunFilter, dialect: str = "sqlite") -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    runs = flt.task_runs
    if runs is not None:
        if runs.name is not None and runs.name.any_ is not None:
            clauses.append(TaskRun.name.in_(any_strings(runs.name.any_, "task_runs.name.any_")))
        clauses += _tags_filter(TaskRun.tags, runs.tags, "task_runs.tags", dialect)
        clauses += _time_filter(TaskRun.start_time, runs.start_time)
        clauses += _time_filter(TaskRun.created, runs.created)
        clauses += _uuid_filter(TaskRun.id, runs.id, "task_runs.id.any_")
        clauses += _uuid_filter(TaskRun.flow_run_id, runs.flow_run_id, "task_runs.flow_run_id.any_")
        clauses += _state_filter(TaskRun, runs.state, "task_runs.state")
    return clauses


def task_run_order(sort: TaskRunSort) -> list:
    if sort is TaskRunSort.EXPECTED_START_TIME_ASC:  # no expected start yet: the actual one
        return [TaskRun.start_time.asc().nulls_last(), TaskRun.created.asc(), TaskRun.id]
    if sort is TaskRunSort.CREATED_DESC:
        return [TaskRun.created.desc(), TaskRun.id]
    return [TaskRun.created.asc(), TaskRun.id]


def log_where(flt: LogFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    logs = flt.logs
    if logs is not None:
        clauses += _uuid_filter(Log.flow_run_id, logs.flow_run_id, "logs.flow_run_id.any_")
        clauses += _uuid_filter(Log.task_run_id, logs.task_run_id, "logs.task_run_id.any_")
        if logs.level is not None and logs.level.ge_ is not None:
            clauses.append(Log.level >= logs.level.ge_)
        if logs.level is not None and logs.level.le_ is not None:
            clauses.append(Log.level <= logs.level.le_)
        clauses += _time_filter(Log.timestamp, logs.timestamp)
    return clauses
