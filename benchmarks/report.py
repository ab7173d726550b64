"""The results: console tables (Rich), a Markdown table, and the JSON file.

The JSON file holds everything: the plan, the machine, each system's
interpreter, version and settings, every run's raw measurement and database
counts, and the summaries the tables show.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from benchmarks import formatting as fmt
from benchmarks.cases import ALL

_METRICS = {case.name: case.metrics for case in ALL}


_OTHER_NAMES = {"prefect": "Prefect", "papermill": "papermill"}


def _system_cell(result: dict[str, Any], system: str | None, key: str) -> str:
    summary = result["systems"].get(system) if system else None
    if summary is None:
        return "not run" if system else "–"
    if summary["status"] == "unsupported":
        return "not supported yet"
    if summary["status"] == "failed":
        return "failed"
    return fmt.spread(summary["metrics"].get(key))


def other_label(results: dict[str, Any], other: str | None) -> str:
    """How the compared system is named in the table: ``Prefect 3.9.1``, ``papermill 2.7.0``, ``–``."""
    if not other:
        return "–"
    version = results["systems"].get(other, {}).get("version") or ""
    return f"{_OTHER_NAMES.get(other, other)} {version}".strip()


def metric_rows(results: dict[str, Any]) -> list[list[str]]:
    """Case, metric, Partita, compared with, its figure, ratio, goal — one row per metric."""
    rows = []
    for name, result in results["cases"].items():
        n = f" (N={result['n']:,})" if result.get("n") else ""
        other = result.get("other", "prefect")  # results files from before the key existed compared with Prefect
        for index, metric in enumerate(_METRICS.get(name, ())):
            value = result["ratios"].get(metric.key)
            partita = result["systems"].get("partita", {}).get("metrics", {}).get(metric.key)
            rows.append([
                result["title"] + n if index == 0 else "",
                f"{metric.label} ({metric.unit})",
                _system_cell(result, "partita", metric.key),
                other_label(results, other) if index == 0 else "",
                _system_cell(result, other, metric.other_key),
                fmt.ratio(value),
                fmt.goal(value, metric.goal) or fmt.limit(partita and partita["median"], metric.limit, metric.unit),
            ])
    return rows


def _db_cell(summary: dict[str, Any], key: str, expected: int) -> str:
    return f"{fmt.spread(summary['db'].get(key), fmt.count)} / {expected:,}"


def db_rows(results: dict[str, Any]) -> list[list[str]]:
    """Case, system, flow runs, task runs, task-run states, cache hits, complete runs."""
    rows = []
    for result in results["cases"].values():
        expected = result.get("expected_db")
        if not expected:
            continue
        first = True
        for system, summary in result["systems"].items():
            if "db" not in summary and summary["status"] != "unsupported":
                continue  # a system without a database (papermill alone)
            if summary["status"] == "unsupported" or not summary.get("db_runs"):
                note = "not supported yet" if summary["status"] == "unsupported" else "no successful run"
                cells = [note, "", "", ""]
            else:
                cells = [
                    _db_cell(summary, "flow_runs", expected["flow_runs"]),
                    _db_cell(summary, "task_runs", expected["task_runs"]),
                    _db_cell(summary, "task_run_states", expected["task_run_states"]),
                    _db_cell(summary, "cached_states", expected["cached_states"]) if expected["cached_states"] else "",
                ]
            complete = f"{summary.get('db_complete_runs', 0)}/{summary.get('db_runs', 0)}" if summary.get("db_runs") else ""
            rows.append([result["title"] if first else "", system, *cells, complete])
            first = False
    return rows


_METRIC_HEADERS = ["Case", "Metric", "Partita median (min–max)", "Compared with", "Its median (min–max)", "Partita/other", "Goal"]
_DB_HEADERS = ["Case", "System", "Flow runs", "Task runs", "Task-run states", "Cache hits", "Complete runs"]


def print_tables(results: dict[str, Any], console: Console) -> None:
    """The metric table and the database table, then any run failures."""
    others = [other_label(results, name) for name in ("prefect", "papermill") if name in results["systems"]]
    table = Table(title="Partita" + (f" vs {', '.join(others)}" if others else ""), show_lines=False)
    for header in _METRIC_HEADERS:
        table.add_column(header, justify="left" if header in ("Case", "Metric", "Compared with") else "right")
    for row in metric_rows(results):
        table.add_row(*map(Text, row))
    console.print(table)
    db = Table(title="What the database holds after the process exited: median (min–max) / expected")
    for header in _DB_HEADERS:
        db.add_column(header, justify="left" if header in ("Case", "System") else "right")
    for row in db_rows(results):
        db.add_row(*map(Text, row))
    console.print(db)
    for line in problems(results):
        console.print(f"[yellow]{line}[/]", highlight=False)
    if results.get("output"):
        console.print(f"Results written to {results['output']}", highlight=False)


def problems(results: dict[str, Any]) -> list[str]:
    """One line per system and case that did not run cleanly."""
    lines = []
    for result in results["cases"].values():
        for system, summary in result["systems"].items():
            if summary["status"] != "ok":
                lines.append(f"{result['title']} · {system}: {summary['reason']}")
    source = results.get("partita_source", {})
    if source.get("changed_during_run"):
        lines.append("Partita's source files changed while the benchmark ran; its figures may mix versions.")
    return lines


def markdown(results: dict[str, Any]) -> str:
    """Both tables as GitHub Markdown."""

    def table(headers: list[str], rows: list[list[str]]) -> str:
        lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
        return "\n".join(lines)

    return table(_METRIC_HEADERS, metric_rows(results)) + "\n\n" + table(_DB_HEADERS, db_rows(results)) + "\n"


def write_json(results: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")


def read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())
