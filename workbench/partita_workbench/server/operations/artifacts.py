"""Artifacts: markdown, tables, links, progress and images attached to runs; keyed ones keep versions.

Every artifact is a row; artifacts with the same ``key`` are that key's
versions, the newest being the latest (as Prefect's artifact collections).
Data is checked against its type on the way in, so readers can rely on it.
"""

from __future__ import annotations

import uuid
from typing import Any

from partita.client.resource_schemas import (
    ArtifactCreate,
    ArtifactFilter,
    ArtifactModel,
    ArtifactSort,
    ArtifactType,
    ArtifactUpdate,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from partita_workbench.server.database.models import Artifact
from partita_workbench.server.database.types import utcnow
from partita_workbench.server.errors import InvalidRequest, ObjectNotFound
from partita_workbench.server.operations.filters import _uuid_filter, any_strings
from partita_workbench.server.storage import check_key


def artifact_model(row: Artifact) -> ArtifactModel:
    return ArtifactModel(
        id=row.id,
        key=row.key,
        type=ArtifactType(row.type),
        description=row.description,
        data=row.data,
        metadata_=row.metadata_ or {},
        flow_run_id=row.flow_run_id,
        task_run_id=row.task_run_id,
        created=row.created,
        updated=row.updated,
    )


def check_data(kind: ArtifactType, data: Any) -> None:
    """Raise InvalidRequest unless ``data`` has the shape of its artifact type (see ``ArtifactCreate``)."""
    problem = None
    if kind is ArtifactType.MARKDOWN and not isinstance(data, str):
        problem = "a markdown artifact's data is its text (a string)"
    elif kind is ArtifactType.TABLE and not (
        (isinstance(data, list) and all(isinstance(row, (dict, list)) for row in data))
        or (isinstance(data, dict) and all(isinstance(col, list) for col in data.values()))
    ):
        problem = "a table artifact's data is a list of rows (dicts or lists) or a dict of columns (lists)"
    elif kind is ArtifactType.LINK and not (isinstance(data, dict) and isinstance(data.get("link"), str)):
        problem = 'a link artifact\'s data is {"link": url, "link_text": text}'
    elif kind is ArtifactType.PROGRESS and not (
        isinstance(data, (int, float)) and not isinstance(data, bool) and 0 <= data <= 100
    ):
        problem = "a progress artifact's data is a number from 0 to 100"
    elif kind is ArtifactType.IMAGE:
        if not isinstance(data, dict) or not (isinstance(data.get("image_url"), str) or isinstance(data.get("storage_key"), str)):
            problem = 'an image artifact\'s data is {"image_url": url} or {"storage_key": key}'
        elif isinstance(data.get("storage_key"), str):
            check_key(data["storage_key"])
    if problem:
        raise InvalidRequest(f"data: {problem}")


async def create_artifact(session: AsyncSession, body: ArtifactCreate) -> ArtifactModel:
    check_data(body.type, body.data)
    now = utcnow()
    row = Artifact(
        id=uuid.uuid4(),
        key=body.key,
        type=body.type.value,
        description=body.description,
        data=body.data,
        metadata_=body.metadata_,
        flow_run_id=body.flow_run_id,
        task_run_id=body.task_run_id,
        created=now,
        updated=now,
    )
    session.add(row)
    await session.flush()
    return artifact_model(row)


async def _row(session: AsyncSession, artifact_id: uuid.UUID) -> Artifact:
    row = await session.get(Artifact, artifact_id)
    if row is None:
        raise ObjectNotFound("artifact", artifact_id)
    return row


async def read_artifact(session: AsyncSession, artifact_id: uuid.UUID) -> ArtifactModel:
    return artifact_model(await _row(session, artifact_id))


async def read_latest(session: AsyncSession, key: str) -> ArtifactModel:
    row = await session.scalar(
        select(Artifact).where(Artifact.key == key).order_by(Artifact.created.desc(), Artifact.id.desc()).limit(1)
    )
    if row is None:
        raise ObjectNotFound("artifact with key", repr(key))
    return artifact_model(row)


async def update_artifact(session: AsyncSession, artifact_id: uuid.UUID, body: ArtifactUpdate) -> ArtifactModel:
    row = await _row(session, artifact_id)
    if "data" in body.model_fields_set:
        check_data(ArtifactType(row.type), body.data)
        row.data = body.data
    if body.description is not None:
        row.description = body.description
    row.updated = utcnow()
    await session.flush()
    return artifact_model(row)


async def delete_artifact(session: AsyncSession, artifact_id: uuid.UUID) -> None:
    await session.delete(await _row(session, artifact_id))


def _where(flt: ArtifactFilter) -> list:
    clauses = []
    fields = flt.artifacts
    if fields is not None:
        if fields.key is not None and fields.key.any_ is not None:
            clauses.append(Artifact.key.in_(any_strings(fields.key.any_, "artifacts.key.any_")))
        if fields.type is not None and fields.type.any_ is not None:
            kinds = any_strings(fields.type.any_, "artifacts.type.any_")
            known = {k.value for k in ArtifactType}
            if set(kinds) - known:
                raise InvalidRequest(f"artifacts.type.any_: artifact types are {', '.join(sorted(known))}")
            clauses.append(Artifact.type.in_(kinds))
        clauses += _uuid_filter(Artifact.flow_run_id, fields.flow_run_id, "artifacts.flow_run_id.any_")
        clauses += _uuid_filter(Artifact.task_run_id, fields.task_run_id, "artifacts.task_run_id.any_")
    if flt.latest_only:
        other = aliased(Artifact)
        newest = select(func.max(other.created)).where(other.key == Artifact.key).scalar_subquery()
        clauses += [Artifact.key.is_not(None), Artifact.created == newest]
    return clauses


_ORDER = {
    ArtifactSort.CREATED_DESC: (Artifact.created.desc(), Artifact.id),
    ArtifactSort.CREATED_ASC: (Artifact.created.asc(), Artifact.id),
    ArtifactSort.KEY_ASC: (Artifact.key.asc(), Artifact.created.desc(), Artifact.id),
}


async def filter_artifacts(session: AsyncSession, flt: ArtifactFilter) -> list[ArtifactModel]:
    stmt = select(Artifact).where(*_where(flt)).order_by(*_ORDER[flt.sort]).limit(flt.limit).offset(flt.offset)
    return [artifact_model(row) for row in await session.scalars(stmt)]


async def count_artifacts(session: AsyncSession, flt: ArtifactFilter) -> int:
    return int(await session.scalar(select(func.count()).select_from(Artifact).where(*_where(flt))) or 0)
