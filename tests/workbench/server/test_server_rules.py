"""Orchestration rules and run accounting, as pure functions."""

from __future__ import annotations

import datetime as dt

import pytest
from partita.client.schemas import SetStateStatus, StateModel
from partita.states import StateType

from partita_workbench.server.orchestration.accounting import RunAccounting, account
from partita_workbench.server.orchestration.rules import Transition, orchestrate

T0 = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)


def st(type_: str, name: str | None = None, seconds: float = 0) -> StateModel:
    return StateModel(
        type=StateType(type_), name=name or type_.capitalize(), timestamp=T0 + dt.timedelta(seconds=seconds)
    )


def verdict(current: StateModel | None, proposed: StateModel, force: bool = False):
    return orchestrate(Transition("flow run", current, proposed), force=force)


@pytest.mark.parametrize("terminal", ["COMPLETED", "FAILED", "CRASHED", "CANCELLED"])
@pytest.mark.parametrize("proposed", ["PENDING", "RUNNING", "COMPLETED", "SCHEDULED", "FAILED"])
def test_terminal_state_rejects_new_states(terminal, proposed):
    result = verdict(st(terminal), st(proposed))
    assert result is not None
    assert result.status is SetStateStatus.REJECT
    assert terminal in result.reason and "force" in result.reason


@pytest.mark.parametrize(
    "proposed", [("SCHEDULED", "AwaitingRetry"), ("RUNNING", "Retrying"), ("PENDING", "Retrying")]
)
def test_failed_run_accepts_a_retry(proposed):
    assert verdict(st("FAILED"), st(*proposed)) is None


@pytest.mark.parametrize("terminal", ["COMPLETED", "CRASHED", "CANCELLED"])
def test_only_failed_runs_are_retried(terminal):
    assert verdict(st(terminal), st("RUNNING", "Retrying")) is not None


def test_retry_names_must_match_their_type():
    assert verdict(st("FAILED"), st("SCHEDULED", "Retrying")) is not None
    assert verdict(st("FAILED"), st("RUNNING", "AwaitingRetry")) is not None


def test_force_accepts_anything():
    assert verdict(st("COMPLETED"), st("RUNNING"), force=True) is None
    assert verdict(st("RUNNING"), st("RUNNING"), force=True) is None


def test_running_twice_is_aborted_but_a_retry_is_not():
    result = verdict(st("RUNNING"), st("RUNNING"))
    assert result is not None and result.status is SetStateStatus.ABORT
    assert result.reason == "the flow run is already running"
    assert verdict(st("RUNNING"), st("RUNNING", "Retrying")) is None


@pytest.mark.parametrize("current", [None, "SCHEDULED", "PENDING", "RUNNING", "PAUSED", "CANCELLING"])
def test_ordinary_transitions_are_accepted(current):
    assert verdict(st(current) if current else None, st("COMPLETED")) is None


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
