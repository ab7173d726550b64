"""A flow calling 1,000 trivial tasks one after another; also the peak-RSS case."""

from __future__ import annotations

from typing import Any

from benchmarks.cases.base import PROCESS_WALL, STARTUP, Case, Expected, Metric, common_workload_metrics, results_correct, overhead_us, workload_command


def _derive(measurement: dict[str, Any], n: int) -> dict[str, float]:
    metrics = {
        "per_task_us": overhead_us(measurement, n),
        "wall_s": measurement["wall_s"],
        "peak_rss_mb": measurement["peak_rss_kb"] / 1024,
        **common_workload_metrics(measurement),
    }
    if measurement.get("peak_rss_tree_kb") is not None:
        metrics["peak_rss_tree_mb"] = measurement["peak_rss_tree_kb"] / 1024
    return metrics


CASE = Case(
    name="sequential",
    title="sequential tasks",
    description=(
        "One flow calls a trivial task N times in a loop (N=1,000). Per-task overhead is "
        "(flow wall - bare wall of the same calls) / N. Peak RSS is the flow process's own "
        "(getrusage); the 'with child processes' figure adds helper processes such as "
        "Prefect's temporary API server."
    ),
    metrics=(
        Metric("per_task_us", "per-task overhead", "µs", goal=1 / 100),
        Metric("wall_s", "flow wall", "s"),
        Metric("peak_rss_mb", "peak RSS, flow process", "MiB"),
        # the goal is on the whole tree: Partita's backend runs in the flow process, Prefect's in a child
        Metric("peak_rss_tree_mb", "peak RSS with child processes", "MiB", goal=1 / 2),
        STARTUP,
        PROCESS_WALL,
    ),
    command=workload_command("flow_sequential.py"),
    derive=_derive,
    base_n=1000,
    expected=lambda n: Expected(flow_runs=1, task_runs=n),
    check=results_correct,
)
