"""A cells-as-tasks notebook as a :class:`partita.Flow`.

The flow has the notebook's parameters (from its ``parameters`` cell, typed
by their annotations or default values, checked as a whole-notebook run
checks them: :func:`partita_workbench.notebooks.parameters.check_parameters`) and one task per task of the notebook
(:mod:`.analysis`), submitted in dependency order on the flow's task runner,
so independent tasks run at the same time, each on a kernel of the flow
run's bounded, reused set (:mod:`.pool`, :mod:`.runtime`). A task receives the results of the tasks it depends on
(futures, so a failed upstream leaves it ``NotReady`` and it never starts).
Each task is cached on its cells' source, the setup source, the parameters
it reads and its upstream tasks' keys (:func:`cache_policy`), so after an
edit only the edited task and those downstream run again.
When all tasks are done the executed notebook is assembled
(:mod:`.assemble`) and written under ``<storage>/runs/<flow run id>/``; its
path is the flow's result. If a task failed, the flow run fails after
writing it, naming the failing task, cell and line.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any, Optional

from partita import Flow, Task
from partita.exceptions import ConfigurationError, InvalidTarget, RunError, ValidationError

from partita_workbench.notebooks.cells.analysis import analyse
from partita_workbench.notebooks.cells.model import CellTask, NotebookGraph
from partita_workbench.notebooks.cells.results import CellExecutionFailed, CellsResult
from partita_workbench.notebooks.cells.runtime import CellsJob, run_cells

__all__ = ["cells_flow", "cells_task", "BLOCKING_PROBLEMS", "CellsRunFailed"]

BLOCKING_PROBLEMS = frozenset({"syntax-error", "duplicate-task", "bad-task-name", "unknown-need", "cycle"})
"""Problems that stop a notebook from being run (the others are reported by ``partita notebook check``)."""


class CellsRunFailed(RunError):
    """A task of a cells run failed; the executed notebook (with the outputs so far) is written.

    Attributes:
        failures: the failed tasks' exceptions, by task name.
        output_notebook: the executed notebook's path or URL.
    """

    def __init__(self, message: str, failures: dict[str, BaseException], output_notebook: str | None) -> None:
        self.failures = failures
        self.output_notebook = output_notebook
        super().__init__(message)


def execute_cells(parameters: dict[str, Any], job: CellsJob, upstream: dict[str, CellsResult], kernels: Any = None) -> CellsResult:
    """Task function of a cells task: run ``job`` (see :func:`.runtime.run_cells`).

    Args:
        parameters: the flow parameters the task reads (part of its cache key).
        job: the task's cells and settings.
        upstream: results of the tasks it depends on, by task name.
        kernels: the flow run's :class:`.pool.KernelPool`, or ``None``.
    """
    return run_cells(job, upstream, kernels)


cells_task: Task = Task(
    execute_cells,
    name="cells",
    persist_result=True,
    description="Run a notebook task's cells in a kernel; the result holds its output variables and cell outputs.",
)
"""The task behind every cells task; each gets its name with ``with_options(name=...)``."""


def cell_mapping(graph: NotebookGraph, task: CellTask, path: str) -> dict[str, Any]:
    """What every state of a cells task run records of its cells (``state_details["notebook"]``).

    ``{"path": notebook path, "task": name, "cell_indices": [0-based indices of the cells it
    covers], "cell_ids": [their ids] or None before nbformat 4.5}``, so a client can colour
    cells by the state of their task run.
    """
    ids = [graph.cells[i].id for i in task.cells] if graph.has_cell_ids else None
    return {"path": path, "task": task.name, "cell_indices": list(task.cells), "cell_ids": ids}


def cache_policy(notebook: Any, graph: NotebookGraph, task: CellTask, kernel: str) -> Any:
    """The cache policy of a cells task: its cells' source, the setup source, its inputs and upstream.

    ``SourceText`` of the setup cells, the parameters cell and the task's own
    cells (with the kernel and the variables it must persist), plus
    ``Inputs`` (the flow parameters it reads) and ``UPSTREAM`` (the cache keys
    of the tasks it depends on). Editing one cell changes the key of its task
    (``source changed``) and, through ``UPSTREAM``, of every task downstream
    (``upstream changed``); the other tasks are ``Cached``.
    """
    from partita.cache_policies import UPSTREAM, Inputs, SourceText

    setup = sorted((*graph.setup_cells, *([graph.parameters_cell] if graph.parameters_cell is not None else [])))
    text = json.dumps({
        "setup": [notebook.cells[i].source for i in setup],
        "cells": [notebook.cells[i].source for i in task.code_cells],
        "outputs": list(task.outputs),
        "kernel": kernel,
    }, sort_keys=True)
    return SourceText(text) + Inputs(exclude=("job", "upstream", "kernels")) + UPSTREAM


def _close_on_abort(pool: Any) -> bool:
    """On an interrupt, leave closing ``pool`` to the engine's abort of the flow run; whether it will.

    The engine first records the running task runs as CRASHED, then cancels
    every run's scope: that kills the busy kernels (each task registered its
    own) and, through the flow run's scope, closes the pool. Closing the pool
    here, before that, would make the running tasks fail on a dead kernel
    and be recorded FAILED.
    """
    from partita.engine.interrupts import current_scope

    scope = current_scope.get()
    if scope is None:
        return False
    scope.add(pool.close)
    return True


def _signature(graph: NotebookGraph, overrides: dict[str, Any]) -> list[inspect.Parameter]:
    params = []
    for param in graph.parameters:
        default = overrides.pop(param.name, param.default)
        annotation: Any = inspect.Parameter.empty
        if param.annotation is not None and (default is None or isinstance(default, param.annotation)):
            annotation = Optional[param.annotation] if param.nullable else param.annotation
        params.append(inspect.Parameter(param.name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation))
    for name, default in overrides.items():
        params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default))
    return params


def cells_flow(
    path: str | Path,
    parameters: dict[str, Any] | None = None,
    *,
    kernel_name: str | None = None,
    cwd: str | Path | None = None,
    cell_timeout: float | None = None,
    kernels: int | None = None,
) -> Flow:
    """Compile a notebook with task cells into a flow (see the module docstring).

    Args:
        path: the notebook.
        parameters: defaults replacing the notebook's own.
        kernel_name: kernel for every task instead of the notebook's kernelspec.
        cwd: working directory of the kernels; default the notebook's folder.
        cell_timeout: seconds a cell may run; ``None`` for no limit.
        kernels: the most kernels a run keeps (tasks wait for a free one,
            kernels are reset and reused); default
            :func:`.pool.default_size` (``PARTITA_CELLS_KERNELS``, else the
            CPUs, at least 2).

    Returns:
        A :class:`partita.Flow` named after the notebook's file stem, whose
        result is the executed notebook's path or URL.

    Raises:
        partita.exceptions.InvalidTarget: missing or unreadable notebook.
        partita.exceptions.ValidationError: the notebook has no task cell, or
            problems that stop it from running (syntax errors, duplicate or
            invalid task names, unknown ``needs:``, cycles), each as
            ``path: cell N, line L: message``.
        partita_workbench.notebooks.KernelNotFound: the kernel is not installed.
        partita.exceptions.ConfigurationError: ``kernels`` is below 1.
    """
    from partita_workbench.notebooks.cells.analysis import read_notebook
    from partita_workbench.notebooks.kernels import choose_kernel
    from partita_workbench.pipelines.graph import topological_order

    if kernels is not None and kernels < 1:
        raise ConfigurationError(f"{path}: kernels={kernels}: a cells run needs at least 1 kernel; give a whole number of 1 or more")
    source_path = Path(path).expanduser().resolve()
    notebook = read_notebook(source_path)
    graph = analyse(notebook, str(path))
    if not graph.tasks:
        raise InvalidTarget(f"notebook '{path}' has no task cells; tag a cell 'task:NAME' or start it with '# task: NAME'")
    blocking = [p.render(str(path)) for p in graph.problems if p.code in BLOCKING_PROBLEMS]
    if blocking:
        raise ValidationError(blocking)
    kernel = choose_kernel(notebook, kernel_name)
    working_dir = str(Path(cwd).resolve()) if cwd is not None else str(source_path.parent)

    readers: dict[tuple[str, str], list[str]] = {}
    for task in graph.tasks:
        for var, upstream in task.inputs.items():
            readers.setdefault((upstream, var), []).append(task.name)
    last_definition = {(e.upstream, d.name): d.cell for e in graph.edges for d in e.variables}
    setup = tuple((i, dict(notebook.cells[i])) for i in sorted((*graph.setup_cells, *([graph.parameters_cell] if graph.parameters_cell is not None else []))))
    cell_ids = {c.index: c.id for c in graph.cells if c.id is not None}
    order = topological_order({t.name: set(graph.upstream_of(t.name)) for t in graph.tasks})
    tasks = {t.name: t for t in graph.tasks}
    definitions = {
        name: cells_task.with_options(
            name=name,
            description=f"Cells {', '.join(map(str, t.code_cells))} of {source_path.name}",
            state_details={"notebook": cell_mapping(graph, t, str(source_path))},
            cache_policy=cache_policy(notebook, graph, t, kernel.name),
        )
        for name, t in tasks.items()
    }

    def run(**values: Any) -> str:
        from partita_workbench.notebooks.cells.pool import KernelPool
        from partita_workbench.notebooks.parameters import check_parameters

        given = check_parameters(str(path), graph.parameters, {k: v for k, v in values.items() if v is not None},
                                 has_cell=graph.parameters_cell is not None)
        values = {**values, **given}

        pool = KernelPool(kernel.name, working_dir, expected=len(order), size=kernels)
        try:
            result = _run_tasks(values, pool)
        except BaseException as exc:
            if not isinstance(exc, Exception) and _close_on_abort(pool):
                raise  # KeyboardInterrupt, TerminationSignal: see _close_on_abort
            pool.close()
            raise
        pool.close()
        return result

    def _run_tasks(values: dict[str, Any], kernels: Any) -> str:
        from partita_workbench.notebooks.cells.assemble import executed_notebook, run_folder, write_notebook

        futures: dict[str, Any] = {}
        for name in order:
            task = tasks[name]
            job = CellsJob(
                notebook=str(source_path),
                task=name,
                cells=tuple((i, dict(notebook.cells[i])) for i in task.code_cells),
                setup=setup,
                parameters_cell=graph.parameters_cell,
                outputs=task.outputs,
                inputs=dict(task.inputs),
                readers={var: readers.get((name, var), []) for var in task.outputs},
                definitions={var: last_definition.get((name, var)) for var in task.outputs},
                kernel_name=kernel.name,
                cwd=working_dir,
                cell_timeout=cell_timeout,
                cell_ids=cell_ids,
                all_parameters=dict(values),
            )
            read = {p: values.get(p) for p in task.parameters}
            upstream = {u: futures[u] for u in graph.upstream_of(name)}
            futures[name] = definitions[name].submit(read, job, upstream, kernels)

        summaries, failures = [], {}
        for name in [t.name for t in graph.tasks]:
            state = futures[name].final_state()
            entry: dict[str, Any] = {"name": name, "state": state.name, "cells": list(tasks[name].cells), "executed": [], "setup": []}
            if state.is_completed():
                result = state.result()
                entry["executed"], entry["setup"] = result.cells, result.setup
            elif state.is_failed() or state.is_crashed():
                exc = state.result(raise_on_failure=False)
                failures[name] = exc
                if isinstance(exc, CellExecutionFailed):
                    setup_count = len(setup)
                    entry["setup"], entry["executed"] = exc.partial[:setup_count], exc.partial[setup_count:]
            summaries.append(entry)
        folder = run_folder()
        destination = f"{folder}/{source_path.stem}.ipynb" if folder else None
        if destination is not None:
            from partita import runtime

            write_notebook(executed_notebook(notebook, summaries, graph.parameters_cell, values, runtime.flow_run.id), destination)
        if failures:
            first_name, first = next(iter(failures.items()))
            raise CellsRunFailed(
                f"{len(failures)} of {len(tasks)} tasks failed — {first}; executed notebook: {destination}",
                failures,
                destination,
            )
        return destination or ""

    run.__name__ = run.__qualname__ = source_path.stem.replace("-", "_").replace(" ", "_")
    run.__doc__ = f"Run the tasks of notebook {source_path.name}, cell by cell."
    run.__signature__ = inspect.Signature(_signature(graph, dict(parameters or {})))  # type: ignore[attr-defined]
    flow = Flow(run, name=source_path.stem, description=run.__doc__, persist_result=True)
    flow.notebook_graph = graph  # type: ignore[attr-defined]
    return flow
