"""``python -c "import partita"`` against ``python -c "import prefect"``."""

from __future__ import annotations

from typing import Any

from benchmarks.cases.base import Case, Metric
from benchmarks.systems import System


def _command(system: System, n: int) -> list[str]:
    return [str(system.python), "-c", f"import {system.package}"]


def _derive(measurement: dict[str, Any], n: int) -> dict[str, float]:
    return {"wall_ms": measurement["process_wall_s"] * 1000}


CASE = Case(
    name="import",
    title="import time",
    description="Wall time of a fresh interpreter importing the SDK package, timed from outside the process.",
    metrics=(Metric("wall_ms", "python -c 'import …'", "ms", goal=1 / 10),),
    command=_command,
    derive=_derive,
)
