"""50 one-task flows run one after another in one process."""

from __future__ import annotations

from typing import Any

from benchmarks.cases.base import PROCESS_WALL, STARTUP, Case, Expected, Metric, common_workload_metrics, results_correct, workload_command


def _derive(measurement: dict[str, Any], n: int) -> dict[str, float]:
    return {
        "per_flow_ms": (measurement["wall_s"] - measurement["bare_wall_s"]) / n * 1000,
        "wall_s": measurement["wall_s"],
        **common_workload_metrics(measurement),
    }


CASE = Case(
    name="flows",
    title="one-task flows in a row",
    description=(
        "N flows (N=50), each calling one trivial task, called one after another in one "
        "process. Per-flow-run overhead is (wall - bare wall) / N."
    ),
    metrics=(
        Metric("per_flow_ms", "per-flow-run overhead", "ms"),
        Metric("wall_s", "wall of all flows", "s"),
        STARTUP,
        PROCESS_WALL,
    ),
    command=workload_command("flow_many.py"),
    derive=_derive,
    base_n=50,
    expected=lambda n: Expected(flow_runs=n, task_runs=n),
    check=results_correct,
)
