"""``partita flow-run ls|inspect|logs|watch|cancel``: read recorded runs back from the backend, or cancel one."""

from __future__ import annotations

import bisect
import json
import logging
import os
import uuid

import typer
from rich import box
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from partita.exceptions import BackendError, ObjectNotFound
from partita_workbench.cli.render import cache_text, duration_text, state_text, time_text, print_error, plain_console

app = typer.Typer(help="List, inspect and cancel flow runs.", no_args_is_help=True)
console = plain_console()


def _client():
    from partita.client.orchestration import get_client

    return get_client(sync_client=True)


def read_run_or_exit(client, flow_run_id: str):
    """The flow run named by ``flow_run_id`` (an id or a unique prefix); exit 1 with an error if there is none."""
    try:
        return client.read_flow_run(_resolve_id(client, flow_run_id))
    except ObjectNotFound:
        print_error(f"no flow run {flow_run_id}; see 'partita flow-run ls'")
        raise typer.Exit(1)


RESOLVED_RUNS = 10_000
"""How many of the newest flow runs an id prefix is looked up among (and ``flow-run ls`` makes its prefixes unique among)."""


def _recent_ids(client) -> list[uuid.UUID]:
    from partita.client.schemas import FlowRunFilter

    return [r.id for r in client.read_flow_runs(FlowRunFilter(limit=RESOLVED_RUNS))]


def _resolve_id(client, run_id: str) -> uuid.UUID:
    """A full flow-run id, or the one recent flow run whose id starts with ``run_id``."""

    try:
        return uuid.UUID(run_id)
    except ValueError:
        pass
    matches = [r for r in _recent_ids(client) if str(r).startswith(run_id.lower())]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        print_error(f"no flow run with an id starting {run_id!r}; see 'partita flow-run ls'")
    else:
        shown = ", ".join(str(m) for m in matches[:5]) + (f" and {len(matches) - 5} more" if len(matches) > 5 else "")
        print_error(f"{len(matches)} flow runs have an id starting {run_id!r} ({shown}); give more of the id")
    raise typer.Exit(1)


