"""Running a whole notebook as one task, with papermill.

papermill executes the notebook on a real Jupyter kernel, injecting parameters
in a new cell after the ``parameters``-tagged cell, or at the top of a
notebook without one (papermill's convention; Partita warns then). Before any
kernel starts, the parameters are checked against the parameters cell
(:func:`~.parameters.check_parameters`) and the kernel is checked to be
installed (:func:`~.kernels.choose_kernel`).

The source notebook is only read, never written. The executed notebook
(outputs included, also when a cell fails, times out or the kernel dies) goes
to the given output path, else under the result storage::

    <storage>/runs/<flow run id>/<task run name>.ipynb                (in a task run)
    <storage>/notebooks/adhoc/<notebook stem>-<hash of its path>.ipynb  (outside a run)

and its path or URL is what :func:`run_notebook` returns, so a task's
recorded result says where to look. Input and output may be any fsspec URL
(``memory://``, ``file://``, ``s3://`` with its fsspec package...).
"""

from __future__ import annotations

import contextvars
import hashlib
import os
import re
import tempfile
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Collection

import fsspec
import nbformat
import papermill
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from papermill.exceptions import PapermillExecutionError

from partita.exceptions import InvalidTarget

from partita_workbench.notebooks import client as _client  # registers the "partita" papermill engine
from partita_workbench.notebooks.context import current_run, current_task_run, run_logger
from partita_workbench.notebooks.errors import (
    CellLocation,
    NotebookCellError,
    NotebookCellTimeout,
    NotebookExecutionError,
    NotebookKernelDied,
)
from partita_workbench.notebooks.kernels import choose_kernel
from partita_workbench.notebooks.parameters import (
    check_parameters,
    find_parameters_cell,
    parse_parameters,
)

__all__ = ["NotebookCellError", "NotebookExecutionError", "run_notebook", "default_output_path", "NotebookProgress"]

_INJECTED_TAG = "injected-parameters"  # papermill's tag of the cell it adds
_ERROR_MARKER_TAG = "papermill-error-cell-tag"  # papermill's tag of its error banners
_MAX_LOGGED_OUTPUT = 4000  # characters of a cell's printed output sent to the log


def default_output_path(notebook: str | Path, storage: str | None = None) -> str:
    """Where the executed copy of ``notebook`` is written (see the module docstring).

    Args:
        notebook: the source notebook (path or URL).
        storage: result storage root (fsspec URL or local path); defaults to
            ``partita.settings.get_settings().resolved_result_storage()``.
    """
    if storage is None:
        from partita.settings import get_settings

        storage = get_settings().resolved_result_storage()
    run = current_run()
    if run is not None:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", run.task_run_name)
        parts = ["runs", run.flow_run_id, f"{name}.ipynb"]
    else:
        text = str(notebook)
        where = str(Path(text).resolve()) if _is_local(text) else text
        digest = hashlib.sha1(where.encode()).hexdigest()[:10]
        parts = ["notebooks", "adhoc", f"{_stem(text)}-{digest}.ipynb"]
    return "/".join([storage.rstrip("/"), *parts])


def _stem(url: str) -> str:
    name = url.rstrip("/").rsplit("/", 1)[-1]
    return name[: -len(".ipynb")] if name.endswith(".ipynb") else name


def _is_local(url: str) -> bool:
    return fsspec.utils.get_protocol(url) == "file"


def _local_path(url: str) -> Path:
    return Path(fsspec.core.url_to_fs(url)[1])


def _same_file(a: str, b: str) -> bool:
    if _is_local(a) and _is_local(b):
        return _local_path(a).resolve() == _local_path(b).resolve()
    return a == b


def _read_source(url: str) -> Any:
    """The notebook at ``url`` (path or fsspec URL), read only.

    Raises:
        InvalidTarget: missing or not a notebook.
    """
    try:
        fs, inner = fsspec.core.url_to_fs(url)
        exists = fs.isfile(inner)
    except (ImportError, ValueError) as exc:  # unknown protocol, missing fsspec extra
        raise InvalidTarget(f"notebook '{url}' cannot be opened: {exc}") from exc
    if not exists:
        raise InvalidTarget(f"notebook '{url}' not found")
    try:
        with fs.open(inner, "r", encoding="utf-8") as file:
            return nbformat.read(file, as_version=4)
    except Exception as exc:  # nbformat raises several kinds for unreadable files
        raise InvalidTarget(f"'{url}' is not a readable notebook: {type(exc).__name__}: {exc}") from exc


