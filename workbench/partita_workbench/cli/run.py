"""``partita run TARGET``: run a pipeline, notebook or flow with a live view.

While the run goes, a table of task runs and their states updates in place;
at the end a summary table (task, state, duration, result or message) is
printed. Exit code 0 when the flow run is COMPLETED, 1 when it is not, 2 when
the target or its parameters are invalid (nothing is run then).
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import typer
from rich.console import Console
from rich.live import Live
from rich.table import Table

from partita.exceptions import PartitaError, UserInputError
from partita_workbench.cli.render import duration_text, state_text

console = Console()
err_console = Console(stderr=True)


class LiveRun:
    """Collects task-run states from engine events and renders them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.task_runs: dict[Any, tuple[Any, Any]] = {}
        self.flow_run: Any = None
        self.flow_state: Any = None
        self.root_id: Any = None

    def on_event(self, kind: str, run: Any, state: Any) -> None:
        with self.lock:
            if kind == "flow_run":
                if self.root_id is None:
                    self.root_id = run.id
                if run.id == self.root_id:
                    self.flow_run, self.flow_state = run, state
            elif run.flow_run_id == self.root_id:
                self.task_runs[run.id] = (run, state)

    def table(self, final: bool = False) -> Table:
        title = "Task runs"
        if self.flow_run is not None:
            title = f"Flow run {self.flow_run.name!r} — {self.flow_state.name if self.flow_state else ''}"
        table = Table(title=title, title_justify="left", expand=False)
        table.add_column("Task")
        table.add_column("State")
        table.add_column("Duration", justify="right")
        table.add_column("Result / message", overflow="fold", max_width=80)
        with self.lock:
            rows = list(self.task_runs.values())
        for record, state in rows:
            detail = ""
            if state.message:
                detail = state.message
            elif state.data and final:
                detail = state.data.get("summary", "")
            elapsed = record.total_run_time
            if not state.is_final() and record.start_time is not None:
                elapsed = max(elapsed, time.time() - record.start_time.timestamp())
            table.add_row(record.name, state_text(state.type.value, state.name), duration_text(elapsed), detail)
        return table


def run_command(
    target: str = typer.Argument(..., help="pipeline.yaml, notebook.ipynb or file.py:flow_name"),
    param: list[str] = typer.Option([], "--param", "-p", help="Parameter as key=value (repeatable)."),
    mode: str = typer.Option(None, "--mode", help="Notebooks: 'cells' (task cells as tasks) or 'papermill' (whole notebook); default: cells when a cell is tagged task:NAME."),
) -> None:
    """Run TARGET on the engine, record it, and print a summary table."""
    from partita.engine import events
    from partita_workbench.cli.targets import load_target, parse_parameters

    try:
        flow = load_target(target, mode)
        parameters = parse_parameters(flow, param)
    except UserInputError as exc:
        err_console.print(f"[bold red]Error:[/] {exc}", highlight=False, markup=True)
        raise typer.Exit(2)

    live_run = LiveRun()
    unsubscribe = events.subscribe(live_run.on_event)
    started = time.perf_counter()
    try:
        with Live(live_run.table(), console=console, refresh_per_second=8, transient=True, redirect_stderr=True) as live:
            stop = threading.Event()

            def refresh() -> None:
                while not stop.wait(0.125):
                    live.update(live_run.table())

            refresher = threading.Thread(target=refresh, daemon=True)
            refresher.start()
            try:
                state = _call(flow, parameters)
            finally:
                stop.set()
                refresher.join()
    except PartitaError as exc:
        err_console.print(f"[bold red]Error:[/] {exc}", highlight=False)
        raise typer.Exit(1 if live_run.flow_run is not None else 2)
    finally:
        unsubscribe()
    elapsed = time.perf_counter() - started

    if live_run.task_runs:
        console.print(live_run.table(final=True))
    flow_run_id = state.state_details.get("flow_run_id") or (live_run.flow_run.id if live_run.flow_run else "?")
    name = live_run.flow_run.name if live_run.flow_run else flow.name
    console.print(
        f"Flow run [bold]{name}[/] ({flow_run_id}) of flow [bold]{flow.name}[/] finished in state ",
        state_text(state.type.value, state.name),
        f" after {duration_text(elapsed)}.",
        sep="",
        highlight=False,
    )
    if state.is_completed() and state.data and state.data.get("summary"):
        console.print(f"Result: {state.data['summary']}", highlight=False, markup=False)
    if not state.is_completed():
        err_console.print(f"[bold red]{state.name}:[/] {state.message or 'the run did not complete'}", highlight=False)
    console.print(f"Inspect it: partita flow-run inspect {flow_run_id}", highlight=False)
    raise typer.Exit(0 if state.is_completed() else 1)


def _call(flow: Any, parameters: dict[str, Any]) -> Any:
    if flow.is_async:
        return asyncio.run(flow(**parameters, return_state=True))
    return flow(**parameters, return_state=True)
