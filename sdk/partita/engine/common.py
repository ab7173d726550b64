"""Pieces shared by the flow-run and task-run engines (free of any run state)."""

from __future__ import annotations

import asyncio
import contextvars
import ctypes
import datetime as dt
import os
import traceback
import random
import threading
from typing import Any, Callable, Iterable, Sequence

from partita.engine.interrupts import current_scope
from partita.exceptions import TaskTimeoutError

RAISE = object()  # handle_exception's answer: record done, re-raise the exception
STOP = object()  # begin_attempt's answer: the run is over without another attempt


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def exception_message(exc: BaseException) -> str:
    """``"TypeName: message"`` — the message of a FAILED state."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


_OWN_DIRS = tuple(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep + sub for sub in ("engine", "tasks.py", "flows.py", "states.py", "futures.py")
)
_MAX_FRAMES = 40


def failure_details(exc: BaseException) -> dict[str, Any]:
    """An exception raised by user code as data for ``state_details["failure"]``.

    Returns:
        ``ename``, ``evalue``, ``traceback`` (lines of the traceback without the
        engine's own frames, at most the innermost 40), and ``file``, ``line``,
        ``function`` of the innermost frame of the user's code (not the
        engine's, not a library's when a user frame exists), or ``None`` each.
    """
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(_OWN_DIRS)]
    user = [f for f in frames if not _is_library(f.filename)] or frames
    where = user[-1] if user else None
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames[-_MAX_FRAMES:]), *traceback.format_exception_only(type(exc), exc)]
    return {
        "ename": type(exc).__name__,
        "evalue": str(exc),
        "traceback": "".join(lines).rstrip("\n").split("\n"),
        "file": where.filename if where else None,
        "line": where.lineno if where else None,
        "function": where.name if where else None,
    }


def _is_library(filename: str) -> bool:
    return "site-packages" in filename or "dist-packages" in filename or filename.startswith(_STDLIB)


_STDLIB = os.path.dirname(os.__file__) + os.sep


def retry_delay(retry_delay_seconds: float | Sequence[float] | None, attempt: int, jitter_factor: float | None) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based).

    ``retry_delay_seconds`` is a number, or a list whose n-th item is the delay
    before the n-th retry (its last item repeats), as Prefect's
    ``task(retry_delay_seconds=...)``. ``jitter_factor`` adds up to that
    fraction of the delay at random (Prefect's ``retry_jitter_factor``).
    """
    if retry_delay_seconds is None:
        delay = 0.0
    elif isinstance(retry_delay_seconds, (int, float)):
        delay = float(retry_delay_seconds)
    else:
        delays = list(retry_delay_seconds)
        delay = float(delays[min(attempt, len(delays)) - 1]) if delays else 0.0
    if jitter_factor:
        delay += delay * jitter_factor * random.random()
    return max(0.0, delay)


def _raise_in_thread(thread: threading.Thread, exc_type: type[BaseException]) -> None:
    """Ask ``thread`` to raise ``exc_type`` at its next bytecode (best effort)."""
    if thread.ident is not None:
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread.ident), ctypes.py_object(exc_type))


class _TimedOut(TaskTimeoutError):
    pass


def call_sync(fn: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any], timeout: float | None, what: str) -> Any:
    """Call ``fn`` in this thread, or with a timeout on a helper thread.

    With ``timeout`` set the call runs on a daemon thread (with this context);
    when it overruns, :class:`TaskTimeoutError` is raised here at once and the
    helper thread is asked to stop at its next Python instruction.
    """
    if timeout is None:
        return fn(*args, **kwargs)
    outcome: dict[str, Any] = {}
    ctx = contextvars.copy_context()

    def target() -> None:
        try:
            outcome["value"] = ctx.run(fn, *args, **kwargs)
        except BaseException as exc:  # carried back to the caller
            outcome["error"] = exc

    thread = threading.Thread(target=target, name=f"partita-timeout-{what}", daemon=True)
    scope = current_scope.get()
    if scope is not None:
        scope.thread = thread
    thread.start()
    thread.join(timeout)
    if thread.is_alive():
        if scope is not None:  # stops the shell commands and kernels the run started
            scope.cancel(f"{what} exceeded its timeout of {timeout:g} s")
        _raise_in_thread(thread, _TimedOut)
        raise own_timeout(what, timeout)
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


async def call_async(fn: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any], timeout: float | None, what: str) -> Any:
    """Await ``fn(*args, **kwargs)``, raising :class:`TaskTimeoutError` after ``timeout`` s."""
    if timeout is None:
        return await fn(*args, **kwargs)
    try:
        return await asyncio.wait_for(fn(*args, **kwargs), timeout)
    except asyncio.TimeoutError as exc:
        scope = current_scope.get()
        if scope is not None:
            scope.cancel(f"{what} exceeded its timeout of {timeout:g} s")
        raise own_timeout(what, timeout) from exc


def own_timeout(what: str, timeout: float) -> TaskTimeoutError:
    """The :class:`TaskTimeoutError` of run ``what`` itself (``error.run_label == what``)."""
    error = TaskTimeoutError(f"{what} exceeded its timeout of {timeout:g} s")
    error.run_label = what  # type: ignore[attr-defined]
    return error


def run_hooks(hooks: Iterable[Callable[..., Any]], *args: Any) -> None:
    """Call state-change hooks; a failing hook is logged, never fails the run."""
    for hook in hooks:
        try:
            hook(*args)
        except Exception as exc:
            import logging

            logging.getLogger("partita").error("hook %r failed: %s", getattr(hook, "__name__", hook), exc)
