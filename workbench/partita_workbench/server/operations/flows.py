"""Flows: get-or-create by name, read, list."""

from __future__ import annotations

import uuid

from partita.client.schemas import FlowCreate, FlowFilterFields, FlowModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from partita_workbench.server.database.models import Flow
from partita_workbench.server.database.types import utcnow
from partita_workbench.server.errors import ObjectNotFound
from partita_workbench.server.operations.common import insert_if_absent
from partita_workbench.server.operations.filters import any_strings


def flow_model(row: Flow) -> FlowModel:
    return FlowModel(id=row.id, name=row.name, tags=row.tags, created=row.created, updated=row.updated)


async def get_or_create_flow(session: AsyncSession, body: FlowCreate) -> tuple[FlowModel, bool]:
    """The flow named ``body.name``, created if new; and whether it was created.

    Two concurrent calls with one name both get the same row (the insert is
    ``ON CONFLICT DO NOTHING`` on the unique name).
    """
    now = utcnow()
    created = await insert_if_absent(
        session,
        Flow.__table__,
        {"id": uuid.uuid4(), "name": body.name, "tags": body.tags, "created": now, "updated": now},
        key="name",
    )
    row = await session.scalar(select(Flow).where(Flow.name == body.name))
    if row is None:  # only if deleted in between; report it rather than fail obscurely
        raise ObjectNotFound("flow", body.name)
    return flow_model(row), created


async def read_flow(session: AsyncSession, flow_id: uuid.UUID) -> FlowModel:
    """Raises ObjectNotFound for an unknown id."""
    row = await session.get(Flow, flow_id)
    if row is None:
        raise ObjectNotFound("flow", flow_id)
    return flow_model(row)


async def list_flows(
    session: AsyncSession, flows: FlowFilterFields | None, limit: int, offset: int
) -> list[FlowModel]:
    """Flows by name, optionally only those named in ``flows.name.any_``."""
    stmt = select(Flow).order_by(Flow.name).limit(limit).offset(offset)
    if flows is not None and flows.name is not None and flows.name.any_ is not None:
        stmt = stmt.where(Flow.name.in_(any_strings(flows.name.any_, "flows.name.any_")))
    return [flow_model(row) for row in await session.scalars(stmt)]
