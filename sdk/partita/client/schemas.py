"""API objects exchanged between the SDK and the backend.

These pydantic v2 models are the single contract of the REST API: the server
(``partita_workbench.server``) uses them as request and response models and the
client (``partita.client``) parses responses with them, so the two cannot drift.
Field names follow Prefect 3's REST API where Prefect has the concept
(``state_type``, ``parent_task_run_id``, ``task_inputs``, ``any_`` filters).

All timestamps are timezone-aware UTC datetimes; durations are seconds (float).
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from partita.states import StateType


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


class APIModel(BaseModel):
    """Base of every API object: unknown keys are rejected, enums serialise as values."""

    model_config = ConfigDict(extra="forbid", use_enum_values=False)


# --------------------------------------------------------------------------- states


class StateModel(APIModel):
    """One state of a flow run or task run, as stored and sent over the wire.

    ``data`` holds a result record (see :class:`ResultRecordModel`) for a
    persisted result, else ``None``. ``state_details`` is free-form context:
    ``flow_run_id``, ``task_run_id``, ``scheduled_time``, ``cache_key``,
    ``child_flow_run_id``, ``retriable``.
    """

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: StateType
    name: str
    timestamp: dt.datetime = Field(default_factory=_now)
    message: str | None = None
    state_details: dict[str, Any] = Field(default_factory=dict)
    data: dict[str, Any] | None = None


class TaskRunStateModel(StateModel):
    """A state tagged with the task run it belongs to (used in batches)."""

    task_run_id: uuid.UUID


class SetStateStatus(str, Enum):
    """Outcome of a proposed state transition, as Prefect's ``SetStateStatus``."""

    ACCEPT = "ACCEPT"
    REJECT = "REJECT"
    ABORT = "ABORT"
    WAIT = "WAIT"


class SetStateRequest(APIModel):
    """Body of ``POST /api/{flow_runs|task_runs}/{id}/set_state``."""

    state: StateModel
    force: bool = False


class OrchestrationResult(APIModel):
    """Answer to a proposed transition, as Prefect's ``OrchestrationResult``.

    ``state`` is the state now in force, to be adopted by the client: the
    proposed one (ACCEPT), the one the server stored instead or the unchanged
    current one (REJECT), or the current one (ABORT, WAIT). ``reason`` says why
    a proposal was not accepted as is; ``delay_seconds`` how long to wait
    before proposing again (WAIT).
    """

    status: SetStateStatus
    state: StateModel | None = None
    reason: str | None = None
    delay_seconds: float | None = None


# --------------------------------------------------------------------------- flows


class FlowCreate(APIModel):
    """Body of ``POST /api/flows/``; creating an existing name returns that flow."""

    name: str = Field(min_length=1)
    tags: list[str] = Field(default_factory=list)


class FlowModel(APIModel):
    id: uuid.UUID
    name: str
    tags: list[str] = Field(default_factory=list)
    created: dt.datetime
    updated: dt.datetime


# --------------------------------------------------------------------------- flow runs


class EmpiricalPolicy(APIModel):
    """Retries the server applies to a flow run (Prefect's ``empirical_policy``).

    A run proposing FAILED with attempts left is rescheduled as
    ``AwaitingRetry`` ``retry_delay`` seconds later. The SDK retries its runs
    itself and leaves this empty.
    """

    retries: int = Field(default=0, ge=0, le=1000)
    retry_delay: float = Field(default=0.0, ge=0, le=86_400 * 365)


