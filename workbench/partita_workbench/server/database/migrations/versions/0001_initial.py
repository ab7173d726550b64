"""Initial schema: flows, flow runs, task runs, their states, and logs.

Revision ID: 0001
Revises:
Create Date: 2024-06-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Timestamps are written through partita's Timestamp type (UTC); the column
# type underneath is a plain timezone-aware DateTime.
TIMESTAMP = sa.DateTime(timezone=True)


def _run_columns() -> list[sa.Column]:
    """Columns shared by flow_run and task_run (current state and run accounting)."""
    return [
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("state_type", sa.String(length=32), nullable=True),
        sa.Column("state_name", sa.String(length=255), nullable=True),
        sa.Column("state_id", sa.Uuid(), nullable=True),
        sa.Column("run_count", sa.Integer(), nullable=False),
        sa.Column("start_time", TIMESTAMP, nullable=True),
        sa.Column("end_time", TIMESTAMP, nullable=True),
        sa.Column("total_run_time", sa.Float(), nullable=False),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.Column("updated", TIMESTAMP, nullable=False),
    ]


def _state_columns() -> list[sa.Column]:
    """Columns of a state history row (after its primary key and owner)."""
    return [
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("timestamp", TIMESTAMP, nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("state_details", sa.JSON(), nullable=False),
        sa.Column("data", sa.JSON(none_as_null=True), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "flow",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=False),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.Column("updated", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow")),
        sa.UniqueConstraint("name", name=op.f("uq_flow__name")),
    )

    op.create_table(
        "flow_run",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("flow_id", sa.Uuid(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("parent_task_run_id", sa.Uuid(), nullable=True),
        *_run_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_run")),
        sa.ForeignKeyConstraint(
            ["flow_id"], ["flow.id"], name=op.f("fk_flow_run__flow_id__flow"), ondelete="CASCADE"
        ),
    )
    op.create_index(op.f("ix_flow_run__flow_id"), "flow_run", ["flow_id"])
    op.create_index(op.f("ix_flow_run__parent_task_run_id"), "flow_run", ["parent_task_run_id"])
    op.create_index(op.f("ix_flow_run__state_type"), "flow_run", ["state_type"])
    op.create_index(op.f("ix_flow_run__created"), "flow_run", ["created"])

    op.create_table(
        "flow_run_state",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("flow_run_id", sa.Uuid(), nullable=False),
        *_state_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flow_run_state")),
        sa.ForeignKeyConstraint(
            ["flow_run_id"],
            ["flow_run.id"],
            name=op.f("fk_flow_run_state__flow_run_id__flow_run"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        op.f("ix_flow_run_state__flow_run_id_timestamp"), "flow_run_state", ["flow_run_id", "timestamp"]
    )

    op.create_table(
        "task_run",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("flow_run_id", sa.Uuid(), nullable=True),
        sa.Column("task_key", sa.String(length=255), nullable=False),
        sa.Column("dynamic_key", sa.String(length=255), nullable=False),
        sa.Column("cache_key", sa.Text(), nullable=True),
        sa.Column("task_inputs", sa.JSON(), nullable=False),
        *_run_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_run")),
        sa.ForeignKeyConstraint(
            ["flow_run_id"],
            ["flow_run.id"],
            name=op.f("fk_task_run__flow_run_id__flow_run"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_task_run__flow_run_id"), "task_run", ["flow_run_id"])

    op.create_table(
        "task_run_state",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("task_run_id", sa.Uuid(), nullable=False),
        *_state_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_run_state")),
        sa.ForeignKeyConstraint(
            ["task_run_id"],
            ["task_run.id"],
            name=op.f("fk_task_run_state__task_run_id__task_run"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        op.f("ix_task_run_state__task_run_id_timestamp"), "task_run_state", ["task_run_id", "timestamp"]
    )

    op.create_table(
        "log",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("timestamp", TIMESTAMP, nullable=False),
        sa.Column("flow_run_id", sa.Uuid(), nullable=True),
        sa.Column("task_run_id", sa.Uuid(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log")),
    )
    op.create_index(op.f("ix_log__flow_run_id_timestamp"), "log", ["flow_run_id", "timestamp"])
    op.create_index(op.f("ix_log__task_run_id_timestamp"), "log", ["task_run_id", "timestamp"])


def downgrade() -> None:
    # Dropping a table drops its indexes; children before parents.
    for table in ("log", "task_run_state", "task_run", "flow_run_state", "flow_run", "flow"):
        op.drop_table(table)
