"""A generated 1,000-task YAML pipeline validated and compiled; Partita alone."""

from __future__ import annotations

from typing import Any

from benchmarks.cases.base import PROCESS_WALL, Case, Metric, results_correct, workload_command


def _derive(measurement: dict[str, Any], n: int) -> dict[str, float]:
    return {
        "wall_ms": measurement["wall_s"] * 1000,
        "cpu_ms": measurement["cpu_s"] * 1000,
        "cold_ms": measurement["cold_s"] * 1000,
        "process_wall_s": measurement["process_wall_s"],
    }


CASE = Case(
    name="yaml-compile",
    title="YAML validate + compile",
    description=(
        "A generated pipeline of N tasks (N=1,000: Python, shell and notebook tasks with "
        "expressions, needs:, map:, if:, cache: and outputs:) read, validated and compiled into "
        "a flow, without running it: the median of five calls after a first one, its CPU "
        "time, and the first call. Issue 4's budget is 300 ms. No other system reads this format."
    ),
    metrics=(
        Metric("wall_ms", "validate + compile, warm", "ms", limit=300),
        Metric("cpu_ms", "CPU time of it", "ms", limit=300),
        Metric("cold_ms", "first call, incl. imports", "ms"),
        PROCESS_WALL,
    ),
    command=workload_command("yaml_compile.py"),
    derive=_derive,
    other=None,
    base_n=1000,
    check=results_correct,
)
