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
    TaskRunFilter,
    TaskRunSort,
)
from partita.states import StateType
from sqlalchemy import ColumnElement, or_
from sqlalchemy.orm import InstrumentedAttribute

from partita_workbench.server.database.models import Flow, FlowRun, Log, TaskRun
from partita_workbench.server.errors import InvalidRequest
from partita_workbench.server.operations.common import parse_uuid


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


def flow_run_where(flt: FlowRunFilter) -> list[ColumnElement[bool]]:
    """Conditions on ``flow_run`` joined with ``flow``."""
    clauses: list[ColumnElement[bool]] = []
    runs = flt.flow_runs
    if runs is not None:
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


def task_run_where(flt: TaskRunFilter) -> list[ColumnElement[bool]]:
    clauses: list[ColumnElement[bool]] = []
    runs = flt.task_runs
    if runs is not None:
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
    return clauses
