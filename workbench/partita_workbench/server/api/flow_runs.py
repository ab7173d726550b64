"""``/api/flow_runs``: create, read, filter, count, set_state."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Response, status
from partita.client.schemas import (
    FlowRunCreate,
    FlowRunFilter,
    FlowRunModel,
    OrchestrationResult,
    SetStateRequest,
)

from partita_workbench.server.api.dependencies import DatabaseDep
from partita_workbench.server.operations import flow_runs
from partita_workbench.server.operations.common import FLOW_RUN
from partita_workbench.server.operations.states import set_state

router = APIRouter(prefix="/flow_runs", tags=["flow runs"])

FilterBody = Annotated[FlowRunFilter | None, Body()]


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_flow_run(body: FlowRunCreate, response: Response, db: DatabaseDep) -> FlowRunModel:
    """Create the run ``body.id``; an existing id returns that run unchanged (200)."""
    async with db.write() as session:
        run, created = await flow_runs.create_flow_run(session, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return run


@router.get("/{flow_run_id}")
async def read_flow_run(flow_run_id: uuid.UUID, db: DatabaseDep) -> FlowRunModel:
    async with db.read() as session:
        return await flow_runs.read_flow_run(session, flow_run_id)


@router.post("/filter")
async def filter_flow_runs(db: DatabaseDep, flt: FilterBody = None) -> list[FlowRunModel]:
    async with db.read() as session:
        return await flow_runs.filter_flow_runs(session, flt or FlowRunFilter())


@router.post("/count")
async def count_flow_runs(db: DatabaseDep, flt: FilterBody = None) -> int:
    async with db.read() as session:
        return await flow_runs.count_flow_runs(session, flt or FlowRunFilter())


@router.post("/{flow_run_id}/set_state")
async def set_flow_run_state(
    flow_run_id: uuid.UUID, body: SetStateRequest, db: DatabaseDep
) -> OrchestrationResult:
    """Propose a state; the orchestration rules accept, reject or abort it."""
    async with db.write() as session:
        return await set_state(session, FLOW_RUN, flow_run_id, body.state, force=body.force)
