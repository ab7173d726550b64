"""``@task`` and :class:`Task` (Prefect 3's programming model).

A task is an immutable definition wrapping a function. Inside a running flow:

* ``my_task(x)`` runs it now, in this thread, records a task run and returns
  the result (raising the task's exception if it failed; with
  ``return_state=True`` the final :class:`State` instead);
* ``my_task.submit(x)`` runs it on the flow's task runner and returns a
  :class:`PartitaFuture`;
* ``my_task.map(xs)`` submits one run per item and returns a
  :class:`PartitaFutureList`.

Outside any flow run, calling a task just calls the function.
Async functions give tasks whose call returns a coroutine to ``await``.
"""

from __future__ import annotations

import datetime as dt
import functools
import inspect
from typing import Any, Callable, Generic, Iterable, ParamSpec, Sequence, TypeVar, overload

from partita.context import FlowRunContext, flow_run_ctx, task_run_ctx
from partita.engine.drivers import drive_async, drive_sync
from partita.engine.task_engine import TaskRunEngine
from partita.futures import PartitaFuture, PartitaFutureList
from partita.states import State

P = ParamSpec("P")
R = TypeVar("R")

__all__ = ["Task", "task"]

_NOT_SET: Any = object()


def _task_key(fn: Callable[..., Any]) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', getattr(fn, '__name__', 'task'))}"


