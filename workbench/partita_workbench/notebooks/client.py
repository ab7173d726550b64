"""The papermill engine Partita runs notebooks with: papermill's nbclient engine plus
per-cell progress and a cap on stored stream output.

papermill picks an engine by name (``papermill.execute_notebook(...,
engine_name="partita")``); this module registers :class:`PartitaEngine` under
that name when imported. Everything else (parameter injection, cell metadata,
error banners, saving) stays papermill's.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from papermill.clientwrap import PapermillNotebookClient
from papermill.engines import NBClientEngine, papermill_engines
from traitlets import Any as AnyTrait
from traitlets import Integer

from partita_workbench.notebooks.kernels import IOPUB_TIMEOUT, use_unix_sockets

__all__ = ["ENGINE_NAME", "CellWatch", "PartitaEngine", "PartitaNotebookClient", "TRUNCATION_TAG"]

ENGINE_NAME = "partita"
TRUNCATION_TAG = "partita-output-truncated"
"""``metadata.partita.output_truncated`` of a cell whose stream output was capped."""

_logger = logging.getLogger("papermill")


class CellWatch:
    """Follows a notebook's execution cell by cell.

    Attributes:
        notebook: the notebook being executed (papermill's copy), set when
            execution starts.
        running: index (in the executed notebook) of the code cell running
            now, or of the last one started; ``None`` before the first.
        done: code cells finished so far.
        total: code cells of the executed notebook.
        on_progress: called as ``on_progress(watch)`` when a code cell starts
            and when it finishes; exceptions from it are ignored.
    """

    def __init__(self, on_progress: Callable[["CellWatch"], None] | None = None) -> None:
        self.notebook: Any = None
        self.running: int | None = None
        self.done = 0
        self.total = 0
        self.on_progress = on_progress

    def attach(self, notebook: Any) -> None:
        self.notebook = notebook
        self.total = sum(1 for c in notebook.cells if c.cell_type == "code" and c.source.strip())

    def cell_started(self, cell: Any, cell_index: int, **_: Any) -> None:
        if cell.cell_type != "code" or not cell.source.strip():
            return
        self.running = cell_index
        self._report()

    def cell_executed(self, cell: Any, cell_index: int, **_: Any) -> None:
        self.done += 1
        self._report()

    def _report(self) -> None:
        if self.on_progress is not None:
            try:
                self.on_progress(self)
            except Exception:  # a broken view must never break a run
                pass


class PartitaNotebookClient(PapermillNotebookClient):
    """papermill's client, storing at most ``output_limit`` characters of stream output per cell.

    Past the limit, stream messages are counted and dropped, and one marker
    output (a ``stderr`` stream) says how many lines and characters were not
    stored; the cell's ``metadata.partita.output_truncated`` holds the same
    numbers. Other outputs (results, displays, errors) are always kept.
    """

    output_limit = Integer(1_000_000).tag(config=True)
    watch = AnyTrait(None)

    def __init__(self, nb_man: Any, **kw: Any) -> None:
        super().__init__(nb_man, **kw)
        self._stream_chars: dict[int, int] = {}
        self._dropped: dict[int, list[int]] = {}  # cell index -> [lines, characters]
        self._markers: dict[int, Any] = {}
        if self.watch is not None:
            self.watch.attach(self.nb)

    def create_kernel_manager(self) -> Any:
        """nbclient's kernel manager, talking to the kernel over unix sockets (:func:`use_unix_sockets`)."""
        return use_unix_sockets(super().create_kernel_manager())

    def output(self, outs: list, msg: dict[str, Any], display_id: str | None, cell_index: int) -> Any:
        if msg["msg_type"] != "stream":
            return super().output(outs, msg, display_id, cell_index)
        text = msg["content"].get("text", "")
        used = self._stream_chars.get(cell_index, 0)
        room = self.output_limit - used
        if len(text) <= room:
            self._stream_chars[cell_index] = used + len(text)
            return super().output(outs, msg, display_id, cell_index)
        kept = text[: max(room, 0)]
        cut = kept.rfind("\n") + 1 if "\n" in kept else 0  # keep whole lines
        kept, dropped = text[:cut], text[cut:]
        result = None
        if kept:
            self._stream_chars[cell_index] = used + len(kept)
            result = super().output(outs, {**msg, "content": {**msg["content"], "text": kept}}, display_id, cell_index)
        self._drop(outs, cell_index, dropped)
        return result

    def _drop(self, outs: list, cell_index: int, text: str) -> None:
        counts = self._dropped.setdefault(cell_index, [0, 0])
        counts[0] += text.count("\n")  # lines ended; a message may end mid-line
        counts[1] += len(text)
        self._stream_chars[cell_index] = self.output_limit
        message = (
            f"[partita] output truncated: {counts[0]} more line(s), {counts[1]} character(s) not stored "
            f"(limit {self.output_limit} characters per cell, PARTITA_NOTEBOOK_OUTPUT_LIMIT)\n"
        )
        marker = self._markers.get(cell_index)
        if marker is None or marker not in outs:
            from nbformat.v4 import new_output

            marker = new_output("stream", name="stderr", text=message)
            outs.append(marker)
            self._markers[cell_index] = marker
        else:
            marker["text"] = message
        cell = self.nb.cells[cell_index]
        cell.metadata.setdefault("partita", {})["output_truncated"] = {
            "lines_dropped": counts[0], "characters_dropped": counts[1], "limit": self.output_limit,
        }


class PartitaEngine(NBClientEngine):
    """papermill's nbclient engine with :class:`PartitaNotebookClient` and a :class:`CellWatch`.

    Extra engine arguments: ``watch`` (a :class:`CellWatch`), ``output_limit``
    (characters), ``kernelspec`` (written into the executed notebook's
    metadata when the kernel is not the notebook's own) and ``cancel_scope`` (a
    :class:`partita.engine.interrupts.CancelScope` that stops the kernel when
    the task run is stopped); the others are papermill's.
    """

    @classmethod
    def execute_managed_notebook(
        cls,
        nb_man: Any,
        kernel_name: str,
        log_output: bool = False,
        stdout_file: Any = None,
        stderr_file: Any = None,
        start_timeout: int = 60,
        execution_timeout: float | None = None,
        watch: CellWatch | None = None,
        output_limit: int = 1_000_000,
        kernelspec: dict[str, str] | None = None,
        cancel_scope: Any = None,
        **kwargs: Any,
    ) -> Any:
        kwargs.pop("input_path", None)
        if kernelspec and (nb_man.nb.metadata.get("kernelspec") or {}).get("name") != kernelspec["name"]:
            nb_man.nb.metadata["kernelspec"] = kernelspec  # the executed copy names the kernel it ran on
        options: dict[str, Any] = {
            "kernel_name": kernel_name,
            # nbclient's ``timeout`` trait is whole seconds; ``timeout_func`` takes any number
            "timeout_func": (lambda cell: execution_timeout) if execution_timeout else None,
            "startup_timeout": start_timeout,
            "iopub_timeout": kwargs.pop("iopub_timeout", IOPUB_TIMEOUT),
            "log": _logger,
            "log_output": log_output,
            "stdout_file": stdout_file,
            "stderr_file": stderr_file,
            "output_limit": output_limit,
            "watch": watch,
        }
        if watch is not None:
            options["on_cell_start"] = watch.cell_started
            options["on_cell_executed"] = watch.cell_executed
        kwargs.pop("startup_timeout", None)
        kwargs.pop("timeout", None)
        client = PartitaNotebookClient(nb_man, **options, **kwargs)
        if cancel_scope is None:
            return client.execute()

        def stop() -> None:
            stop_kernel(client)

        cancel_scope.add(stop)
        try:
            return client.execute()
        finally:
            cancel_scope.remove(stop)


def stop_kernel(client: Any) -> None:
    """Stop the kernel of ``client`` and whatever it started (its process group).

    Called when the task run is stopped (timeout, interrupt of the flow run);
    nbclient then sees a dead kernel and the execution ends.
    """
    from partita.engine.interrupts import terminate_process_group

    provisioner = getattr(getattr(client, "km", None), "provisioner", None)
    process = getattr(provisioner, "process", None)
    if process is not None:
        terminate_process_group(process, grace=1.0)


papermill_engines.register(ENGINE_NAME, PartitaEngine)
