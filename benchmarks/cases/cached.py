"""A cached re-run: the 1,000-task flow called twice, the second call all cache hits."""

from __future__ import annotations

from typing import Any

from benchmarks.cases.base import PROCESS_WALL, STARTUP, Case, Expected, Metric, common_workload_metrics, results_correct, overhead_us, workload_command


def _check(measurement: dict[str, Any]) -> str | None:
    executed = measurement.get("executed_in_second_call")
    if executed:
        return f"the second call ran the task body {executed} times instead of hitting the cache"
    return results_correct(measurement)


def _derive(measurement: dict[str, Any], n: int) -> dict[str, float]:
    return {
        "per_hit_us": overhead_us(measurement, n),
        "wall_s": measurement["wall_s"],
        "first_wall_s": measurement["first_wall_s"],
        **common_workload_metrics(measurement),
    }


CASE = Case(
    name="cached",
    title="cached re-run",
    description=(
        "A task with the INPUTS cache policy called N times (N=1,000) by a flow; the flow is "
        "called twice in one process and the second call must be all cache hits (the "
        "function body does not run again). Per-hit overhead is (second wall - bare wall) / N."
    ),
    metrics=(
        Metric("per_hit_us", "per-task overhead, cache hits", "µs"),
        Metric("wall_s", "second (cached) flow wall", "s"),
        Metric("first_wall_s", "first flow wall", "s"),
        STARTUP,
        PROCESS_WALL,
    ),
    command=workload_command("flow_cached.py"),
    derive=_derive,
    base_n=1000,
    expected=lambda n: Expected(flow_runs=2, task_runs=2 * n, cached_states=n),
    check=_check,
)
