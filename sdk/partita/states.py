"""States of flow runs and task runs.

A run moves through states of one :class:`StateType`; each state also carries a
display *name*, which distinguishes the named sub-states (``Late`` is a
SCHEDULED state, ``Retrying`` a RUNNING one, ``Cached`` a COMPLETED one...).
The set of types, the terminal set and the capitalised constructors follow
Prefect 3 (``prefect.states``).

This module is deliberately free of pydantic: states are created on the hot
path of every task run, so they are plain ``__slots__`` objects, converted to
:class:`partita.client.schemas.StateModel` only when they cross the wire.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import uuid
from enum import Enum
from random import getrandbits
from time import time_ns as _time_ns
from typing import Any

__all__ = [
    "StateType",
    "State",
    "TERMINAL_STATES",
    "Scheduled",
    "Late",
    "AwaitingRetry",
    "Pending",
    "Running",
    "Retrying",
    "Completed",
    "Cached",
    "Failed",
    "TimedOut",
    "Crashed",
    "Cancelling",
    "Cancelled",
    "Paused",
]


class StateType(str, Enum):
    """The kinds of state a run can be in (Prefect 3's ``StateType``)."""

    SCHEDULED = "SCHEDULED"
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CRASHED = "CRASHED"
    CANCELLING = "CANCELLING"
    CANCELLED = "CANCELLED"
    PAUSED = "PAUSED"

    def __str__(self) -> str:  # "COMPLETED", not "StateType.COMPLETED"
        return self.value


TERMINAL_STATES = frozenset(
    {StateType.COMPLETED, StateType.FAILED, StateType.CRASHED, StateType.CANCELLED}
)

_UTC = dt.timezone.utc
_now = dt.datetime.now


def new_id() -> str:
    """A time-ordered UUID (version 7, RFC 9562), as its canonical string, made without a system call.

    The first 48 bits are the Unix time in milliseconds; ids made later sort
    later, so the database appends to its primary-key and run-id indexes
    instead of writing at random places in them (measured here: up to twice
    as quick to insert as version 4). The other 74 bits are a per-process
    random start plus a counter (RFC 9562's "monotonic random" method):
    unique within the process, and between processes as unlikely to collide
    as random bits. Nothing here reads ``os.urandom`` after start-up:
    ``uuid.uuid4()`` does, which releases the interpreter lock, and with the
    recorder on another thread each release can stall the run for a
    thread-switch interval. Ids need to be unique, not secret.
    """
    ms = _time_ns() // 1_000_000
    prefix = _prefix
    if ms != prefix[0]:
        h = "%012x" % ms
        prefix = (ms, f"{h[:8]}-{h[8:]}-7")
        _set_prefix(prefix)
    n = (_random_start + next(_sequence)) & _LOW_74
    return "%s%03x-%04x-%012x" % (prefix[1], n >> 62, 0x8000 | (n >> 48) & 0x3FFF, n & 0xFFFF_FFFF_FFFF)


_LOW_74 = (1 << 74) - 1
_random_start = getrandbits(74)
_sequence = itertools.count()
_prefix: tuple[int, str] = (-1, "")


def _set_prefix(value: tuple[int, str]) -> None:
    global _prefix
    _prefix = value


def _reseed_after_fork() -> None:
    global _random_start, _sequence
    _random_start, _sequence = getrandbits(74), itertools.count()


os.register_at_fork(after_in_child=_reseed_after_fork)


class State:
    """A state of a run: type, name, time, message and (optionally) a result.

    Args:
        type: the :class:`StateType`.
        name: display name; defaults to the capitalised type (``"Completed"``).
        message: human-readable explanation, e.g. the error of a failed run.
        data: a result record (dict with ``storage_key``...) for a persisted
            result, or ``None``.
        state_details: context such as ``flow_run_id``, ``task_run_id``,
            ``scheduled_time`` (ISO string), ``cache_key``.

    The in-memory result value (when the run happened in this process) is kept
    on the state so ``state.result()`` does not need storage.
    """

    __slots__ = ("id", "type", "name", "timestamp", "message", "data", "state_details", "_value", "_has_value")

    def __init__(
        self,
        type: StateType,
        name: str | None = None,
        message: str | None = None,
        data: dict[str, Any] | None = None,
        state_details: dict[str, Any] | None = None,
        timestamp: dt.datetime | None = None,
        id: str | None = None,
    ) -> None:
        self.id = id or new_id()
        self.type = type if type.__class__ is StateType else StateType(type)
        self.name = name or self.type.value.capitalize()
        self.timestamp = timestamp or _now(_UTC)
        self.message = message
        self.data = data
        self.state_details = state_details if state_details is not None else {}
        self._value: Any = None
        self._has_value = False

    # -- predicates (Prefect's names) ---------------------------------------------
    def is_scheduled(self) -> bool:
        return self.type is StateType.SCHEDULED

    def is_pending(self) -> bool:
        return self.type is StateType.PENDING

    def is_running(self) -> bool:
        return self.type is StateType.RUNNING

    def is_completed(self) -> bool:
        return self.type is StateType.COMPLETED

    def is_failed(self) -> bool:
        return self.type is StateType.FAILED

    def is_crashed(self) -> bool:
        return self.type is StateType.CRASHED

    def is_cancelling(self) -> bool:
        return self.type is StateType.CANCELLING

    def is_cancelled(self) -> bool:
        return self.type is StateType.CANCELLED

    def is_paused(self) -> bool:
        return self.type is StateType.PAUSED

    def is_final(self) -> bool:
        return self.type in TERMINAL_STATES

    # -- results -------------------------------------------------------------------
    def _attach(self, value: Any) -> "State":
        self._value = value
        self._has_value = True
        return self

    def result(self, raise_on_failure: bool = True) -> Any:
        """The run's return value (as Prefect's ``State.result()``).

        For a COMPLETED state: the value returned by the run, from memory when
        the run happened in this process, otherwise loaded from result storage
        through the state's result record.

        For a FAILED / CRASHED / CANCELLED state: raises the run's exception
        (or :class:`partita.exceptions.FailedRun` carrying the message) when
        ``raise_on_failure`` is true, else returns that exception.

        Raises:
            partita.exceptions.MissingResult: the run completed without
                persisting its result and it is not held in memory.
        """
        if self._has_value and self.type is StateType.COMPLETED:  # the common case, first
            return self._value
        from partita.exceptions import FailedRun, MissingResult, UnfinishedRun

        if self.type in (StateType.FAILED, StateType.CRASHED, StateType.CANCELLED):
            exc = self._value if isinstance(self._value, BaseException) else None
            if exc is None:
                exc = FailedRun(f"{self.name}: {self.message or 'the run did not complete'}")
            if raise_on_failure:
                raise exc
            return exc
        if self._has_value:
            return self._value
        if self.data is not None:
            from partita.results import load_result

            self._value = load_result(self.data)
            self._has_value = True
            return self._value
        if self.type is not StateType.COMPLETED:
            raise UnfinishedRun(f"the run is {self.name}; it has no result yet")
        raise MissingResult(
            "this state's result was not persisted and is not in memory; "
            "run the task or flow with persist_result=True to load results in another process"
        )

    # -- wire format ---------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type.value,
            "name": self.name,
            "timestamp": self.timestamp.isoformat(),
            "message": self.message,
            "state_details": self.state_details,
            "data": self.data,
        }

    def to_wire(self, task_run_id: str) -> list[Any]:
        """This state as a row of a task-run batch (``TaskRunStateRow``).

        ``task_run_id`` travels in the row, so it is left out of
        ``state_details`` (the backend puts it back when the state is read).
        The timestamp stays a ``datetime``: the embedded writer formats it
        for SQLite once, and the HTTP client's JSON encoder (pydantic-core)
        writes ISO 8601 text.
        """
        details = self.state_details
        if details.get("task_run_id") == task_run_id:
            details = {} if len(details) == 1 else {k: v for k, v in details.items() if k != "task_run_id"}
        # ``_value_``: the enum's plain attribute (``.value`` is a slower descriptor)
        return [task_run_id, self.id, self.type._value_, self.name, self.timestamp, self.message, details, self.data]

    @classmethod
    def from_json(cls, doc: dict[str, Any] | Any) -> "State":
        """Build from a JSON dict or a :class:`StateModel`."""
        if not isinstance(doc, dict):
            doc = doc.model_dump(mode="json")
        ts = doc.get("timestamp")
        return cls(
            type=StateType(doc["type"]),
            name=doc.get("name"),
            message=doc.get("message"),
            data=doc.get("data"),
            state_details=dict(doc.get("state_details") or {}),
            timestamp=dt.datetime.fromisoformat(ts) if isinstance(ts, str) else ts,
            id=str(doc["id"]) if doc.get("id") else None,
        )

    def copy(self) -> "State":
        new = State(self.type, self.name, self.message, self.data, dict(self.state_details))
        new._value, new._has_value = self._value, self._has_value
        return new

    def __repr__(self) -> str:
        msg = f", message={self.message!r}" if self.message else ""
        return f"{self.name}(type={self.type.value}{msg})"


# -- constructors (Prefect's capitalised functions) -------------------------------------


def _make(type_: StateType, default_name: str):
    def constructor(message: str | None = None, name: str | None = None, **kwargs: Any) -> State:
        return State(type_, name or default_name, message, **kwargs)

    constructor.__name__ = default_name
    constructor.__doc__ = f"A {type_.value} state named {default_name!r}."
    return constructor


Scheduled = _make(StateType.SCHEDULED, "Scheduled")
Late = _make(StateType.SCHEDULED, "Late")
AwaitingRetry = _make(StateType.SCHEDULED, "AwaitingRetry")
Pending = _make(StateType.PENDING, "Pending")
Running = _make(StateType.RUNNING, "Running")
Retrying = _make(StateType.RUNNING, "Retrying")
Completed = _make(StateType.COMPLETED, "Completed")
Cached = _make(StateType.COMPLETED, "Cached")
Failed = _make(StateType.FAILED, "Failed")
TimedOut = _make(StateType.FAILED, "TimedOut")
Crashed = _make(StateType.CRASHED, "Crashed")
Cancelling = _make(StateType.CANCELLING, "Cancelling")
Cancelled = _make(StateType.CANCELLED, "Cancelled")
Paused = _make(StateType.PAUSED, "Paused")
