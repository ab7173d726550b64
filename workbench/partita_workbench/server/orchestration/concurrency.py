"""Tag concurrency limits: task runs hold slots of their tags' limits while RUNNING.

A tag limit is the global concurrency limit named ``tag:<tag>`` (Prefect 3
keeps its tag limits the same way). A task run entering RUNNING takes one
slot of each active limit of its tags, in one step: if any is full, it takes
none and is told to WAIT. The slots it holds are rows of
``concurrency_slot``, so giving them back when it leaves RUNNING (whatever
it becomes, forced or not) is exact and happens once.

Limit rows are locked (``SELECT ... FOR UPDATE``, in name order so two runs
never wait on each other) on PostgreSQL; on SQLite the write transaction
already holds the database's write lock.
"""

from __future__ import annotations

from sqlalchemy import delete, select, update

from partita.client.schemas import SetStateStatus
from partita.states import StateType

from partita_workbench.server.database.models import ConcurrencyLimit, ConcurrencySlot
from partita_workbench.server.orchestration.rules import OrchestrationRule, TransitionContext, Verdict

TAG_PREFIX = "tag:"
SLOT_WAIT_SECONDS = 1.0  # how long a task run told to WAIT for a slot waits before asking again

_RUNNING = frozenset({StateType.RUNNING})


def tag_limit_name(tag: str) -> str:
    """The global limit name that limits task runs tagged ``tag``."""
    return f"{TAG_PREFIX}{tag}"


class HoldConcurrencySlots(OrchestrationRule):
    """Let a tagged task run start only if every limit of its tags has a free slot, and take them."""

    FROM_TYPES = frozenset(StateType) - _RUNNING | {None}
    TO_TYPES = _RUNNING
    RUN_KINDS = frozenset({"task run"})

    async def before_transition(self, context: TransitionContext) -> Verdict | None:
        session, run = context.session, context.run
        if session is None or run is None or not run.tags:
            return None
        names = sorted({tag_limit_name(tag) for tag in run.tags if isinstance(tag, str)})
        stmt = select(ConcurrencyLimit).where(ConcurrencyLimit.name.in_(names), ConcurrencyLimit.active.is_(True))
        stmt = stmt.order_by(ConcurrencyLimit.name)
        if session.bind.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        limits = list(await session.scalars(stmt))
        if not limits:
            return None
        held = set(await session.scalars(select(ConcurrencySlot.limit_id).where(ConcurrencySlot.holder_id == run.id)))
        wanted = [limit for limit in limits if limit.id not in held]
        full = [limit for limit in wanted if limit.active_slots >= limit.limit]
        if full:
            names_full = ", ".join(f"{limit.name} ({limit.active_slots}/{limit.limit})" for limit in full)
            return Verdict(
                SetStateStatus.WAIT,
                f"concurrency limit reached: {names_full}; propose RUNNING again in {SLOT_WAIT_SECONDS:g} s",
                delay_seconds=SLOT_WAIT_SECONDS,
            )
        for limit in wanted:
            await session.execute(
                update(ConcurrencyLimit)
                .where(ConcurrencyLimit.id == limit.id)
                .values(active_slots=ConcurrencyLimit.active_slots + 1)
            )
            session.add(ConcurrencySlot(limit_id=limit.id, holder_id=run.id))
        await session.flush()
        return None


class ReleaseConcurrencySlots(OrchestrationRule):
    """Give back the slots a task run holds once it has left RUNNING."""

    FROM_TYPES = _RUNNING
    TO_TYPES = frozenset(StateType) - _RUNNING
    RUN_KINDS = frozenset({"task run"})

    async def after_transition(self, context: TransitionContext) -> None:
        if context.session is None or context.run is None:
            return
        await release_slots(context.session, context.run.id)


async def release_slots(session, holder_id) -> int:
    """Free every slot held by ``holder_id``; returns how many were freed."""
    limit_ids = list(
        await session.scalars(
            delete(ConcurrencySlot).where(ConcurrencySlot.holder_id == holder_id).returning(ConcurrencySlot.limit_id)
        )
    )
    for limit_id in limit_ids:
        await session.execute(
            update(ConcurrencyLimit)
            .where(ConcurrencyLimit.id == limit_id, ConcurrencyLimit.active_slots > 0)
            .values(active_slots=ConcurrencyLimit.active_slots - 1)
        )
    return len(limit_ids)
