"""Running a whole notebook as one task, with papermill.

papermill executes the notebook on a real Jupyter kernel, injecting parameters
in a new cell after the ``parameters``-tagged cell (papermill's convention).
The executed notebook (outputs included, also when a cell fails) is kept
under the result storage::

    <storage>/notebooks/<flow run id>/<task run name>-<task run id>.ipynb   (in a task run)
    <storage>/notebooks/adhoc/<notebook stem>-<hash of its path>.ipynb      (outside a run)

and its path or URL is what :func:`run_notebook` returns, so a task's
recorded result says where to look.
"""

from __future__ import annotations

import contextvars
import hashlib
import re
import tempfile
import threading
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import fsspec
import nbformat
import papermill
from papermill.exceptions import PapermillExecutionError

from partita.exceptions import InvalidTarget, RunError

from partita_workbench.notebooks.context import current_run, run_logger
from partita_workbench.notebooks.kernels import choose_kernel
from partita_workbench.notebooks.parameters import PARAMETERS_TAG

__all__ = ["NotebookCellError", "NotebookExecutionError", "run_notebook", "default_output_path"]

_INJECTED_TAG = "injected-parameters"  # papermill's tag of the cell it adds
_ERROR_MARKER_TAG = "papermill-error-cell-tag"  # papermill's tag of its error banners
_MAX_LOGGED_OUTPUT = 4000  # characters of a cell's printed output sent to the log


class NotebookCellError(RunError):
    """A cell of a notebook raised an exception.

    Attributes:
        notebook: the notebook path as given.
        cell_index: 0-based index of the failing cell in the *source*
            notebook, counting every cell (markdown too); ``None`` when the
            cell papermill injected with the parameters failed.
        executed_cell_index: papermill's ``PapermillExecutionError.cell_index``
            (0-based, in the executed notebook before papermill adds its error
            banners, counting the injected-parameters cell).
        execution_count: the failing cell's ``In [n]`` in the executed notebook.
        ename, evalue: the exception's type name and message, from the kernel.
        output_path: where the executed notebook was written.
    """

    def __init__(
        self,
        notebook: str,
        cell_index: int | None,
        executed_cell_index: int,
        execution_count: int | None,
        ename: str,
        evalue: str,
        output_path: str,
    ) -> None:
        self.notebook = notebook
        self.cell_index = cell_index
        self.executed_cell_index = executed_cell_index
        self.execution_count = execution_count
        self.ename = ename
        self.evalue = evalue
        self.output_path = output_path
        where = (
            "in the injected-parameters cell"
            if cell_index is None
            else f"at cell {cell_index} (0-based, counting all cells of the notebook)"
        )
        error = f"{ename}: {evalue}" if evalue else ename
        super().__init__(f"notebook '{notebook}' failed {where}: {error} (executed notebook: {output_path})")


class NotebookExecutionError(RunError):
    """The notebook could not be executed (kernel died, did not start, timed out...)."""


def default_output_path(notebook: Path, storage: str | None = None) -> str:
    """Where the executed copy of ``notebook`` is written (see the module docstring).

    Args:
        notebook: the source notebook.
        storage: result storage root (fsspec URL or local path); defaults to
            ``partita.settings.get_settings().resolved_result_storage()``.
    """
    if storage is None:
        from partita.settings import get_settings

        storage = get_settings().resolved_result_storage()
    run = current_run()
    if run is not None:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", run.task_run_name)
        parts = ["notebooks", run.flow_run_id, f"{name}-{run.task_run_id}.ipynb"]
    else:
        digest = hashlib.sha1(str(notebook.resolve()).encode()).hexdigest()[:10]
        parts = ["notebooks", "adhoc", f"{notebook.stem}-{digest}.ipynb"]
    return "/".join([storage.rstrip("/"), *parts])


def _is_local(url: str) -> bool:
    return fsspec.utils.get_protocol(url) == "file"


def _local_path(url: str) -> Path:
    return Path(fsspec.core.url_to_fs(url)[1])


