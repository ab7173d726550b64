"""The flow-run state machine.

Flow-run transitions are proposed to the backend synchronously (it may refuse
them); task runs are recorded write-behind and flushed before the flow run
reports its final state, so a finished flow run always has every task run and
state in the database.

A flow called inside a running flow (or task) is a *subflow*: its flow run is
linked to a task run created in the parent flow run (``parent_task_run_id``),
whose states follow the child's.

Final state: an exception from the flow function fails the run (so does a
failed task called directly, whose exception reaches the flow unless the flow
handles it); a returned State, future or list of them decides it (any failed
one fails the run), as Prefect 3's "final flow state" rules. Otherwise the run
is COMPLETED unless a task run ended FAILED/CRASHED (or could not start)
without the flow looking at its outcome: a failed task fails its flow unless
the flow handles it (calls ``.result()``, ``.wait()`` or reads ``.state``, or
passes ``return_state=True``). This is stricter than Prefect 3, which
completes such a flow: a fire-and-forget failure must not pass unnoticed.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import datetime as dt
import sys
import threading
import time
import uuid
from typing import TYPE_CHECKING, Any

from partita.context import FlowRunContext, FlowRunInfo, TaskRunRecord, flow_run_ctx, task_run_ctx
from partita.engine import events, interrupts, tag_limits
from partita.engine.common import RAISE, STOP, exception_message, failure_details, now, retry_delay, run_hooks
from partita.exceptions import BackendError, ParameterTypeError
from partita.futures import PartitaFuture
from partita.logging import get_run_logger, log_prints_var, setup_logging
from partita.states import State, StateType, new_id


class _RunningHooks:
    """How many flow runs are running their final-state hooks (``on_completion``, ``on_cancellation``...) now."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    @contextlib.contextmanager
    def running(self) -> Any:
        with self._lock:
            self.count += 1
        try:
            yield
        finally:
            with self._lock:
                self.count -= 1


_final_hooks = _RunningHooks()


def final_hooks_running() -> bool:
    """True while a flow run of this process runs its final-state hooks (``partita run`` waits for them)."""
    return _final_hooks.count > 0

if TYPE_CHECKING:
    from partita.flows import Flow


_UNWIND_SECONDS = 1.5
"""How long an interrupted flow run waits for its stopped task runs to return."""


def _note_signal(signum: int) -> None:
    sys.stderr.write("partita: still stopping; recording the interrupted run...\n")


class _Attempt:
    """One attempt's context: the flow-run ContextVar, a started task runner."""

    def __init__(self, engine: "FlowRunEngine") -> None:
        self.engine = engine

    def __enter__(self) -> FlowRunContext:
        e = self.engine
        runner = e.flow.task_runner.duplicate()
        runner.start()
        ctx = FlowRunContext(e.flow, e.info, runner, e.recorder, e.log_prints, e.flow.persist_result)
        e.ctx = ctx
        self._scope = interrupts.CancelScope(threading.current_thread(), e.info.id)
        self._signals = interrupts.sigterm_raises() if e.parent_ctx is None else contextlib.nullcontext()
        self._signals.__enter__()
        self._tokens = (
            flow_run_ctx.set(ctx), task_run_ctx.set(None), log_prints_var.set(e.log_prints), interrupts.enter_scope(self._scope),
        )
        e.enter_user_code()
        return ctx

    def __exit__(self, *exc: Any) -> None:
        self.engine.leave_user_code()
        try:
            self.engine.ctx.task_runner.shutdown()
        finally:
            interrupts.exit_scope(self._scope, self._tokens[3])
            flow_run_ctx.reset(self._tokens[0])
            task_run_ctx.reset(self._tokens[1])
            log_prints_var.reset(self._tokens[2])
            self._signals.__exit__(None, None, None)


