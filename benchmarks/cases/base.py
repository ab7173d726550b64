"""What a benchmark case is: how to run it once, what to read from a run, what to expect.

A case never runs anything itself; :mod:`benchmarks.runner` does, one fresh
process and home directory per run. Two kinds exist:

* a *command* case times a whole process from the outside (``import``, ``--help``);
* a *workload* case runs a script from ``benchmarks/workloads`` that prints one
  JSON line of in-process measurements; when the case says what a complete
  record holds (``expected``), the runner then counts what the system's
  database holds.

Each case compares Partita with one other system (``Case.other``): Prefect
for the engine cases, papermill alone for notebooks, or none where no other
system does the same thing (the YAML compiler, the HTTP API); the table's
"compared with" column then says "–".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from benchmarks.systems import System

WORKLOADS = Path(__file__).resolve().parent.parent / "workloads"

# Every task run's full history is Pending -> Running -> Completed (or Cached),
# in Partita and in Prefect alike.
STATES_PER_TASK_RUN = 3


@dataclass(frozen=True)
class Metric:
    """One figure shown per system, with its median, min and max over the counted runs.

    Args:
        key: name in a run's ``metrics``.
        label: shown in the table.
        unit: shown after the label.
        goal: the Partita/other ratio we aim at (at most), if any.
        compare_to: the other system's metric this one is divided by
            (default: the same ``key``), e.g. both Partita notebook modes
            against papermill's one wall time.
        limit: an absolute bound on Partita's median, in ``unit``, when the
            goal is a budget rather than a ratio.
    """

    key: str
    label: str
    unit: str
    goal: float | None = None
    compare_to: str | None = None
    limit: float | None = None

    @property
    def other_key(self) -> str:
        return self.compare_to or self.key


@dataclass(frozen=True)
class Expected:
    """What a complete record of one run holds in the database."""

    flow_runs: int
    task_runs: int
    cached_states: int = 0

    @property
    def task_run_states(self) -> int:
        return self.task_runs * STATES_PER_TASK_RUN

    def as_dict(self) -> dict[str, int]:
        return {
            "flow_runs": self.flow_runs,
            "task_runs": self.task_runs,
            "task_run_states": self.task_run_states,
            "cached_states": self.cached_states,
        }


@dataclass(frozen=True)
class Case:
    """A benchmark case.

    Args:
        name: used with ``--cases``.
        title: shown in tables.
        description: one paragraph for ``python -m benchmarks list``.
        metrics: figures to summarise, in table order.
        other: the system Partita is compared with (``"prefect"``,
            ``"papermill"``), or ``None`` for Partita alone.
        base_n: workload size at ``--n-scale 1`` (``None`` for command cases).
        command: ``(system, n) -> argv`` for one run.
        derive: ``(measurement, n) -> metrics``; ``measurement`` is the
            workload's JSON line, or ``{"wall_s": ...}`` timed by the runner
            for command cases, plus ``process_wall_s`` in both kinds.
        expected: ``n -> Expected`` database contents, for workload cases
            whose runs are recorded (``None``: nothing is counted).
        check: ``measurement -> problem or None``; a problem fails the run.
    """

    name: str
    title: str
    description: str
    metrics: tuple[Metric, ...]
    command: Callable[[System, int], list[str]]
    derive: Callable[[dict[str, Any], int], dict[str, float]]
    other: str | None = "prefect"
    base_n: int | None = None
    expected: Callable[[int], Expected] | None = None
    check: Callable[[dict[str, Any]], str | None] | None = None

    @property
    def is_workload(self) -> bool:
        return self.base_n is not None

    def system_names(self) -> tuple[str, ...]:
        """The systems this case runs, in turn order."""
        return ("partita",) if self.other is None else ("partita", self.other)

    def size(self, n_scale: float) -> int:
        if self.base_n is None:
            return 0
        return max(1, round(self.base_n * n_scale))


def workload_command(script: str) -> Callable[[System, int], list[str]]:
    """The argv running ``benchmarks/workloads/<script>`` for a system."""

    def command(system: System, n: int) -> list[str]:
        return [str(system.python), str(WORKLOADS / script), "--system", system.name, "--n", str(n)]

    return command


def overhead_us(measurement: dict[str, Any], n: int) -> float:
    """Orchestration cost per item in microseconds: (wall - bare wall) / n."""
    return (measurement["wall_s"] - measurement["bare_wall_s"]) / n * 1e6


def results_correct(measurement: dict[str, Any]) -> str | None:
    """The workload's own check that the flow returned the bare functions' results."""
    return None if measurement.get("correct") else "the flow's results differ from the bare functions' results"


def common_workload_metrics(measurement: dict[str, Any]) -> dict[str, float]:
    return {
        "startup_s": measurement["startup_s"],
        "process_wall_s": measurement["process_wall_s"],
    }


STARTUP = Metric("startup_s", "backend start-up, fresh home", "s")
PROCESS_WALL = Metric("process_wall_s", "whole process, incl. import and exit", "s")
