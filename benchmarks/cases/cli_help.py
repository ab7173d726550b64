"""``partita --help`` against ``prefect --help``."""

from __future__ import annotations

from typing import Any

from benchmarks.cases.base import Case, Metric
from benchmarks.systems import System


def _command(system: System, n: int) -> list[str]:
    return [str(system.cli), "--help"]


def _derive(measurement: dict[str, Any], n: int) -> dict[str, float]:
    return {"wall_ms": measurement["process_wall_s"] * 1000}


CASE = Case(
    name="cli-help",
    title="CLI --help",
    description="Wall time of the command-line tool printing its help, timed from outside the process.",
    metrics=(Metric("wall_ms", "<cli> --help", "ms", goal=1 / 4),),
    command=_command,
    derive=_derive,
)
