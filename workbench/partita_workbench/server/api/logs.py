"""``/api/logs``: bulk write and filtered read."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, status
from partita.client.schemas import LogCreate, LogFilter, LogModel

from partita_workbench.server.api.dependencies import DatabaseDep
from partita_workbench.server.operations import logs

router = APIRouter(prefix="/logs", tags=["logs"])


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_logs(body: list[LogCreate], db: DatabaseDep) -> None:
    """Store log lines in one transaction."""
    async with db.write() as session:
        await logs.create_logs(session, body)


@router.post("/filter")
async def filter_logs(db: DatabaseDep, flt: Annotated[LogFilter | None, Body()] = None) -> list[LogModel]:
    """Matching log lines, oldest first."""
    async with db.read() as session:
        return await logs.filter_logs(session, flt or LogFilter())
