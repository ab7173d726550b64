"""Orchestration rules that need no database, and run accounting (pure functions)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from partita.client.schemas import SetStateStatus, StateModel
from partita.states import StateType

from partita_workbench.server.orchestration.accounting import RunAccounting, account
from partita_workbench.server.orchestration import core
from partita_workbench.server.orchestration.rules import TransitionContext, orchestrate

T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)


def st(type_: str, name: str | None = None, seconds: float = 0) -> StateModel:
    return StateModel(
        type=StateType(type_), name=name or type_.capitalize(), timestamp=T0 + dt.timedelta(seconds=seconds)
    )


def verdict(current: StateModel | None, proposed: StateModel, force: bool = False, now=T0):
    context = TransitionContext("flow run", current, proposed, now=now + dt.timedelta(hours=1))
    return asyncio.run(orchestrate(context, force=force))


@pytest.mark.parametrize("terminal", ["COMPLETED", "FAILED", "CRASHED", "CANCELLED"])
@pytest.mark.parametrize("proposed", ["PENDING", "RUNNING", "COMPLETED", "SCHEDULED", "FAILED"])
def test_terminal_state_rejects_new_states(terminal, proposed):
    result = verdict(st(terminal), st(proposed))
    assert result is not None
    assert result.status is SetStateStatus.REJECT
    assert terminal in result.reason and "force" in result.reason


def test_failed_run_accepts_an_explicit_retry():
    assert verdict(st("FAILED"), st("SCHEDULED", "AwaitingRetry")) is None


@pytest.mark.parametrize("terminal", ["COMPLETED", "CRASHED", "CANCELLED"])
def test_only_failed_runs_are_retried(terminal):
    assert verdict(st(terminal), st("SCHEDULED", "AwaitingRetry")) is not None


@pytest.mark.parametrize("proposed", [("RUNNING", "Retrying"), ("PENDING", "Retrying"), ("SCHEDULED", "Retrying")])
def test_a_retry_from_a_finished_run_goes_through_awaiting_retry(proposed):
    result = verdict(st("FAILED"), st(*proposed))
    assert result is not None and result.status is SetStateStatus.REJECT
    assert "AwaitingRetry" in result.reason


def test_force_accepts_anything():
    assert verdict(st("COMPLETED"), st("RUNNING"), force=True) is None
    assert verdict(st("RUNNING"), st("RUNNING"), force=True) is None


@pytest.mark.parametrize("name", ["Running", "Retrying"])
def test_running_twice_is_aborted(name):
    result = verdict(st("RUNNING"), st("RUNNING", name))
    assert result is not None and result.status is SetStateStatus.ABORT
    assert result.reason.startswith("the flow run is already running")


@pytest.mark.parametrize("current", [None, ("PENDING",), ("RUNNING",), ("SCHEDULED",)])
def test_retrying_needs_awaiting_retry(current):
    result = verdict(st(*current) if current else None, st("PENDING", "Retrying"))
    assert result is not None and result.status is SetStateStatus.REJECT


def test_retrying_from_awaiting_retry_is_accepted_once_due():
    due = T0 + dt.timedelta(seconds=30)
    awaiting = st("SCHEDULED", "AwaitingRetry")
    awaiting.state_details["scheduled_time"] = due.isoformat()
    context = TransitionContext("task run", awaiting, st("RUNNING", "Retrying"), now=due + dt.timedelta(seconds=1))
    assert asyncio.run(orchestrate(context)) is None


def test_starting_before_the_scheduled_time_waits():
    due = T0 + dt.timedelta(seconds=30)
    awaiting = st("SCHEDULED", "AwaitingRetry")
    awaiting.state_details["scheduled_time"] = due.isoformat().replace("+00:00", "Z")
    context = TransitionContext("task run", awaiting, st("RUNNING", "Retrying"), now=T0 + dt.timedelta(seconds=20))
    result = asyncio.run(orchestrate(context))
    assert result is not None and result.status is SetStateStatus.WAIT
    assert result.delay_seconds == pytest.approx(10)


def test_awaiting_retry_without_a_scheduled_time_gets_its_timestamp():
    proposed = st("SCHEDULED", "AwaitingRetry", seconds=5)
    context = TransitionContext("flow run", st("RUNNING"), proposed)
    assert asyncio.run(orchestrate(context)) is None
    assert context.proposed.state_details["scheduled_time"] == (T0 + dt.timedelta(seconds=5)).isoformat()


def test_cancelling_a_running_run_goes_through_cancelling():
    result = verdict(st("RUNNING"), st("CANCELLED").model_copy(update={"message": "stop"}))
    assert result is not None and result.status is SetStateStatus.REJECT
    assert result.state is not None and result.state.type is StateType.CANCELLING
    assert result.state.message == "stop"
    assert "CANCELLING" in result.reason


@pytest.mark.parametrize("current", ["SCHEDULED", "PENDING", "CANCELLING"])
def test_runs_not_running_are_cancelled_at_once(current):
    assert verdict(st(current), st("CANCELLED")) is None


@pytest.mark.parametrize("proposed", ["RUNNING", "PENDING", "SCHEDULED", "PAUSED"])
def test_a_cancelling_run_can_only_finish(proposed):
    result = verdict(st("CANCELLING"), st(proposed))
    assert result is not None and result.status is SetStateStatus.REJECT
    assert "being cancelled" in result.reason


@pytest.mark.parametrize("current", [None, "SCHEDULED", "PENDING", "RUNNING", "PAUSED", "CANCELLING"])
def test_ordinary_transitions_are_accepted(current):
    assert verdict(st(current) if current else None, st("COMPLETED")) is None


def test_rules_are_named_classes_in_the_core_policy():
    names = [repr(rule) for rule in core.CORE_POLICY]
    assert names[:2] == ["RejectLeavingTerminalState", "AbortRunningTwice"]
    assert len(set(names)) == len(names)
    for rule in core.CORE_POLICY:
        assert type(rule).__doc__, f"{rule!r} needs a docstring"


def test_accounting_over_two_attempts():
    acc = RunAccounting()
    history = [st("PENDING"), st("RUNNING", seconds=1), st("FAILED", seconds=4)]
    history += [
        st("SCHEDULED", "AwaitingRetry", seconds=5),
        st("RUNNING", seconds=10),
        st("COMPLETED", seconds=12),
    ]
    current = None
    for proposed in history:
        acc = account(acc, current, proposed)
        current = proposed
    assert acc.run_count == 2
    assert acc.start_time == T0 + dt.timedelta(seconds=1)
    assert acc.end_time == T0 + dt.timedelta(seconds=12)
    assert acc.total_run_time == pytest.approx(3 + 2)


def test_immediate_retry_counts_a_new_attempt():
    acc = account(RunAccounting(), None, st("RUNNING"))
    acc = account(acc, st("RUNNING"), st("RUNNING", "Retrying", seconds=2))
    assert acc.run_count == 2
    assert acc.total_run_time == pytest.approx(2)


def test_leaving_a_terminal_state_clears_end_time():
    acc = account(RunAccounting(), st("RUNNING"), st("FAILED", seconds=1))
    assert acc.end_time is not None
    acc = account(acc, st("FAILED", seconds=1), st("SCHEDULED", "AwaitingRetry", seconds=2))
    assert acc.end_time is None
