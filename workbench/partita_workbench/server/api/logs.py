"""``/api/logs``: batched write, filtered and paginated read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, status
from partita.client.schemas import LogCreate, LogFilter, LogModel, Page

from partita_workbench.server.api.dependencies import BrokerDep, DatabaseDep
from partita_workbench.server.operations import logs

router = APIRouter(prefix="/logs", tags=["logs"])
# what every run calls, matched before the other routes (see api_router)
engine_router = APIRouter(prefix="/logs", tags=["logs"])

FilterBody = Annotated[LogFilter | None, Body()]


@engine_router.post("/", status_code=status.HTTP_201_CREATED)
async def create_logs(body: Annotated[list[LogCreate], Body(max_length=100_000)], db: DatabaseDep, events: BrokerDep) -> None:
    """Store a batch of log lines in one transaction."""
    async with db.write() as session:
        await logs.create_logs(session, body)
    events.logs_written(body)


@router.post("/filter")
async def filter_logs(db: DatabaseDep, flt: FilterBody = None) -> list[LogModel]:
    """Log lines matching the filter (flow run, task run, level range, time range), oldest first."""
    async with db.read() as session:
        return await logs.filter_logs(session, flt or LogFilter())


@router.post("/paginate")
async def paginate_logs(db: DatabaseDep, flt: FilterBody = None) -> Page:
    """One page of matching log lines, oldest first, with the total count and the next page's cursor."""
    async with db.read() as session:
        return await logs.page_logs(session, flt or LogFilter())
