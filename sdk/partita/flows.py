"""``@flow`` and :class:`Flow` (Prefect 3's programming model).

Calling a flow creates a flow run recorded by the backend, runs the function
and returns its value (raising its exception if it failed; with
``return_state=True`` the final :class:`State`). Called inside another flow it
becomes a subflow. An async flow's call returns a coroutine to ``await``.

Parameters are validated against the function's signature with pydantic
before the run starts (as Prefect's ``validate_parameters``); values are
coerced to the annotated types.
"""

from __future__ import annotations

import functools
import inspect
import json
import random
from typing import Any, Callable, Generic, Iterable, ParamSpec, Sequence, TypeVar, overload

from partita.exceptions import ParameterTypeError
from partita.states import State

P = ParamSpec("P")
R = TypeVar("R")

__all__ = ["Flow", "flow"]

_ADJECTIVES = (
    "amber", "brisk", "calm", "daring", "eager", "fancy", "gentle", "humble", "ivory", "jolly",
    "keen", "lively", "mellow", "nimble", "olive", "proud", "quiet", "rapid", "silver", "tidy",
    "upbeat", "vivid", "witty", "young", "zesty",
)
_MUSIC = (
    "allegro", "aria", "bolero", "cadenza", "canon", "chorale", "coda", "etude", "fugue", "gigue",
    "largo", "minuet", "nocturne", "overture", "prelude", "requiem", "rondo", "scherzo", "sonata",
    "suite", "toccata", "waltz",
)