@app.command("ls")
def ls(limit: int = typer.Option(20, min=1, help="How many runs to show, newest first.")) -> None:
    """List recent flow runs, newest first."""
    from partita.client.schemas import FlowRunFilter

    full = console.width >= FULL_IDS_WIDTH
    with _client() as client:
        runs = client.read_flow_runs(FlowRunFilter(limit=limit))
        universe = [] if full else [str(i) for i in _recent_ids(client)]
    ids = _shown_ids([str(r.id) for r in runs], universe, full)
    table = Table(title="Flow runs", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    # never cut (other columns give way): what is shown is what inspect, logs and cancel accept
    table.add_column("ID", no_wrap=True, min_width=max((len(i) for i in ids.values()), default=2))
    table.add_column("Flow")
    table.add_column("Name")
    table.add_column("State", no_wrap=True)
    table.add_column("Started", no_wrap=True)
    table.add_column("Duration", justify="right", no_wrap=True)
    for r in runs:
        table.add_row(ids[str(r.id)], r.flow_name or "-", r.name, state_text(r.state_type and r.state_type.value, r.state_name),
                      time_text(r.start_time, milliseconds=False), duration_text(r.total_run_time) if r.end_time else "-")
    console.print(table)


FULL_IDS_WIDTH = 130
"""From this console width on, ``flow-run ls`` shows whole ids; narrower, the shortest prefixes that tell them apart."""
SHORT_ID = 13
"""At least the 48-bit millisecond time of a version-7 id (``01a232bc-9ef7``): runs made in different milliseconds differ in it."""


def _shown_ids(ids: list[str], universe: list[str], full: bool) -> dict[str, str]:
    """Each id as ``flow-run ls`` shows it: whole, or its shortest prefix (``SHORT_ID`` characters or more)
    that no other id of ``universe`` (the runs a prefix is looked up among) starts with."""
    if full:
        return {i: i for i in ids}
    others = sorted(set(universe) | set(ids))
    shown = {}
    for i in ids:
        at = bisect.bisect_left(others, i)  # the ids sharing the longest prefix with i sort next to it
        neighbours = [others[j] for j in (at - 1, at + 1) if 0 <= j < len(others)]
        common = max((len(os.path.commonprefix([i, n])) for n in neighbours), default=0)
        shown[i] = i[: max(SHORT_ID, common + 1)]
    return shown


def _history(states) -> Text:
    text = Text()
    for i, s in enumerate(states):
        if i:
            text.append(" → ")
        text.append_text(state_text(s.type.value, s.name))
    return text


@app.command("inspect")
def inspect(
    flow_run_id: str = typer.Argument(..., help="Flow run id (or a unique prefix)."),
    as_json: bool = typer.Option(False, "--json", help="Print the run, its states and task runs as JSON."),
) -> None:
    """Show a flow run: state history, task runs with states, durations and results."""
    with _client() as client:
        run = read_run_or_exit(client, flow_run_id)
        run_id = run.id
        states = client.read_flow_run_states(run_id)
        task_runs = client.read_task_runs(run_id)
        task_states = {tr.id: client.read_task_run_states(tr.id) for tr in task_runs}
    if as_json:
        doc = run.model_dump(mode="json")
        doc["states"] = [s.to_json() for s in states]
        doc["task_runs"] = [dict(tr.model_dump(mode="json"), states=[s.to_json() for s in task_states[tr.id]]) for tr in task_runs]
        console.print_json(json.dumps(doc))
        return

    head = Table.grid(padding=(0, 2))
    head.add_row("Flow run", f"{run.name} ({run.id})")
    head.add_row("Flow", run.flow_name or str(run.flow_id))
    head.add_row("State", state_text(run.state_type and run.state_type.value, run.state_name))
    if run.state and run.state.message:
        head.add_row("Message", Text(run.state.message, style="red" if run.state_type and run.state_type.value != "COMPLETED" else ""))
    head.add_row("Parameters", json.dumps(run.parameters, default=str))
    head.add_row("Started", time_text(run.start_time))
    head.add_row("Ended", time_text(run.end_time))
    if run.end_time is None and run.start_time is not None:  # still going: time so far
        import datetime as dt

        so_far = (dt.datetime.now(dt.timezone.utc) - _aware(run.start_time)).total_seconds()
        head.add_row("Duration", f"{duration_text(so_far)} so far")
    else:
        head.add_row("Duration", duration_text(run.total_run_time))
    if run.parent_task_run_id:
        head.add_row("Parent task run", str(run.parent_task_run_id))
    if run.state and run.state.data:
        head.add_row("Result", run.state.data.get("storage_key", ""))

    history = Table(title="Flow run states", title_justify="left")
    history.add_column("Time")
    history.add_column("State")
    history.add_column("Message", overflow="fold")
    for s in states:
        history.add_row(time_text(s.timestamp), state_text(s.type.value, s.name), s.message or "")

    with_cells = any(_details(tr).get("notebook") for tr in task_runs)
    tasks = Table(title=f"Task runs ({len(task_runs)})", title_justify="left")
    with_cache = any(tr.state is not None and cache_text(tr.state) for tr in task_runs)
    for col in ("Task run", *(["Cells"] if with_cells else []), "State", *(["Cache"] if with_cache else []),
                "Duration", "Runs", "State history", "Result"):
        tasks.add_column(col, overflow="fold")
    for tr in task_runs:
        data = tr.state.data if tr.state else None
        result = ""
        if data:
            result = Text.assemble(f"{data.get('summary', '')}\n", (str(data.get("storage_key", "")), "dim"))
        elif tr.state and tr.state.message:
            result = Text(tr.state.message, style="red")
        cells = [_cells_text(_details(tr).get("notebook"))] if with_cells else []
        cache = [cache_text(tr.state) if tr.state else ""] if with_cache else []
        tasks.add_row(tr.name, *cells, state_text(tr.state_type and tr.state_type.value, tr.state_name), *cache, duration_text(tr.total_run_time),
                      str(tr.run_count), _history(task_states[tr.id]), result)
    failures = [_failure_panel(f"task run {tr.name!r}", tr.state.state_details["failure"]) for tr in task_runs
                if tr.state and isinstance(tr.state.state_details.get("failure"), dict)]
    if run.state and isinstance(run.state.state_details.get("failure"), dict):
        failures.append(_failure_panel(f"flow run {run.name!r}", run.state.state_details["failure"]))
    console.print(Group(head, "", history, "", tasks, *failures))


def _aware(moment):
    import datetime as dt

    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.timezone.utc)


def _details(task_run) -> dict:
    return (task_run.state.state_details if task_run.state else None) or {}


def _cells_text(mapping: dict | None) -> str:
    """``cells 2, 3`` of a notebook task run (``state_details["notebook"]``), or ``""``."""
    if not mapping:
        return ""
    return "cells " + ", ".join(str(i) for i in mapping.get("cell_indices", []))


