"""Artifacts: markdown, tables, links, progress bars and images shown with a run (as Prefect's).

Called inside a flow or task, an artifact is attached to that run (its flow
run and task run ids). A ``key`` (lowercase letters, digits and dashes)
makes it a new version of that key, whose history the backend keeps. Each
function returns the new artifact's id. Signatures follow Prefect 3's
``prefect.artifacts``.
"""

from __future__ import annotations

import uuid
from typing import Any

__all__ = [
    "create_markdown_artifact",
    "create_table_artifact",
    "create_link_artifact",
    "create_progress_artifact",
    "update_progress_artifact",
    "create_image_artifact",
]


def _run_ids() -> tuple[str | None, str | None]:
    from partita.context import flow_run_ctx, task_run_ctx

    task = task_run_ctx.get()
    flow = flow_run_ctx.get()
    flow_run_id = str(flow.flow_run.id) if flow is not None else None
    task_run_id = str(task.task_run.id) if task is not None else None
    return flow_run_id, task_run_id


def _create(kind: str, data: Any, key: str | None, description: str | None) -> uuid.UUID:
    from partita.client.orchestration import shared_sync_client
    from partita.client.resource_schemas import ArtifactCreate

    flow_run_id, task_run_id = _run_ids()
    try:
        body = ArtifactCreate(
            key=key, type=kind, data=data, description=description, flow_run_id=flow_run_id, task_run_id=task_run_id
        )
    except ValueError as exc:
        from partita.exceptions import UserInputError

        raise UserInputError(
            f"{kind} artifact: {exc.errors()[0]['loc'][0]}: {exc.errors()[0]['msg']} "
            "(keys are lowercase letters, digits and dashes)"
        ) from None
    return shared_sync_client().create_artifact(body).id


def create_markdown_artifact(markdown: str, key: str | None = None, description: str | None = None) -> uuid.UUID:
    """Record Markdown text as an artifact.

    Raises:
        partita.exceptions.UserInputError: a bad key.
        partita.exceptions.BackendError: the backend refused it.
    """
    return _create("markdown", markdown, key, description)


def create_table_artifact(
    table: dict[str, list[Any]] | list[dict[str, Any]] | list[list[Any]],
    key: str | None = None,
    description: str | None = None,
) -> uuid.UUID:
    """Record a table: a list of row dicts, a list of row lists, or a dict of column lists."""
    return _create("table", table, key, description)


def create_link_artifact(
    link: str, link_text: str | None = None, key: str | None = None, description: str | None = None
) -> uuid.UUID:
    """Record a link (shown as ``link_text`` when given)."""
    return _create("link", {"link": link, "link_text": link_text}, key, description)


def create_progress_artifact(progress: float, key: str | None = None, description: str | None = None) -> uuid.UUID:
    """Record a progress bar at ``progress`` percent (0 to 100); update it with :func:`update_progress_artifact`."""
    return _create("progress", progress, key, description)


def update_progress_artifact(artifact_id: uuid.UUID | str, progress: float, description: str | None = None) -> uuid.UUID:
    """Move a progress artifact to ``progress`` percent, in place."""
    from partita.client.orchestration import shared_sync_client

    shared_sync_client().update_artifact(artifact_id, data=progress, description=description)
    return uuid.UUID(str(artifact_id))


def create_image_artifact(image_url: str, key: str | None = None, description: str | None = None) -> uuid.UUID:
    """Record an image by URL (``http(s)://`` or ``data:``), as Prefect's ``create_image_artifact``."""
    return _create("image", {"image_url": image_url}, key, description)