class FlowRunCreate(APIModel):
    """Body of ``POST /api/flow_runs/``. ``id`` may be chosen by the client."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    flow_id: uuid.UUID
    name: str
    parameters: dict[str, Any] = Field(default_factory=dict)
    parent_task_run_id: uuid.UUID | None = None
    deployment_id: uuid.UUID | None = None
    tags: list[str] = Field(default_factory=list)
    state: StateModel | None = None
    empirical_policy: EmpiricalPolicy = Field(default_factory=lambda: EmpiricalPolicy())


class FlowRunModel(APIModel):
    id: uuid.UUID
    name: str
    flow_id: uuid.UUID
    flow_name: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    parent_task_run_id: uuid.UUID | None = None
    deployment_id: uuid.UUID | None = None
    tags: list[str] = Field(default_factory=list)
    state_type: StateType | None = None
    state_name: str | None = None
    state: StateModel | None = None
    empirical_policy: EmpiricalPolicy = Field(default_factory=lambda: EmpiricalPolicy())
    expected_start_time: dt.datetime | None = None
    run_count: int = 0
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    total_run_time: float = 0.0
    created: dt.datetime
    updated: dt.datetime


# --------------------------------------------------------------------------- task runs


class TaskRunInput(APIModel):
    """An upstream dependency of a task run (Prefect's ``TaskRunResult`` input)."""

    input_type: Literal["task_run", "parameter", "constant"] = "task_run"
    id: uuid.UUID | None = None


class TaskRunCreate(APIModel):
    """A task run as the SDK knows it; also the element of a batch upsert.

    Sent again (same ``id``) whenever its mutable fields change: the server
    upserts by ``id``.
    """

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    name: str
    flow_run_id: uuid.UUID | None = None
    task_key: str
    dynamic_key: str = "0"
    cache_key: str | None = None
    task_inputs: dict[str, list[TaskRunInput]] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    state: StateModel | None = None
    run_count: int = 0
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    total_run_time: float = 0.0


class TaskRunModel(TaskRunCreate):
    state_type: StateType | None = None
    state_name: str | None = None
    created: dt.datetime
    updated: dt.datetime


UUIDText = Annotated[
    str,
    StringConstraints(pattern=r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"),
    Field(json_schema_extra={"format": "uuid"}),
]
"""A UUID as text, checked by pattern: batch rows carry thousands, and ``UUID`` objects cost more to make than to store."""

TimestampText = Annotated[
    str,
    StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})?$"),
    Field(json_schema_extra={"format": "date-time"}),
]
"""An ISO 8601 time as text (no offset: UTC); the backend rejects impossible dates with 422."""

TaskRunRow = tuple[
    UUIDText, str, UUIDText | None, str, str, str | None, dict[str, list[TaskRunInput]], list[str],
    int, TimestampText | None, TimestampText | None, float,
]
"""A task-run snapshot in a batch: ``(id, name, flow_run_id, task_key, dynamic_key, cache_key,
task_inputs, tags, run_count, start_time, end_time, total_run_time)``."""

TaskRunStateRow = tuple[UUIDText, UUIDText, StateType, str, TimestampText, str | None, dict[str, Any], dict[str, Any] | None]
"""A task-run state in a batch: ``(task_run_id, id, type, name, timestamp, message, state_details, data)``."""

TASK_RUN_ROW_FIELDS = (
    "id", "name", "flow_run_id", "task_key", "dynamic_key", "cache_key", "task_inputs", "tags",
    "run_count", "start_time", "end_time", "total_run_time",
)
TASK_RUN_STATE_ROW_FIELDS = ("task_run_id", "id", "type", "name", "timestamp", "message", "state_details", "data")


class TaskRunBatch(APIModel):
    """Body of ``POST /api/task_runs/batch``: write-behind upserts and state appends.

    Rows are arrays in a fixed field order (:data:`TASK_RUN_ROW_FIELDS`,
    :data:`TASK_RUN_STATE_ROW_FIELDS`) rather than objects: a batch carries
    thousands of them, and arrays are a third of the size and several times
    quicker to parse and validate. Applied in one transaction: task runs are
    upserted by id first, then states are appended (a state whose id already
    exists is skipped, so a retried batch is harmless). A task run's current
    state becomes the last of its states in the batch; a task run with no
    state in the batch keeps its stored one.
    """

    task_runs: list[TaskRunRow] = Field(
        default_factory=list,
        description="Task-run snapshots: [id, name, flow_run_id, task_key, dynamic_key, cache_key, "
        "task_inputs, tags, run_count, start_time, end_time, total_run_time].",
    )
    states: list[TaskRunStateRow] = Field(
        default_factory=list,
        description="States in the order they happened: [task_run_id, id, type, name, timestamp, message, "
        "state_details, data].",
    )


class BatchResult(APIModel):
    task_runs: int
    states: int


# --------------------------------------------------------------------------- logs


class LogCreate(APIModel):
    """One log line; ``level`` is a :mod:`logging` level number."""

    name: str
    level: int
    message: str
    timestamp: dt.datetime = Field(default_factory=_now)
    flow_run_id: uuid.UUID | None = None
    task_run_id: uuid.UUID | None = None


class LogModel(LogCreate):
    id: uuid.UUID


# --------------------------------------------------------------------------- filters