def _source_index(source: Any, executed_index: int, injected: bool) -> int | None:
    """Map papermill's cell index back to the source notebook.

    Follows papermill's documented steps: with parameters, a cell tagged
    ``injected-parameters`` replaces an existing one, or is added after the
    ``parameters`` cell, or at the top; then error-banner cells of earlier
    runs are removed. ``None`` means the injected cell itself.
    """
    origin: list[int | None] = list(range(len(source.cells)))
    tags = [cell.get("metadata", {}).get("tags", []) for cell in source.cells]
    if injected:
        replaced = next((i for i, t in enumerate(tags) if _INJECTED_TAG in t), None)
        if replaced is not None:
            origin[replaced] = None
        else:
            param = find_parameters_cell(source)
            origin.insert(0 if param is None else param + 1, None)
    kept = [i for i in origin if i is None or _ERROR_MARKER_TAG not in tags[i]]
    return kept[executed_index] if 0 <= executed_index < len(kept) else executed_index


def _location(source: Any, executed: Any, executed_index: int, injected: bool, source_text: str | None = None) -> CellLocation:
    index = _source_index(source, executed_index, injected)
    cell = source.cells[index] if index is not None and 0 <= index < len(source.cells) else None
    ran = executed.cells[executed_index] if executed is not None and 0 <= executed_index < len(executed.cells) else None
    text = source_text if source_text is not None else (cell or ran or {}).get("source", "")
    return CellLocation(
        cell_index=index,
        executed_cell_index=executed_index,
        cell_id=(cell or ran or {}).get("id"),
        execution_count=ran.get("execution_count") if ran is not None else None,
        source=text,
    )


_thread_contexts = threading.local()


