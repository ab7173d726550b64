"""API objects of the resources around runs: artifacts, variables, concurrency limits, graphs, events.

Shared by the server (request and response models) and the client, as
:mod:`partita.client.schemas`. Names and fields follow Prefect 3's REST API
(``ArtifactCreate``, ``VariableCreate``, ``ConcurrencyLimitV2``...).
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import Enum
from typing import Any, Literal

from pydantic import Field

from partita.client.schemas import AnyFilter, APIModel, StateModel, TimeFilter
from partita.states import StateType

NAME = Field(min_length=1, max_length=255, pattern=r"^[^/%&><]+$")
KEY = Field(default=None, min_length=1, max_length=255, pattern=r"^[a-z0-9-]+$")

# --------------------------------------------------------------------------- artifacts


class ArtifactType(str, Enum):
    """Kinds of artifact, as Prefect's ``create_*_artifact`` functions make them."""

    MARKDOWN = "markdown"
    TABLE = "table"
    LINK = "link"
    PROGRESS = "progress"
    IMAGE = "image"
    RESULT = "result"


class ArtifactCreate(APIModel):
    """Body of ``POST /api/artifacts/``.

    ``data`` by type: markdown — the text; table — a list of row dicts or a
    dict of columns; link — ``{"link": url, "link_text": text}``; progress —
    a number from 0 to 100; image — ``{"image_url": url}`` or ``{"storage_key":
    key}`` of a file in the server's storage (``PUT /api/results/{key}``).
    ``key`` (lowercase letters, digits, dashes) makes the artifact a new
    version of that key.
    """

    key: str | None = KEY
    type: ArtifactType
    description: str | None = Field(default=None, max_length=100_000)
    data: Any = None
    metadata_: dict[str, Any] = Field(default_factory=dict)
    flow_run_id: uuid.UUID | None = None
    task_run_id: uuid.UUID | None = None


class ArtifactModel(ArtifactCreate):
    id: uuid.UUID
    created: dt.datetime
    updated: dt.datetime


class ArtifactUpdate(APIModel):
    """Body of ``PATCH /api/artifacts/{id}`` (progress artifacts are updated in place)."""

    data: Any = None
    description: str | None = Field(default=None, max_length=100_000)


class ArtifactFilterFields(APIModel):
    key: AnyFilter | None = None
    type: AnyFilter | None = None
    flow_run_id: AnyFilter | None = None
    task_run_id: AnyFilter | None = None


class ArtifactSort(str, Enum):
    CREATED_DESC = "CREATED_DESC"
    CREATED_ASC = "CREATED_ASC"
    KEY_ASC = "KEY_ASC"


class ArtifactFilter(APIModel):
    """Body of ``POST /api/artifacts/filter`` and ``/count``; ``latest_only`` keeps one version per key."""

    artifacts: ArtifactFilterFields | None = None
    latest_only: bool = False
    sort: ArtifactSort = ArtifactSort.CREATED_DESC
    limit: int = Field(default=200, ge=0, le=10_000)
    offset: int = Field(default=0, ge=0, le=2**31 - 1)


# --------------------------------------------------------------------------- variables


class VariableCreate(APIModel):
    """Body of ``POST /api/variables/``: a named JSON value (Prefect's variables)."""

    name: str = Field(min_length=1, max_length=255, pattern=r"^[a-z0-9_-]+$")
    value: Any = None
    tags: list[str] = Field(default_factory=list)


class VariableUpdate(APIModel):
    """Body of ``PATCH /api/variables/name/{name}``."""

    value: Any = None
    tags: list[str] | None = None


class VariableModel(VariableCreate):
    id: uuid.UUID
    created: dt.datetime
    updated: dt.datetime


class VariableFilter(APIModel):
    """Body of ``POST /api/variables/filter``: names starting with ``name_like``, any of ``tags``."""

    name_like: str | None = Field(default=None, max_length=255)
    tags: AnyFilter | None = None
    limit: int = Field(default=200, ge=0, le=10_000)
    offset: int = Field(default=0, ge=0, le=2**31 - 1)


