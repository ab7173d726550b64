"""ORM models of the backend database (SQLAlchemy 2, typed ``Mapped`` columns).

Tables::

    flow            one row per flow name
    flow_run        a run of a flow; current state denormalised onto the row
    flow_run_state  every state a flow run has been in (history)
    task_run        a run of a task inside a flow run (upserted by write-behind batches)
    task_run_state  every state a task run has been in (history)
    log             log lines of flow runs and task runs
    artifact        markdown, table, link, progress and image artifacts (keyed ones keep versions)
    variable        named JSON values (``partita.variables``)
    concurrency_limit   global named limits; tag limits are the limits named ``tag:<tag>``
    concurrency_slot    which task run holds a slot of which limit while it is RUNNING

Constraint and index names follow :data:`NAMING_CONVENTION`, so Alembic sees
the same names the initial migration creates. Ids are client-chosen UUIDs;
timestamps are timezone-aware UTC (:class:`~.types.Timestamp`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, MetaData, String, Text, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from partita_workbench.server.database.types import Timestamp, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s__%(column_0_N_name)s",
    "uq": "uq_%(table_name)s__%(column_0_N_name)s",
    "ck": "ck_%(table_name)s__%(constraint_name)s",
    "fk": "fk_%(table_name)s__%(column_0_name)s__%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

STATE_TYPE_LENGTH = 32
NAME_LENGTH = 255


class Base(DeclarativeBase):
    """Declarative base; its metadata carries the naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        dt.datetime: Timestamp(),
        uuid.UUID: Uuid(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class _Timestamps:
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class _RunColumns(_Timestamps):
    """Columns shared by flow runs and task runs: the current state and run accounting."""

    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    tags: Mapped[list[str]] = mapped_column(default=list)
    state_type: Mapped[str | None] = mapped_column(String(STATE_TYPE_LENGTH))
    state_name: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    state_id: Mapped[uuid.UUID | None]
    run_count: Mapped[int] = mapped_column(Integer, default=0)
    start_time: Mapped[dt.datetime | None]
    end_time: Mapped[dt.datetime | None]
    total_run_time: Mapped[float] = mapped_column(Float, default=0.0)


class _StateColumns:
    """Columns of one stored state (history row)."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(STATE_TYPE_LENGTH))
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    timestamp: Mapped[dt.datetime]
    message: Mapped[str | None] = mapped_column(Text)
    state_details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class Flow(_Timestamps, Base):
    __tablename__ = "flow"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    tags: Mapped[list[str]] = mapped_column(default=list)


class FlowRun(_RunColumns, Base):
    __tablename__ = "flow_run"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    flow_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("flow.id", ondelete="CASCADE"), index=True)
    parameters: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # No foreign key: a subflow's run is created synchronously while its parent
    # task run may still sit in the write-behind queue.
    parent_task_run_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    # No foreign key: deployments are recorded by their own part of the backend.
    deployment_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    # When a SCHEDULED run is due (its state's ``scheduled_time``); read by the late-run marker.
    expected_start_time: Mapped[dt.datetime | None]
    # Server-side retries (Prefect's ``empirical_policy``): {"retries": n, "retry_delay": seconds}.
    empirical_policy: Mapped[dict[str, Any]] = mapped_column(default=dict)

    __table_args__ = (
        Index("ix_flow_run__state_type", "state_type"),
        Index("ix_flow_run__created", "created"),
        Index("ix_flow_run__expected_start_time", "expected_start_time"),
    )


class FlowRunState(_StateColumns, Base):
    __tablename__ = "flow_run_state"

    flow_run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("flow_run.id", ondelete="CASCADE"))

    __table_args__ = (Index("ix_flow_run_state__flow_run_id_timestamp", "flow_run_id", "timestamp"),)


class TaskRun(_RunColumns, Base):
    __tablename__ = "task_run"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    flow_run_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("flow_run.id", ondelete="CASCADE"), index=True
    )
    task_key: Mapped[str] = mapped_column(String(NAME_LENGTH))
    dynamic_key: Mapped[str] = mapped_column(String(NAME_LENGTH), default="0")
    cache_key: Mapped[str | None] = mapped_column(Text)
    task_inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)


class TaskRunState(_StateColumns, Base):
    __tablename__ = "task_run_state"

    task_run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("task_run.id", ondelete="CASCADE"))

    __table_args__ = (Index("ix_task_run_state__task_run_id_timestamp", "task_run_id", "timestamp"),)


class Log(Base):
    __tablename__ = "log"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    level: Mapped[int] = mapped_column(Integer)
    message: Mapped[str] = mapped_column(Text)
    timestamp: Mapped[dt.datetime]
    # No foreign keys: log lines may arrive before the task run they belong to.
    flow_run_id: Mapped[uuid.UUID | None]
    task_run_id: Mapped[uuid.UUID | None]

    __table_args__ = (
        Index("ix_log__flow_run_id_timestamp", "flow_run_id", "timestamp"),
        Index("ix_log__task_run_id_timestamp", "task_run_id", "timestamp"),
    )


class Artifact(_Timestamps, Base):
    """One artifact; artifacts sharing a ``key`` are the versions of that key, newest last."""

    __tablename__ = "artifact"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    key: Mapped[str | None] = mapped_column(String(NAME_LENGTH))
    type: Mapped[str] = mapped_column(String(STATE_TYPE_LENGTH))
    description: Mapped[str | None] = mapped_column(Text)
    data: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", default=dict)
    # No foreign keys: artifacts may be sent before the write-behind queue has sent their task run.
    flow_run_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    task_run_id: Mapped[uuid.UUID | None] = mapped_column(index=True)

    __table_args__ = (Index("ix_artifact__key_created", "key", "created"),)


class Variable(_Timestamps, Base):
    __tablename__ = "variable"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    value: Mapped[Any] = mapped_column(JSON(none_as_null=True), nullable=True)
    tags: Mapped[list[str]] = mapped_column(default=list)


class ConcurrencyLimit(_Timestamps, Base):
    """A named limit on concurrent work (Prefect's global concurrency limit).

    ``active_slots`` counts the slots taken, by ``partita.concurrency()`` and by
    task runs holding a :class:`ConcurrencySlot`.
    """

    __tablename__ = "concurrency_limit"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH), unique=True)
    limit: Mapped[int] = mapped_column(Integer)
    active_slots: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    slot_decay_per_second: Mapped[float] = mapped_column(Float, default=0.0)


class ConcurrencySlot(Base):
    """A slot of ``limit_id`` held by the task run ``holder_id`` while it is RUNNING."""

    __tablename__ = "concurrency_slot"

    limit_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("concurrency_limit.id", ondelete="CASCADE"), primary_key=True
    )
    holder_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, index=True)
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)
