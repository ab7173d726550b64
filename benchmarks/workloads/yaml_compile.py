"""How long a large YAML pipeline takes to validate and compile.

Generates a pipeline of N tasks (default 1,000) in a temporary folder —
Python, shell and notebook tasks in chains of ten, each referring to a
parameter and to the previous task's result, with ``needs:``, ``map:``,
``if:``, ``cache:`` and ``outputs:`` sprinkled in — then times
``load_pipeline`` (read, validate every task, import the callables, check the
files) plus ``compile_pipeline`` (build the flow), in this process after one
warm-up, and prints the median and the best of the repeats, wall-clock and
CPU time, with the machine's load average. Nothing is run.

    python benchmarks/yaml_compile.py            # 1,000 tasks, 7 repeats
    python benchmarks/yaml_compile.py --tasks 5000 --repeat 3 --budget-ms 300

Exit code 1 when the median CPU time exceeds ``--budget-ms`` (default 300):
CPU time measures the work whatever else runs on the machine; on an idle
machine wall-clock time is the same.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

_STEPS = '''
def seed(n: int) -> list[int]:
    return list(range(n))


def step(value, scale: int = 1):
    return value


def each(item, scale: int = 1):
    return item
'''

_NOTEBOOK = {
    "cells": [
        {"id": "parameters", "cell_type": "code", "execution_count": None, "metadata": {"tags": ["parameters"]},
         "outputs": [], "source": ["x = None"]},
        {"id": "show", "cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": ["print(x)"]},
    ],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


def _task(i: int) -> list[str]:
    name = f"t{i:05d}"
    previous = f"t{i - 1:05d}"
    first = i % 10 == 0
    upstream = "${{ params.scale }}" if first else f"${{{{ tasks.{previous}.result }}}}"
    kind = i % 10
    lines = [f"  {name}:", f"    description: generated task {i}"]
    if kind in (1, 2, 3, 4, 5):
        lines += ["    python: steps:step", "    with:", f'      value: "{upstream}"', '      scale: "${{ params.scale }}"']
    elif kind == 6:
        lines += ["    python: steps:each", f'    map: "${{{{ tasks.{previous}.result | list if tasks.{previous}.result is iterable else [1, 2] }}}}"',
                  "    with:", '      item: "${{ item }}"']
    elif kind == 7:
        lines += ["    notebook: report.ipynb", "    parameters:", f'      x: "{upstream}"', "    cache: {policy: [source, inputs], expiration: 7d}"]
    elif kind == 8:
        lines += [f"    shell: echo {upstream} > out-{name}.txt", f"    outputs: [out-{name}.txt]", '    if: "${{ params.scale > 0 }}"',
                  "    env: {LEVEL: generated}"]
    else:
        lines += ["    python: steps:seed", "    with:", '      n: "${{ params.scale }}"']
    if not first:
        lines.append(f"    needs: [{previous}]")
    if kind == 5:
        lines += ["    retries: 2", "    retry_delay_seconds: [1, 5]", "    timeout_seconds: 30", "    tags: [generated]"]
    return lines


def generate(folder: Path, tasks: int) -> Path:
    """Write the pipeline, its Python module and its notebook into ``folder``; returns the YAML path."""
    (folder / "steps.py").write_text(_STEPS)
    (folder / "report.ipynb").write_text(json.dumps(_NOTEBOOK))
    lines = [
        "name: generated",
        "description: a generated pipeline for timing validation and compilation",
        "parameters:",
        "  scale: {type: integer, default: 2, description: passed to every task}",
        "  day: {type: date, default: 2024-05-01}",
        "defaults:",
        "  retries: 1",
        "env:",
        "  LC_ALL: C.UTF-8",
        "tasks:",
    ]
    for i in range(tasks):
        lines += _task(i)
    path = folder / "pipeline.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def measure(path: Path, repeat: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of ``load_pipeline`` + ``compile_pipeline`` per repeat (after one warm-up).

    CPU time (``time.process_time``) is what the work costs; wall-clock time
    is what a user waits, and grows when other processes share the cores.
    """
    from partita_workbench.pipelines import compile_pipeline, load_pipeline

    compile_pipeline(load_pipeline(path))  # warm-up: imports, the callable's module
    wall, cpu = [], []
    for _ in range(repeat):
        started, started_cpu = time.perf_counter(), time.process_time()
        compile_pipeline(load_pipeline(path))
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=1000, help="tasks in the generated pipeline (default 1000)")
    parser.add_argument("--repeat", type=int, default=7, help="timed repeats (default 7)")
    parser.add_argument("--budget-ms", type=float, default=300.0, help="fail when the median CPU time exceeds this (default 300)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="partita-yaml-bench-") as tmp:
        path = generate(Path(tmp), args.tasks)
        size = path.stat().st_size
        lines = path.read_text().count("\n")
        wall, cpu = measure(path, args.repeat)
    median, best, median_cpu = statistics.median(wall) * 1000, min(wall) * 1000, statistics.median(cpu) * 1000
    load = f", load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs" if hasattr(os, "getloadavg") else ""
    print(f"{args.tasks} tasks ({lines} lines, {size / 1024:.0f} KiB): validate + compile "
          f"median {median:.1f} ms wall ({median_cpu:.1f} ms CPU), best {best:.1f} ms, over {args.repeat} runs "
          f"(budget {args.budget_ms:.0f} ms{load})")
    return 0 if median_cpu <= args.budget_ms else 1


if __name__ == "__main__":
    sys.exit(main())
