"""Notebook benchmark: a 10-cell notebook through Partita (papermill mode) vs papermill alone.

``python -m benchmarks.notebooks`` builds a notebook of ten code cells (a
``parameters`` cell, then nine cells that each build a list, sum it and print
the sum), then times, alternately, after one uncounted warm-up run of each:

* ``papermill`` — ``papermill.execute_notebook(...)``, in this process;
* ``partita-papermill`` — ``notebook_flow(notebook)(n=...)``, in this process,
  on the embedded backend (a fresh SQLite home): the flow run, the task run,
  their states and logs are recorded and the executed notebook is kept as the
  run's result.

Both start a new kernel per run, as a user's run does. The goal is
``partita-papermill / papermill ≤ 1.15`` (medians). With ``--cli`` it also
times the two command lines end to end, in fresh processes
(``papermill in.ipynb out.ipynb -p n N`` and ``partita run in.ipynb -p n=N``),
as information: it adds interpreter start-up and imports.

Prints a table and, with ``--output``, writes the figures as JSON. Exit code
1 with ``--check`` when the goal is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

GOAL = 1.15
"""Partita (papermill mode) may cost at most this many times papermill alone."""


def build_notebook(path: Path, cells: int = 10, n: int = 100_000) -> Path:
    """Write the benchmark notebook: a parameters cell and ``cells - 1`` working cells."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    body = [new_code_cell(f"n = {n}\nlabel = 'bench'", metadata={"tags": ["parameters"]})]
    for i in range(1, cells):
        body.append(new_code_cell(f"values_{i} = [j * {i} for j in range(n)]\ntotal_{i} = sum(values_{i})\nprint(label, {i}, total_{i})"))
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(new_notebook(cells=body, metadata={"kernelspec": kernelspec}), str(path))
    return path


def _summary(values: list[float]) -> dict[str, Any]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "values": values}


def _timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def in_process_systems(notebook: Path, work: Path, n: int) -> dict[str, Callable[[], Any]]:
    """The in-process runners, by name."""
    import papermill

    from partita_workbench.notebooks import notebook_flow

    flow = notebook_flow(notebook)
    out = str(work / "papermill-out.ipynb")

    def papermill_alone() -> Any:
        return papermill.execute_notebook(str(notebook), out, parameters={"n": n}, progress_bar=False)

    def partita_papermill() -> Any:
        state = flow(n=n, return_state=True)
        if not state.is_completed():
            raise RuntimeError(f"the Partita run did not complete: {state.message}")
        return state

    return {"papermill": papermill_alone, "partita-papermill": partita_papermill}


def cli_systems(notebook: Path, work: Path, n: int, env: dict[str, str]) -> dict[str, Callable[[], Any]]:
    """The command-line runners (fresh processes), by name."""
    bindir = Path(sys.executable).parent
    papermill_cmd = [str(bindir / "papermill"), "--no-progress-bar", str(notebook), str(work / "cli-out.ipynb"), "-p", "n", str(n)]
    partita_cmd = [sys.executable, "-m", "partita_workbench.cli", "run", str(notebook), "-p", f"n={n}"]

    def runner(cmd: list[str]) -> Callable[[], Any]:
        def run() -> Any:
            done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(cmd)} failed: {done.stderr[-2000:]}")
        return run

    return {"papermill CLI": runner(papermill_cmd), "partita run": runner(partita_cmd)}


def measure(systems: dict[str, Callable[[], Any]], repeat: int, warmup: int) -> dict[str, dict[str, Any]]:
    """Warm each system up, then time them in turns (so load on the machine hits all alike)."""
    for fn in systems.values():
        for _ in range(warmup):
            fn()
    times: dict[str, list[float]] = {name: [] for name in systems}
    for round_ in range(repeat):
        order = list(systems.items())
        if round_ % 2:
            order.reverse()
        for name, fn in order:
            times[name].append(_timed(fn))
    return {name: _summary(values) for name, values in times.items()}


def _table(title: str, results: dict[str, dict[str, Any]], base: str) -> str:
    lines = [title, f"{'system':<20} {'median s':>9} {'min s':>7} {'max s':>7} {'ratio':>7}"]
    for name, summary in results.items():
        ratio = summary["median"] / results[base]["median"]
        lines.append(f"{name:<20} {summary['median']:>9.3f} {summary['min']:>7.3f} {summary['max']:>7.3f} {ratio:>7.3f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.notebooks", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="counted runs per system (default 7)")
    parser.add_argument("--warmup", type=int, default=1, help="uncounted runs per system first (default 1)")
    parser.add_argument("--cells", type=int, default=10, help="code cells in the notebook (default 10)")
    parser.add_argument("--n", type=int, default=100_000, help="list length each cell builds (default 100000)")
    parser.add_argument("--cli", action="store_true", help="also time the two command lines end to end")
    parser.add_argument("--check", action="store_true", help=f"exit 1 when Partita costs more than {GOAL}x papermill")
    parser.add_argument("--output", type=Path, default=None, help="write the figures as JSON here")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="partita-bench-nb-"))
    try:
        home = work / "home"
        os.environ["PARTITA_HOME"] = str(home)
        for name in ("PARTITA_API_URL", "PARTITA_DATABASE_URL", "PARTITA_RESULT_STORAGE"):
            os.environ.pop(name, None)
        notebook = build_notebook(work / "ten_cells.ipynb", args.cells, args.n)
        results = {"in_process": measure(in_process_systems(notebook, work, args.n), args.repeat, args.warmup)}
        ratio = results["in_process"]["partita-papermill"]["median"] / results["in_process"]["papermill"]["median"]
        print(_table(f"{args.cells}-cell notebook, in process, {args.repeat} runs each (seconds)", results["in_process"], "papermill"))
        print(f"partita-papermill / papermill = {ratio:.3f} (goal ≤ {GOAL}: {'met' if ratio <= GOAL else 'MISSED'})")
        if args.cli:
            env = {**os.environ, "PARTITA_HOME": str(work / "cli-home")}
            results["cli"] = measure(cli_systems(notebook, work, args.n, env), args.repeat, args.warmup)
            print()
            print(_table("command lines, fresh processes (seconds)", results["cli"], "papermill CLI"))
        document = {"goal": GOAL, "ratio": ratio, "cells": args.cells, "n": args.n, "repeat": args.repeat,
                    "python": sys.version.split()[0], "cpus": os.cpu_count(), "results": results}
        if args.output:
            args.output.write_text(json.dumps(document, indent=2))
        return 1 if args.check and ratio > GOAL else 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
