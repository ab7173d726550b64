"""Running one cells task: its cells, in a Jupyter kernel of the flow run's pool.

Why Jupyter kernels, and not an ``InteractiveShell`` in this process:
"Restart kernel and run all" runs cells in an ipykernel, and only an ipykernel
gives the same answers in every case — the same display machinery
(``display``, rich reprs, ``%matplotlib inline``), the same magics, the same
``__main__`` module, the kernel's own working directory and environment. An
``InteractiveShell`` inside Partita's process would share ``sys.stdout``,
``sys.displayhook``, ``builtins``, the current directory and ``__main__`` with
every other task running at the same time, so concurrent tasks would mix
their outputs and state; a kernel is a separate process, so independent tasks
run truly in parallel (no GIL shared) and each captures its own outputs,
message by message, as nbformat outputs.

A task run goes:

1. take a free kernel of the flow run's :class:`.pool.KernelPool` (the
   notebook's kernelspec, or the one chosen; started in the notebook's
   folder), or start one of its own when there is no pool; on a pool's kernel,
   note the kernel's starting state the first time (environment variables,
   ``sys.path``, loaded extensions, ``sys.stdout``/``sys.stderr``);
2. run the setup cells and the parameters cell, then inject the flow's
   parameter values (papermill's convention: values that are not ``None``);
3. load the upstream values it reads, from the cloudpickle bytes their tasks
   made; functions among them are re-bound to this kernel's namespace, so a
   function defined in one task sees the globals of the task calling it, as
   in a single kernel;
4. run the task's cells one by one (nbclient), capturing each cell's outputs;
5. pickle, inside the kernel, each variable later tasks read;
6. on a pool's kernel, reset it for the next task: what IPython's
   ``%reset -f`` does (``InteractiveShell.reset``: every user name goes, the
   output history too), here with a new history session so the execution
   count starts again at 1 as on a new kernel; open matplotlib
   figures closed, and the working directory, environment variables,
   ``sys.path``, ``sys.stdout`` and ``sys.stderr`` as noted in step 1. Extensions the task loaded are unloaded;
   one that cannot be unloaded makes the kernel unfit for reuse, and the
   pool shuts it down. Modules stay imported (``sys.modules``), as after a
   ``%reset`` in JupyterLab, so the next task's setup imports are quick.

The next task on the kernel starts again at step 2, so it sees only the
setup, the parameters and the values it reads through its edges, as on a new
kernel. A task that fails in any way leaves its kernel to be shut down.

Helper code (steps 1, 2, 3, 5, 6) runs as silent executions: it adds no cell, no
``In [n]`` and no variable to the namespace.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any

import nbformat

from partita_workbench.notebooks.cells.results import (
    CellExecutionFailed,
    CellsResult,
    ExecutedCell,
    UnpicklableVariable,
    strip_ansi,
)
from partita_workbench.notebooks.context import run_logger

__all__ = ["CellsJob", "run_cells"]

_MAX_LOGGED_OUTPUT = 4000
_CELL_LINE = re.compile(r"Cell In\[(\d+)\], line (\d+)")

_LOAD = r'''
def __partita_load(path, part):
    import pickle, types
    try:
        from cloudpickle import loads
    except ImportError:
        loads = pickle.loads
    ns = get_ipython().user_ns
    with open(path, "rb") as fh:
        payload = pickle.load(fh)
    if part == "parameters":
        ns.update(payload["parameters"])
        return
    for name, blob in payload["values"].items():
        value = loads(blob)
        if isinstance(value, types.FunctionType) and value.__module__ == "__main__":
            bound = types.FunctionType(value.__code__, ns, value.__name__, value.__defaults__, value.__closure__)
            bound.__kwdefaults__, bound.__qualname__ = value.__kwdefaults__, value.__qualname__
            bound.__annotations__, bound.__doc__ = value.__annotations__, value.__doc__
            bound.__dict__.update(value.__dict__)
            value = bound
        ns[name] = value
__partita_load({path!r}, {part!r})
del __partita_load
'''

_SAVE = r'''
def __partita_save(path, names):
    import os, pickle
    try:
        from cloudpickle import dumps
    except ImportError:
        dumps = pickle.dumps
    ns = get_ipython().user_ns
    values, problems = {{}}, {{}}
    for name in names:
        if name not in ns:
            problems[name] = "missing"
            continue
        try:
            values[name] = dumps(ns[name])
        except Exception as exc:
            problems[name] = f"{{type(exc).__name__}}: {{exc}}"
    with open(path + ".tmp", "wb") as fh:
        pickle.dump({{"values": values, "problems": problems}}, fh)
    os.replace(path + ".tmp", path)
__partita_save({path!r}, {names!r})
del __partita_save
'''


_BASELINE = r'''
def __partita_baseline():
    import os, sys
    ip = get_ipython()
    if not hasattr(ip, "_partita_baseline"):
        ip._partita_baseline = (dict(os.environ), list(sys.path), set(ip.extension_manager.loaded), sys.stdout, sys.stderr)
__partita_baseline()
del __partita_baseline
'''

_RESET = r'''
def __partita_reset(cwd):
    import os, sys
    ip = get_ipython()
    environ, path, extensions, stdout, stderr = ip._partita_baseline
    manager = ip.extension_manager
    for name in sorted(manager.loaded - extensions):
        problem = manager.unload_extension(name)
        if problem is not None and name in manager.loaded:
            raise RuntimeError(f"extension {{name}} cannot be unloaded ({{problem}})")
    ip.reset(new_session=True)
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(environ)
    sys.path[:] = path
    sys.stdout, sys.stderr = stdout, stderr
__partita_reset({cwd!r})
'''


@dataclass(frozen=True)
class CellsJob:
    """Everything one cells task run needs (plain data, made by the compiler).

    Attributes:
        notebook: absolute path of the source notebook.
        task: the task name.
        cells: ``(index, nbformat cell dict)`` of the task's code cells.
        setup: ``(index, cell dict)`` of the setup cells and the parameters cell, in order.
        parameters_cell: index of the parameters cell (parameter values are
            injected right after it), or ``None``.
        outputs: variables to persist (read by later tasks).
        inputs: variable → upstream task whose value the task reads.
        readers: variable → names of the later tasks that read it.
        definitions: variable → cell where this task last defines it.
        all_parameters: every flow parameter value, injected before the task's cells.
        kernel_name: the kernel to start.
        cwd: the kernel's working directory.
        cell_timeout: seconds a cell may run (``None``: no limit).
        storage: result storage root (fsspec URL or path).
        cell_ids: cell index → cell id (notebooks of nbformat 4.5 and later).
    """

    notebook: str
    task: str
    cells: tuple[tuple[int, dict[str, Any]], ...]
    setup: tuple[tuple[int, dict[str, Any]], ...]
    parameters_cell: int | None
    outputs: tuple[str, ...]
    inputs: dict[str, str]
    readers: dict[str, list[str]]
    definitions: dict[str, int]
    kernel_name: str
    cwd: str
    cell_timeout: float | None = None
    storage: str | None = None
    cell_ids: dict[int, str] = field(default_factory=dict)
    all_parameters: dict[str, Any] = field(default_factory=dict)


def run_cells(job: CellsJob, upstream: dict[str, CellsResult], kernels: Any = None) -> CellsResult:
    """Run a cells task (see the module docstring); blocks until done.

    Args:
        job: the task.
        upstream: results of the tasks it depends on, by task name.
        kernels: the flow run's :class:`.pool.KernelPool` to take a kernel
            from (waits while all are busy; the kernel is reset and given
            back after a normal end); ``None`` starts a kernel here and
            shuts it down afterwards.

    Returns:
        The task's :class:`CellsResult`.

    Raises:
        CellExecutionFailed: a cell raised, timed out or its kernel died
            (its partial executed notebook is written first).
        UnpicklableVariable: a variable another task reads cannot be pickled.
    """
    if kernels is None:
        result, _ = asyncio.run(_run(job, upstream, None))
        return result
    return kernels.run(lambda km: _run(job, upstream, km))


async def _run(job: CellsJob, upstream: dict[str, CellsResult], km: Any) -> tuple[CellsResult, bool]:
    """The task run on ``km`` (a pool's kernel) or on a kernel of its own (``km=None``).

    Returns:
        ``(result, reusable)``: ``reusable`` when ``km`` was given and has
        been reset for the next task.
    """
    from nbclient import NotebookClient

    from partita_workbench.notebooks.kernels import IOPUB_TIMEOUT

    logger = run_logger()
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.from_dict(dict(cell)) for _, cell in (*job.setup, *job.cells)]
    for cell in notebook.cells:
        cell.outputs, cell.execution_count = [], None
    client = NotebookClient(
        notebook,
        km=km,
        kernel_name=job.kernel_name,
        timeout=job.cell_timeout,
        iopub_timeout=IOPUB_TIMEOUT,
        allow_errors=False,
        force_raise_errors=True,
        record_timing=False,
        shutdown_kernel="immediate",
        resources={"metadata": {"path": job.cwd}},
    )
    scratch = tempfile.mkdtemp(prefix="partita-cells-")
    executed: list[ExecutedCell] = []
    reusable = False
    try:
        # a pool's kernel stays up: the pool reuses it or shuts it down
        async with client.async_setup_kernel(cleanup_kc=km is None):
            if km is not None:
                await _silent(client, job, _BASELINE, "noting the kernel's starting state")
            setup_cells = notebook.cells[: len(job.setup)]
            task_cells = notebook.cells[len(job.setup):]
            values = {name: upstream[task].values[name] for name, task in job.inputs.items() if task in upstream}
            inputs_path = os.path.join(scratch, "inputs.pickle")
            with open(inputs_path, "wb") as fh:
                pickle.dump({"parameters": {k: v for k, v in job.all_parameters.items() if v is not None}, "values": values}, fh)
            injected = False
            for position, ((index, _), cell) in enumerate(zip(job.setup, setup_cells)):
                await _execute(client, job, cell, position, index, executed, logger)
                if index == job.parameters_cell:  # papermill's place for the values: right after the cell
                    await _silent(client, job, _LOAD.format(path=inputs_path, part="parameters"), "injecting the parameters")
                    injected = True
            if not injected:
                await _silent(client, job, _LOAD.format(path=inputs_path, part="parameters"), "injecting the parameters")
            await _silent(client, job, _LOAD.format(path=inputs_path, part="values"), "loading its inputs")
            setup_done = list(executed)
            executed.clear()
            for position, ((index, _), cell) in enumerate(zip(job.cells, task_cells), start=len(job.setup)):
                await _execute(client, job, cell, position, index, executed, logger, setup_done)
            saved = await _save(client, job, scratch)
            if km is not None:
                reusable = await _reset(client, job, logger)
    finally:
        if km is not None and client.kc is not None:
            client.kc.stop_channels()
        shutil.rmtree(scratch, ignore_errors=True)
    return CellsResult(task=job.task, values=saved, cells=executed, setup=setup_done, kernel=job.kernel_name), reusable


async def _reset(client: Any, job: CellsJob, logger: Any) -> bool:
    """Reset the kernel for the next task (step 6 of the module docstring); whether it may be reused."""
    try:
        await _silent(client, job, _RESET.format(cwd=job.cwd), "resetting the kernel")
    except Exception as exc:  # the task's results are safe; only the kernel is lost
        logger.debug("kernel not reused after task %r: %s", job.task, getattr(exc, "evalue", exc))
        return False
    return True


async def _execute(client: Any, job: CellsJob, cell: Any, position: int, index: int, executed: list[ExecutedCell],
                   logger: Any, setup_done: list[ExecutedCell] | None = None) -> None:
    """Run the cell at ``position`` of the kernel's notebook (``index`` in the source notebook)."""
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    _report_progress(job, index, position)
    try:
        await client.async_execute_cell(cell, position)
    except CellExecutionError:
        executed.append(ExecutedCell(index, list(cell.outputs), cell.execution_count))
        error = next((o for o in cell.outputs if o.get("output_type") == "error"), {})
        raise _failure(job, cell, index, error.get("ename", "Error"), error.get("evalue", ""),
                       [strip_ansi(line) for line in error.get("traceback", [])], executed, setup_done) from None
    except (CellTimeoutError, DeadKernelError, TimeoutError, RuntimeError) as exc:
        executed.append(ExecutedCell(index, list(cell.outputs), cell.execution_count))
        ename = "DeadKernelError" if isinstance(exc, DeadKernelError) else ("CellTimeoutError" if isinstance(exc, (CellTimeoutError, TimeoutError)) else type(exc).__name__)
        raise _failure(job, cell, index, ename, strip_ansi(str(exc)).strip().splitlines()[0] if str(exc).strip() else "",
                       [], executed, setup_done) from None
    executed.append(ExecutedCell(index, list(cell.outputs), cell.execution_count))
    _log_streams(cell, index, logger)


def _failure(job: CellsJob, cell: Any, index: int, ename: str, evalue: str, traceback: list[str],
             executed: list[ExecutedCell], setup_done: list[ExecutedCell] | None) -> CellExecutionFailed:
    line = None
    count = cell.get("execution_count")
    for text in traceback:
        match = _CELL_LINE.search(text)
        if match and (count is None or int(match.group(1)) == count):
            line = int(match.group(2))
            break
    if line is None and ename == "SyntaxError":
        match = re.search(r"line (\d+)", " ".join(traceback))
        line = int(match.group(1)) if match else None
    output = _write_partial(job, [*(setup_done or []), *executed])
    return CellExecutionFailed(
        task=job.task,
        notebook=job.notebook,
        cell_index=index,
        cell_id=job.cell_ids.get(index),
        line=line,
        ename=ename,
        evalue=evalue,
        traceback=traceback,
        source_excerpt=_excerpt(cell.get("source", ""), line),
        output_notebook=output,
        partial=[*(setup_done or []), *executed],
        execution_count=count,
    )


def _excerpt(source: str, line: int | None, context: int = 2) -> str:
    lines = source.splitlines()
    if not lines:
        return ""
    if line is None or not 1 <= line <= len(lines):
        chosen = range(1, min(len(lines), 2 * context + 1) + 1)
    else:
        chosen = range(max(1, line - context), min(len(lines), line + context) + 1)
    width = len(str(chosen[-1]))
    return "\n".join(f"{'-->' if n == line else '   '} {n:>{width}} {lines[n - 1]}" for n in chosen)


def _write_partial(job: CellsJob, executed: list[ExecutedCell]) -> str | None:
    """Write the task's partial executed notebook as ``<storage>/runs/<flow run id>/<task>.partial.ipynb``."""
    from partita_workbench.notebooks.cells.assemble import partial_notebook, run_folder, write_notebook

    folder = run_folder(job.storage)
    if folder is None:
        return None
    try:
        source = nbformat.read(job.notebook, as_version=4)
        destination = f"{folder}/{re.sub(r'[^A-Za-z0-9_.-]+', '_', job.task)}.partial.ipynb"
        write_notebook(partial_notebook(source, executed), destination)
        return destination
    except Exception:  # the failure itself must still be reported
        return None


async def _silent(client: Any, job: CellsJob, code: str, what: str) -> None:
    """Run helper code in the kernel without a cell or history entry."""
    msg_id = client.kc.execute(code, silent=True, store_history=False)
    reply = await client.async_wait_for_reply(msg_id)
    content = (reply or {}).get("content", {})
    if content.get("status") != "ok":
        ename, evalue = content.get("ename", "Error"), content.get("evalue", "")
        raise CellExecutionFailed(
            task=job.task, notebook=job.notebook, cell_index=job.cells[0][0] if job.cells else 0,
            cell_id=job.cell_ids.get(job.cells[0][0]) if job.cells else None, line=None, ename=ename,
            evalue=f"while {what}: {evalue} (is cloudpickle installed in the kernel's environment, with the libraries the values need?)",
            traceback=[strip_ansi(t) for t in content.get("traceback", [])], source_excerpt="", output_notebook=None,
        )


async def _save(client: Any, job: CellsJob, scratch: str) -> dict[str, bytes]:
    if not job.outputs:
        return {}
    path = os.path.join(scratch, "outputs.pickle")
    await _silent(client, job, _SAVE.format(path=path, names=list(job.outputs)), "pickling its results")
    with open(path, "rb") as fh:
        report = pickle.load(fh)
    for name, problem in sorted(report["problems"].items()):
        readers = job.readers.get(name, [])
        if problem == "missing":
            problem = f"NameError: the task did not define it (it was deleted, or defined only on a branch not taken)"
        raise UnpicklableVariable(job.task, name, job.definitions.get(name), readers, problem)
    return report["values"]


def _log_streams(cell: Any, index: int, logger: Any) -> None:
    text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
    if text.strip():
        if len(text) > _MAX_LOGGED_OUTPUT:
            text = text[:_MAX_LOGGED_OUTPUT] + " ...(truncated)"
        logger.info("output of cell %s:\n%s", index, text.rstrip())


def _report_progress(job: CellsJob, index: int, position: int) -> None:
    """Tell live views which cell runs (``("notebook_cell", task_run, NotebookProgress)`` events)."""
    from partita.engine import events

    if not events.listeners:
        return
    from partita_workbench.notebooks.context import current_task_run
    from partita_workbench.notebooks.execute import NotebookProgress

    record = current_task_run()
    if record is not None:
        events.emit("notebook_cell", record, NotebookProgress(job.notebook, index, position, len(job.setup) + len(job.cells)))
