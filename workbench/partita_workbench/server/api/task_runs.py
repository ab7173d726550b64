"""``/api/task_runs``: create, read, filter, count, set_state and the write-behind batch."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response, status
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from partita.client.schemas import (
    BatchResult,
    OrchestrationResult,
    SetStateRequest,
    TaskRunBatch,
    TaskRunCreate,
    TaskRunFilter,
    TaskRunModel,
)

from partita_workbench.server.api.dependencies import DatabaseDep
from partita_workbench.server.operations import task_runs
from partita_workbench.server.operations.common import TASK_RUN
from partita_workbench.server.operations.states import set_state

router = APIRouter(prefix="/task_runs", tags=["task runs"])

FilterBody = Annotated[TaskRunFilter | None, Body()]


def _schema_without_defs(model: Any) -> dict[str, Any]:
    """``model``'s JSON Schema referring to the OpenAPI components (FastAPI registers the nested models)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    return schema


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_task_run(body: TaskRunCreate, response: Response, db: DatabaseDep) -> TaskRunModel:
    """Create the task run ``body.id``; an existing id returns it unchanged (200)."""
    async with db.write() as session:
        run, created = await task_runs.create_task_run(session, body)
    if not created:
        response.status_code = status.HTTP_200_OK
    return run


@router.post(
    "/batch",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _schema_without_defs(TaskRunBatch)}},
        }
    },
)
async def apply_batch(request: Request, db: DatabaseDep) -> BatchResult:
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
        return await task_runs.apply_batch(session, batch)


def _with_body_location(errors: list[Any]) -> list[Any]:
    """Errors located as FastAPI locates body errors (``["body", ...]``)."""
    return [{**e, "loc": ("body", *e.get("loc", ()))} for e in errors]


@router.get("/{task_run_id}")
async def read_task_run(task_run_id: uuid.UUID, db: DatabaseDep) -> TaskRunModel:
    async with db.read() as session:
        return await task_runs.read_task_run(session, task_run_id)


@router.post("/filter")
async def filter_task_runs(db: DatabaseDep, flt: FilterBody = None) -> list[TaskRunModel]:
    async with db.read() as session:
        return await task_runs.filter_task_runs(session, flt or TaskRunFilter())


@router.post("/count")
async def count_task_runs(db: DatabaseDep, flt: FilterBody = None) -> int:
    async with db.read() as session:
        return await task_runs.count_task_runs(session, flt or TaskRunFilter())


@router.post("/{task_run_id}/set_state")
async def set_task_run_state(
    task_run_id: uuid.UUID, body: SetStateRequest, db: DatabaseDep
) -> OrchestrationResult:
    """Propose a state; the orchestration rules accept, reject or abort it."""
    async with db.write() as session:
        return await set_state(session, TASK_RUN, task_run_id, body.state, force=body.force)
