"""``/api/task_runs``: create, read, filter, count, paginate, set_state, result and the write-behind batch."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from partita.client.resource_schemas import ResultRecordModel
from partita.client.schemas import (
    BatchResult,
    OrchestrationResult,
    Page,
    StateModel,
    SetStateRequest,
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
# what every run calls, matched before the other routes (see api_router)
engine_router = APIRouter(prefix="/task_runs", tags=["task runs"])

FilterBody = Annotated[TaskRunFilter | None, Body()]


def _schema_without_defs(model: Any) -> dict[str, Any]:
    """``model``'s JSON Schema referring to the OpenAPI components (FastAPI registers the nested models)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema


@engine_router.post("/", status_code=status.HTTP_201_CREATED)
async def create_task_run(body: TaskRunCreate, response: Response, db: DatabaseDep, events: BrokerDep) -> TaskRunModel:
    """Create the task run ``body.id``; an existing id returns it unchanged (200)."""
    async with db.write() as session:
        run, created = await task_runs.create_task_run(session, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    elif run.state is not None:
        events.state_changed("task run", run.id, run.flow_run_id, run.name, run.state)
    return run


def publish_batch(events: EventBroker, task_runs: Sequence[Sequence[Any]], states: Sequence[Sequence[Any]]) -> None:
    """One state event per state of a batch, in order, with its task run's flow run when sent along.

    ``task_runs`` and ``states`` are the batch's ``TaskRunRow`` and ``TaskRunStateRow`` arrays.
    """
    if not events.wanted:
        return
    runs = {row[0]: row for row in task_runs}
    for task_run_id, state_id, type_, name, timestamp, message, details, data in states:
        run = runs.get(task_run_id)
        state = StateModel(id=state_id, type=type_, name=name, timestamp=timestamp, message=message,
                           state_details=details, data=data)
        events.state_changed("task run", task_run_id, run[2] if run else None, run[1] if run else None, state)


@engine_router.post(
    "/batch",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _schema_without_defs(TaskRunBatch)}},
        }
    },
)
async def apply_batch(request: Request, db: DatabaseDep, events: BrokerDep) -> BatchResult:
    """Upsert task runs and append states in one transaction (the SDK's write-behind path).

    The body (a :class:`TaskRunBatch`) is parsed and validated in one step by
    pydantic-core straight from the request bytes: batches carry thousands of
    rows, and this is several times quicker than decoding JSON first.
    """
    body = await request.body()
    try:
        batch = TaskRunBatch.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError(_with_body_location(exc.errors(include_url=False))) from None
    async with db.write() as session:
        result = await task_runs.apply_batch(session, batch)
    publish_batch(events, batch.task_runs, batch.states)
    return result


def _with_body_location(errors: list[Any]) -> list[Any]:
    """Errors located as FastAPI locates body errors (``["body", ...]``).

    An ``input`` that is raw bytes (a body that is not JSON, or not UTF-8) is
    shown decoded with replacement characters, so the 422 answer can always
    be written as JSON.
    """
    located = []
    for error in errors:
        error = {**error, "loc": ("body", *error.get("loc", ()))}
        if isinstance(error.get("input"), (bytes, bytearray)):
            error["input"] = bytes(error["input"][:200]).decode("utf-8", errors="replace")
        located.append(error)
    return located


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


@engine_router.post("/{task_run_id}/set_state")
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
