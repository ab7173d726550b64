"""Global named concurrency limits and tag limits (the limits named ``tag:<tag>``).

``increment`` takes slots of several limits at once or none: the limit rows
are locked (PostgreSQL ``FOR UPDATE``, in name order; SQLite's write lock) and
checked before any is changed. Slots held by task runs are
:class:`~partita_workbench.server.database.models.ConcurrencySlot` rows
(see :mod:`partita_workbench.server.orchestration.concurrency`).
"""

from __future__ import annotations

import uuid

from partita.client.resource_schemas import (
    ConcurrencyLimitCreate,
    ConcurrencyLimitModel,
    ConcurrencyLimitUpdate,
    MinimalConcurrencyLimit,
    TagConcurrencyLimitCreate,
    TagConcurrencyLimitModel,
)
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from partita_workbench.server.database.models import ConcurrencyLimit, ConcurrencySlot
from partita_workbench.server.database.types import utcnow
from partita_workbench.server.errors import ObjectConflict, ObjectNotFound, ServerError
from partita_workbench.server.orchestration.concurrency import TAG_PREFIX, tag_limit_name


class SlotsUnavailable(ServerError):
    """423: a limit has too few free slots; try again later (as Prefect's increment endpoint)."""

    status_code = 423


def limit_model(row: ConcurrencyLimit) -> ConcurrencyLimitModel:
    return ConcurrencyLimitModel(
        id=row.id,
        name=row.name,
        limit=row.limit,
        active=row.active,
        active_slots=row.active_slots,
        slot_decay_per_second=row.slot_decay_per_second,
        created=row.created,
        updated=row.updated,
    )


async def create_limit(session: AsyncSession, body: ConcurrencyLimitCreate) -> ConcurrencyLimitModel:
    """Raises ObjectConflict when the name is taken."""
    if await session.scalar(select(ConcurrencyLimit.id).where(ConcurrencyLimit.name == body.name)):
        raise ObjectConflict(f"a concurrency limit named {body.name!r} exists; update it with PATCH")
    row = ConcurrencyLimit(**body.model_dump())
    session.add(row)
    await session.flush()
    return limit_model(row)


async def _get(session: AsyncSession, id_or_name: str, lock: bool = False) -> ConcurrencyLimit:
    try:
        clause = ConcurrencyLimit.id == uuid.UUID(id_or_name)
    except ValueError:
        clause = ConcurrencyLimit.name == id_or_name
    stmt = select(ConcurrencyLimit).where(clause)
    if lock and session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    row = await session.scalar(stmt)
    if row is None:
        raise ObjectNotFound("concurrency limit", id_or_name)
    return row


async def read_limit(session: AsyncSession, id_or_name: str) -> ConcurrencyLimitModel:
    return limit_model(await _get(session, id_or_name))


async def update_limit(session: AsyncSession, id_or_name: str, body: ConcurrencyLimitUpdate) -> ConcurrencyLimitModel:
    row = await _get(session, id_or_name, lock=True)
    for name, value in body.model_dump(exclude_none=True).items():
        setattr(row, name, value)
    row.updated = utcnow()
    await session.flush()
    return limit_model(row)


async def delete_limit(session: AsyncSession, id_or_name: str) -> None:
    row = await _get(session, id_or_name)
    await session.delete(row)


async def list_limits(session: AsyncSession, limit: int, offset: int) -> list[ConcurrencyLimitModel]:
    stmt = select(ConcurrencyLimit).order_by(ConcurrencyLimit.name).limit(limit).offset(offset)
    return [limit_model(row) for row in await session.scalars(stmt)]


async def _locked(session: AsyncSession, names: list[str]) -> list[ConcurrencyLimit]:
    stmt = select(ConcurrencyLimit).where(ConcurrencyLimit.name.in_(sorted(set(names)))).order_by(ConcurrencyLimit.name)
    if session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update()
    return list(await session.scalars(stmt))


async def increment(
    session: AsyncSession, names: list[str], slots: int, create_if_missing: bool = False
) -> list[MinimalConcurrencyLimit]:
    """Take ``slots`` of every active limit in ``names``, all or none.

    Raises:
        SlotsUnavailable: a limit lacks room (nothing is taken); 423.
    """
    rows = await _locked(session, names)
    if create_if_missing:
        known = {row.name for row in rows}
        for name in sorted(set(names) - known):
            row = ConcurrencyLimit(name=name, limit=slots, active_slots=0, active=True, slot_decay_per_second=0.0)
            session.add(row)
            rows.append(row)
        await session.flush()
    active = [row for row in rows if row.active]
    short = [row for row in active if row.active_slots + slots > row.limit]
    if short:
        described = ", ".join(f"{row.name} ({row.active_slots}/{row.limit} taken)" for row in short)
        raise SlotsUnavailable(f"not enough free slots for {slots}: {described}; try again later")
    for row in active:
        row.active_slots += slots
        row.updated = utcnow()
    await session.flush()
    return [MinimalConcurrencyLimit(id=row.id, name=row.name, limit=row.limit) for row in active]


async def decrement(session: AsyncSession, names: list[str], slots: int) -> list[MinimalConcurrencyLimit]:
    """Give back ``slots`` of every limit in ``names`` (never below zero)."""
    rows = await _locked(session, names)
    for row in rows:
        row.active_slots = max(0, row.active_slots - slots)
        row.updated = utcnow()
    await session.flush()
    return [MinimalConcurrencyLimit(id=row.id, name=row.name, limit=row.limit) for row in rows]


# --------------------------------------------------------------------------- tag limits


async def _tag_model(session: AsyncSession, row: ConcurrencyLimit) -> TagConcurrencyLimitModel:
    holders = list(await session.scalars(select(ConcurrencySlot.holder_id).where(ConcurrencySlot.limit_id == row.id)))
    return TagConcurrencyLimitModel(
        id=row.id,
        tag=row.name[len(TAG_PREFIX) :],
        concurrency_limit=row.limit,
        active_slots=sorted(holders, key=str),
        created=row.created,
        updated=row.updated,
    )


async def upsert_tag_limit(session: AsyncSession, body: TagConcurrencyLimitCreate) -> TagConcurrencyLimitModel:
    """Create the tag's limit, or change its size (as Prefect's ``POST /concurrency_limits/``)."""
    name = tag_limit_name(body.tag)
    row = await session.scalar(select(ConcurrencyLimit).where(ConcurrencyLimit.name == name))
    if row is None:
        row = ConcurrencyLimit(name=name, limit=body.concurrency_limit, active_slots=0, active=True, slot_decay_per_second=0.0)
        session.add(row)
    else:
        row.limit = body.concurrency_limit
        row.updated = utcnow()
    await session.flush()
    return await _tag_model(session, row)


async def read_tag_limit(session: AsyncSession, tag: str) -> TagConcurrencyLimitModel:
    return await _tag_model(session, await _get(session, tag_limit_name(tag)))


async def delete_tag_limit(session: AsyncSession, tag: str) -> None:
    row = await _get(session, tag_limit_name(tag))
    await session.execute(delete(ConcurrencySlot).where(ConcurrencySlot.limit_id == row.id))
    await session.delete(row)


async def list_tag_limits(session: AsyncSession, limit: int, offset: int) -> list[TagConcurrencyLimitModel]:
    stmt = (
        select(ConcurrencyLimit)
        .where(ConcurrencyLimit.name.startswith(TAG_PREFIX, autoescape=True))
        .order_by(ConcurrencyLimit.name)
        .limit(limit)
        .offset(offset)
    )
    return [await _tag_model(session, row) for row in await session.scalars(stmt)]
