"""The task-run state machine.

One :class:`TaskRunEngine` per task run, driven by
:mod:`partita.engine.drivers`. States go to the backend through the
write-behind recorder, so a trivial task costs no round trip:
PENDING → RUNNING → COMPLETED | FAILED, with SCHEDULED/AwaitingRetry →
RUNNING/Retrying between attempts, PENDING/NotReady when an upstream did not
complete, FAILED/TimedOut on timeout, CRASHED on interrupts, and
PENDING → RUNNING → COMPLETED/Cached on a cache hit, as Prefect (see :mod:`partita.engine.caching`).
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import TYPE_CHECKING, Any

from partita.context import FlowRunContext, TaskRunContext, TaskRunRecord, task_run_ctx
from partita.engine import events, interrupts, tag_limits
from partita.engine.common import RAISE, STOP, exception_message, failure_details, now, retry_delay, run_hooks
from partita.engine.inputs import contains_upstream, resolve, wait_for_upstream
from partita.exceptions import BackendError, PartitaError, RunError, TaskTimeoutError, UpstreamTaskError
from partita.logging import log_prints_var
from partita.states import State, StateType, new_id

if TYPE_CHECKING:
    from partita.tasks import Task

_PENDING = StateType.PENDING
_RUNNING = StateType.RUNNING


class _Attempt:
    """Context of one attempt: the task-run ContextVar and ``log_prints``."""

    __slots__ = ("engine", "_tokens", "_scope")

    def __init__(self, engine: "TaskRunEngine") -> None:
        self.engine = engine

    def __enter__(self) -> None:
        e = self.engine
        ctx = TaskRunContext(e.task, e.record, e.flow_ctx, e.log_prints)
        self._scope = interrupts.CancelScope(threading.current_thread(), e.flow_ctx.flow_run.id)
        self._tokens = (task_run_ctx.set(ctx), log_prints_var.set(e.log_prints), interrupts.enter_scope(self._scope))

    def __exit__(self, *exc: Any) -> None:
        interrupts.exit_scope(self._scope, self._tokens[2])
        task_run_ctx.reset(self._tokens[0])
        log_prints_var.reset(self._tokens[1])


class TaskRunEngine:
    """Decisions of one task run (see :mod:`partita.engine.drivers` for the protocol).

    Args:
        task: the :class:`partita.Task`.
        args, kwargs: call arguments, possibly holding futures.
        wait_for: futures that must complete first.
        flow_ctx: the flow run this task run belongs to.
    """

    __slots__ = (
        "task", "fn", "args", "kwargs", "wait_for", "flow_ctx", "record", "recorder",
        "timeout_seconds", "label", "log_prints", "retries_left", "state", "_t0", "cache",
    )

    def __init__(self, task: "Task", args: tuple, kwargs: dict[str, Any], wait_for: list[Any] | None, flow_ctx: FlowRunContext) -> None:
        self.task = task
        self.fn = task.fn
        self.args, self.kwargs, self.wait_for = args, kwargs, wait_for
        self.flow_ctx = flow_ctx
        n = flow_ctx.next_dynamic_key(task.task_key)
        name = task.name if n == 0 else f"{task.name}-{n}"
        if task.task_run_name:
            name = task.format_run_name(args, kwargs) or name
        self.record = TaskRunRecord(new_id(), name, flow_ctx.flow_run.id, task.task_key, str(n), tags=list(task.tags))
        self.recorder = flow_ctx.recorder
        self.timeout_seconds = task.timeout_seconds
        self.label = f"task run {name!r}"
        self.log_prints = flow_ctx.log_prints if task.log_prints is None else task.log_prints
        self.retries_left = task.retries
        self.state: State | None = None
        self._t0 = 0.0
        self.cache = None
        flow_ctx.task_runs.append(self.record)
        self._set(State(_PENDING, "Pending"))

    # -- state changes ---------------------------------------------------------------
    def _set(self, state: State) -> None:
        if self.record.closed:  # its flow run was interrupted and recorded the end
            return
        self._prepare(state)
        self.state = state
        if self.record.orchestrated:
            tag_limits.record_state(self.flow_ctx, self.record, state)
        else:
            self.recorder.set_task_run_state(self.record, state)
        if events.listeners:
            events.emit("task_run", self.record, state)

    def _prepare(self, state: State) -> None:
        if self.task.state_details:
            state.state_details.update(self.task.state_details)
        state.state_details["task_run_id"] = self.record.id

    # -- protocol --------------------------------------------------------------------
    def setup(self) -> State | None:
        upstream: list[str] = []
        if self.abandoned():
            return self._not_started()
        if self.wait_for or contains_upstream(self.args) or contains_upstream(self.kwargs):
            try:
                wait_for_upstream(self.wait_for, upstream)
                self.args = tuple(resolve(a, upstream) for a in self.args)
                self.kwargs = {k: resolve(v, upstream) for k, v in self.kwargs.items()}
            except UpstreamTaskError as exc:
                self.record.task_inputs = _inputs(upstream)
                if self.abandoned():
                    return self._not_started()
                self._set(State(_PENDING, "NotReady", message=str(exc)))
                return self.state
            self.record.task_inputs = _inputs(upstream)
            if self.abandoned():
                return self._not_started()
        policy = self.task.effective_cache_policy()
        if policy is not None:
            try:
                return self._look_up_cache(policy, upstream)
            except Exception as exc:  # e.g. the result storage cannot be read: the run fails, it is not left Pending
                self._fail(exc, f"the cache of {self.label} could not be read: {exception_message(exc)}")
                return self.state
        return None

    def _not_started(self) -> State:
        """The flow run was interrupted or cancelled before this task run started: it never will."""
        self.record.end_time = now()
        message = NOT_STARTED_CANCELLED if self.flow_ctx.cancelled is not None else NOT_STARTED
        self._set(State(StateType.CANCELLED, "Cancelled", message=message))
        return self.record.state  # type: ignore[return-value]

    def abandoned(self) -> bool:
        """True once the flow run was interrupted or cancelled: no further attempt starts."""
        return self.record.closed or interrupts.interrupted() or self.flow_ctx.cancelled is not None

    def _look_up_cache(self, policy: Any, upstream: list[str]) -> State | None:
        from partita.engine.caching import bound_inputs, prepare

        task = self.task
        inputs = bound_inputs(task, self.args, self.kwargs)
        entry = prepare(task, policy, self.record, self.flow_ctx, inputs, upstream, task.should_refresh())
        if entry is None:
            return None
        self.cache = entry
        if entry.hit is not None:  # Running, then Completed/Cached without calling the function (as Prefect)
            self.fn = _hit_async if task.is_async else _hit
            self.timeout_seconds = None
            self.retries_left = 0
        return None

    def begin_attempt(self) -> float | object | None:
        record = self.record
        state = State(_RUNNING, "Running" if record.run_count == 0 else "Retrying")
        if self.cache is not None and self.cache.hit is None:
            state.state_details.update(cache_key=self.cache.key, cache_miss_reason=self.cache.miss_reason)
        if tag_limits.must_orchestrate(self.flow_ctx, record):
            refused = self._propose_start(state)
            if refused is not None:
                return refused
        record.run_count += 1
        if record.start_time is None:
            record.start_time = state.timestamp  # as the server's accounting: the time of entering RUNNING
        self._t0 = time.perf_counter()
        if record.orchestrated:  # stored by the server already
            self.state = record.state = state
            if events.listeners:
                events.emit("task_run", record, state)
        else:
            self._set(state)
        return None

    def _propose_start(self, state: State) -> float | object | None:
        """Ask the server to start this run (a tag of it is limited): ``None`` when it may start.

        Returns the seconds to wait before asking again (WAIT: its limits are
        full), or ``STOP`` when the run is over without starting (the server
        answered with a final state, e.g. a cached result, or refused it).
        """
        record = self.record
        if record.closed:
            return STOP
        tag_limits.begin_orchestrating(self.flow_ctx, record)
        self._prepare(state)
        result = self.recorder.client.set_task_run_state(record.id, state)
        status = result.status.value
        if status == "ACCEPT":
            return None
        if status == "WAIT":
            return max(0.05, result.delay_seconds or 1.0)
        adopted = State.from_json(result.state) if result.state is not None else None
        if adopted is not None and adopted.is_final():
            record.end_time = now()
            self.state = record.state = adopted
            if events.listeners:
                events.emit("task_run", record, adopted)
            return STOP
        error = BackendError(f"the backend refused to start {self.label}: {result.reason}")
        self._fail(error, str(error))
        return STOP

    def attempt(self) -> _Attempt:
        return _Attempt(self)

    def _add_run_time(self) -> None:
        """Count the attempt's time, unless the flow run closed this run meanwhile (it counted it then)."""
        if not self.record.closed:
            self.record.total_run_time += time.perf_counter() - self._t0

    def handle_success(self, value: Any) -> None:
        self._add_run_time()
        data = None
        task = self.task
        if isinstance(value, State):
            return self._finish_returned(value)
        if value is _HIT:
            entry = self.cache
            self._finish(State(StateType.COMPLETED, "Cached", data=entry.hit, state_details={"cache_key": entry.key}))
            return None
        try:
            if self.cache is not None:
                data = self.cache.store(value, task.result_serializer)
            elif task.should_persist(self.flow_ctx):
                from partita.results import persist_result

                data = persist_result(value, serializer=task.result_serializer, storage=task.result_storage)
        except Exception as exc:
            self._fail(exc, f"the result of {self.label} could not be persisted: {exception_message(exc)}")
            return None
        state = State(StateType.COMPLETED, "Completed", data=data)
        state._attach(value)
        self._finish(state)
        return None

    def _finish_returned(self, returned: State) -> None:
        """The function returned a state: it becomes the final state (as in Prefect).

        A COMPLETED one keeps its name (``Completed(name="Skipped")``) and its
        attached value as the result (``None`` when it has none); it is not
        stored in the cache. Other types end the run as they are, without retries.
        """
        state = State(returned.type, returned.name, returned.message, state_details=dict(returned.state_details))
        value = returned._value if returned._has_value else None
        if state.type is StateType.COMPLETED and self.task.should_persist(self.flow_ctx):
            from partita.results import persist_result

            try:
                state.data = persist_result(value, serializer=self.task.result_serializer, storage=self.task.result_storage)
            except Exception as exc:
                self._fail(exc, f"the result of {self.label} could not be persisted: {exception_message(exc)}")
                return None
        state._attach(value)
        self._finish(state)
        return None

    def handle_exception(self, exc: BaseException) -> Any:
        self._add_run_time()
        if not isinstance(exc, Exception):  # KeyboardInterrupt, SystemExit...
            state = State(StateType.CRASHED, "Crashed", message=f"Execution was interrupted: {exception_message(exc)}")
            state._attach(exc)
            self._finish(state)
            return RAISE
        if self.retries_left > 0 and not interrupts.interrupted() and self.task.should_retry(exc):
            self.retries_left -= 1
            attempt = self.task.retries - self.retries_left
            delay = retry_delay(self.task.retry_delay_seconds, attempt, self.task.retry_jitter_factor)
            when = now() + dt.timedelta(seconds=delay)
            self._set(State(StateType.SCHEDULED, "AwaitingRetry", message=exception_message(exc), state_details={"scheduled_time": when.isoformat()}))
            _log_failure(exc, None, f"Retry {attempt}/{self.task.retries} will start {delay:g} second(s) from now")
            return delay
        self._fail(exc, exception_message(exc))
        return None

    def _fail(self, exc: BaseException, message: str) -> None:
        name = "TimedOut" if isinstance(exc, TaskTimeoutError) else "Failed"
        details = getattr(exc, "details", None) if isinstance(exc, RunError) else None
        if details is None and not isinstance(exc, PartitaError):  # the user's code raised: keep where
            details = failure_details(exc)
        _log_failure(exc, details, "Retries are exhausted")
        state = State(StateType.FAILED, name, message=message, state_details={"failure": details} if details else None)
        state._attach(exc)
        self._finish(state)

    def _finish(self, state: State) -> None:
        self.record.end_time = state.timestamp  # as the server's accounting: the time of the final state
        if self.cache is not None and self.cache.hit is None:
            state.state_details.update(cache_key=self.cache.key, cache_miss_reason=self.cache.miss_reason)
        self._set(state)
        hooks = self.task.on_completion if state.type is StateType.COMPLETED else self.task.on_failure
        if hooks:
            run_hooks(hooks, self.task, self.record, state)

    def finish(self) -> State:
        if self.record.closed:
            return self.record.state  # type: ignore[return-value]
        return self.state  # type: ignore[return-value]


