"""``/api/flows``: get-or-create by name, read, list."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Response, status
from partita.client.schemas import FlowCreate, FlowFilterFields, FlowModel

from partita_workbench.server.api.dependencies import DatabaseDep
from partita_workbench.server.operations import flows

router = APIRouter(prefix="/flows", tags=["flows"])
# what every run calls, matched before the other routes (see api_router)
engine_router = APIRouter(prefix="/flows", tags=["flows"])


@engine_router.post("/", status_code=status.HTTP_201_CREATED)
async def create_flow(body: FlowCreate, response: Response, db: DatabaseDep) -> FlowModel:
    """Create the flow ``body.name``, or return the existing one (200)."""
    async with db.write() as session:
        flow, created = await flows.get_or_create_flow(session, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return flow


@router.get("/{flow_id}")
async def read_flow(flow_id: uuid.UUID, db: DatabaseDep) -> FlowModel:
    """One flow by id."""
    async with db.read() as session:
        return await flows.read_flow(session, flow_id)


@router.post("/filter")
async def filter_flows(
    db: DatabaseDep,
    flows_filter: Annotated[FlowFilterFields | None, Body(alias="flows")] = None,
    limit: Annotated[int, Body(ge=0, le=10_000)] = 200,
    offset: Annotated[int, Body(ge=0)] = 0,
) -> list[FlowModel]:
    """Flows sorted by name; body ``{"flows": {"name": {"any_": [...]}}, "limit": .., "offset": ..}``."""
    async with db.read() as session:
        return await flows.list_flows(session, flows_filter, limit, offset)
