"""Pieces shared by the database operations: run kinds, upserts, state conversion."""

from __future__ import annotations

import datetime as dt
import functools
import uuid
from dataclasses import dataclass
from typing import Any

from partita.client.schemas import StateModel
from partita.states import StateType
from sqlalchemy import Select, Table, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from partita_workbench.server.database.models import FlowRun, FlowRunState, TaskRun, TaskRunState
from partita_workbench.server.database.types import UTC
from partita_workbench.server.errors import InvalidRequest


@dataclass(frozen=True)
class RunKind:
    """Flow runs and task runs share state handling; this names the tables of one kind."""

    label: str
    run: type[FlowRun] | type[TaskRun]
    state: type[FlowRunState] | type[TaskRunState]
    owner_column: str  # column of the state table naming its run


FLOW_RUN = RunKind("flow run", FlowRun, FlowRunState, "flow_run_id")
TASK_RUN = RunKind("task run", TaskRun, TaskRunState, "task_run_id")


def as_utc(value: dt.datetime) -> dt.datetime:
    """``value`` as an aware UTC datetime (naive values are taken to be UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def dialect_insert(dialect: str, table: Table) -> Any:
    """``INSERT`` for ``table`` with ``on_conflict_do_*``, for the dialect named ``dialect`` (``sqlite``, ``postgresql``)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql  # imported only for a PostgreSQL database

        return postgresql.insert(table)
    return sqlite.insert(table)


@functools.cache
def _insert_if_absent_statement(dialect: str, table: Table, key: str) -> Any:
    return dialect_insert(dialect, table).on_conflict_do_nothing(index_elements=[key]).returning(table.c[key])


async def insert_if_absent(session: AsyncSession, table: Table, values: dict[str, Any], key: str) -> bool:
    """Insert one row unless a row with the same ``key`` exists; True if inserted.

    Race-safe: a concurrent insert of the same key waits, then does nothing.
    The statement is built once per table; ``values`` go in as parameters.
    """
    stmt = _insert_if_absent_statement(session.bind.dialect.name, table, key)
    result = await session.execute(stmt, values)
    return result.first() is not None


def state_row(state: StateModel) -> dict[str, Any]:
    """Column values of a state history row (without its owner column)."""
    return {
        "id": state.id,
        "type": state.type.value,
        "name": state.name,
        "timestamp": as_utc(state.timestamp),
        "message": state.message,
        "state_details": state.state_details,
        "data": state.data,
    }


def _state_from(value: Any, owner_column: str) -> StateModel:
    """The API form of a stored state whose column ``name`` is ``value(name)``.

    ``state_details`` always names the run the state belongs to
    (``flow_run_id`` or ``task_run_id``): clients may leave it out when
    writing, since the row's own column holds it.
    """
    details = dict(value("state_details") or {})
    details.setdefault(owner_column, str(value(owner_column)))
    return StateModel(
        id=value("id"),
        type=StateType(value("type")),
        name=value("name"),
        timestamp=value("timestamp"),
        message=value("message"),
        state_details=details,
        data=value("data"),
    )


def state_model(row: FlowRunState | TaskRunState) -> StateModel:
    """The API form of a stored state (an ORM row); see :func:`_state_from`."""
    owner = TASK_RUN.owner_column if isinstance(row, TaskRunState) else FLOW_RUN.owner_column
    return _state_from(lambda name: getattr(row, name), owner)


CURRENT = "current_"  # prefix of the current state's columns in a run row joined with its state


def current_state_columns(kind: RunKind) -> list[Any]:
    """The columns of ``kind``'s state table, labelled ``current_<name>``, to select beside a run's columns."""
    return [column.label(CURRENT + column.name) for column in kind.state.__table__.c]


def run_with_current_state(kind: RunKind) -> Select[Any]:
    """``SELECT`` of a run's columns with its current state's (see :func:`current_state_columns`), Core rows."""
    run, state = kind.run.__table__, kind.state.__table__
    return select(run, *current_state_columns(kind)).outerjoin(state, state.c.id == run.c.state_id)


def current_state_model(kind: RunKind, row: Any) -> StateModel | None:
    """The API form of the current state in a row with :func:`current_state_columns`; ``None`` if it has none."""
    values = row._mapping
    if values[CURRENT + "id"] is None:
        return None
    return _state_from(lambda name: values[CURRENT + name], kind.owner_column)


INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1


def check_int32(value: int, where: str) -> None:
    """Raise InvalidRequest (422) unless ``value`` fits an INTEGER column on every database."""
    if not INT32_MIN <= value <= INT32_MAX:
        raise InvalidRequest(f"{where}: {value} is out of range ({INT32_MIN} to {INT32_MAX})")


def parse_uuid(value: Any) -> uuid.UUID:
    """``value`` as a UUID; raises ValueError when it is not one."""
    if isinstance(value, uuid.UUID):
        return value
    return uuid.UUID(str(value))
