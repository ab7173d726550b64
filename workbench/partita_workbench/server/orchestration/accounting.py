"""Run accounting applied when a transition is accepted (pure, no I/O).

As Prefect's global orchestration policy: ``start_time`` is set when the run
first enters RUNNING, ``run_count`` grows by one per attempt (each entry into
RUNNING, including an immediate ``Retrying``), time spent RUNNING is added to
``total_run_time`` (seconds) whenever a RUNNING state is left, and
``end_time`` is set on entering a terminal state (and cleared when a retry
leaves it). Durations come from the states' own timestamps.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from partita.client.schemas import StateModel
from partita.states import TERMINAL_STATES, StateType

from partita_workbench.server.orchestration.rules import RETRYING


@dataclass(frozen=True)
class RunAccounting:
    """The accounting columns of a flow run or task run."""

    run_count: int = 0
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    total_run_time: float = 0.0


def enters_running(current: StateModel | None, proposed: StateModel) -> bool:
    """Whether ``proposed`` starts a new attempt (RUNNING from elsewhere, or ``Retrying``)."""
    if proposed.type is not StateType.RUNNING:
        return False
    return current is None or current.type is not StateType.RUNNING or proposed.name == RETRYING


def account(before: RunAccounting, current: StateModel | None, proposed: StateModel) -> RunAccounting:
    """The run's accounting after moving from ``current`` to ``proposed``.

    Timestamps of both states must be timezone-aware.
    """
    after = before
    if current is not None and current.type is StateType.RUNNING:
        seconds = (proposed.timestamp - current.timestamp).total_seconds()
        after = replace(after, total_run_time=after.total_run_time + max(seconds, 0.0))
    if enters_running(current, proposed):
        after = replace(
            after,
            run_count=after.run_count + 1,
            start_time=after.start_time or proposed.timestamp,
        )
    if proposed.type in TERMINAL_STATES:
        after = replace(after, end_time=proposed.timestamp)
    elif current is not None and current.type in TERMINAL_STATES:
        after = replace(after, end_time=None)
    return after
