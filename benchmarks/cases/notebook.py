"""A 10-cell notebook: papermill alone against Partita's papermill mode, cells mode and ``partita run``."""

from __future__ import annotations

from typing import Any

from benchmarks.cases.base import Case, Expected, Metric, results_correct, workload_command

# Per Partita run: the papermill-mode flow (one task), the cells-mode flow
# (nine tasks: one per working cell) and the `partita run` flow (one task).
_CELL_TASKS = 9


def _derive(measurement: dict[str, Any], n: int) -> dict[str, float]:
    keys = ("papermill_mode_s", "cells_mode_s", "cli_s") if "papermill_mode_s" in measurement else ("papermill_s", "cli_s")
    return {key: measurement[key] for key in keys}


CASE = Case(
    name="notebook",
    title="10-cell notebook",
    description=(
        "A notebook of a parameters cell and nine cells that each run a pure-Python loop over N "
        "numbers (N=4,000,000: about 0.3-0.5 s of CPU per cell, a realistic data cell) and print "
        "its total. papermill alone (execute_notebook in process; "
        "its CLI in a fresh process) against Partita running the same notebook in process as "
        "one papermill task and as nine cells-as-tasks (issue 5), and `partita run` in a fresh "
        "process; each on new kernels, every Partita run recorded."
    ),
    metrics=(
        Metric("papermill_mode_s", "papermill mode, in process", "s", goal=1.15, compare_to="papermill_s"),
        Metric("cells_mode_s", "cells as tasks, in process", "s", goal=1.0, compare_to="papermill_s"),
        Metric("cli_s", "partita run / papermill CLI", "s"),
    ),
    command=workload_command("notebook.py"),
    derive=_derive,
    other="papermill",
    base_n=4_000_000,
    expected=lambda n: Expected(flow_runs=3, task_runs=2 + _CELL_TASKS),
    check=results_correct,
)
