"""Log lines: bulk insert and filtered reads."""

from __future__ import annotations

import uuid

from partita.client.schemas import LogCreate, LogFilter, LogModel, Page
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from partita_workbench.server.database.models import Log
from partita_workbench.server.operations.bulk import codec_for, execute_many
from partita_workbench.server.operations.common import check_int32
from partita_workbench.server.operations.filters import LOG_KEYSET, log_where
from partita_workbench.server.operations.pagination import next_cursor, page_window

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


def _log_model(row: Log) -> LogModel:
    return LogModel(
        id=row.id,
        name=row.name,
        level=row.level,
        message=row.message,
        timestamp=row.timestamp,
        flow_run_id=row.flow_run_id,
        task_run_id=row.task_run_id,
    )


async def page_logs(session: AsyncSession, flt: LogFilter, with_count: bool = True) -> Page:
    """One page of matching log lines, oldest first, from ``flt.cursor`` or ``flt.offset``."""
    extra, offset = page_window(flt.cursor, flt.offset, LOG_KEYSET)
    stmt = (
        select(Log)
        .where(*log_where(flt), *extra)
        .order_by(Log.timestamp, Log.id)
        .limit(flt.limit + 1)
        .offset(offset)
    )
    rows = list(await session.scalars(stmt))
    cursor = next_cursor(rows, flt.limit, offset, LOG_KEYSET, lambda row: (row.timestamp, row.id))
    results = [_log_model(row) for row in rows[: flt.limit]]
    count = len(results)
    if with_count:
        count = int(await session.scalar(select(func.count()).select_from(Log).where(*log_where(flt))) or 0)
    return Page(results=results, count=count, limit=flt.limit, next_cursor=cursor)


async def filter_logs(session: AsyncSession, flt: LogFilter) -> list[LogModel]:
    """Matching log lines, oldest first."""
    return (await page_logs(session, flt, with_count=False)).results
