"""Stopping runs that are under way: cancel scopes, interrupts and signals.

Each attempt of a task run (and of a flow run) runs inside a
:class:`CancelScope`. Code that starts something outside Python — a shell
command, a Jupyter kernel — registers a callback with :func:`on_cancel`, and
the scope calls it when the attempt must stop: on a timeout, or when the flow
run is interrupted (Ctrl-C, ``SIGTERM``). The callback stops the process; the
engine records the outcome.

A flow run cancelled from outside (``partita flow-run cancel``, see
:mod:`partita.engine.cancellation`) stops the same way, but only the scopes
it owns, and ends CANCELLED.

An interrupted flow run ends CRASHED, as in Prefect: task runs that were
running end CRASHED, task runs that had not started never start (they end
CANCELLED), and every registered child process is stopped. ``SIGTERM`` is
turned into :class:`partita.exceptions.TerminationSignal` while a flow runs in
the main thread (Prefect's ``TerminationSignal``), so it is handled the same way
as ``KeyboardInterrupt``.
"""

from __future__ import annotations

import contextlib
import contextvars
import signal
import threading
from typing import Any, Callable, Iterator

__all__ = ["CancelScope", "current_scope", "on_cancel", "cancel_all", "interrupted", "deferred_signals", "terminate_process_group"]


class CancelScope:
    """Callbacks to call when one attempt of a run must stop.

    Attributes:
        reason: why it was cancelled (``None`` while it was not).
        thread: the thread calling the user's function, if known.
        owner: id of the flow run the attempt belongs to (``None``: no flow run),
            so cancelling one flow run stops only what it started.
    """

    __slots__ = ("_callbacks", "reason", "thread", "owner")

    def __init__(self, thread: threading.Thread | None = None, owner: str | None = None) -> None:
        self._callbacks: list[Callable[[], None]] = []
        self.reason: str | None = None
        self.thread = thread
        self.owner = owner

    def add(self, callback: Callable[[], None]) -> None:
        """Register ``callback``; it is called at once when the scope is already cancelled."""
        self._callbacks.append(callback)
        if self.reason is not None:
            _call(callback)

    def remove(self, callback: Callable[[], None]) -> None:
        with contextlib.suppress(ValueError):
            self._callbacks.remove(callback)

    def cancel(self, reason: str) -> None:
        """Mark the scope cancelled and call every callback (errors are ignored)."""
        if self.reason is not None:
            return
        self.reason = reason
        for callback in list(self._callbacks):
            _call(callback)


def _call(callback: Callable[[], None]) -> None:
    try:
        callback()
    except Exception:  # stopping must go on whatever one callback does
        pass


current_scope: contextvars.ContextVar[CancelScope | None] = contextvars.ContextVar("partita_cancel_scope", default=None)

_active: set[CancelScope] = set()
_interrupted = threading.Event()


def enter_scope(scope: CancelScope) -> contextvars.Token:
    _active.add(scope)  # set.add / discard / list(set) are each atomic in CPython: no lock
    return current_scope.set(scope)


def exit_scope(scope: CancelScope, token: contextvars.Token) -> None:
    current_scope.reset(token)
    _active.discard(scope)


@contextlib.contextmanager
def on_cancel(callback: Callable[[], None]) -> Iterator[CancelScope | None]:
    """Call ``callback`` if the current run attempt is cancelled while the block runs.

    Outside a run it does nothing. Yields the scope (or ``None``), whose
    ``reason`` tells the block afterwards whether it was cancelled.
    """
    scope = current_scope.get()
    if scope is None:
        yield None
        return
    scope.add(callback)
    try:
        yield scope
    finally:
        scope.remove(callback)


def cancel_all(reason: str, owner: str | None = None) -> None:
    """Cancel every scope of this process (what an interrupt does), or those of flow run ``owner``."""
    scopes = [scope for scope in list(_active) if owner is None or scope.owner == owner]
    for scope in scopes:
        scope.cancel(reason)


def interrupted() -> bool:
    """Whether a flow run of this process was interrupted (no task run may start then)."""
    return _interrupted.is_set()


def set_interrupted(value: bool) -> None:
    if value:
        _interrupted.set()
    else:
        _interrupted.clear()


@contextlib.contextmanager
def deferred_signals(note: Callable[[int], None] | None = None) -> Iterator[None]:
    """Hold ``SIGINT``/``SIGTERM`` off while the block runs (main thread only).

    The block records the end of an interrupted run; a second Ctrl-C must not
    cut it short. Signals received meanwhile are passed to ``note``.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: dict[int, Any] = {}

    def hold(signum: int, frame: Any) -> None:
        if note is not None:
            note(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            previous[signum] = signal.signal(signum, hold)
        except (ValueError, OSError):
            pass
    try:
        yield
    finally:
        for signum, handler in previous.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(signum, handler)


@contextlib.contextmanager
def sigterm_raises() -> Iterator[None]:
    """While the block runs in the main thread, ``SIGTERM`` raises :class:`TerminationSignal`.

    Only when ``SIGTERM`` has its default action (someone else's handler is kept).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        installed = signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    except (ValueError, OSError):
        installed = False
    if installed:
        signal.signal(signal.SIGTERM, raise_termination)
    try:
        yield
    finally:
        if installed:
            with contextlib.suppress(ValueError, OSError):
                signal.signal(signal.SIGTERM, signal.SIG_DFL)


def raise_termination(signum: int, frame: Any) -> None:
    """A signal handler raising :class:`partita.exceptions.TerminationSignal`."""
    from partita.exceptions import TerminationSignal

    raise TerminationSignal(signum)


def terminate_process_group(process: Any, grace: float = 2.0) -> None:
    """Stop ``process`` (a :class:`subprocess.Popen` leading its own process group) and its children.

    ``SIGTERM`` to the group now, ``SIGKILL`` after ``grace`` seconds if it is
    still there; returns at once.
    """
    import os

    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return

    def kill() -> None:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)

    timer = threading.Timer(grace, kill)
    timer.daemon = True
    timer.start()
