"""``python -m benchmarks``: ``run`` the cases, ``list`` them, ``show`` a results file."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape

from benchmarks import cases as case_registry
from benchmarks import provenance, report, runner
from benchmarks.live import LiveProgress
from benchmarks.systems import PREFECT_VERSION, SetupError, papermill_system, partita_system, prefect_system

RESULTS = Path(__file__).resolve().parent / "results"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description="Partita side by side with Prefect and papermill.")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run the cases and print the table")
    run.add_argument("--cases", type=lambda s: [c.strip() for c in s.split(",") if c.strip()], default=None,
                     help="comma-separated case names (default: all; see `list`)")
    run.add_argument("--repeat", type=_positive_int, default=5, help="counted runs per system and case (default 5)")
    run.add_argument("--warmup", type=_non_negative_int, default=1,
                     help="uncounted runs per system and case before the counted ones (default 1)")
    run.add_argument("--n-scale", type=_positive_float, default=1.0,
                     help="multiply every workload size, e.g. 0.01 for a smoke run (default 1)")
    run.add_argument("--no-prefect", action="store_true", help="leave Prefect out (no Prefect venv needed); cases compared with papermill still run it")
    run.add_argument("--partita-python", type=Path, default=None,
                     help="interpreter with Partita installed (default: the one running this command)")
    run.add_argument("--timeout", type=_positive_float, default=1800.0,
                     help="seconds before a single run is killed and counted as failed (default 1800)")
    run.add_argument("--output", type=Path, default=None,
                     help="results JSON path (default benchmarks/results/<timestamp>.json)")

    commands.add_parser("list", help="list the cases")

    show = commands.add_parser("show", help="print the tables of a results file")
    show.add_argument("results", type=Path)
    show.add_argument("--markdown", action="store_true", help="print Markdown instead of Rich tables")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    console = Console()
    if not console.is_terminal:  # a log file: wide enough for the tables
        console = Console(width=160)
    if args.command == "list":
        for case in case_registry.ALL:
            against = f"compared with {report.other_label({'systems': {}}, case.other)}" if case.other else "Partita alone"
            console.print(f"[bold]{case.name}[/] — {case.title} ({against}): {case.description}", highlight=False)
        return 0
    if args.command == "show":
        results = report.read_json(args.results)
        if args.markdown:
            print(report.markdown(results), end="")
        else:
            report.print_tables(results, console)
        return 0
    return _run(args, console)


def _run(args: argparse.Namespace, console: Console) -> int:
    try:
        selected = case_registry.select(args.cases)
    except ValueError as exc:
        console.print(f"[red]{escape(str(exc))}[/]", highlight=False)
        return 2
    wanted = {case.other for case in selected}
    try:
        systems = [partita_system(args.partita_python)]
        if "papermill" in wanted:
            systems.append(papermill_system(systems[0]))
        if not args.no_prefect and "prefect" in wanted:
            with console.status(f"preparing the Prefect {PREFECT_VERSION} venv"):
                systems.append(prefect_system(report=lambda msg: console.print(msg, highlight=False)))
    except SetupError as exc:
        console.print(f"[red]{escape(str(exc))}[/]", highlight=False)
        return 2

    plan = runner.Plan(selected, systems, repeat=args.repeat, warmup=args.warmup, n_scale=args.n_scale,
                       timeout=args.timeout)
    started = dt.datetime.now().astimezone()
    output = args.output or RESULTS / f"{started.strftime('%Y%m%d-%H%M%S')}.json"
    partita = systems[0]
    source_before = provenance.partita_source(partita)
    clock = time.perf_counter()
    with LiveProgress(console, plan.total_runs) as live:
        case_results = runner.execute(plan, live)
    duration = time.perf_counter() - clock
    source_after = provenance.source_digest([Path(folder) for folder in source_before["folders"]])

    results: dict[str, Any] = {
        "started_at": started.isoformat(timespec="seconds"),
        "duration_s": round(duration, 1),
        "command": " ".join(["python -m benchmarks", *(sys.argv[1:] if sys.argv[0].endswith("__main__.py") else [])]),
        "plan": {"cases": [case.name for case in selected], "repeat": plan.repeat, "warmup": plan.warmup,
                 "n_scale": plan.n_scale, "timeout_s": plan.timeout},
        "machine": provenance.machine(),
        "systems": {system.name: provenance.system_info(system) for system in systems},
        "partita_source": {**source_before, "changed_during_run": source_after != source_before["digest"]},
        "cases": case_results,
        "output": str(output),
    }
    report.write_json(results, output)
    report.print_tables(results, console)
    console.print(f"Total time {duration / 60:.1f} min", highlight=False)
    partita_failed = any(result["systems"]["partita"]["status"] in ("failed", "partial") for result in case_results.values())
    return 1 if partita_failed else 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, got {value}")
    return value


def _positive_float(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, got {value}")
    return value
