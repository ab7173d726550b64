"""Run context kept in ContextVars (as Prefect's ``FlowRunContext`` / ``TaskRunContext``).

A :class:`FlowRunContext` is entered for the body of a flow run and a
:class:`TaskRunContext` for the body of a task run; both are copied into
task-runner threads with :func:`contextvars.copy_context`, so code running in
a task sees its flow run.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import itertools
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from partita.states import State

if TYPE_CHECKING:
    from partita.engine.recorder import Recorder
    from partita.flows import Flow
    from partita.futures import PartitaFuture
    from partita.task_runners import TaskRunner
    from partita.tasks import Task


@dataclass(eq=False)
class TaskRunRecord:
    """A task run as the engine tracks it; sent to the backend by the recorder.

    Mutated only by the engine thread running the task; the recorder snapshots
    it under its lock.
    """

    id: str
    name: str
    flow_run_id: str | None
    task_key: str
    dynamic_key: str
    task_inputs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tags: list[str] = field(default_factory=list)
    cache_key: str | None = None
    state: State | None = None
    run_count: int = 0
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    total_run_time: float = 0.0
    handled: bool = False  # the flow saw the outcome (direct call, result(), state)
    closed: bool = False  # ended by its interrupted flow run: later states are not recorded
    orchestrated: bool = False  # a tag of it is limited: its states are proposed synchronously

    def to_row(self) -> list[Any]:
        """This task run as a row of a task-run batch (``TaskRunRow``; its state travels apart)."""
        return [
            self.id, self.name, self.flow_run_id, self.task_key, self.dynamic_key, self.cache_key,
            self.task_inputs, self.tags, self.run_count,
            self.start_time, self.end_time, self.total_run_time,  # datetimes, as State.to_wire's
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "flow_run_id": self.flow_run_id,
            "task_key": self.task_key,
            "dynamic_key": self.dynamic_key,
            "cache_key": self.cache_key,
            "task_inputs": self.task_inputs,
            "tags": self.tags,
            "state": self.state.to_json() if self.state is not None else None,
            "run_count": self.run_count,
            "start_time": self.start_time.isoformat() if self.start_time else None,
            "end_time": self.end_time.isoformat() if self.end_time else None,
            "total_run_time": self.total_run_time,
        }


@dataclass(eq=False)
class FlowRunInfo:
    """What the engine knows of a flow run (id, name, parameters, current state)."""

    id: str
    name: str
    flow_name: str
    parameters: dict[str, Any]
    state: State | None = None
    parent_task_run_id: str | None = None


@dataclass(eq=False)
class FlowRunContext:
    """Context of a running flow: the run, its task runner, recorder and futures."""

    flow: "Flow"
    flow_run: FlowRunInfo
    task_runner: "TaskRunner"
    recorder: "Recorder"
    log_prints: bool = False
    persist_result: bool | None = None
    futures: list["PartitaFuture"] = field(default_factory=list)
    task_runs: list[TaskRunRecord] = field(default_factory=list)
    cache_keys: dict[str, str] = field(default_factory=dict)  # task-run id -> cache key
    limited_tags: tuple[float, frozenset[str]] | None = None  # (monotonic time fetched, tags); see engine.tag_limits
    cancelled: str | None = None  # why the flow run was cancelled: no task run starts any more
    _name_counts: dict[str, "itertools.count[int]"] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def next_dynamic_key(self, task_key: str) -> int:
        """0, 1, 2... for successive runs of one task in this flow run (thread-safe)."""
        counter = self._name_counts.get(task_key)
        if counter is None:
            with self._lock:
                counter = self._name_counts.setdefault(task_key, itertools.count())
        return next(counter)


@dataclass(eq=False)
class TaskRunContext:
    """Context of a running task: the task and its task run record."""

    task: "Task"
    task_run: TaskRunRecord
    flow_run_context: FlowRunContext | None
    log_prints: bool = False


flow_run_ctx: contextvars.ContextVar[FlowRunContext | None] = contextvars.ContextVar("partita_flow_run", default=None)
task_run_ctx: contextvars.ContextVar[TaskRunContext | None] = contextvars.ContextVar("partita_task_run", default=None)


def get_run_context() -> FlowRunContext | TaskRunContext:
    """The innermost run context (task run first, then flow run).

    Raises:
        partita.exceptions.MissingContextError: called outside a flow or task run.
    """
    ctx: FlowRunContext | TaskRunContext | None = task_run_ctx.get() or flow_run_ctx.get()
    if ctx is None:
        from partita.exceptions import MissingContextError

        raise MissingContextError("no flow or task is running; call this from inside a @flow or @task")
    return ctx
