"""Running one Ploomber task: inject ``product``/``upstream``/``params``, execute, check its products.

As Ploomber's task classes do:

* ``NotebookRunner`` — the source (a script is converted to a notebook with
  jupytext) runs with papermill, which injects the values in a cell right
  after the ``parameters`` cell; the executed notebook is written as ``.ipynb``
  next to the ``nb`` product and, when ``nb`` has another extension
  (``.html``, ``.pdf``...), exported with nbconvert to it (the ``.ipynb`` then
  removed). ``nbconvert_exporter_name`` picks the exporter when the extension
  does not; ``nbconvert_export_kwargs`` go to the exporter (``exclude_input``,
  ``config``...).
* ``ScriptRunner`` — the code cells, with the injected cell, run as a Python
  script in a subprocess; no notebook is written.
* ``PythonCallable`` — the function is called in the task run's thread
  (:func:`.functions.call_function`).

Every product is checked afterwards: a task that did not write one fails,
naming it. The working directory is the pipeline's folder (where ``ploomber
build`` runs), or the source's folder with ``local_execution: true``.
"""

from __future__ import annotations

import copy
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat

from partita.exceptions import RunError

from partita_workbench.notebooks.execute import NotebookCellError, run_notebook
from partita_workbench.pipelines.ploomber.functions import call_function
from partita_workbench.pipelines.ploomber.spec import PloomberTask

__all__ = ["run_task", "EXPORTERS", "MissingProduct", "TaskCellError"]

EXPORTERS = {".html": "html", ".pdf": "pdf", ".md": "markdown", ".tex": "latex", ".rst": "rst", ".py": "python"}
"""nbconvert exporter for the extension of an ``nb`` product (Ploomber infers it the same way)."""

_MAX_LOGGED = 4000


class MissingProduct(RunError):
    """A task finished without writing one of its products."""


class TaskCellError(RunError):
    """A cell of a Ploomber task's source raised.

    Attributes:
        task: the task name.
        source: the source file.
        cell_index: 0-based index of the failing cell in the source (``None``:
            the injected-parameters cell).
        line: 1-based line of that cell in a script (``None`` for notebooks).
        ename, evalue: the exception's type and message.
        executed: path of the partially executed notebook.
    """

    def __init__(self, task: str, source: Path, error: NotebookCellError, cell_index: int | None, line: int | None) -> None:
        self.task = task
        self.source = source
        self.cell_index = cell_index
        self.line = line
        self.ename, self.evalue = error.ename, error.evalue
        self.executed = error.output_path
        if cell_index is None:
            where = "in the injected-parameters cell"
        elif line is not None:
            where = f"in cell {cell_index}, which starts at {source.name}:{line}"
        else:
            where = f"at cell {cell_index} of {source.name} (0-based, counting all cells)"
        what = f"{error.ename}: {error.evalue}" if error.evalue else error.ename
        super().__init__(f"task '{task}' failed {where}: {what} (partially executed notebook: {error.output_path})")


def run_task(task: PloomberTask, product: Any, upstream: dict[str, Any], params: dict[str, Any], cwd: Path, logger: Any) -> Any:
    """Execute ``task`` and return its product (paths as given).

    Args:
        task: the task.
        product: its resolved product (``str`` or ``{key: str}``), injected as ``product``.
        upstream: ``{task name: its product}`` injected as ``upstream``.
        params: its ``params`` (and grid values), injected by name.
        cwd: working directory.
        logger: the task run's logger.

    Raises:
        TaskCellError: a cell raised (the partially executed notebook is kept
            next to the ``nb`` product, as ``.ipynb``).
        partita.exceptions.RunError: the script failed, nbconvert failed, or a
            product was not written (:class:`MissingProduct`).
    """
    for path in task.product_paths():
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    values = {**params, "product": product, "upstream": upstream}
    if task.runner == "PythonCallable":
        call_function(task.source, product, upstream, params)
    elif task.runner == "ScriptRunner":
        _run_script(task, values, cwd, logger)
    else:
        _run_notebook(task, values, cwd)
    missing = [(key, path) for key, path in _products(product) if not Path(path).exists()]
    if missing:
        listed = ", ".join(f"'{key}' ({path})" if key else f"({path})" for key, path in missing)
        raise MissingProduct(f"task '{task.name}' finished without writing its product {listed}; write it from the source")
    return product


