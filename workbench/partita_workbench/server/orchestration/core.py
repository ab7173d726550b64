"""The core policy: the rules every proposed state goes through, in order.

=================================  =========================================================
rule                               guards
=================================  =========================================================
RejectLeavingTerminalState         a finished run stays finished, unless explicitly retried
AbortRunningTwice                  an attempt enters RUNNING at most once
RetryThroughAwaitingRetry          a new attempt ("Retrying") starts only from AwaitingRetry
GiveAwaitingRetryAScheduledTime    every AwaitingRetry state says when the retry is due
ScheduleServerSideRetries          a failing run with retries left is rescheduled instead
WaitForScheduledTime               a scheduled run does not start before its time
CancelRunningThroughCancelling     a RUNNING run is cancelled by way of CANCELLING
KeepCancellingRunsCancelling       a run being cancelled can only finish
ReturnCachedResults                a task run whose cache key hit completes as ``Cached``
HoldConcurrencySlots               a tagged task run takes its tag limits' slots to run
ReleaseConcurrencySlots            ...and gives them back when it leaves RUNNING
=================================  =========================================================

The names of the sub-states (``AwaitingRetry``, ``Retrying``, ``Cached``,
``Late``, ``Cancelling``) and the behaviour of each rule follow Prefect 3's
core policy (``prefect/server/orchestration/core_policy.py``).
"""

from __future__ import annotations

import datetime as dt

from partita.client.schemas import SetStateStatus, StateModel
from partita.states import TERMINAL_STATES, StateType

from partita_workbench.server.orchestration.concurrency import HoldConcurrencySlots, ReleaseConcurrencySlots
from partita_workbench.server.orchestration.caching import ReturnCachedResults
from partita_workbench.server.orchestration.rules import (
    AWAITING_RETRY,
    RETRYING,
    OrchestrationRule,
    TransitionContext,
    Verdict,
    scheduled_time,
)

RUNNING = frozenset({StateType.RUNNING})
STARTS = frozenset({StateType.PENDING, StateType.RUNNING})


def is_retry(context: TransitionContext) -> bool:
    """Whether the transition is an explicit retry of a FAILED run: SCHEDULED ``AwaitingRetry``.

    Prefect's name for a run waiting to be retried; the new attempt then
    starts from it as RUNNING ``Retrying``.
    """
    return (
        context.from_type is StateType.FAILED
        and context.proposed.type is StateType.SCHEDULED
        and context.proposed.name == AWAITING_RETRY
    )


class RejectLeavingTerminalState(OrchestrationRule):
    """Refuse to move a finished run to another state, unless it is being retried."""

    FROM_TYPES = frozenset(TERMINAL_STATES)

    async def before_transition(self, context: TransitionContext) -> Verdict | None:
        if is_retry(context):
            return None
        current_name = context.current.name if context.current is not None else ""
        return Verdict(
            SetStateStatus.REJECT,
            f"the {context.run_kind} is already in terminal state {context.from_type} "
            f"({current_name!r}) and cannot become {context.to_type.value}; propose SCHEDULED "
            "'AwaitingRetry' (with state_details.scheduled_time) to retry a failed run, or set force=True",
        )


class AbortRunningTwice(OrchestrationRule):
    """Stop a second start of an attempt that is already RUNNING (the other starter won)."""

    FROM_TYPES = RUNNING
    TO_TYPES = RUNNING

    async def before_transition(self, context: TransitionContext) -> Verdict | None:
        return Verdict(
            SetStateStatus.ABORT, f"the {context.run_kind} is already running; do not run this attempt"
        )


class RetryThroughAwaitingRetry(OrchestrationRule):
    """Start a new attempt (``Retrying``) only from an ``AwaitingRetry`` state."""

    TO_TYPES = STARTS

    async def before_transition(self, context: TransitionContext) -> Verdict | None:
        if context.proposed.name != RETRYING:
            return None
        current = context.current
        if current is not None and current.type is StateType.SCHEDULED and current.name == AWAITING_RETRY:
            return None
        return Verdict(
            SetStateStatus.REJECT,
            f"the {context.run_kind} is not awaiting a retry; retries go through SCHEDULED "
            "'AwaitingRetry' with state_details.scheduled_time, then 'Retrying'",
        )