class Task(Generic[P, R]):
    """A task definition (as Prefect's ``Task``).

    Args:
        fn: the function (sync or async).
        name: display name; default the function's name.
        description: default the function's docstring.
        tags: labels recorded on every task run.
        retries: extra attempts after a failure.
        retry_delay_seconds: a number, or a list giving the delay before each
            retry (the last one repeats).
        retry_jitter_factor: add up to this fraction of the delay at random.
        retry_condition_fn: ``fn(task, task_run, exc) -> bool``; retry only when true.
        timeout_seconds: fail the attempt (``TimedOut``) after this many seconds.
        persist_result: write the return value to result storage; ``None``
            follows the flow's setting.
        result_serializer: ``cloudpickle`` (default), ``pickle`` or ``json``.
        result_storage: fsspec URL or path overriding ``PARTITA_RESULT_STORAGE``.
        log_prints: turn ``print`` into run logs; ``None`` follows the flow.
        task_run_name: format string for task run names (``"load-{date}"``),
            filled from the call's arguments.
        on_completion, on_failure: hooks ``fn(task, task_run, state)``.
        cache_policy: a :mod:`partita.cache_policies` policy; runs with the
            same key share one stored result (the second is ``Cached``).
            Default ``NO_CACHE``.
        cache_key_fn: ``fn(context, parameters) -> str | None``, Prefect's
            custom cache key (combined with ``cache_policy`` when both are set).
        cache_expiration: how long a cached result is reused
            (``datetime.timedelta`` or seconds); default forever.
        refresh_cache: ignore stored results and compute again (the result is
            stored for next time); ``None`` follows ``PARTITA_REFRESH_CACHE``.
        state_details: JSON entries added to the ``state_details`` of every
            state of this task's runs (not in Prefect; compilers record with
            it where a task comes from, e.g. the notebook cells it runs).
    """

    def __init__(
        self,
        fn: Callable[P, R],
        name: str | None = None,
        description: str | None = None,
        tags: Iterable[str] | None = None,
        retries: int = 0,
        retry_delay_seconds: float | Sequence[float] | None = 0,
        retry_jitter_factor: float | None = None,
        retry_condition_fn: Callable[..., bool] | None = None,
        timeout_seconds: float | None = None,
        persist_result: bool | None = None,
        result_serializer: str = "cloudpickle",
        result_storage: str | None = None,
        log_prints: bool | None = None,
        task_run_name: str | None = None,
        on_completion: list[Callable[..., Any]] | None = None,
        on_failure: list[Callable[..., Any]] | None = None,
        cache_policy: Any = None,
        cache_key_fn: Callable[..., str | None] | None = None,
        cache_expiration: "dt.timedelta | float | None" = None,
        refresh_cache: bool | None = None,
        state_details: dict[str, Any] | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"@task needs a function, got {fn!r}")
        self.fn = fn
        self.name = name or getattr(fn, "__name__", "task")
        self.description = description if description is not None else inspect.getdoc(fn)
        self.tags = frozenset(tags or ())
        self.retries = int(retries or 0)
        self.retry_delay_seconds = retry_delay_seconds
        self.retry_jitter_factor = retry_jitter_factor
        self.retry_condition_fn = retry_condition_fn
        self.timeout_seconds = timeout_seconds
        self.persist_result = persist_result
        self.result_serializer = result_serializer
        self.result_storage = result_storage
        self.log_prints = log_prints
        self.task_run_name = task_run_name
        self.on_completion = list(on_completion or ())
        self.on_failure = list(on_failure or ())
        self.cache_policy = cache_policy
        self.cache_key_fn = cache_key_fn
        if cache_expiration is not None and not isinstance(cache_expiration, dt.timedelta):
            cache_expiration = dt.timedelta(seconds=float(cache_expiration))
        self.cache_expiration = cache_expiration
        self.refresh_cache = refresh_cache
        self._cache: Any = _NOT_SET  # effective policy, resolved on first run
        self.state_details = dict(state_details) if state_details else None
        self.is_async = inspect.iscoroutinefunction(fn)
        self.task_key = _task_key(fn) if name is None else f"{_task_key(fn)}:{name}"
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    # -- options ----------------------------------------------------------------------
    _OPTIONS = (
        "name", "description", "tags", "retries", "retry_delay_seconds", "retry_jitter_factor",
        "retry_condition_fn", "timeout_seconds", "persist_result", "result_serializer",
        "result_storage", "log_prints", "task_run_name", "on_completion", "on_failure",
        "cache_policy", "cache_key_fn", "cache_expiration", "refresh_cache", "state_details",
    )

    def with_options(self, **options: Any) -> "Task[P, R]":
        """A copy of this task with some options changed (as Prefect's ``with_options``).

        Raises:
            TypeError: an unknown option name.
        """
        unknown = set(options) - set(self._OPTIONS)
        if unknown:
            raise TypeError(f"unknown task option(s) {', '.join(sorted(unknown))}; known: {', '.join(self._OPTIONS)}")
        current = {k: getattr(self, k) for k in self._OPTIONS}
        current["name"] = self.name if "name" not in options else options["name"]
        current.update(options)
        new = Task(self.fn, **current)
        if "name" not in options:
            new.task_key = self.task_key
        return new

    # -- decisions used by the engine --------------------------------------------------
    def should_persist(self, flow_ctx: FlowRunContext | None) -> bool:
        if self.persist_result is not None:
            return self.persist_result
        return bool(flow_ctx is not None and flow_ctx.persist_result)

    def effective_cache_policy(self) -> Any:
        """The policy the engine uses (``None``: never cached); see :mod:`partita.engine.caching`."""
        if self._cache is _NOT_SET:
            if self.cache_policy is None and self.cache_key_fn is None:
                self._cache = None
            else:
                from partita.engine.caching import policy_of

                self._cache = policy_of(self)
        return self._cache

    def should_refresh(self) -> bool:
        if self.refresh_cache is not None:
            return self.refresh_cache
        from partita.settings import get_settings

        return get_settings().refresh_cache

    def should_retry(self, exc: BaseException) -> bool:
        if self.retry_condition_fn is None:
            return True
        ctx = task_run_ctx.get()
        return bool(self.retry_condition_fn(self, ctx.task_run if ctx else None, exc))

    def format_run_name(self, args: tuple, kwargs: dict[str, Any]) -> str | None:
        try:
            bound = inspect.signature(self.fn).bind_partial(*args, **kwargs)
            return str(self.task_run_name).format(**bound.arguments)
        except (KeyError, IndexError, TypeError, ValueError):
            return None

    # -- calling ------------------------------------------------------------------------
    def __call__(self, *args: P.args, return_state: bool = False, wait_for: list[Any] | None = None, **kwargs: P.kwargs) -> Any:
        flow_ctx = flow_run_ctx.get()
        if flow_ctx is None:
            return self.fn(*args, **kwargs)
        engine = TaskRunEngine(self, args, kwargs, wait_for, flow_ctx)
        if self.is_async:
            return _unwrap_async(engine, return_state)
        state = drive_sync(engine)
        engine.record.handled = True  # the outcome goes straight back to the caller
        return state if return_state else _outcome(state)

    def submit(self, *args: Any, wait_for: list[Any] | None = None, **kwargs: Any) -> PartitaFuture:
        """Run on the flow's task runner; returns a :class:`PartitaFuture`.

        Raises:
            RuntimeError: called outside a running flow.
        """
        flow_ctx = flow_run_ctx.get()
        if flow_ctx is None:
            raise RuntimeError(f"{self.name}.submit() needs a running flow; call it inside a @flow function")
        engine = TaskRunEngine(self, args, kwargs, wait_for, flow_ctx)
        if self.is_async:
            inner = flow_ctx.task_runner.submit_async(lambda: drive_async(engine))
        else:
            inner = flow_ctx.task_runner.submit_sync(lambda: drive_sync(engine))
        future = PartitaFuture(inner, engine.record)
        flow_ctx.futures.append(future)
        return future

    def map(self, *args: Any, wait_for: list[Any] | None = None, **kwargs: Any) -> PartitaFutureList:
        """Submit one task run per item of the iterable arguments (as Prefect's ``map``).

        Arguments wrapped in :func:`partita.unmapped`, and non-iterable ones,
        are passed whole to every run; strings and bytes count as non-iterable.

        Raises:
            ValueError: iterable arguments of different lengths.
        """
        from partita.engine.inputs import unmapped

        def is_mapped(v: Any) -> bool:
            return not isinstance(v, (unmapped, str, bytes, dict)) and hasattr(v, "__iter__")

        arg_items = [list(a) if is_mapped(a) else a for a in args]
        kw_items = {k: list(v) if is_mapped(v) else v for k, v in kwargs.items()}
        lengths = {len(v) for v in [*arg_items, *kw_items.values()] if isinstance(v, list) and not isinstance(v, unmapped)}
        mapped_args = [isinstance(a, list) and is_mapped(args[i]) for i, a in enumerate(arg_items)]
        mapped_kws = {k: is_mapped(kwargs[k]) for k in kwargs}
        if len(lengths) > 1:
            raise ValueError(f"{self.name}.map(): iterable arguments have different lengths {sorted(lengths)}")
        n = lengths.pop() if lengths else 0

        def plain(v: Any) -> Any:
            return v.value if isinstance(v, unmapped) else v

        futures = PartitaFutureList()
        for i in range(n):
            call_args = [a[i] if mapped_args[j] else plain(a) for j, a in enumerate(arg_items)]
            call_kwargs = {k: v[i] if mapped_kws[k] else plain(v) for k, v in kw_items.items()}
            futures.append(self.submit(*call_args, wait_for=wait_for, **call_kwargs))
        return futures

    def __repr__(self) -> str:
        return f"Task(name={self.name!r})"


def _outcome(state: State) -> Any:
    return state.result()


async def _unwrap_async(engine: Any, return_state: bool) -> Any:
    state = await drive_async(engine)
    engine.record.handled = True
    return state if return_state else _outcome(state)


@overload
def task(__fn: Callable[P, R]) -> Task[P, R]: ...


@overload
def task(**options: Any) -> Callable[[Callable[P, R]], Task[P, R]]: ...


def task(__fn: Callable[..., Any] | None = None, **options: Any) -> Any:
    """Decorator making a :class:`Task`; usable bare (``@task``) or with options (``@task(retries=2)``)."""
    if __fn is not None:
        return Task(__fn, **options)
    return lambda fn: Task(fn, **options)