def _products(product: Any) -> list[tuple[str | None, str]]:
    if isinstance(product, dict):
        return list(product.items())
    return [(None, product)]


def _injected_cell(values: dict[str, Any]) -> Any:
    """The cell Ploomber injects after the ``parameters`` cell (papermill's tag and Python rendering)."""
    from papermill.translators import translate_parameters

    source = translate_parameters("python3", "python", values, "Injected parameters")
    return nbformat.v4.new_code_cell(source.strip(), metadata={"tags": ["injected-parameters"]})


def _run_notebook(task: PloomberTask, values: dict[str, Any], cwd: Path) -> None:
    """Run the source with the values already in its injected cell (as Ploomber renders it).

    The values are not passed to papermill as parameters: Ploomber's
    ``upstream`` is declared as a list but injected as a mapping, and its
    ``params`` need not be declared in the cell, so papermill-style checks
    against the parameters cell do not apply.
    """
    target = Path(task.notebook_product or "")
    executed = target.with_suffix(".ipynb")
    notebook = copy.deepcopy(task.source.notebook)
    injected_at = task.source.parameters_cell + 1
    cell = _injected_cell(values)
    if notebook.nbformat_minor < 5:  # cell ids exist from nbformat 4.5 on
        cell.pop("id", None)
    else:
        taken = {c.get("id") for c in notebook.cells}
        cell["id"] = next(i for i in (f"injected-parameters-{n}" if n else "injected-parameters" for n in range(len(taken) + 1)) if i not in taken)
    notebook.cells.insert(injected_at, cell)
    with tempfile.TemporaryDirectory(prefix="partita-ploomber-") as staging:
        source = Path(staging) / f"{task.source.path.stem}.ipynb"
        nbformat.write(notebook, str(source))
        try:
            run_notebook(source, None, kernel_name=task.kernel, cwd=cwd, output_path=str(executed))
        except NotebookCellError as exc:
            index = exc.cell_index
            original = None if index is None or index == injected_at else (index - 1 if index > injected_at else index)
            line = task.source.cell_line(original) if original is not None else None
            raise TaskCellError(task.name, task.source.path, exc, original, line) from None
    if executed != target:
        _export(executed, target, task)
        executed.unlink()


def _export(executed: Path, target: Path, task: PloomberTask) -> None:
    import nbconvert
    from traitlets.config import Config

    name = task.exporter or EXPORTERS.get(target.suffix.lower())
    if name is None:
        raise RunError(
            f"task '{task.name}': no nbconvert exporter for '{target.name}'; "
            "use an .ipynb/.html/.pdf/.md product or set nbconvert_exporter_name"
        )
    kwargs = dict(task.export_kwargs)
    config = kwargs.pop("config", None)
    try:
        exporter = nbconvert.get_exporter(name)(config=Config(config or {}), **kwargs)
        body, _resources = exporter.from_filename(str(executed))
    except Exception as exc:
        raise RunError(
            f"task '{task.name}': exporting the executed notebook to '{target.name}' with nbconvert's "
            f"'{name}' exporter failed: {type(exc).__name__}: {exc} (executed notebook: {executed})"
        ) from exc
    if isinstance(body, bytes):
        target.write_bytes(body)
    else:
        target.write_text(body, encoding="utf-8")


def _run_script(task: PloomberTask, values: dict[str, Any], cwd: Path, logger: Any) -> None:
    cells = task.source.notebook.cells
    injected = _injected_cell(values).source
    code: list[str] = []
    for index, cell in enumerate(cells):
        if cell.cell_type == "code":
            code.append(cell.source)
        if index == task.source.parameters_cell:
            code.append(injected)
    with tempfile.TemporaryDirectory(prefix="partita-ploomber-") as staging:
        script = Path(staging) / f"{task.source.path.stem}.py"
        script.write_text("\n\n".join(code) + "\n", encoding="utf-8")
        done = subprocess.run([sys.executable, str(script)], cwd=cwd, capture_output=True, text=True)
    if done.stdout.strip():
        logger.info("output of %s:\n%s", task.source.path.name, done.stdout[-_MAX_LOGGED:].rstrip())
    if done.returncode != 0:
        detail = done.stderr.strip()[-_MAX_LOGGED:]
        raise RunError(f"script task '{task.name}' ({task.source.path.name}) exited with code {done.returncode}:\n{detail}")