class AnyFilter(APIModel):
    any_: list[Any] | None = None


class GeFilter(APIModel):
    ge_: int | None = Field(default=None, ge=-(2**31), le=2**31 - 1)
    le_: int | None = Field(default=None, ge=-(2**31), le=2**31 - 1)


class TimeFilter(APIModel):
    """A time range: ``after_ <= t <= before_`` (either end optional; aware or UTC)."""

    after_: dt.datetime | None = None
    before_: dt.datetime | None = None


class TagsFilter(APIModel):
    """Tags: ``all_`` — the run has every one; ``any_`` — at least one; ``is_null_`` — none at all."""

    all_: list[str] | None = Field(default=None, max_length=100)
    any_: list[str] | None = Field(default=None, max_length=100)
    is_null_: bool | None = None


class StateFilter(APIModel):
    type: AnyFilter | None = None
    name: AnyFilter | None = None


class FlowRunFilterFields(APIModel):
    """Conditions on flow runs, all of which must hold (Prefect's ``FlowRunFilter`` fields).

    ``parent_flow_run_id`` matches subflow runs of the given flow runs.
    """

    id: AnyFilter | None = None
    name: AnyFilter | None = None
    state: StateFilter | None = None
    parent_task_run_id: AnyFilter | None = None
    parent_flow_run_id: AnyFilter | None = None
    flow_id: AnyFilter | None = None
    deployment_id: AnyFilter | None = None
    tags: TagsFilter | None = None
    start_time: TimeFilter | None = None
    end_time: TimeFilter | None = None
    expected_start_time: TimeFilter | None = None
    created: TimeFilter | None = None


class FlowFilterFields(APIModel):
    name: AnyFilter | None = None


class FlowRunSort(str, Enum):
    START_TIME_DESC = "START_TIME_DESC"
    CREATED_DESC = "CREATED_DESC"
    CREATED_ASC = "CREATED_ASC"
    NAME_ASC = "NAME_ASC"


CURSOR = Field(default=None, max_length=2000, description=(
    "Opaque token of the page to read, from a previous page's next_cursor (POST .../paginate); "
    "pages then follow the sort from where the last one ended, and offset is ignored."
))


class FlowRunFilter(APIModel):
    """Body of ``POST /api/flow_runs/filter``, ``/count`` and ``/paginate``."""

    flows: FlowFilterFields | None = None
    flow_runs: FlowRunFilterFields | None = None
    sort: FlowRunSort = FlowRunSort.CREATED_DESC
    limit: int = Field(default=200, ge=0, le=10_000)
    offset: int = Field(default=0, ge=0, le=2**31 - 1)
    cursor: str | None = CURSOR


class TaskRunFilterFields(APIModel):
    id: AnyFilter | None = None
    name: AnyFilter | None = None
    flow_run_id: AnyFilter | None = None
    state: StateFilter | None = None
    tags: TagsFilter | None = None
    start_time: TimeFilter | None = None
    created: TimeFilter | None = None


class TaskRunSort(str, Enum):
    EXPECTED_START_TIME_ASC = "EXPECTED_START_TIME_ASC"
    CREATED_ASC = "CREATED_ASC"
    CREATED_DESC = "CREATED_DESC"


class TaskRunFilter(APIModel):
    """Body of ``POST /api/task_runs/filter`` and ``/count``."""

    task_runs: TaskRunFilterFields | None = None
    sort: TaskRunSort = TaskRunSort.CREATED_ASC
    limit: int = Field(default=1000, ge=0, le=100_000)
    offset: int = Field(default=0, ge=0, le=2**31 - 1)
    cursor: str | None = CURSOR


class LogFilterFields(APIModel):
    flow_run_id: AnyFilter | None = None
    task_run_id: AnyFilter | None = None
    level: GeFilter | None = None
    timestamp: TimeFilter | None = None


class LogFilter(APIModel):
    """Body of ``POST /api/logs/filter``; logs come back oldest first."""

    logs: LogFilterFields | None = None
    limit: int = Field(default=1000, ge=0, le=100_000)
    offset: int = Field(default=0, ge=0, le=2**31 - 1)
    cursor: str | None = CURSOR


class Page(APIModel):
    """One page of ``POST .../paginate``: ``results``, the total ``count`` matching, and the
    ``next_cursor`` to pass for the next page (None on the last page)."""

    results: list[Any]
    count: int
    limit: int
    next_cursor: str | None = None
