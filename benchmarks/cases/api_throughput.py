"""State transitions per second through the HTTP API, 8 clients, SQLite and PostgreSQL; Partita alone."""

from __future__ import annotations

from typing import Any

from benchmarks.cases.base import PROCESS_WALL, Case, Expected, Metric, results_correct, workload_command

_KEYS = ("sqlite_tps", "sqlite_latency_p95_ms", "postgres_tps", "postgres_latency_p95_ms", "server_per_task_us",
         "embedded_per_task_us")


def _derive(measurement: dict[str, Any], n: int) -> dict[str, float]:
    return {key: measurement[key] for key in _KEYS if key in measurement} | {"process_wall_s": measurement["process_wall_s"]}


CASE = Case(
    name="api-throughput",
    title="HTTP API, 8 clients",
    description=(
        "A uvicorn server on 127.0.0.1, first on a fresh SQLite file, then on a fresh PostgreSQL "
        "database (BENCHMARKS_POSTGRES_URL, an admin URL; empty to leave it out). Eight clients, "
        "each on its own connection, create N flow runs each (N=60) and drive every one "
        "PENDING → RUNNING → COMPLETED through POST /api/flow_runs/{id}/set_state: accepted "
        "transitions per second and the 95th-percentile latency of one call. The SQLite "
        "database is counted afterwards: every flow run must be in it. Then the sequential flow "
        "(1,000 trivial tasks at this N) runs in a fresh process against a server of its own, "
        "and embedded: per-task overhead of each; every task run and state must be in the server's database."
    ),
    metrics=(
        Metric("sqlite_tps", "transitions/s, SQLite", "1/s"),
        Metric("sqlite_latency_p95_ms", "p95 latency, SQLite", "ms"),
        Metric("postgres_tps", "transitions/s, PostgreSQL", "1/s"),
        Metric("postgres_latency_p95_ms", "p95 latency, PostgreSQL", "ms"),
        Metric("server_per_task_us", "sequential flow, per task, real server", "µs"),
        Metric("embedded_per_task_us", "sequential flow, per task, embedded", "µs"),
        PROCESS_WALL,
    ),
    command=workload_command("api_throughput.py"),
    derive=_derive,
    other=None,
    base_n=60,
    expected=lambda n: Expected(flow_runs=8 * n, task_runs=0),
    check=results_correct,
)