NOT_STARTED = "not started: the flow run was interrupted"
NOT_STARTED_CANCELLED = "not started: the flow run was cancelled"


_HIT = object()  # what a cache hit "returns" instead of calling the task's function


def _hit(*args: Any, **kwargs: Any) -> Any:
    return _HIT


async def _hit_async(*args: Any, **kwargs: Any) -> Any:
    return _HIT


def _log_failure(exc: BaseException, details: dict[str, Any] | None, outcome: str) -> None:
    """Log a failed attempt at ERROR, as Prefect: ``Task run failed with exception: ... - <outcome>``.

    The traceback (the user's frames) follows when the user's code raised;
    Partita's own errors (a shell command's exit code, a notebook cell's
    error) say everything in their message.
    """
    try:
        from partita.logging import get_run_logger

        if isinstance(exc, PartitaError):
            get_run_logger().error("Task run failed with exception: %s - %s", exception_message(exc), outcome)
            return
        lines = (details or failure_details(exc))["traceback"]
        get_run_logger().error("Task run failed with exception: %r - %s\n%s", exc, outcome, "\n".join(lines))
    except Exception:  # logging must never change the outcome of a run
        pass


def _inputs(upstream: list[str]) -> dict[str, list[dict[str, Any]]]:
    if not upstream:
        return {}
    seen = dict.fromkeys(upstream)
    return {"upstream": [{"input_type": "task_run", "id": u} for u in seen]}