def _source_index(source: Any, executed_index: int, injected: bool) -> int | None:
    """Map papermill's cell index back to the source notebook.

    Follows papermill's documented steps: with parameters, a cell tagged
    ``injected-parameters`` replaces an existing one, or is added after the
    ``parameters`` cell, or at the top; then error-banner cells of earlier
    runs are removed. ``None`` means the injected cell itself.
    """
    origin: list[int | None] = list(range(len(source.cells)))
    tags = [cell.get("metadata", {}).get("tags", []) for cell in source.cells]
    if injected and not any(_INJECTED_TAG in t for t in tags):
        param = next((i for i, c in enumerate(source.cells) if PARAMETERS_TAG in tags[i]), None)
        origin.insert(0 if param is None else param + 1, None)
    kept = [i for i in origin if i is None or _ERROR_MARKER_TAG not in tags[i]]
    return kept[executed_index] if 0 <= executed_index < len(kept) else executed_index


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


def run_notebook(
    path: str | Path,
    parameters: dict[str, Any] | None = None,
    *,
    kernel_name: str | None = None,
    cwd: str | Path | None = None,
    output_path: str | None = None,
) -> str:
    """Execute a notebook with papermill and keep the executed copy.

    Args:
        path: the notebook (local ``.ipynb``).
        parameters: values injected after the ``parameters`` cell
            (papermill's convention; names the cell does not declare are
            injected too, with a warning from papermill).
        kernel_name: kernel to use instead of the notebook's kernelspec; see
            :func:`partita_workbench.notebooks.kernels.choose_kernel`.
        cwd: working directory of the kernel; default the notebook's folder.
        output_path: where to write the executed notebook (fsspec URL or
            path); default :func:`default_output_path`.

    Returns:
        The executed notebook's path or URL.

    Raises:
        partita.exceptions.InvalidTarget: the notebook is missing or not a notebook.
        KernelNotFound: the kernel is not installed (raised before starting).
        NotebookCellError: a cell raised; the executed notebook is written first.
        NotebookExecutionError: the kernel died, failed to start, or similar.
    """
    source_path = Path(path)
    if not source_path.is_file():
        raise InvalidTarget(f"notebook '{path}' not found")
    try:
        source = nbformat.read(str(source_path), as_version=4)
    except Exception as exc:  # nbformat raises several kinds for unreadable files
        raise InvalidTarget(f"'{path}' is not a readable notebook: {type(exc).__name__}: {exc}") from exc
    kernel = choose_kernel(source, kernel_name)
    destination = output_path or default_output_path(source_path)
    logger = run_logger()

    working_dir = Path(cwd) if cwd is not None else source_path.resolve().parent
    remote = not _is_local(destination)
    with tempfile.TemporaryDirectory(prefix="partita-nb-") if remote else nullcontext(None) as staging:
        # papermill writes local files; a remote destination is uploaded with fsspec afterwards
        local = Path(staging) / source_path.name if staging else _local_path(destination)
        local.parent.mkdir(parents=True, exist_ok=True)
        logger.info("running notebook %s on kernel %s; executed notebook: %s", path, kernel.name, destination)
        try:
            executed = _isolated(
                papermill.execute_notebook,
                str(source_path),
                str(local),
                parameters=dict(parameters or {}),
                kernel_name=kernel.name,
                language=kernel.language,
                progress_bar=False,
                # The kernel's working directory, as nbclient's documented
                # resources["metadata"]["path"]; papermill's own cwd= would
                # os.chdir() the whole process, which concurrent task runs share.
                resources={"metadata": {"path": str(working_dir)}},
            )
        except PapermillExecutionError as exc:
            raise NotebookCellError(
                notebook=str(path),
                cell_index=_source_index(source, exc.cell_index, bool(parameters)),
                executed_cell_index=exc.cell_index,
                execution_count=exc.exec_count,
                ename=exc.ename,
                evalue=exc.evalue,
                output_path=destination,
            ) from None
        except Exception as exc:
            raise NotebookExecutionError(
                f"notebook '{path}' could not be executed: {type(exc).__name__}: {exc} "
                f"(executed notebook: {destination})"
            ) from exc
        finally:
            if remote and local.exists():
                with fsspec.open(destination, "wb") as target:
                    target.write(local.read_bytes())
    _log_outputs(executed, logger)
    return destination


def _log_outputs(notebook: Any, logger: Any) -> None:
    """Send each cell's printed output (stdout/stderr streams) to the log."""
    for cell in notebook.cells:
        text = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")
        if text.strip():
            if len(text) > _MAX_LOGGED_OUTPUT:
                text = text[:_MAX_LOGGED_OUTPUT] + " ...(truncated)"
            logger.info("output of In [%s]:\n%s", cell.get("execution_count"), text.rstrip())
