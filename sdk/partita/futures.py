"""Futures of submitted task runs: ``PartitaFuture``, ``wait``, ``as_completed``.

Names and behaviour follow Prefect 3 (``PrefectFuture``, ``prefect.futures.wait``
and ``as_completed``). A future wraps the :class:`concurrent.futures.Future`
of the task runner; its value is the task run's final :class:`State`.
"""

from __future__ import annotations

import concurrent.futures as cf
import uuid
from typing import Any, Iterable, Iterator, NamedTuple

from partita.states import Pending, State

__all__ = ["PartitaFuture", "PartitaFutureList", "wait", "as_completed", "DoneAndNotDoneFutures"]


class PartitaFuture:
    """The handle of a submitted task run.

    Attributes:
        task_run_id: id of the task run.
    """

    __slots__ = ("_future", "_record")

    def __init__(self, future: cf.Future, record: Any) -> None:
        self._future = future
        self._record = record

    @property
    def task_run_id(self) -> uuid.UUID:
        """Id of the task run."""
        return uuid.UUID(self._record.id)

    def _mark_handled(self) -> None:
        """The flow looked at the outcome, so a failure is the flow's to handle."""
        self._record.handled = True

    @property
    def state(self) -> State:
        """The task run's current state (final once :meth:`wait` returned)."""
        self._mark_handled()
        if self._future.done():
            return self._future.result()
        record_state = getattr(self._record, "state", None)
        return record_state or Pending()

    def done(self) -> bool:
        return self._future.done()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the task run is finished or ``timeout`` seconds passed; never raises (as Prefect's)."""
        cf.wait([self._future], timeout)

    def final_state(self, timeout: float | None = None) -> State:
        return self._future.result(timeout)

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> Any:
        """Wait for the task run and return its result (``State.result()`` semantics).

        Raises:
            TimeoutError: not finished within ``timeout`` seconds.
            Exception: the task's exception when it failed and ``raise_on_failure``.
        """
        try:
            state = self._future.result(timeout)
        except cf.TimeoutError as exc:
            raise TimeoutError(f"task run {self.task_run_id} did not finish within {timeout} s") from exc
        self._mark_handled()
        return state.result(raise_on_failure=raise_on_failure)

    def add_done_callback(self, fn: Any) -> None:
        self._future.add_done_callback(lambda _f: fn(self))

    def __repr__(self) -> str:
        return f"PartitaFuture(task_run_id={self.task_run_id}, done={self.done()})"


class PartitaFutureList(list):
    """A list of futures (what ``Task.map`` returns) with list-wide helpers."""

    def wait(self, timeout: float | None = None) -> None:
        wait(self, timeout)

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> list[Any]:
        """Results in submission order; raises the first failure (by default)."""
        return [f.result(timeout, raise_on_failure) for f in self]


class DoneAndNotDoneFutures(NamedTuple):
    done: set[PartitaFuture]
    not_done: set[PartitaFuture]


def wait(futures: Iterable[PartitaFuture], timeout: float | None = None) -> DoneAndNotDoneFutures:
    """Wait for futures to finish (as ``prefect.futures.wait``).

    Returns:
        ``(done, not_done)`` sets; ``not_done`` is empty unless ``timeout`` expired.
    """
    futures = list(futures)
    by_inner = {f._future: f for f in futures}
    done, not_done = cf.wait(list(by_inner), timeout=timeout)
    return DoneAndNotDoneFutures({by_inner[f] for f in done}, {by_inner[f] for f in not_done})


def as_completed(futures: Iterable[PartitaFuture], timeout: float | None = None) -> Iterator[PartitaFuture]:
    """Yield futures as they finish (as ``prefect.futures.as_completed``).

    Raises:
        TimeoutError: some futures are not finished after ``timeout`` seconds.
    """
    futures = list(futures)
    by_inner = {f._future: f for f in futures}
    for inner in cf.as_completed(list(by_inner), timeout=timeout):
        yield by_inner[inner]
