"""The machinery of orchestration rules: transitions, verdicts, the rule base class, ``orchestrate``.

Each rule is a small named class stating, as an imperative sentence, what it
guards. It declares the state types it watches (``FROM_TYPES`` for the run's
current state, ``None`` standing for a run without one; ``TO_TYPES`` for the
proposed one) and the run kinds it applies to, and has two hooks:

* :meth:`OrchestrationRule.before_transition` returns a :class:`Verdict` to
  object (the first objection of a policy wins), or ``None`` to let the
  transition through; it may also rewrite ``context.proposed`` in place (e.g.
  fill in a missing detail) and let it through;
* :meth:`OrchestrationRule.after_transition` runs once a state has been
  stored (the proposed one, or the one a verdict put in its place), for
  side effects such as releasing concurrency slots.

A verdict is one of Prefect's ``SetStateStatus`` values with a reason:
REJECT keeps the run's state, or — when the verdict carries a ``state`` —
stores that state instead of the proposed one; the client adopts the
returned state either way. ABORT tells the client to stop the attempt; WAIT
to propose again after ``delay_seconds``. The shape follows Prefect's
``server/orchestration/rules.py`` and ``core_policy.py``; the rules
themselves are in :mod:`.core` and :mod:`.concurrency`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from partita.client.schemas import SetStateStatus, StateModel
from partita.states import StateType

ALL_TYPES: frozenset[StateType | None] = frozenset([*StateType, None])
RUN_KINDS = frozenset({"flow run", "task run"})
RETRYING = "Retrying"
AWAITING_RETRY = "AwaitingRetry"


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class TransitionContext:
    """A proposed move of one run from its ``current`` state (None: a new run) to ``proposed``.

    Attributes:
        run_kind: ``"flow run"`` or ``"task run"`` (also used in messages).
        current: the state in force, or ``None``.
        proposed: the proposed state; rules may rewrite it.
        run: the run's ORM row (``FlowRun`` / ``TaskRun``), locked for this
            transaction; ``None`` when rules are tried without a database.
        session: the open write session, for rules that read or change other
            rows; ``None`` without a database.
        now: the server's time of the proposal (aware UTC).
        stored: after the transition, the state that was stored (set by
            :func:`partita_workbench.server.operations.states.set_state`).
    """

    run_kind: str
    current: StateModel | None
    proposed: StateModel
    run: Any = None
    session: Any = None
    now: dt.datetime = field(default_factory=_utcnow)
    stored: StateModel | None = None

    @property
    def from_type(self) -> StateType | None:
        return self.current.type if self.current is not None else None

    @property
    def to_type(self) -> StateType:
        return self.proposed.type


# Kept for callers of the first version of this module.
Transition = TransitionContext


@dataclass(frozen=True)
class Verdict:
    """A rule's objection (see the module docstring for what each status means).

    Attributes:
        status: REJECT, ABORT or WAIT.
        reason: a sentence for the client, saying what to do instead.
        state: for REJECT, the state stored and to be adopted instead of the
            proposed one (``None``: the current state stays).
        delay_seconds: for WAIT, how long to wait before proposing again.
    """

    status: SetStateStatus
    reason: str
    state: StateModel | None = None
    delay_seconds: float | None = None


class OrchestrationRule:
    """Base of the rules: watches ``FROM_TYPES`` → ``TO_TYPES`` of ``RUN_KINDS``."""

    FROM_TYPES: frozenset[StateType | None] = ALL_TYPES
    TO_TYPES: frozenset[StateType] = frozenset(StateType)
    RUN_KINDS: frozenset[str] = RUN_KINDS

    def applies_to(self, context: TransitionContext) -> bool:
        return (
            context.run_kind in self.RUN_KINDS
            and context.from_type in self.FROM_TYPES
            and context.to_type in self.TO_TYPES
        )

    async def before_transition(self, context: TransitionContext) -> Verdict | None:
        """Return a verdict to refuse the transition, or ``None`` to allow it."""
        return None

    async def after_transition(self, context: TransitionContext) -> None:
        """Side effects once ``context.stored`` is the run's state (default: none)."""

    def __repr__(self) -> str:
        return type(self).__name__


def scheduled_time(state: StateModel) -> dt.datetime | None:
    """The aware UTC ``state_details["scheduled_time"]`` of a state, or None if missing or unreadable."""
    value = state.state_details.get("scheduled_time")
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    return parsed.replace(tzinfo=dt.timezone.utc) if parsed.tzinfo is None else parsed.astimezone(dt.timezone.utc)


async def orchestrate(
    context: TransitionContext, force: bool = False, policy: Sequence[OrchestrationRule] | None = None
) -> Verdict | None:
    """The first objection of ``policy`` to the transition, or ``None`` to accept it.

    ``force=True`` accepts any transition without asking the rules (as
    Prefect's ``force`` flag). ``policy`` defaults to
    :data:`partita_workbench.server.orchestration.core.CORE_POLICY`.
    """
    if force:
        return None
    for rule in policy if policy is not None else _core_policy():
        if rule.applies_to(context):
            verdict = await rule.before_transition(context)
            if verdict is not None:
                return verdict
    return None


async def after_transition(context: TransitionContext, policy: Sequence[OrchestrationRule] | None = None) -> None:
    """Run the ``after_transition`` hooks of the rules watching the stored transition."""
    stored = context.stored or context.proposed
    done = TransitionContext(
        context.run_kind, context.current, stored, context.run, context.session, context.now, stored
    )
    for rule in policy if policy is not None else _core_policy():
        if rule.applies_to(done):
            await rule.after_transition(done)


def _core_policy() -> Sequence[OrchestrationRule]:
    from partita_workbench.server.orchestration.core import CORE_POLICY

    return CORE_POLICY
