"""A generated N-task YAML pipeline validated and compiled (default N = 1,000); Partita only.

Generates a pipeline of N tasks in the current folder — Python, shell and
notebook tasks in chains of ten, each referring to a parameter and to the
previous task's result, with ``needs:``, ``map:``, ``if:``, ``cache:`` and
``outputs:`` sprinkled in — then times ``load_pipeline`` (read, validate every
task, import the callables, check the files) plus ``compile_pipeline`` (build
the flow): the first call (``cold_s``: the compiler's modules and the
callables' module imported on the way) and the median of five calls after it
(``wall_s``, with its CPU time ``cpu_s``, which does not grow when other
processes share the cores). Nothing is run, so nothing is recorded.

    python benchmarks/workloads/yaml_compile.py --system partita --n 1000
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from workload_support import emit, emit_unsupported, parse_args, timed

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


REPEATS = 5


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    if args.system != "partita":
        emit_unsupported(args.system, "yaml-compile", args.n, "YAML pipelines are Partita's")
        return
    path = generate(Path.cwd(), args.n)
    from partita_workbench.pipelines import compile_pipeline, load_pipeline

    cold, _ = timed(lambda: compile_pipeline(load_pipeline(path)))
    wall, cpu = [], []
    for _ in range(REPEATS):
        started, started_cpu = time.perf_counter(), time.process_time()
        compile_pipeline(load_pipeline(path))
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    emit(args.system, "yaml-compile", args.n, cold_s=cold, wall_s=statistics.median(wall), cpu_s=statistics.median(cpu),
         yaml_lines=path.read_text().count("\n"), correct=len(load_pipeline(path).spec.tasks) == args.n)


if __name__ == "__main__":
    main()