def _failure_panel(run_name: str, failure: dict) -> Panel:
    """A run's failure details (``state_details["failure"]``: a notebook cell's error, a Python traceback)."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    if failure.get("notebook"):
        grid.add_row("Notebook", str(failure["notebook"]))
    if "cell_index" in failure:
        cell = "injected parameters" if failure["cell_index"] is None else str(failure["cell_index"])
        extras = [f"id {failure['cell_id']}" if failure.get("cell_id") else "",
                  f"In [{failure['execution_count']}]" if failure.get("execution_count") else "",
                  f"line {failure['line']}" if failure.get("line") else ""]
        grid.add_row("Cell", ", ".join([cell, *[e for e in extras if e]]))
    if failure.get("file"):
        grid.add_row("Raised at", f"{failure['file']}:{failure.get('line')} in {failure.get('function')}")
    if failure.get("kind"):
        grid.add_row("Kind", str(failure["kind"]))
    error = f"{failure.get('ename', '')}: {failure.get('evalue', '')}".strip(": ")
    if error:
        grid.add_row("Exception", Text(error, style="red"))
    if failure.get("source_excerpt"):
        grid.add_row("Source", Text(failure["source_excerpt"]))
    traceback = failure.get("traceback") or []
    if traceback:
        grid.add_row("Traceback", Text("\n".join(traceback[-20:])))
    if failure.get("output_notebook"):
        grid.add_row("Executed notebook", str(failure["output_notebook"]))
    return Panel(grid, title=Text(f"Failure of {run_name}"), title_align="left", border_style="red")


@app.command("logs")
def logs(
    flow_run_id: str = typer.Argument(..., help="Flow run id (or a unique prefix)."),
    level: str = typer.Option("DEBUG", help="Lowest level to show."),
) -> None:
    """Print a flow run's logs (its own and its task runs'), oldest first."""
    number = logging.getLevelName(level.upper())
    if not isinstance(number, int):
        print_error(f"unknown level {level!r}; use DEBUG, INFO, WARNING, ERROR or CRITICAL")
        raise typer.Exit(2)
    with _client() as client:
        try:
            run_id = _resolve_id(client, flow_run_id)
            flow_run = client.read_flow_run(run_id)
            task_names = {tr.id: tr.name for tr in client.read_task_runs(run_id)}
            records = client.read_logs(flow_run_id=run_id, level=number)
        except (ObjectNotFound, BackendError) as exc:
            print_error(str(exc))
            raise typer.Exit(1)
    for r in records:
        where = f"Task run {task_names.get(r.task_run_id, r.task_run_id)!r}" if r.task_run_id else f"Flow run {flow_run.name!r}"
        console.print(f"{time_text(r.timestamp)} | {logging.getLevelName(r.level):<7} | {where} - {r.message}")


@app.command("cancel")
def cancel(flow_run_id: str = typer.Argument(..., help="Flow run id (or a unique prefix).")) -> None:
    """Cancel a flow run (as Prefect's ``prefect flow-run cancel``).

    A running flow run becomes CANCELLING: the process running it notices
    within about a second, stops its task runs and records CANCELLED. A run
    that has not started (SCHEDULED, PENDING, PAUSED) is CANCELLED at once.
    A finished run, or one already being cancelled, is an error (exit code 1).
    """
    from partita.states import TERMINAL_STATES, State, StateType

    with _client() as client:
        run = read_run_or_exit(client, flow_run_id)
        run_id = run.id
        label = f"flow run {run.name!r} ({run.id})"
        if run.state_type in TERMINAL_STATES or run.state_type is StateType.CANCELLING:
            what = "is already being cancelled" if run.state_type is StateType.CANCELLING else "has already finished"
            print_error(f"{label} {what}: it is in state {run.state_type.value} ({run.state_name!r}); there is nothing to cancel")
            raise typer.Exit(1)
        result = client.set_flow_run_state(run_id, State(StateType.CANCELLED, "Cancelled", message="cancelled with 'partita flow-run cancel'"))
    state = result.state
    if state is not None and state.type is StateType.CANCELLING:
        console.print(f"{label} is CANCELLING: the process running it stops it and records CANCELLED.")
    elif state is not None and state.type is StateType.CANCELLED and result.status.value == "ACCEPT":
        console.print(f"{label} is CANCELLED (it had not started).")
    else:
        now = f"{state.type.value} ({state.name!r})" if state is not None else "unknown"
        print_error(f"{label} could not be cancelled: {result.reason}; it is in state {now}")
        raise typer.Exit(1)


def _register_watch() -> None:
    from partita_workbench.cli.watch import watch

    app.command("watch")(watch)


_register_watch()
