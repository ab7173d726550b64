"""The benchmark cases, one module each, in the order they run and are reported."""

from __future__ import annotations

from benchmarks.cases import (
    api_throughput,
    cached,
    cli_help,
    import_time,
    many_flows,
    mapped,
    notebook,
    quickstart,
    sequential,
    yaml_compile,
)
from benchmarks.cases.base import Case, Expected, Metric

ALL: tuple[Case, ...] = tuple(
    module.CASE
    for module in (import_time, cli_help, sequential, mapped, many_flows, cached, yaml_compile, quickstart, notebook, api_throughput)
)

__all__ = ["ALL", "Case", "Expected", "Metric", "select"]


def select(names: list[str] | None) -> list[Case]:
    """The cases named (in the standard order), or all of them.

    Raises:
        ValueError: a name that is not a case.
    """
    if not names:
        return list(ALL)
    known = {case.name for case in ALL}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(f"unknown case(s) {', '.join(unknown)}; known: {', '.join(c.name for c in ALL)}")
    return [case for case in ALL if case.name in names]
