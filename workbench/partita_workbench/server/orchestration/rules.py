"""Orchestration rules: which proposed state transitions the backend accepts.

Each rule is a small named class stating, as an imperative sentence, what it
guards; it declares the state types it watches (``FROM_TYPES`` for the run's
current state, ``TO_TYPES`` for the proposed one) and returns a
:class:`Verdict` to object, or ``None`` to let the transition through. A
policy is an ordered tuple of rules; the first objection wins. The shape
follows Prefect's ``server/orchestration/rules.py`` and ``core_policy.py``.

The rules here are pure: no database, no I/O. Applying an accepted
transition to a run (run count, start and end times) is
:mod:`partita_workbench.server.orchestration.accounting`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from partita.client.schemas import SetStateStatus, StateModel
from partita.states import TERMINAL_STATES, StateType

ALL_TYPES = frozenset(StateType)
RETRYING = "Retrying"
AWAITING_RETRY = "AwaitingRetry"


@dataclass(frozen=True)
class Transition:
    """A proposed move of one run from its ``current`` state (None: a new run) to ``proposed``."""

    run_kind: str  # "flow run" or "task run", for messages
    current: StateModel | None
    proposed: StateModel

    @property
    def from_type(self) -> StateType | None:
        return self.current.type if self.current is not None else None

    @property
    def to_type(self) -> StateType:
        return self.proposed.type


@dataclass(frozen=True)
class Verdict:
    """A rule's objection: REJECT (the state stays), ABORT (stop the attempt) or WAIT."""

    status: SetStateStatus
    reason: str


class OrchestrationRule:
    """Base of the rules: watches ``FROM_TYPES`` → ``TO_TYPES`` and may object."""

    FROM_TYPES: frozenset[StateType] = ALL_TYPES
    TO_TYPES: frozenset[StateType] = ALL_TYPES

    def applies_to(self, transition: Transition) -> bool:
        return transition.from_type in self.FROM_TYPES and transition.to_type in self.TO_TYPES

    def check(self, transition: Transition) -> Verdict | None:
        """Return a verdict to refuse the transition, or ``None`` to allow it."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return type(self).__name__


def is_retry(transition: Transition) -> bool:
    """Whether ``transition`` starts a new attempt of a FAILED run.

    A retry is proposed as SCHEDULED named ``AwaitingRetry`` (a delayed retry)
    or as PENDING/RUNNING named ``Retrying`` (an immediate one), Prefect's
    names for these sub-states.
    """
    if transition.from_type is not StateType.FAILED:
        return False
    proposed = transition.proposed
    if proposed.type is StateType.SCHEDULED:
        return proposed.name == AWAITING_RETRY
    if proposed.type in (StateType.PENDING, StateType.RUNNING):
        return proposed.name == RETRYING
    return False


class RejectLeavingTerminalState(OrchestrationRule):
    """Refuse to move a finished run to another state, unless it is being retried."""

    FROM_TYPES = TERMINAL_STATES

    def check(self, transition: Transition) -> Verdict | None:
        if is_retry(transition):
            return None
        current_name = transition.current.name if transition.current is not None else ""
        return Verdict(
            SetStateStatus.REJECT,
            f"the {transition.run_kind} is already in terminal state {transition.from_type} "
            f"({current_name!r}) and cannot become {transition.to_type.value}; "
            "propose 'AwaitingRetry' or 'Retrying' to retry a failed run, or set force=True",
        )


class AbortRunningTwice(OrchestrationRule):
    """Stop a second start of an attempt that is already RUNNING."""

    FROM_TYPES = frozenset({StateType.RUNNING})
    TO_TYPES = frozenset({StateType.RUNNING})

    def check(self, transition: Transition) -> Verdict | None:
        if transition.proposed.name == RETRYING:  # a new attempt, not the same one again
            return None
        return Verdict(SetStateStatus.ABORT, f"the {transition.run_kind} is already running")


CORE_POLICY: tuple[OrchestrationRule, ...] = (RejectLeavingTerminalState(), AbortRunningTwice())


def orchestrate(
    transition: Transition, force: bool = False, policy: Sequence[OrchestrationRule] = CORE_POLICY
) -> Verdict | None:
    """The first objection of ``policy`` to ``transition``, or ``None`` to accept it.

    ``force=True`` accepts any transition (as Prefect's ``force`` flag).
    """
    if force:
        return None
    for rule in policy:
        if rule.applies_to(transition):
            verdict = rule.check(transition)
            if verdict is not None:
                return verdict
    return None
