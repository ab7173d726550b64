"""``partita graph TARGET``: draw the task graph of a pipeline, a notebook or a ``file.py:flow``.

``--format`` is ``text`` (default), ``mermaid``, ``dot``, ``svg`` or
``json`` (the canonical graph document, ``schemas/graph.schema.json``);
``--run ID`` colours the tasks by their states in that recorded flow run;
``--output FILE`` writes the drawing to a file instead of standard output.
Exit code 2 for a target that cannot be drawn (an invalid pipeline gets the
report of ``partita validate``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from partita.exceptions import UserInputError, ValidationError
from partita_workbench.cli.render import plain_console, print_error

console = plain_console(soft_wrap=True)
err_console = plain_console(stderr=True, soft_wrap=True)

_PRIORITY = ("Crashed", "Failed", "TimedOut", "Cancelled", "Running", "Retrying", "NotReady", "Pending",
             "AwaitingRetry", "Scheduled", "Late", "Paused", "Completed", "Cached", "Skipped")


def node_states(task_names: list[str], runs: list[tuple[str, str]]) -> dict[str, str]:
    """Task name → state name, from a flow run's ``(task run name, state name)`` pairs.

    A task that ran several times (``map:``, or called again: ``name-1``,
    ``name-2``) shows its most telling state: a failure over a run in
    progress over a completion.
    """
    known = set(task_names)
    found: dict[str, list[str]] = {}
    for run_name, state in runs:
        name = run_name
        if name not in known:
            base = re.sub(r"-\d+$", "", run_name)
            name = base if base in known else run_name
        found.setdefault(name, []).append(state)
    rank = {state: i for i, state in enumerate(_PRIORITY)}
    return {name: min(states, key=lambda s: rank.get(s, len(rank))) for name, states in found.items() if name in known}


def _run_states(run_id: str) -> list[tuple[str, str]]:
    from partita.exceptions import ObjectNotFound

    from partita_workbench.cli.flow_runs import _client, _resolve_id

    with _client() as client:
        try:
            flow_run_id = _resolve_id(client, run_id)
            client.read_flow_run(flow_run_id)
        except ObjectNotFound:
            print_error(f"no flow run {run_id}; see 'partita flow-run ls'")
            raise typer.Exit(2)
        return [(tr.name, tr.state_name or "") for tr in client.read_task_runs(flow_run_id)]


def graph_command(
    target: str = typer.Argument(..., help="pipeline.yaml, notebook.ipynb or file.py:flow_name"),
    fmt: str = typer.Option("text", "--format", "-f", help="text, mermaid, dot, svg or json."),
    run: str = typer.Option(None, "--run", help="Colour tasks by their states in this flow run (id or unique prefix)."),
    output: Path = typer.Option(None, "--output", "-o", help="Write the drawing to this file."),
) -> None:
    """Draw the task graph of TARGET (a YAML pipeline, a notebook or file.py:flow)."""
    from partita_workbench.cli.validate import print_report
    from partita_workbench.graphs import FORMATS, graph_document, render

    if fmt not in FORMATS:
        print_error(f"unknown format '{fmt}'; use one of {', '.join(FORMATS)}")
        raise typer.Exit(2)
    try:
        document: dict[str, Any] = graph_document(target)
    except ValidationError as exc:
        print_report({target: exc.problems}, to_stderr=True)
        raise typer.Exit(2)
    except UserInputError as exc:
        print_error(str(exc))
        raise typer.Exit(2)
    states = node_states([t["name"] for t in document["tasks"]], _run_states(run)) if run else None
    drawing = render(document, fmt, states)
    if output is not None:
        try:
            output.write_text(drawing, encoding="utf-8")
        except OSError as exc:
            print_error(f"cannot write {output}: {exc.strerror or exc}; give -o a path in an existing folder you can write to")
            raise typer.Exit(1) from None
        err_console.print(f"Wrote {output}")
    else:
        typer.echo(drawing, nl=False)
