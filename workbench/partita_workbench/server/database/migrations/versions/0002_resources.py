"""Artifacts, variables, concurrency limits; deployment, schedule and retry policy of flow runs.

Revision ID: 0002
Revises: 0001
Create Date: 2024-06-15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TIMESTAMP = sa.DateTime(timezone=True)


def _timestamps() -> list[sa.Column]:
    return [sa.Column("created", TIMESTAMP, nullable=False), sa.Column("updated", TIMESTAMP, nullable=False)]


def upgrade() -> None:
    with op.batch_alter_table("flow_run") as batch:
        batch.add_column(sa.Column("deployment_id", sa.Uuid(), nullable=True))
        batch.add_column(sa.Column("expected_start_time", TIMESTAMP, nullable=True))
        batch.add_column(sa.Column("empirical_policy", sa.JSON(), nullable=False, server_default="{}"))
    with op.batch_alter_table("flow_run") as batch:
        batch.alter_column("empirical_policy", server_default=None)
    op.create_index(op.f("ix_flow_run__deployment_id"), "flow_run", ["deployment_id"])
    op.create_index(op.f("ix_flow_run__expected_start_time"), "flow_run", ["expected_start_time"])

    op.create_table(
        "artifact",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=True),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("flow_run_id", sa.Uuid(), nullable=True),
        sa.Column("task_run_id", sa.Uuid(), nullable=True),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_artifact")),
    )
    op.create_index(op.f("ix_artifact__flow_run_id"), "artifact", ["flow_run_id"])
    op.create_index(op.f("ix_artifact__task_run_id"), "artifact", ["task_run_id"])
    op.create_index(op.f("ix_artifact__key_created"), "artifact", ["key", "created"])

    op.create_table(
        "variable",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("value", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_variable")),
        sa.UniqueConstraint("name", name=op.f("uq_variable__name")),
    )

    op.create_table(
        "concurrency_limit",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("limit", sa.Integer(), nullable=False),
        sa.Column("active_slots", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("slot_decay_per_second", sa.Float(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concurrency_limit")),
        sa.UniqueConstraint("name", name=op.f("uq_concurrency_limit__name")),
    )
    op.create_table(
        "concurrency_slot",
        sa.Column("limit_id", sa.Uuid(), nullable=False),
        sa.Column("holder_id", sa.Uuid(), nullable=False),
        sa.Column("created", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("limit_id", "holder_id", name=op.f("pk_concurrency_slot")),
        sa.ForeignKeyConstraint(
            ["limit_id"],
            ["concurrency_limit.id"],
            name=op.f("fk_concurrency_slot__limit_id__concurrency_limit"),
            ondelete="CASCADE",
        ),
    )
    op.create_index(op.f("ix_concurrency_slot__holder_id"), "concurrency_slot", ["holder_id"])


def downgrade() -> None:
    for table in ("concurrency_slot", "concurrency_limit", "variable", "artifact"):
        op.drop_table(table)
    op.drop_index(op.f("ix_flow_run__expected_start_time"), table_name="flow_run")
    op.drop_index(op.f("ix_flow_run__deployment_id"), table_name="flow_run")
    with op.batch_alter_table("flow_run") as batch:
        batch.drop_column("empirical_policy")
        batch.drop_column("expected_start_time")
        batch.drop_column("deployment_id")
