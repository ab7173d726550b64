"""``/api/task_runs``: create, read, filter, count, paginate, set_state, result and the write-behind batch."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Response, status
from partita.client.resource_schemas import ResultRecordModel
from partita.client.schemas import (
    BatchResult,
    OrchestrationResult,
    Page,
    SetStateRequest,
    StateModel,
    TaskRunBatch,
    TaskRunCreate,
    TaskRunFilter,
    TaskRunModel,
)

from partita_workbench.server.api.dependencies import BrokerDep, DatabaseDep, StoreDep
from partita_workbench.server.events import EventBroker
from partita_workbench.server.operations import task_runs
from partita_workbench.server.operations.common import TASK_RUN
from partita_workbench.server.operations.results import result_record
from partita_workbench.server.operations.states import set_state

router = APIRouter(prefix="/task_runs", tags=["task runs"])

FilterBody = Annotated[TaskRunFilter | None, Body()]


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_task_run(body: TaskRunCreate, response: Response, db: DatabaseDep, events: BrokerDep) -> TaskRunModel:
    """Create the task run ``body.id``; an existing id returns it unchanged (200)."""
    async with db.write() as session:
        run, created = await task_runs.create_task_run(session, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    elif run.state is not None:
        events.state_changed("task run", run.id, run.flow_run_id, run.name, run.state)
    return run


def _publish_batch(events: EventBroker, batch: TaskRunBatch) -> None:
    if not events.subscribers:
        return
    runs = {run.id: run for run in batch.task_runs}
    seen: set[uuid.UUID] = set()
    for sent in batch.states:
        run = runs.get(sent.task_run_id)
        seen.add(sent.id)
        state = StateModel.model_validate(sent.model_dump(exclude={"task_run_id"}))
        events.state_changed("task run", sent.task_run_id, run.flow_run_id if run else None, run.name if run else None, state)
    for run in runs.values():
        if run.state is not None and run.state.id not in seen:
            events.state_changed("task run", run.id, run.flow_run_id, run.name, run.state)


@router.post("/batch")
async def apply_batch(body: TaskRunBatch, db: DatabaseDep, events: BrokerDep) -> BatchResult:
    """Upsert task runs and append states in one transaction (the SDK's write-behind path)."""
    async with db.write() as session:
        result = await task_runs.apply_batch(session, body)
    _publish_batch(events, body)
    return result


@router.get("/{task_run_id}")
async def read_task_run(task_run_id: uuid.UUID, db: DatabaseDep) -> TaskRunModel:
    """The task run with its current state."""
    async with db.read() as session:
        return await task_runs.read_task_run(session, task_run_id)


@router.post("/filter")
async def filter_task_runs(db: DatabaseDep, flt: FilterBody = None) -> list[TaskRunModel]:
    """Task runs matching the filter (flow run, state, name, tags, times), sorted, one page."""
    async with db.read() as session:
        return await task_runs.filter_task_runs(session, flt or TaskRunFilter())


@router.post("/paginate")
async def paginate_task_runs(db: DatabaseDep, flt: FilterBody = None) -> Page:
    """One page of the filter's task runs with the total count and the cursor of the next page."""
    async with db.read() as session:
        return await task_runs.page_task_runs(session, flt or TaskRunFilter())


@router.post("/count")
async def count_task_runs(db: DatabaseDep, flt: FilterBody = None) -> int:
    """How many task runs match the filter."""
    async with db.read() as session:
        return await task_runs.count_task_runs(session, flt or TaskRunFilter())


@router.post("/{task_run_id}/set_state")
async def set_task_run_state(
    task_run_id: uuid.UUID, body: SetStateRequest, db: DatabaseDep, events: BrokerDep
) -> OrchestrationResult:
    """Propose a state; the orchestration rules accept, reject (with the state to adopt), abort or delay it."""
    async with db.write() as session:
        result = await set_state(session, TASK_RUN, task_run_id, body.state, force=body.force)
        flow_run_id = (await task_runs.read_task_run(session, task_run_id)).flow_run_id
    if result.state is not None and result.status.value in ("ACCEPT", "REJECT"):
        events.state_changed("task run", task_run_id, flow_run_id, None, result.state)
    return result


@router.get("/{task_run_id}/result")
async def read_task_run_result(task_run_id: uuid.UUID, db: DatabaseDep, store: StoreDep) -> ResultRecordModel:
    """The result record of the task run's current state; ``fetchable`` tells whether GET /api/results/{key} serves it."""
    async with db.read() as session:
        return await result_record(session, TASK_RUN, task_run_id, store)
