"""Log lines: bulk insert and filtered reads."""

from __future__ import annotations

import uuid

from partita.client.schemas import LogCreate, LogFilter, LogModel
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from partita_workbench.server.database.models import Log
from partita_workbench.server.operations.bulk import codec_for, execute_many
from partita_workbench.server.operations.common import check_int32
from partita_workbench.server.operations.filters import log_where

# Bulk rows are tuples in the table's column order (checked when the statement is compiled).
_LOG_COLUMNS = tuple(Log.__table__.columns.keys())


async def create_logs(session: AsyncSession, logs: list[LogCreate]) -> int:
    """Insert ``logs`` in one bulk statement; returns how many were written."""
    if not logs:
        return 0
    for i, log in enumerate(logs):
        check_int32(log.level, f"logs[{i}].level")
    codec = codec_for(session)
    rows = [
        (
            codec.uuid(uuid.uuid4()),
            log.name,
            log.level,
            log.message,
            codec.timestamp(log.timestamp),
            codec.uuid(log.flow_run_id),
            codec.uuid(log.task_run_id),
        )
        for log in logs
    ]
    await execute_many(session, insert(Log.__table__), _LOG_COLUMNS, rows, "insert logs")
    return len(rows)


async def filter_logs(session: AsyncSession, flt: LogFilter) -> list[LogModel]:
    """Matching log lines, oldest first."""
    stmt = (
        select(Log).where(*log_where(flt)).order_by(Log.timestamp, Log.id).limit(flt.limit).offset(flt.offset)
    )
    return [
        LogModel(
            id=row.id,
            name=row.name,
            level=row.level,
            message=row.message,
            timestamp=row.timestamp,
            flow_run_id=row.flow_run_id,
            task_run_id=row.task_run_id,
        )
        for row in await session.scalars(stmt)
    ]
