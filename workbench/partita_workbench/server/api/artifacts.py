"""``/api/artifacts``: create, read, latest by key, filter, count, update, delete, content."""

from __future__ import annotations

import mimetypes
import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Path, Response, status
from partita.client.resource_schemas import ArtifactCreate, ArtifactFilter, ArtifactModel, ArtifactUpdate

from partita_workbench.server.api.dependencies import DatabaseDep, StoreDep
from partita_workbench.server.operations import artifacts

router = APIRouter(prefix="/artifacts", tags=["artifacts"])

FilterBody = Annotated[ArtifactFilter | None, Body()]
Key = Annotated[str, Path(min_length=1, max_length=255, pattern=r"^[a-z0-9-]+$")]


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_artifact(body: ArtifactCreate, db: DatabaseDep) -> ArtifactModel:
    """Record an artifact; with a ``key`` it becomes that key's newest version."""
    async with db.write() as session:
        return await artifacts.create_artifact(session, body)


@router.get("/{artifact_id}")
async def read_artifact(artifact_id: uuid.UUID, db: DatabaseDep) -> ArtifactModel:
    """One artifact (any version)."""
    async with db.read() as session:
        return await artifacts.read_artifact(session, artifact_id)


@router.get("/{key}/latest")
async def read_latest_artifact(key: Key, db: DatabaseDep) -> ArtifactModel:
    """The newest version of the artifact ``key``."""
    async with db.read() as session:
        return await artifacts.read_latest(session, key)


@router.post("/filter")
async def filter_artifacts(db: DatabaseDep, flt: FilterBody = None) -> list[ArtifactModel]:
    """Artifacts by key, type, flow run, task run; ``latest_only`` keeps each key's newest version."""
    async with db.read() as session:
        return await artifacts.filter_artifacts(session, flt or ArtifactFilter())


@router.post("/count")
async def count_artifacts(db: DatabaseDep, flt: FilterBody = None) -> int:
    """How many artifacts match the filter."""
    async with db.read() as session:
        return await artifacts.count_artifacts(session, flt or ArtifactFilter())


@router.patch("/{artifact_id}", status_code=status.HTTP_204_NO_CONTENT)
async def update_artifact(artifact_id: uuid.UUID, body: ArtifactUpdate, db: DatabaseDep) -> None:
    """Change an artifact's data or description in place (e.g. a progress artifact)."""
    async with db.write() as session:
        await artifacts.update_artifact(session, artifact_id, body)


@router.delete("/{artifact_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_artifact(artifact_id: uuid.UUID, db: DatabaseDep) -> None:
    """Delete one artifact version."""
    async with db.write() as session:
        await artifacts.delete_artifact(session, artifact_id)


@router.get("/{artifact_id}/content", response_class=Response)
async def read_artifact_content(artifact_id: uuid.UUID, db: DatabaseDep, store: StoreDep) -> Response:
    """The file of an image artifact kept in the server's store (``data.storage_key``), as bytes.

    Keys that would leave the store's root are refused (422).
    """
    async with db.read() as session:
        artifact = await artifacts.read_artifact(session, artifact_id)
    from partita_workbench.server.errors import ObjectNotFound

    key = artifact.data.get("storage_key") if isinstance(artifact.data, dict) else None
    if not isinstance(key, str):
        raise ObjectNotFound("stored content of artifact", artifact_id, "only image artifacts with a storage_key have one")
    media = mimetypes.guess_type(key)[0] or "application/octet-stream"
    return Response(store.read(key), media_type=media, headers={"X-Content-Type-Options": "nosniff"})