def _isolated(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """Call ``fn`` in this thread's own, initially empty, ``contextvars.Context``.

    jupyter_core (under nbclient) keeps its event loop in a ContextVar. Task
    runners copy the flow's context into every task thread (as Prefect's do),
    so once a notebook ran in the flow's thread, notebooks running at the same
    time in several task threads would all get that one loop and fail with
    "This event loop is already running". One context per thread keeps one
    loop per thread, which is what jupyter_core expects.
    """
    context = getattr(_thread_contexts, "context", None)
    if context is None:
        context = _thread_contexts.context = contextvars.Context()
    return context.run(fn, *args, **kwargs)


class NotebookProgress:
    """Progress of a notebook task run, sent to live views as ``("notebook_cell", task_run, progress)``.

    Attributes:
        notebook: the notebook path or URL.
        cell_index: source-notebook index of the running (or last) code cell;
            ``None`` for the injected-parameters cell.
        done: code cells finished.
        total: code cells to run (the injected one included).
    """

    __slots__ = ("notebook", "cell_index", "done", "total")

    def __init__(self, notebook: str, cell_index: int | None, done: int, total: int) -> None:
        self.notebook, self.cell_index, self.done, self.total = notebook, cell_index, done, total

    def describe(self) -> str:
        """``"cell 4 · 3/10 done"``."""
        where = "injected parameters" if self.cell_index is None else f"cell {self.cell_index}"
        return f"{where} · {self.done}/{self.total} done"


def _progress_reporter(notebook: str, source: Any, injected: bool) -> Any:
    """A ``CellWatch`` callback sending :class:`NotebookProgress` events, or ``None`` without a task run."""
    from partita.engine import events

    record = current_task_run()
    if record is None:
        return None

    def report(watch: _client.CellWatch) -> None:
        if events.listeners and watch.running is not None:
            index = _source_index(source, watch.running, injected)
            events.emit("notebook_cell", record, NotebookProgress(notebook, index, watch.done, watch.total))

    return report


def run_notebook(
    path: str | Path,
    parameters: dict[str, Any] | None = None,
    *,
    kernel_name: str | None = None,
    fallback_kernel: str | None = None,
    cwd: str | Path | None = None,
    output_path: str | None = None,
    timeout: float | None = None,
    start_timeout: float = 60,
    output_limit: int | None = None,
    untyped: Collection[str] = (),
) -> str:
    """Execute a notebook with papermill and keep the executed copy.

    Args:
        path: the notebook: a local path or an fsspec URL (read only).
        parameters: values injected after the ``parameters`` cell
            (papermill's convention), checked first with
            :func:`~.parameters.check_parameters`.
        kernel_name: kernel to use instead of the notebook's kernelspec; see
            :func:`partita_workbench.notebooks.kernels.choose_kernel`.
        fallback_kernel: kernel to use when the chosen one is not installed
            (default ``PARTITA_NOTEBOOK_FALLBACK_KERNEL``; unset: fail).
        cwd: working directory of the kernel; default the notebook's folder
            (the current directory for a notebook that is not a local file).
        output_path: where to write the executed notebook (fsspec URL or
            path); default :func:`default_output_path`. It must not be the
            source notebook.
        timeout: seconds one cell may run (default: no limit); a cell that
            runs longer fails the run and the kernel is shut down.
        start_timeout: seconds the kernel may take to start.
        output_limit: characters of stream output stored per cell (default
            ``PARTITA_NOTEBOOK_OUTPUT_LIMIT``); the rest is dropped and marked.
        untyped: parameter names whose values are not type-checked (see
            :func:`~.parameters.check_parameters`).

    Returns:
        The executed notebook's path or URL.

    Raises:
        partita.exceptions.InvalidTarget: the notebook is missing or not a
            notebook, or the output path is the notebook itself.
        partita.exceptions.ParameterTypeError: an undeclared parameter or a
            value of the wrong type (raised before any kernel starts).
        KernelNotFound: the kernel is not installed (raised before starting).
        NotebookCellError: a cell raised; the executed notebook is written first.
        NotebookCellTimeout: a cell ran longer than ``timeout``.
        NotebookKernelDied: the kernel died while a cell ran.
        NotebookExecutionError: the kernel failed to start, or similar.
    """
    url = str(path)
    source = _read_source(url)
    param_cell = find_parameters_cell(source)
    declared = [] if param_cell is None else parse_parameters(source.cells[param_cell].source)
    values = check_parameters(url, declared, dict(parameters or {}), has_cell=param_cell is not None, untyped=untyped)
    kernel = choose_kernel(source, kernel_name, fallback_kernel)
    destination = output_path or default_output_path(url)
    if _same_file(destination, url):
        raise InvalidTarget(f"notebook '{url}': the output path is the notebook itself; give another output path")
    logger = run_logger()
    if kernel.replaces:
        logger.warning("kernel %r of notebook %s is not installed; running it on the fallback kernel %r",
                       kernel.replaces, url, kernel.name)
    if values and param_cell is None:
        logger.warning("notebook %s has no cell tagged 'parameters'; the parameters are injected in a new cell "
                       "at the top (papermill's behaviour); tag the cell holding the defaults 'parameters'", url)
    if output_limit is None:
        from partita.settings import get_settings

        output_limit = get_settings().notebook_output_limit

    local_source = _is_local(url)
    working_dir = Path(cwd) if cwd is not None else (_local_path(url).resolve().parent if local_source else Path(os.getcwd()))
    injected = bool(values)
    watch = _client.CellWatch(_progress_reporter(url, source, injected))
    remote_output = not _is_local(destination)
    with ExitStack() as stack:
        staging = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="partita-nb-"))) if (remote_output or not local_source) else None
        if local_source:
            input_file = str(_local_path(url))
        else:  # papermill reads local files; stage a copy of the source
            input_file = str(staging / f"source-{_stem(url)}.ipynb")  # type: ignore[operator]
            nbformat.write(source, input_file)
        local = staging / f"{_stem(url)}.ipynb" if remote_output else _local_path(destination)  # type: ignore[operator]
        local.parent.mkdir(parents=True, exist_ok=True)
        logger.info("running notebook %s on kernel %s; executed notebook: %s", url, kernel.name, destination)
        try:
            executed = _isolated(
                papermill.execute_notebook,
                input_file,
                str(local),
                parameters=values,
                engine_name=_client.ENGINE_NAME,
                kernel_name=kernel.name,
                language=kernel.language,
                progress_bar=False,
                start_timeout=start_timeout,
                execution_timeout=timeout,
                watch=watch,
                output_limit=output_limit,
                kernelspec=kernel.kernelspec(),
                # The kernel's working directory, as nbclient's documented
                # resources["metadata"]["path"]; papermill's own cwd= would
                # os.chdir() the whole process, which concurrent task runs share.
                resources={"metadata": {"path": str(working_dir)}},
            )
        except PapermillExecutionError as exc:
            cell = _location(source, None, exc.cell_index, injected, exc.source)
            cell.execution_count = exc.exec_count
            raise NotebookCellError(url, cell, exc.ename, exc.evalue, destination, exc.traceback) from None
        except CellTimeoutError:
            raise NotebookCellTimeout(url, _running(source, watch, injected), float(timeout or 0), destination) from None
        except DeadKernelError:
            cell = _running(source, watch, injected) if watch.running is not None else None
            raise NotebookKernelDied(url, cell, destination) from None
        except Exception as exc:
            raise NotebookExecutionError(
                f"notebook '{url}' could not be executed: {type(exc).__name__}: {exc} "
                f"(executed notebook: {destination})"
            ) from exc
        finally:
            if remote_output and local.exists():
                with fsspec.open(destination, "wb") as target:
                    target.write(local.read_bytes())
    _log_outputs(executed, logger)
    return destination


def _running(source: Any, watch: _client.CellWatch, injected: bool) -> CellLocation:
    return _location(source, watch.notebook, watch.running if watch.running is not None else 0, injected)


def _log_outputs(notebook: Any, logger: Any) -> None:
    """Send each cell's printed output (stdout/stderr streams) to the log."""
    for cell in notebook.cells:
        text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
        if text.strip():
            if len(text) > _MAX_LOGGED_OUTPUT:
                text = text[:_MAX_LOGGED_OUTPUT] + " ...(truncated)"
            logger.info("output of In [%s]:\n%s", cell.get("execution_count"), text.rstrip())