class FlowRunEngine:
    """Decisions of one flow run (see :mod:`partita.engine.drivers` for the protocol).

    Args:
        flow: the :class:`partita.Flow`.
        parameters: call arguments bound to parameter names.
    """

    def __init__(self, flow: "Flow", parameters: dict[str, Any]) -> None:
        from partita.client.orchestration import shared_sync_client
        from partita.engine.recorder import get_recorder

        setup_logging()
        self.flow = flow
        self.raw_parameters = parameters
        self.client = shared_sync_client()
        self.recorder = get_recorder(self.client)
        self.parent_ctx = flow_run_ctx.get()
        self.parent_task_record: TaskRunRecord | None = None
        self.log_prints = bool(flow.log_prints) if flow.log_prints is not None else bool(self.parent_ctx and self.parent_ctx.log_prints)
        self.timeout_seconds = flow.timeout_seconds
        self.retries_left = flow.retries
        self.state: State | None = None
        self.ctx: FlowRunContext | None = None
        self.fn = flow.fn
        self.args: tuple = ()
        self.kwargs: dict[str, Any] = {}
        self._t0 = 0.0
        self.info = FlowRunInfo(new_id(), flow.generate_run_name(), flow.name, {})
        self.label = f"flow run {self.info.name!r}"
        self.cancelled: str | None = None  # why the flow run was cancelled (see cancel())
        self._final_lock = threading.RLock()  # the flow thread and the cancellation watcher both may end the run
        self._in_user_code: tuple[threading.Thread, Any] | None = None  # (thread, asyncio task or None)
        self._watcher: Any = None

    # -- state changes ---------------------------------------------------------------
    def _propose(self, state: State) -> State:
        state.state_details["flow_run_id"] = str(self.info.id)
        result = self.client.set_flow_run_state(self.info.id, state)
        if state.type is StateType.CANCELLED and result.state is not None and result.state.type is StateType.CANCELLING:
            result = self.client.set_flow_run_state(self.info.id, state)  # a subflow run cancelled with its parent
        if result.status.value != "ACCEPT":
            adopted = State.from_json(result.state) if result.state is not None else None
            if adopted is None or adopted.type is not StateType.CANCELLED:
                raise BackendError(f"the backend refused {state.name} for {self.label}: {result.reason}")
            state = adopted  # cancelled before it could start
        self.state = self.info.state = state
        if events.listeners:
            events.emit("flow_run", self.info, state)
        self._mirror_to_parent(state)
        return state

    def _mirror_to_parent(self, state: State) -> None:
        record = self.parent_task_record
        if record is None or self.parent_ctx is None:
            return
        mirror = state.copy()
        mirror.state_details = {"task_run_id": str(record.id), "child_flow_run_id": str(self.info.id)}
        if state.type is StateType.RUNNING and record.start_time is None:
            record.start_time = now()
            record.run_count += 1
        if state.is_final():
            record.end_time = now()
            record.total_run_time = (record.end_time - (record.start_time or record.end_time)).total_seconds()
        self.parent_ctx.recorder.set_task_run_state(record, mirror)
        if events.listeners:
            events.emit("task_run", record, mirror)

    def _flow_id(self) -> uuid.UUID:
        cache: dict[str, uuid.UUID] = self.client.__dict__.setdefault("_flow_ids", {})
        flow_id = cache.get(self.flow.name)
        if flow_id is None:
            flow_id = cache[self.flow.name] = self.client.create_flow(self.flow.name).id
        return flow_id

    # -- protocol --------------------------------------------------------------------
    def setup(self) -> State | None:
        if self.parent_ctx is None:
            interrupts.set_interrupted(False)
        error: ParameterTypeError | None = None
        try:
            validated = self.flow.validate_parameters(self.raw_parameters)
        except ParameterTypeError as exc:
            error, validated = exc, dict(self.raw_parameters)
        self.info.parameters = validated
        self.args, self.kwargs = self.flow.call_arguments(validated)
        if self.parent_ctx is not None:
            self._create_parent_task_run()
        pending = State(StateType.PENDING, "Pending", state_details={"flow_run_id": str(self.info.id)})
        self.client.create_flow_run(
            self._flow_id(),
            self.info.name,
            parameters=self.flow.jsonable_parameters(validated),
            state=pending,
            parent_task_run_id=self.parent_task_record.id if self.parent_task_record else None,
            tags=sorted(self.flow.tags),
            id=self.info.id,
        )
        self.state = self.info.state = pending
        if events.listeners:
            events.emit("flow_run", self.info, pending)
        self._mirror_to_parent(pending)
        if error is not None:
            failed = State(StateType.FAILED, "Failed", message=str(error))
            failed._attach(error)
            self._propose(failed)
            return failed
        from partita.engine.cancellation import get_watcher

        self._watcher = get_watcher(self.client)
        self._watcher.watch(self)
        return None

    def _create_parent_task_run(self) -> None:
        parent = self.parent_ctx
        assert parent is not None
        n = parent.next_dynamic_key(f"subflow:{self.flow.name}")
        name = self.flow.name if n == 0 else f"{self.flow.name}-{n}"
        record = TaskRunRecord(new_id(), name, parent.flow_run.id, f"subflow:{self.flow.name}", str(n))
        parent_task = task_run_ctx.get()
        if parent_task is not None:
            record.task_inputs = {"upstream": [{"input_type": "task_run", "id": str(parent_task.task_run.id)}]}
        parent.task_runs.append(record)
        self.parent_task_record = record
        self.info.parent_task_run_id = record.id

    def begin_attempt(self) -> object | None:
        self._t0 = time.perf_counter()
        first = self.state is None or self.state.type is StateType.PENDING
        started = self._propose(State(StateType.RUNNING, "Running" if first else "Retrying"))
        if started.type is StateType.CANCELLED:
            self._finished()
            return STOP
        return None

    def attempt(self) -> _Attempt:
        return _Attempt(self)

    def _wait_for_task_runs(self) -> None:
        ctx = self.ctx
        if ctx is None:
            return
        for future in list(ctx.futures):
            future.wait()

    def handle_success(self, value: Any) -> Any:
        if self.cancelled is not None:
            return None
        self._wait_for_task_runs()
        state = self._state_from_return(value)
        if state.type is StateType.COMPLETED and self.flow.persist_result:
            from partita.results import persist_result

            try:
                state.data = persist_result(value, serializer=self.flow.result_serializer, storage=self.flow.result_storage)
            except Exception as exc:
                return self._fail(exc, f"the result of {self.label} could not be persisted: {exception_message(exc)}")
        self._set_final(state)
        return None

    def _set_final(self, state: State) -> None:
        """Make ``state`` the outcome to report, unless the run was cancelled meanwhile."""
        with self._final_lock:
            if self.cancelled is None:
                self.state = state

    def _state_from_return(self, value: Any) -> State:
        states: list[State] | None = None
        if isinstance(value, State):
            states = [value]
        elif isinstance(value, PartitaFuture):
            states = [value.final_state()]
        elif isinstance(value, (list, tuple)) and value and all(isinstance(v, (State, PartitaFuture)) for v in value):
            states = [v if isinstance(v, State) else v.final_state() for v in value]
        if states is not None:
            bad = [s for s in states if s.type is not StateType.COMPLETED]
            if len(states) == 1 and isinstance(value, State):
                final = value.copy()
                final.id = new_id()
                final.timestamp = now()
                final.state_details = {}
                return final
            if bad:
                return State(StateType.FAILED, "Failed", message=f"{len(bad)}/{len(states)} states failed: {bad[0].message or bad[0].name}")
        failed = [
            r for r in (self.ctx.task_runs if self.ctx else [])
            if r.state is not None and (r.state.type in (StateType.FAILED, StateType.CRASHED) or r.state.name == "NotReady")
        ]
        unhandled = [r for r in failed if not r.handled]
        if unhandled:  # a failed task fails its flow unless the flow handled it
            names = ", ".join(repr(r.name) for r in unhandled[:5]) + (" ..." if len(unhandled) > 5 else "")
            first = unhandled[0].state
            detail = f" — {unhandled[0].name}: {first.message}" if first is not None and first.message else ""
            return State(StateType.FAILED, "Failed", message=f"{len(unhandled)} of {len(self.ctx.task_runs)} task runs did not complete: {names}{detail}")
        state = State(StateType.COMPLETED, "Completed")
        state._attach(value)
        return state

    def handle_exception(self, exc: BaseException) -> Any:
        if self.cancelled is not None:  # FlowRunCancelled, or what stopping the run made the flow raise
            self.forget_cancellation(exc)
            return None
        if not isinstance(exc, Exception):  # KeyboardInterrupt, TerminationSignal, SystemExit
            self.abort(exc)
            return RAISE
        self._wait_for_task_runs()
        if self.retries_left > 0:
            self.retries_left -= 1
            attempt = self.flow.retries - self.retries_left
            delay = retry_delay(self.flow.retry_delay_seconds, attempt, None)
            when = now() + dt.timedelta(seconds=delay)
            self.recorder.flush()
            self._propose(State(StateType.SCHEDULED, "AwaitingRetry", message=exception_message(exc), state_details={"scheduled_time": when.isoformat()}))
            return delay
        return self._fail(exc, exception_message(exc))

    # -- interrupts and cancellation -------------------------------------------------
    def abandoned(self) -> bool:
        return self.cancelled is not None

    def finished(self) -> bool:
        """Whether the flow run's final state is recorded."""
        return self.info.state is not None and self.info.state.is_final()

    def enter_user_code(self) -> None:
        import asyncio

        try:
            task = asyncio.current_task() if self.flow.is_async else None
        except RuntimeError:
            task = None
        with self._final_lock:
            self._in_user_code = (threading.current_thread(), task)

    def leave_user_code(self) -> None:
        with self._final_lock:
            self._in_user_code = None

    def cancel(self, reason: str, stopped_threads: set[threading.Thread] | None = None) -> None:
        """End the flow run CANCELLED because it was cancelled from outside (called by the watcher).

        As an interrupt, but for this flow run only: its subflow runs are
        cancelled first; task runs not started never start, running ones end
        CANCELLED (as Prefect's cancellation clean-up records them), their
        shell commands and kernels are stopped, and futures the flow waits on
        are resolved with those states. The final state is recorded here (the
        ``on_cancellation`` hooks run), then :class:`FlowRunCancelled` is
        raised in the flow's own code (an asyncio flow's task is cancelled),
        so it stops at its next Python instruction. Python code still running
        in a task's thread cannot be stopped from outside: it runs on, its
        outcome is not recorded. Idempotent.
        """
        with self._final_lock:
            if self.cancelled is not None or self.info.state is None or self.info.state.is_final():
                return
            self.cancelled = reason
            state = State(StateType.CANCELLED, "Cancelled", message=reason)
            self.state = state
        stopped = set() if stopped_threads is None else stopped_threads
        if self._watcher is not None:
            for child in self._watcher.children(self.info.id):
                child.cancel(reason, stopped)
        ctx = self.ctx
        if ctx is not None:
            ctx.cancelled = reason
            ctx.task_runner.cancel()
            self._close_task_runs(ctx, reason, cancelled=True)
            interrupts.cancel_all(reason, owner=self.info.id)
            for future in list(ctx.futures):  # wake the flow where it waits on them
                if not future._future.done():
                    with contextlib.suppress(cf.InvalidStateError):
                        future._future.set_result(future._record.state)
        try:
            get_run_logger().warning("Cancelled: %s", reason)
        except Exception:
            pass
        self._report_final()
        self._raise_in_user_code(stopped)

    def _raise_in_user_code(self, stopped: set[threading.Thread]) -> None:
        from partita.engine.common import _raise_in_thread
        from partita.exceptions import FlowRunCancelled

        with self._final_lock:
            where = self._in_user_code
            if where is None or where[0] in stopped:
                return
            thread, task = where
            stopped.add(thread)
            if task is not None:
                with contextlib.suppress(RuntimeError):
                    task.get_loop().call_soon_threadsafe(task.cancel, self.cancelled)
            else:
                _raise_in_thread(thread, FlowRunCancelled)

    def forget_cancellation(self, exc: BaseException) -> None:
        """Once ``exc`` is handled, an asyncio flow's task that was cancelled to stop it is not cancelled any more."""
        import asyncio

        where = self._in_user_code
        if isinstance(exc, asyncio.CancelledError) and where is not None and where[1] is not None:
            uncancel = getattr(where[1], "uncancel", None)
            if uncancel is not None:
                uncancel()

    def abort(self, exc: BaseException) -> None:
        """End the flow run CRASHED after an interrupt, promptly (as Prefect on a crash).

        Task runs not started never start (CANCELLED), running ones end
        CRASHED, their child processes and kernels are stopped; the outcome is
        recorded while further ``SIGINT``/``SIGTERM`` are held off. Idempotent:
        nothing is done once the flow run has a final state.
        """
        if self.info.state is None or self.info.state.is_final() or self.cancelled is not None:
            return  # no flow run was created, its end is recorded, or it is being cancelled
        with interrupts.deferred_signals(_note_signal):
            interrupts.set_interrupted(True)
            reason = f"Execution was interrupted: {exception_message(exc)}"
            ctx = self.ctx
            if ctx is not None:
                ctx.task_runner.cancel()
                self._close_task_runs(ctx, reason, cancelled=False)
            interrupts.cancel_all(reason)
            if ctx is not None:  # let stopped tasks unwind, briefly: never wait for user code
                pending = [f._future for f in ctx.futures if not f._future.done()]
                if pending:
                    cf.wait(pending, timeout=_UNWIND_SECONDS)
            state = State(StateType.CRASHED, "Crashed", message=reason)
            state._attach(exc)
            self.state = state
            try:
                get_run_logger().error("Crashed: %s", reason)
            except Exception:
                pass
            self._report_final()

    def _close_task_runs(self, ctx: FlowRunContext, reason: str, cancelled: bool) -> None:
        """End the task runs still going: CRASHED when interrupted, CANCELLED when cancelled; unstarted ones CANCELLED."""
        from partita.engine.task_engine import NOT_STARTED, NOT_STARTED_CANCELLED

        for record in list(ctx.task_runs):
            current = record.state
            if record.closed or current is None or current.is_final():
                continue
            started = record.start_time is not None
            record.closed = True
            record.end_time = now()
            if started:
                kind = StateType.CANCELLED if cancelled else StateType.CRASHED
                state = State(kind, kind.value.capitalize(), message=reason)
                record.total_run_time = max(record.total_run_time, (record.end_time - record.start_time).total_seconds())
            else:
                state = State(StateType.CANCELLED, "Cancelled", message=NOT_STARTED_CANCELLED if cancelled else NOT_STARTED)
            state.state_details["task_run_id"] = str(record.id)
            tag_limits.record_state(ctx, record, state)
            if events.listeners:
                events.emit("task_run", record, state)

    def _fail(self, exc: BaseException, message: str) -> None:
        from partita.exceptions import TaskTimeoutError

        from partita.exceptions import PartitaError

        own = isinstance(exc, TaskTimeoutError) and getattr(exc, "run_label", None) == self.label
        details = None if isinstance(exc, PartitaError) else failure_details(exc)
        state = State(StateType.FAILED, "TimedOut" if own else "Failed", message=message,
                      state_details={"failure": details} if details else None)
        state._attach(exc)
        self._set_final(state)
        try:
            logger = get_run_logger()
            if details is not None:  # as Prefect: the traceback of what the flow function raised
                logger.error("Encountered exception during execution: %r\n%s", exc, "\n".join(details["traceback"]))
            logger.error("Finished in state %s: %s", state.name, message)
        except Exception:
            pass
        return None

    def _report_final(self) -> State:
        with self._final_lock:  # reported once, by the flow's thread or by the cancellation watcher
            state = self.state
            assert state is not None
            if self.info.state is state:
                return state
            self.recorder.flush()  # every task run and state is stored before the flow run ends
            value, has_value = state._value, state._has_value
            self._propose(state)
            state._value, state._has_value = value, has_value
            self._finished()
        hooks = {StateType.COMPLETED: self.flow.on_completion, StateType.FAILED: self.flow.on_failure,
                 StateType.CRASHED: self.flow.on_crashed, StateType.CANCELLED: self.flow.on_cancellation}.get(state.type)
        if hooks:
            with _final_hooks.running():
                run_hooks(hooks, self.flow, self.info, state)
        return state

    def _finished(self) -> None:
        if self._watcher is not None:
            self._watcher.unwatch(self)

    def finish(self) -> State:
        state = self.state
        assert state is not None
        if state.is_final() and (self.info.state is not state):
            return self._report_final()
        return state
