"""Concurrency limits: global named limits (``/api/v2/concurrency_limits``) and tag limits
(``/api/concurrency_limits``), laid out as Prefect's two APIs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, status
from partita.client.resource_schemas import (
    ConcurrencyLimitCreate,
    ConcurrencyLimitModel,
    ConcurrencyLimitUpdate,
    ConcurrencySlotRequest,
    MinimalConcurrencyLimit,
    TagConcurrencyLimitCreate,
    TagConcurrencyLimitModel,
)

from partita_workbench.server.api.dependencies import DatabaseDep
from partita_workbench.server.operations import concurrency_limits as ops

router = APIRouter(tags=["concurrency limits"])

IdOrName = Annotated[str, Path(min_length=1, max_length=255)]
Limit = Annotated[int, Body(ge=0, le=10_000)]
Offset = Annotated[int, Body(ge=0, le=2**31 - 1)]


@router.post("/v2/concurrency_limits/", status_code=status.HTTP_201_CREATED)
async def create_concurrency_limit(body: ConcurrencyLimitCreate, db: DatabaseDep) -> ConcurrencyLimitModel:
    """Create a global limit (409 if the name exists)."""
    async with db.write() as session:
        return await ops.create_limit(session, body)


@router.get("/v2/concurrency_limits/{id_or_name}")
async def read_concurrency_limit(id_or_name: IdOrName, db: DatabaseDep) -> ConcurrencyLimitModel:
    """A global limit by id or name."""
    async with db.read() as session:
        return await ops.read_limit(session, id_or_name)


@router.patch("/v2/concurrency_limits/{id_or_name}")
async def update_concurrency_limit(
    id_or_name: IdOrName, body: ConcurrencyLimitUpdate, db: DatabaseDep
) -> ConcurrencyLimitModel:
    """Change a limit's size or switch it on or off."""
    async with db.write() as session:
        return await ops.update_limit(session, id_or_name, body)


@router.delete("/v2/concurrency_limits/{id_or_name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_concurrency_limit(id_or_name: IdOrName, db: DatabaseDep) -> None:
    """Delete a global limit (its held slots go with it)."""
    async with db.write() as session:
        await ops.delete_limit(session, id_or_name)


@router.post("/v2/concurrency_limits/filter")
async def filter_concurrency_limits(db: DatabaseDep, limit: Limit = 200, offset: Offset = 0) -> list[ConcurrencyLimitModel]:
    """Global limits sorted by name (tag limits appear as ``tag:<tag>``)."""
    async with db.read() as session:
        return await ops.list_limits(session, limit, offset)


@router.post("/v2/concurrency_limits/increment")
async def increment_concurrency_slots(body: ConcurrencySlotRequest, db: DatabaseDep) -> list[MinimalConcurrencyLimit]:
    """Take ``slots`` of each named limit, all or none; 423 when one lacks room (try again later)."""
    async with db.write() as session:
        return await ops.increment(session, body.names, body.slots, body.create_if_missing)


@router.post("/v2/concurrency_limits/decrement")
async def decrement_concurrency_slots(body: ConcurrencySlotRequest, db: DatabaseDep) -> list[MinimalConcurrencyLimit]:
    """Give back ``slots`` of each named limit."""
    async with db.write() as session:
        return await ops.decrement(session, body.names, body.slots)


@router.post("/concurrency_limits/")
async def create_tag_concurrency_limit(body: TagConcurrencyLimitCreate, db: DatabaseDep) -> TagConcurrencyLimitModel:
    """Limit how many task runs tagged ``tag`` may be RUNNING at once (creates or resizes)."""
    async with db.write() as session:
        return await ops.upsert_tag_limit(session, body)


@router.get("/concurrency_limits/tag/{tag}")
async def read_tag_concurrency_limit(tag: IdOrName, db: DatabaseDep) -> TagConcurrencyLimitModel:
    """A tag's limit, with the ids of the task runs holding its slots."""
    async with db.read() as session:
        return await ops.read_tag_limit(session, tag)


@router.delete("/concurrency_limits/tag/{tag}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_tag_concurrency_limit(tag: IdOrName, db: DatabaseDep) -> None:
    """Remove a tag's limit."""
    async with db.write() as session:
        await ops.delete_tag_limit(session, tag)


@router.post("/concurrency_limits/filter")
async def filter_tag_concurrency_limits(
    db: DatabaseDep, limit: Limit = 200, offset: Offset = 0
) -> list[TagConcurrencyLimitModel]:
    """Tag limits sorted by tag."""
    async with db.read() as session:
        return await ops.list_tag_limits(session, limit, offset)