class GiveAwaitingRetryAScheduledTime(OrchestrationRule):
    """Give an ``AwaitingRetry`` state without a readable ``scheduled_time`` its own timestamp."""

    TO_TYPES = frozenset({StateType.SCHEDULED})

    async def before_transition(self, context: TransitionContext) -> Verdict | None:
        proposed = context.proposed
        if proposed.name == AWAITING_RETRY and scheduled_time(proposed) is None:
            details = {**proposed.state_details, "scheduled_time": proposed.timestamp.isoformat()}
            context.proposed = proposed.model_copy(update={"state_details": details})
        return None


class ScheduleServerSideRetries(OrchestrationRule):
    """Turn the failure of a run with retries left into ``AwaitingRetry`` (Prefect's RetryFailedFlows).

    The retries are the run's ``empirical_policy`` (``{"retries": n,
    "retry_delay": seconds}``), for clients that leave retrying to the
    server; runs without one (the SDK retries itself) are not affected.
    """

    FROM_TYPES = RUNNING
    TO_TYPES = frozenset({StateType.FAILED})

    async def before_transition(self, context: TransitionContext) -> Verdict | None:
        policy = getattr(context.run, "empirical_policy", None) or {}
        retries = policy.get("retries") or 0
        if not isinstance(retries, int) or context.run.run_count > retries:
            return None
        delay = policy.get("retry_delay") or 0
        delay = float(delay) if isinstance(delay, (int, float)) else 0.0
        when = context.now + dt.timedelta(seconds=max(delay, 0.0))
        state = StateModel(
            type=StateType.SCHEDULED,
            name=AWAITING_RETRY,
            timestamp=context.now,
            message=context.proposed.message,
            state_details={**context.proposed.state_details, "scheduled_time": when.isoformat()},
        )
        return Verdict(
            SetStateStatus.REJECT,
            f"attempt {context.run.run_count} of {retries + 1} failed; retry scheduled for {when.isoformat()}",
            state=state,
        )


class WaitForScheduledTime(OrchestrationRule):
    """Tell a run proposing to start before its scheduled time to wait until then."""

    FROM_TYPES = frozenset({StateType.SCHEDULED})
    TO_TYPES = STARTS

    async def before_transition(self, context: TransitionContext) -> Verdict | None:
        due = scheduled_time(context.current) if context.current is not None else None
        if due is None or due <= context.now:
            return None
        delay = (due - context.now).total_seconds()
        return Verdict(
            SetStateStatus.WAIT,
            f"the {context.run_kind} is scheduled for {due.isoformat()}; propose again in {delay:.3f} s",
            delay_seconds=delay,
        )


class CancelRunningThroughCancelling(OrchestrationRule):
    """Move a RUNNING run asked to be CANCELLED to CANCELLING: its process must stop it first."""

    FROM_TYPES = RUNNING
    TO_TYPES = frozenset({StateType.CANCELLED})

    async def before_transition(self, context: TransitionContext) -> Verdict | None:
        state = StateModel(
            type=StateType.CANCELLING,
            name="Cancelling",
            timestamp=context.proposed.timestamp,
            message=context.proposed.message,
            state_details=context.proposed.state_details,
        )
        return Verdict(
            SetStateStatus.REJECT,
            f"the {context.run_kind} is running: it is now CANCELLING, and becomes CANCELLED "
            "when the process running it stops",
            state=state,
        )


class KeepCancellingRunsCancelling(OrchestrationRule):
    """Refuse any state but a final one for a run being cancelled."""

    FROM_TYPES = frozenset({StateType.CANCELLING})
    TO_TYPES = frozenset(StateType) - TERMINAL_STATES

    async def before_transition(self, context: TransitionContext) -> Verdict | None:
        return Verdict(
            SetStateStatus.REJECT,
            f"the {context.run_kind} is being cancelled and cannot become {context.to_type.value}; "
            "stop it and propose CANCELLED",
        )


# Order matters: state-rewriting rules run before HoldConcurrencySlots, which
# takes slots only for a transition nothing else objected to.
CORE_POLICY: tuple[OrchestrationRule, ...] = (
    RejectLeavingTerminalState(),
    AbortRunningTwice(),
    RetryThroughAwaitingRetry(),
    GiveAwaitingRetryAScheduledTime(),
    ScheduleServerSideRetries(),
    WaitForScheduledTime(),
    CancelRunningThroughCancelling(),
    KeepCancellingRunsCancelling(),
    ReturnCachedResults(),
    HoldConcurrencySlots(),
    ReleaseConcurrencySlots(),
)
