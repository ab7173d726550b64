"""``partita notebook graph|check NB.ipynb``: a notebook's task graph, and its analysis problems.

``graph`` prints the graph document (``--format json``), a text listing
(``text``, the default: tasks with their cells, edges with the variables that
make them), or ``mermaid``/``dot``/``svg`` through
``partita_workbench.graphs.render`` (edge labels are the variables).
``check`` prints each problem as ``path: cell N, line L, col C: message``
and exits 2 when there is any, 0 when there is none. Both exit 2 for a
missing or unreadable notebook.
"""

from __future__ import annotations

import json
from typing import Any

import typer

from partita.exceptions import UserInputError
from partita_workbench.cli.render import plain_console, print_error

app = typer.Typer(help="Inspect the task graph of a notebook whose cells are tasks.", no_args_is_help=True)
console = plain_console()
err_console = plain_console(stderr=True, soft_wrap=True)

FORMATS = ("text", "json", "mermaid", "dot", "svg")


def _analyse(path: str) -> Any:
    from partita_workbench.notebooks.cells import analyse_notebook

    try:
        return analyse_notebook(path)
    except UserInputError as exc:
        print_error(str(exc))
        raise typer.Exit(2)


def _via_text(via: list[dict[str, Any]]) -> str:
    parts = []
    for item in via:
        if item["kind"] == "needs":
            parts.append(f"needs:{item['name']} (tag in cell {item['cell']})")
        else:
            parts.append(f"{item['name']} (cell {item['cell']}, line {item['line']})")
    return ", ".join(parts)


def render_text(document: dict[str, Any], graph: Any) -> str:
    """The text form of a notebook's graph: header, parameters, tasks with cells, edges with variables."""
    lines = [f"notebook {document['name']} ({document['source']}): {len(document['tasks'])} tasks, {len(document['edges'])} edges"]
    if document["parameters"]:
        lines.append("parameters:")
        for name, spec in document["parameters"].items():
            kind = spec.get("type", "any")
            default = f" = {json.dumps(spec['default'])}" if "default" in spec else ""
            lines.append(f"  {name}: {kind}{default}")
    if graph.setup_cells:
        lines.append(f"setup cells (run before every task): {', '.join(map(str, graph.setup_cells))}")
    lines.append("tasks:")
    width = max(len(t["name"]) for t in document["tasks"])
    by_name = {t.name: t for t in graph.tasks}
    for task in document["tasks"]:
        spec = by_name.get(task["name"])
        cells = f"cells {', '.join(map(str, spec.code_cells))}" if spec is not None else "whole notebook (papermill)"
        lines.append(f"  {task['name']:<{width}}  {cells}")
    if document["edges"]:
        lines.append("edges:")
        width = max(len(f"{e['from']} → {e['to']}") for e in document["edges"])
        for edge in document["edges"]:
            lines.append(f"  {edge['from'] + ' → ' + edge['to']:<{width}}  {_via_text(edge['via'])}")
    return "\n".join(lines)


@app.command("graph")
def graph_command(
    notebook: str = typer.Argument(..., help="The notebook (.ipynb)."),
    fmt: str = typer.Option("text", "--format", "-f", help=f"One of {', '.join(FORMATS)}."),
) -> None:
    """Print the notebook's task graph; edges are labelled with the variables that create them."""
    from partita_workbench.notebooks.cells.document import document_of

    if fmt not in FORMATS:
        print_error(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
        raise typer.Exit(2)
    graph = _analyse(notebook)
    document = document_of(graph)
    if fmt == "json":
        print(json.dumps(document, indent=2))
    elif fmt == "text":
        console.print(render_text(document, graph), soft_wrap=True)
    else:
        try:
            from partita_workbench.graphs import render
        except ImportError:
            print_error(f"format {fmt!r} is not available in this installation; use text or json")
            raise typer.Exit(2)
        print(render(document, fmt))


@app.command("check")
def check_command(notebook: str = typer.Argument(..., help="The notebook (.ipynb).")) -> None:
    """Report analysis problems (undefined names, empty tasks, star imports...) with cell and line numbers."""
    graph = _analyse(notebook)
    if not graph.problems:
        shape = f"{len(graph.tasks)} tasks, {len(graph.edges)} edges" if graph.tasks else "no task cells: it runs whole, with papermill"
        console.print(f"{notebook}: no problems ({shape})", soft_wrap=True)
        return
    for problem in graph.problems:
        console.print(problem.render(notebook), soft_wrap=True)
    count = len(graph.problems)
    err_console.print(f"{count} problem{'s' if count != 1 else ''} found in {notebook}")
    raise typer.Exit(2)
