"""Resolving a task's inputs: futures and states inside its arguments.

Futures (and states) may be passed to a task directly or inside lists, tuples,
sets and dicts; before the task runs each is waited for and replaced by its
result, and recorded as an upstream dependency (Prefect's ``task_inputs``).
``unmapped(x)`` marks an argument of ``Task.map`` that is passed whole to every
mapped run.
"""

from __future__ import annotations

from typing import Any

from partita.exceptions import UpstreamTaskError
from partita.futures import PartitaFuture
from partita.states import State, StateType

_SCALARS = (str, int, float, bool, bytes, type(None))
_SCALAR_SET = frozenset(_SCALARS)


class unmapped:
    """Wrap an argument of ``Task.map`` so it is not iterated (Prefect's ``unmapped``)."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


def contains_upstream(value: Any, depth: int = 0) -> bool:
    """Whether ``value`` holds a future or state (cheap for plain values)."""
    if value.__class__ in _SCALAR_SET:
        return False
    if isinstance(value, _SCALARS):
        return False
    if isinstance(value, (PartitaFuture, State)):
        return True
    if depth < 4:
        if isinstance(value, (list, tuple, set, frozenset)):
            for item in value:
                if item.__class__ not in _SCALAR_SET and contains_upstream(item, depth + 1):
                    return True
            return False
        if isinstance(value, dict):
            for item in value.values():
                if item.__class__ not in _SCALAR_SET and contains_upstream(item, depth + 1):
                    return True
    return False


def _state_of(value: PartitaFuture | State) -> tuple[State, str | None, str]:
    if isinstance(value, PartitaFuture):
        state = value.final_state()
        value._mark_handled()
        return state, value._record.id, value._record.name
    run_id = value.state_details.get("task_run_id") if value.state_details else None
    return value, run_id, str(run_id)


def resolve(value: Any, upstream: list[str], depth: int = 0) -> Any:
    """Replace futures/states in ``value`` by results; collect upstream ids.

    Raises:
        UpstreamTaskError: an upstream run did not complete.
    """
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, (PartitaFuture, State)):
        state, run_id, name = _state_of(value)
        if run_id is not None:
            upstream.append(str(run_id))
        if state.type is not StateType.COMPLETED:
            raise UpstreamTaskError(f"upstream task run {name!r} did not complete ({state.name}: {state.message or 'no message'})")
        return state.result()
    if depth < 4:
        if isinstance(value, list):
            return [resolve(v, upstream, depth + 1) for v in value]
        if isinstance(value, tuple):
            items = [resolve(v, upstream, depth + 1) for v in value]
            return type(value)(*items) if hasattr(value, "_fields") else tuple(items)
        if isinstance(value, (set, frozenset)):
            return type(value)(resolve(v, upstream, depth + 1) for v in value)
        if isinstance(value, dict):
            return {k: resolve(v, upstream, depth + 1) for k, v in value.items()}
    return value


def wait_for_upstream(wait_for: list[Any] | None, upstream: list[str]) -> None:
    """Wait for ``wait_for`` futures; they must complete (Prefect's ``wait_for=``).

    Raises:
        UpstreamTaskError: one of them did not complete.
    """
    for item in wait_for or ():
        if isinstance(item, (PartitaFuture, State)):
            state, run_id, name = _state_of(item)
            if run_id is not None:
                upstream.append(str(run_id))
            if state.type is not StateType.COMPLETED:
                raise UpstreamTaskError(f"upstream task run {name!r} did not complete ({state.name}: {state.message or 'no message'})")
