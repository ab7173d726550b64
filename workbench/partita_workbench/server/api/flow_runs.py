"""``/api/flow_runs``: create, read, filter, count, paginate, set_state, graph, result."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Response, status
from partita.client.resource_schemas import ResultRecordModel, RunGraph
from partita.client.schemas import (
    FlowRunCreate,
    FlowRunFilter,
    FlowRunModel,
    OrchestrationResult,
    Page,
    SetStateRequest,
)

from partita_workbench.server.api.dependencies import BrokerDep, DatabaseDep, StoreDep
from partita_workbench.server.operations import flow_runs
from partita_workbench.server.operations.common import FLOW_RUN
from partita_workbench.server.operations.graph import run_graph
from partita_workbench.server.operations.results import result_record
from partita_workbench.server.operations.states import set_state

router = APIRouter(prefix="/flow_runs", tags=["flow runs"])
# what every run calls, matched before the other routes (see api_router)
engine_router = APIRouter(prefix="/flow_runs", tags=["flow runs"])

FilterBody = Annotated[FlowRunFilter | None, Body()]


@engine_router.post("/", status_code=status.HTTP_201_CREATED)
async def create_flow_run(body: FlowRunCreate, response: Response, db: DatabaseDep, events: BrokerDep) -> FlowRunModel:
    """Create the run ``body.id``; an existing id returns that run unchanged (200)."""
    async with db.write() as session:
        run, created = await flow_runs.create_flow_run(session, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    elif run.state is not None:
        events.state_changed("flow run", run.id, run.id, run.name, run.state)
    return run


@router.get("/{flow_run_id}")
async def read_flow_run(flow_run_id: uuid.UUID, db: DatabaseDep) -> FlowRunModel:
    """The flow run with its current state."""
    async with db.read() as session:
        return await flow_runs.read_flow_run(session, flow_run_id)


@router.post("/filter")
async def filter_flow_runs(db: DatabaseDep, flt: FilterBody = None) -> list[FlowRunModel]:
    """Flow runs matching the filter (state, flow, deployment, tags, times, parent), sorted, one page."""
    async with db.read() as session:
        return await flow_runs.filter_flow_runs(session, flt or FlowRunFilter())


@router.post("/paginate")
async def paginate_flow_runs(db: DatabaseDep, flt: FilterBody = None) -> Page:
    """One page of the filter's flow runs with the total count and the cursor of the next page."""
    async with db.read() as session:
        return await flow_runs.page_flow_runs(session, flt or FlowRunFilter())


@router.post("/count")
async def count_flow_runs(db: DatabaseDep, flt: FilterBody = None) -> int:
    """How many flow runs match the filter (limit, offset and cursor are ignored)."""
    async with db.read() as session:
        return await flow_runs.count_flow_runs(session, flt or FlowRunFilter())


@engine_router.post("/{flow_run_id}/set_state")
async def set_flow_run_state(
    flow_run_id: uuid.UUID, body: SetStateRequest, db: DatabaseDep, events: BrokerDep
) -> OrchestrationResult:
    """Propose a state; the orchestration rules accept, reject (with the state to adopt), abort or delay it."""
    async with db.write() as session:
        result = await set_state(session, FLOW_RUN, flow_run_id, body.state, force=body.force)
    if result.state is not None and result.status.value in ("ACCEPT", "REJECT"):
        events.state_changed("flow run", flow_run_id, flow_run_id, None, result.state)
    return result


@router.get("/{flow_run_id}/graph")
async def read_flow_run_graph(flow_run_id: uuid.UUID, db: DatabaseDep) -> RunGraph:
    """The run graph: task runs and subflow runs as nodes, with states and durations, and their edges."""
    async with db.read() as session:
        return await run_graph(session, flow_run_id)


@router.get("/{flow_run_id}/result")
async def read_flow_run_result(flow_run_id: uuid.UUID, db: DatabaseDep, store: StoreDep) -> ResultRecordModel:
    """The result record of the run's current state; ``fetchable`` tells whether GET /api/results/{key} serves it."""
    async with db.read() as session:
        return await result_record(session, FLOW_RUN, flow_run_id, store)
