"""``.map`` over 10,000 inputs on the default task runner, every result gathered."""

from __future__ import annotations

from typing import Any

from benchmarks.cases.base import PROCESS_WALL, STARTUP, Case, Expected, Metric, common_workload_metrics, results_correct, overhead_us, workload_command


def _derive(measurement: dict[str, Any], n: int) -> dict[str, float]:
    return {
        "wall_s": measurement["wall_s"],
        "per_task_us": overhead_us(measurement, n),
        **common_workload_metrics(measurement),
    }


CASE = Case(
    name="map",
    title=".map, results gathered",
    description=(
        "One flow maps a trivial task over N inputs (N=10,000) on the default thread-pool "
        "task runner and collects every future's .result()."
    ),
    metrics=(
        Metric("wall_s", "flow wall", "s", goal=1 / 50),
        Metric("per_task_us", "per-task overhead", "µs"),
        STARTUP,
        PROCESS_WALL,
    ),
    command=workload_command("flow_map.py"),
    derive=_derive,
    base_n=10_000,
    expected=lambda n: Expected(flow_runs=1, task_runs=n),
    check=results_correct,
)