class Flow(Generic[P, R]):
    """A flow definition (as Prefect's ``Flow``).

    Args:
        fn: the function (sync or async).
        name: flow name; default the function's name with ``_`` → ``-``.
        description: default the function's docstring.
        version: free-form version label.
        tags: labels recorded on every flow run.
        retries: extra attempts of the whole flow after a failure.
        retry_delay_seconds: seconds before each retry.
        timeout_seconds: fail the run (``TimedOut``) after this many seconds.
        persist_result: persist the flow's return value, and (as the default
            for its tasks) every task's return value.
        result_serializer, result_storage: as for :class:`partita.Task`.
        log_prints: turn ``print`` into run logs for the flow and its tasks.
        task_runner: runner for ``.submit``/``.map`` (default ThreadPoolTaskRunner).
        validate_parameters: validate and coerce parameters with pydantic.
        flow_run_name: format string for flow run names, filled from parameters.
        on_completion, on_failure, on_crashed: hooks ``fn(flow, flow_run, state)``.
        on_cancellation: hooks ``fn(flow, flow_run, state)`` called when the
            flow run was cancelled (``partita flow-run cancel``), as Prefect's.
    """

    def __init__(
        self,
        fn: Callable[P, R],
        name: str | None = None,
        description: str | None = None,
        version: str | None = None,
        tags: Iterable[str] | None = None,
        retries: int = 0,
        retry_delay_seconds: float | Sequence[float] | None = 0,
        timeout_seconds: float | None = None,
        persist_result: bool | None = None,
        result_serializer: str = "cloudpickle",
        result_storage: str | None = None,
        log_prints: bool | None = None,
        task_runner: Any = None,
        validate_parameters: bool = True,
        flow_run_name: str | None = None,
        on_completion: list[Callable[..., Any]] | None = None,
        on_failure: list[Callable[..., Any]] | None = None,
        on_crashed: list[Callable[..., Any]] | None = None,
        on_cancellation: list[Callable[..., Any]] | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"@flow needs a function, got {fn!r}")
        from partita.task_runners import ThreadPoolTaskRunner

        self.fn = fn
        self.name = name or getattr(fn, "__name__", "flow").replace("_", "-")
        self.description = description if description is not None else inspect.getdoc(fn)
        self.version = version
        self.tags = frozenset(tags or ())
        self.retries = int(retries or 0)
        self.retry_delay_seconds = retry_delay_seconds
        self.timeout_seconds = timeout_seconds
        self.persist_result = persist_result
        self.result_serializer = result_serializer
        self.result_storage = result_storage
        self.log_prints = log_prints
        self.task_runner = task_runner or ThreadPoolTaskRunner()
        self.validate_parameters_enabled = validate_parameters
        self.flow_run_name = flow_run_name
        self.on_completion = list(on_completion or ())
        self.on_failure = list(on_failure or ())
        self.on_crashed = list(on_crashed or ())
        self.on_cancellation = list(on_cancellation or ())
        self.is_async = inspect.iscoroutinefunction(fn)
        self.signature = _signature(fn)
        self._model: Any = None
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    _OPTIONS = (
        "name", "description", "version", "tags", "retries", "retry_delay_seconds", "timeout_seconds",
        "persist_result", "result_serializer", "result_storage", "log_prints", "task_runner",
        "flow_run_name", "on_completion", "on_failure", "on_crashed", "on_cancellation",
    )

    def with_options(self, **options: Any) -> "Flow[P, R]":
        """A copy of this flow with some options changed (as Prefect's ``with_options``).

        Raises:
            TypeError: an unknown option name.
        """
        unknown = set(options) - set(self._OPTIONS)
        if unknown:
            raise TypeError(f"unknown flow option(s) {', '.join(sorted(unknown))}; known: {', '.join(self._OPTIONS)}")
        current = {k: getattr(self, k) for k in self._OPTIONS}
        current.update(options)
        return Flow(self.fn, validate_parameters=self.validate_parameters_enabled, **current)

    # -- parameters -----------------------------------------------------------------------
    def bind(self, args: tuple, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Bind call arguments to parameter names (defaults not filled in).

        Raises:
            ParameterTypeError: arguments that do not fit the signature.
        """
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise ParameterTypeError(f"flow {self.name!r}: {exc}; its parameters are ({_describe(self.signature)})") from exc
        return dict(bound.arguments)

    def _parameter_model(self) -> Any:
        if self._model is None:
            from pydantic import ConfigDict, create_model

            fields: dict[str, Any] = {}
            for p in self.signature.parameters.values():
                if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                    continue
                annotation = Any if p.annotation is inspect.Parameter.empty else p.annotation
                default = ... if p.default is inspect.Parameter.empty else p.default
                fields[p.name] = (annotation, default)
            self._model = create_model(
                f"{self.name}_parameters", __config__=ConfigDict(arbitrary_types_allowed=True), **fields
            )
        return self._model

    def validate_parameters(self, parameters: dict[str, Any]) -> dict[str, Any]:
        """Validate and coerce ``parameters`` against the signature.

        Returns:
            the parameters with defaults filled in and values coerced.

        Raises:
            ParameterTypeError: naming each bad parameter, what was given and
                what was expected.
        """
        if not self.validate_parameters_enabled:
            return dict(parameters)
        from pydantic import PydanticUserError, ValidationError

        named = {k: v for k, v in parameters.items() if k in self.signature.parameters and self.signature.parameters[k].kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)}
        try:
            model = self._parameter_model().model_validate(named)
        except PydanticUserError as exc:  # an annotation pydantic cannot resolve, e.g. a name imported only for type checkers
            self._model = None
            raise ParameterTypeError(
                f"flow {self.name!r}: its parameters cannot be checked ({str(exc).splitlines()[0]}); import the types "
                "its annotations name at run time, not only under `if TYPE_CHECKING:`, or use "
                "@flow(validate_parameters=False)"
            ) from None
        except ValidationError as exc:
            lines = []
            for err in exc.errors():
                where = ".".join(str(part) for part in err["loc"])
                given = f" (got {err['input']!r})" if err["type"] != "missing" else ""
                lines.append(f"parameter {where!r}: {err['msg']}{given}")
            raise ParameterTypeError(
                f"flow {self.name!r} was given invalid parameters: " + "; ".join(lines)
                + f". Its parameters are ({_describe(self.signature)})."
            ) from None
        values = {name: getattr(model, name) for name in type(model).model_fields}
        for k, v in parameters.items():  # *args / **kwargs pass through
            values.setdefault(k, v)
        return values

    def call_arguments(self, parameters: dict[str, Any]) -> tuple[tuple, dict[str, Any]]:
        """Positional and keyword arguments for calling ``fn`` with ``parameters``."""
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for p in self.signature.parameters.values():
            if p.name not in parameters:
                continue
            if p.kind is p.POSITIONAL_ONLY:
                args.append(parameters[p.name])
            elif p.kind is p.VAR_POSITIONAL:
                args.extend(parameters[p.name])
            elif p.kind is p.VAR_KEYWORD:
                kwargs.update(parameters[p.name])
            else:
                kwargs[p.name] = parameters[p.name]
        return tuple(args), kwargs

    @staticmethod
    def jsonable_parameters(parameters: dict[str, Any]) -> dict[str, Any]:
        """Parameters as JSON for the backend (non-JSON values become their ``repr``)."""
        try:
            json.dumps(parameters)
            return parameters
        except (TypeError, ValueError):
            from pydantic_core import to_jsonable_python

            return to_jsonable_python(parameters, fallback=repr)

    def generate_run_name(self, parameters: dict[str, Any] | None = None) -> str:
        if self.flow_run_name and parameters is not None:
            try:
                return self.flow_run_name.format(**parameters)
            except (KeyError, IndexError, ValueError):
                pass
        return f"{random.choice(_ADJECTIVES)}-{random.choice(_MUSIC)}-{random.randrange(1000):03d}"

    # -- calling ------------------------------------------------------------------------
    def __call__(self, *args: P.args, return_state: bool = False, **kwargs: P.kwargs) -> Any:
        from partita.engine.flow_engine import FlowRunEngine

        parameters = self.bind(args, kwargs)
        engine = FlowRunEngine(self, parameters)
        if self.flow_run_name:
            engine.info.name = self.generate_run_name(parameters)
        if self.is_async:
            return _unwrap_async(engine, return_state)
        from partita.engine.drivers import drive_sync

        try:
            state = drive_sync(engine)
        except BaseException as exc:
            state = _stopped(engine, exc)
        return state if return_state else state.result()

    def __repr__(self) -> str:
        return f"Flow(name={self.name!r})"


def _signature(fn: Callable[..., Any]) -> inspect.Signature:
    """The signature with string annotations (``from __future__ import annotations``) evaluated."""
    try:
        return inspect.signature(fn, eval_str=True)
    except Exception:  # an annotation naming something undefined: keep the strings
        return inspect.signature(fn)


def _describe(signature: inspect.Signature) -> str:
    parts = []
    for p in signature.parameters.values():
        text = p.name
        if p.annotation is not inspect.Parameter.empty:
            text += f": {getattr(p.annotation, '__name__', p.annotation)}"
        if p.default is not inspect.Parameter.empty:
            text += f" = {p.default!r}"
        parts.append(text)
    return ", ".join(parts)


async def _unwrap_async(engine: Any, return_state: bool) -> Any:
    from partita.engine.drivers import drive_async

    try:
        state = await drive_async(engine)
    except BaseException as exc:
        state = _stopped(engine, exc)
    return state if return_state else state.result()


def _stopped(engine: Any, exc: BaseException) -> Any:
    """The final state of a flow run stopped outside its function, or re-raise ``exc``.

    A cancelled run (its :class:`FlowRunCancelled` may arrive after the
    function returned) has its CANCELLED state; an interrupt is recorded
    (the run ends CRASHED) and raised again.
    """
    if engine.cancelled is not None and engine.finished():
        engine.forget_cancellation(exc)
        return engine.info.state
    if not isinstance(exc, Exception):  # an interrupt outside the flow function: record it
        engine.abort(exc)
    raise exc


@overload
def flow(__fn: Callable[P, R]) -> Flow[P, R]: ...


@overload
def flow(**options: Any) -> Callable[[Callable[P, R]], Flow[P, R]]: ...


def flow(__fn: Callable[..., Any] | None = None, **options: Any) -> Any:
    """Decorator making a :class:`Flow`; usable bare (``@flow``) or with options (``@flow(retries=1)``)."""
    if __fn is not None:
        return Flow(__fn, **options)
    return lambda fn: Flow(fn, **options)
