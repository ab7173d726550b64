"""In-process notifications of state changes, for live views (the CLI's run view).

Listeners are called synchronously, on the thread that changed the state, with
``(kind, run, state)`` where ``kind`` is ``"flow_run"`` or ``"task_run"`` and
``run`` a :class:`partita.context.FlowRunInfo` or
:class:`partita.context.TaskRunRecord`. With no listener the cost is one
truth test per state change.
"""

from __future__ import annotations

from typing import Any, Callable

Listener = Callable[[str, Any, Any], None]
listeners: list[Listener] = []


def subscribe(listener: Listener) -> Callable[[], None]:
    """Register ``listener``; returns a function that removes it."""
    listeners.append(listener)
    return lambda: listeners.remove(listener) if listener in listeners else None


def emit(kind: str, run: Any, state: Any) -> None:
    for listener in list(listeners):
        try:
            listener(kind, run, state)
        except Exception:  # a broken view must never break a run
            pass
