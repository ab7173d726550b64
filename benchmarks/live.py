"""Rich progress while the benchmark runs: a bar over all runs, a line per finished case."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from benchmarks import formatting as fmt
from benchmarks.cases import Case
from benchmarks.systems import System


class LiveProgress:
    """An :class:`benchmarks.runner.Observer` drawing a Rich progress bar.

    Use as a context manager around :func:`benchmarks.runner.execute`.
    """

    def __init__(self, console: Console, total_runs: int) -> None:
        self.console = console
        self.progress = Progress(
            SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), console=console,
        )
        self.bar = self.progress.add_task("starting", total=total_runs)

    def __enter__(self) -> "LiveProgress":
        self.progress.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.progress.stop()

    def run_started(self, case: Case, system: System, iteration: int, warmup: bool) -> None:
        label = "warm-up" if warmup else f"run {iteration + 1}"
        self.progress.update(self.bar, description=f"{case.title} · {system.name} · {label}")

    def run_finished(self, case: Case, system: System, run: dict[str, Any]) -> None:
        self.progress.advance(self.bar)
        if run["status"] == "failed":
            self.console.print(f"[red]{escape(case.title)} · {system.name}: run failed: {escape(run['problem'])}[/]", highlight=False)

    def runs_skipped(self, case: Case, system: System, count: int) -> None:
        self.progress.advance(self.bar, count)
        self.console.print(f"{case.title} · {system.name}: not supported yet, skipped", highlight=False)

    def case_finished(self, case: Case, result: dict[str, Any]) -> None:
        metric = case.metrics[0]
        parts = []
        for name, summary in result["systems"].items():
            value = summary["metrics"].get(metric.key if name == "partita" else metric.other_key)
            parts.append(f"{name} {fmt.number(value['median']) if value else summary['status']}")
        self.console.print(f"[bold]{escape(case.title)}[/] — {escape(metric.label)} ({metric.unit}): {', '.join(parts)}", highlight=False)
