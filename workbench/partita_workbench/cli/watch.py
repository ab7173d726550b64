"""``partita flow-run watch ID``: follow a flow run live until it finishes.

Against a server (``PARTITA_API_URL``) it reads the live event stream
(``/api/events/stream``); with the embedded backend, which has no stream, it
polls. Each state change and log line is printed as it arrives, with a live
count of task runs by state; the run ends with a summary table of its task
runs.
"""

from __future__ import annotations

import logging
import time
import uuid

import typer
from rich.live import Live
from rich.table import Table
from rich.text import Text

from partita.exceptions import BackendError
from partita_workbench.cli.render import duration_text, state_text, time_text, print_error, plain_console

console = plain_console()
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
POLL_SECONDS = 0.5


class _View:
    """What has been seen of the run: its state, each task run's state, the printed lines."""

    def __init__(self, run) -> None:
        self.run_name = run.name
        self.state = run.state_type.value if run.state_type else None
        self.task_states: dict[uuid.UUID, str] = {}
        self.task_names: dict[uuid.UUID, str] = {}

    def status(self) -> Text:
        counts: dict[str, int] = {}
        for value in self.task_states.values():
            counts[value] = counts.get(value, 0) + 1
        text = Text(f"flow run {self.run_name!r}: ")
        text.append_text(state_text(self.state, None))
        text.append(f"  |  {len(self.task_states)} task runs")
        for name, count in sorted(counts.items()):
            text.append("  ")
            text.append_text(state_text(name, f"{name.lower()} {count}"))
        return text

    def done(self) -> bool:
        return self.state in FINAL


def _state_line(when, who: str, state) -> Text:
    line = Text(f"{time_text(when)}  {who} → ")
    line.append_text(state_text(state.type.value, state.name))
    if state.message:
        line.append(f"  {state.message}", style="dim")
    return line


def _log_line(log: dict) -> Text:
    level = logging.getLevelName(log.get("level", 20))
    style = "red" if log.get("level", 20) >= logging.ERROR else "yellow" if log.get("level", 20) >= logging.WARNING else ""
    return Text(f"{log.get('timestamp', '')[:23].replace('T', ' ')}  {level:<8} {log.get('name', '')} - {log.get('message', '')}", style=style)


def _summary(client, run_id: uuid.UUID) -> Table:
    run = client.read_flow_run(run_id)
    task_runs = client.read_task_runs(run_id)
    table = Table(title=f"Flow run {run.name!r}: {run.state_name or '-'} in {duration_text(run.total_run_time)}",
                  title_justify="left")
    for column in ("Task run", "State", "Duration", "Runs"):
        table.add_column(column, justify="right" if column in ("Duration", "Runs") else "left")
    for tr in task_runs:
        table.add_row(tr.name, state_text(tr.state_type and tr.state_type.value, tr.state_name),
                      duration_text(tr.total_run_time), str(tr.run_count))
    return table


def _stream(client, run_id: uuid.UUID, view: _View, live: Live) -> None:
    from partita.client.events import watch_events

    def caught_up() -> None:  # events are delivered from now on: read what happened before
        current = client.read_flow_run(run_id)
        view.state = current.state_type.value if current.state_type else None
        for tr in client.read_task_runs(run_id):
            view.task_names[tr.id] = tr.name
            if tr.state_type:
                view.task_states[tr.id] = tr.state_type.value
        live.console.print(Text(f"Watching flow run {current.name!r} ({run_id}); Ctrl-C to stop", style="bold"))
        live.update(view.status())

    if view.done():
        return
    for event in watch_events(client, run_id, heartbeat=2.0, on_connect=caught_up):
        if event.kind.value == "log" and event.log is not None:
            live.console.print(_log_line(event.log))
        elif event.state is not None and event.run_kind == "flow run":
            view.state = event.state.type.value
            live.console.print(_state_line(event.occurred, f"flow run {view.run_name!r}", event.state))
        elif event.state is not None and event.task_run_id is not None:
            name = event.name or view.task_names.get(event.task_run_id) or str(event.task_run_id)[:8]
            view.task_names[event.task_run_id] = name
            view.task_states[event.task_run_id] = event.state.type.value
            live.console.print(_state_line(event.occurred, f"task run {name!r}", event.state))
        live.update(view.status())
        if view.done():
            return


def _poll(client, run_id: uuid.UUID, view: _View, live: Live) -> None:
    live.console.print(Text(f"Watching flow run {view.run_name!r} ({run_id}) by polling; Ctrl-C to stop", style="bold"))
    seen_logs = 0
    while True:
        run = client.read_flow_run(run_id)
        for tr in client.read_task_runs(run_id):
            state = tr.state_type.value if tr.state_type else None
            if state and view.task_states.get(tr.id) != state and tr.state is not None:
                live.console.print(_state_line(tr.state.timestamp, f"task run {tr.name!r}", tr.state))
                view.task_states[tr.id] = state
        logs = client.read_logs(flow_run_id=run_id, offset=seen_logs)
        for log in logs:
            live.console.print(_log_line(log.model_dump(mode="json")))
        seen_logs += len(logs)
        state = run.state_type.value if run.state_type else None
        if state != view.state and run.state is not None:
            live.console.print(_state_line(run.state.timestamp, f"flow run {view.run_name!r}", run.state))
        view.state = state
        live.update(view.status())
        if view.done():
            return
        time.sleep(POLL_SECONDS)


def watch(flow_run_id: str = typer.Argument(..., help="Flow run id (or a unique prefix).")) -> None:
    """Follow a flow run live: state changes and logs as they happen, then a summary table."""
    from partita_workbench.cli.flow_runs import _client, read_run_or_exit

    with _client() as client:
        run = read_run_or_exit(client, flow_run_id)
        run_id = run.id
        view = _View(run)
        try:
            with Live(view.status(), console=console, refresh_per_second=8, transient=True) as live:
                (_stream if client.api_url else _poll)(client, run_id, view, live)
        except KeyboardInterrupt:
            raise typer.Exit(130)
        except BackendError as exc:
            print_error(str(exc))
            raise typer.Exit(1)
        console.print(_summary(client, run_id))
    if view.state != "COMPLETED":
        raise typer.Exit(1)