# --------------------------------------------------------------------------- concurrency limits


class ConcurrencyLimitCreate(APIModel):
    """Body of ``POST /api/v2/concurrency_limits/``: a global named limit (Prefect's ``ConcurrencyLimitV2``)."""

    name: str = NAME
    limit: int = Field(ge=0, le=2**31 - 1)
    active: bool = True
    active_slots: int = Field(default=0, ge=0, le=2**31 - 1)
    slot_decay_per_second: float = Field(default=0.0, ge=0, le=1e9)


class ConcurrencyLimitModel(ConcurrencyLimitCreate):
    id: uuid.UUID
    created: dt.datetime
    updated: dt.datetime


class ConcurrencyLimitUpdate(APIModel):
    limit: int | None = Field(default=None, ge=0, le=2**31 - 1)
    active: bool | None = None


class ConcurrencySlotRequest(APIModel):
    """Body of ``POST /api/v2/concurrency_limits/increment`` and ``/decrement``.

    ``increment`` takes ``slots`` of every named limit at once or none (423
    Locked when one lacks room); names without a limit are ignored, as in
    Prefect. ``create_if_missing`` makes a limit of ``slots`` for an unknown name.
    """

    names: list[str] = Field(min_length=1, max_length=100)
    slots: int = Field(default=1, ge=1, le=2**31 - 1)
    create_if_missing: bool = False


class MinimalConcurrencyLimit(APIModel):
    id: uuid.UUID
    name: str
    limit: int


class TagConcurrencyLimitCreate(APIModel):
    """Body of ``POST /api/concurrency_limits/``: at most ``concurrency_limit`` task runs tagged ``tag`` RUNNING."""

    tag: str = NAME
    concurrency_limit: int = Field(ge=0, le=2**31 - 1)


class TagConcurrencyLimitModel(TagConcurrencyLimitCreate):
    id: uuid.UUID
    active_slots: list[uuid.UUID] = Field(default_factory=list)
    created: dt.datetime
    updated: dt.datetime


# --------------------------------------------------------------------------- run graph


class GraphNode(APIModel):
    """A task run or subflow run of a flow run's graph; ``duration`` in seconds (None: not started)."""

    id: uuid.UUID
    kind: Literal["task-run", "flow-run"]
    label: str
    state_type: StateType | None = None
    state_name: str | None = None
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    duration: float | None = None
    parents: list[uuid.UUID] = Field(default_factory=list)
    children: list[uuid.UUID] = Field(default_factory=list)


class GraphEdge(APIModel):
    source: uuid.UUID
    target: uuid.UUID


class RunGraph(APIModel):
    """``GET /api/flow_runs/{id}/graph``: nodes in start order, edges upstream → downstream."""

    flow_run_id: uuid.UUID
    state_type: StateType | None = None
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    root_node_ids: list[uuid.UUID] = Field(default_factory=list)
    nodes: list[GraphNode] = Field(default_factory=list)
    edges: list[GraphEdge] = Field(default_factory=list)


# --------------------------------------------------------------------------- results


class ResultRecordModel(APIModel):
    """A task run's or flow run's result record: metadata and the storage key of the value."""

    run_id: uuid.UUID
    state_id: uuid.UUID
    storage_key: str | None = None
    serializer: str | None = None
    summary: str | None = None
    fetchable: bool = False
    data: dict[str, Any] | None = None


# --------------------------------------------------------------------------- events


class EventKind(str, Enum):
    STATE = "state"
    LOG = "log"


class RunEvent(APIModel):
    """One server-sent event: a state change or a new log line."""

    kind: EventKind
    flow_run_id: uuid.UUID | None = None
    task_run_id: uuid.UUID | None = None
    run_kind: Literal["flow run", "task run"] | None = None
    name: str | None = None
    state: StateModel | None = None
    log: dict[str, Any] | None = None
    occurred: dt.datetime
    truncated: bool = False
    """True when this copy came from another server process with long fields cut to fit one
    PostgreSQL notification (state message and details, log message): read the run for all of it."""

