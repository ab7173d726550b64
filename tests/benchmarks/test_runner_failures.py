"""A failed benchmark run says why on the console, not only in the results file."""

from __future__ import annotations

import sys

from benchmarks.cases.base import Case, Metric
from benchmarks.runner import run_once
from benchmarks.systems import partita_system


def _failing_case(code: str) -> Case:
    return Case(
        name="failing",
        title="failing",
        description="a workload that exits with an error",
        metrics=(Metric("wall_s", "wall", "s"),),
        command=lambda system, n: [sys.executable, "-c", code],
        derive=lambda measurement, n: {"wall_s": measurement["wall_s"]},
        other=None,
        base_n=1,
    )


def test_the_problem_of_a_failed_run_ends_with_what_the_workload_said_last() -> None:
    code = "import sys; print('some log line', file=sys.stderr); sys.exit('the re-run 2 exited 1: Failed: ValueError: boom')"
    run = run_once(_failing_case(code), partita_system(), 1, timeout=60)
    assert run["status"] == "failed"
    assert run["problem"] == "exit code 1 (the re-run 2 exited 1: Failed: ValueError: boom)"
    assert run["stderr_tail"].splitlines() == ["some log line", "the re-run 2 exited 1: Failed: ValueError: boom"]


def test_a_silent_failure_keeps_the_exit_code_alone() -> None:
    run = run_once(_failing_case("raise SystemExit(3)"), partita_system(), 1, timeout=60)
    assert run["problem"] == "exit code 3"
