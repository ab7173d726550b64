"""``partita run TARGET``: run a pipeline, notebook or flow with a live view.

While the run goes, a table of task runs and their states updates in place;
at the end a summary table (task, state, duration, result or message) is
printed; for cached tasks it says so, and for each task that ran, why it was
not taken from the cache. Exit code 0 when the flow run is COMPLETED, 1 when
it is not, 2 when the target or its parameters are invalid (nothing is run
and nothing is recorded then; an invalid pipeline gets the report of
``partita validate``).

``--refresh`` runs every task again instead of taking results from the
cache; ``--refresh TASK`` (repeatable) only the tasks named, for pipelines.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any, Optional

import typer
from rich.live import Live
from rich.table import Table
from rich.text import Text

from partita.exceptions import PartitaError, TerminationSignal, UserInputError, ValidationError
from partita_workbench.cli.render import cache_text as _cache_text, duration_text, state_text, print_error, plain_console

console = plain_console()
err_console = plain_console(stderr=True, soft_wrap=True)


class LiveRun:
    """Collects task-run states from engine events and renders them.

    Besides state changes it takes ``("notebook_cell", task_run, progress)``
    events from notebook tasks (``progress`` has ``describe()``, ``done`` and
    ``total``), shown as the running cell while the task runs.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.task_runs: dict[Any, tuple[Any, Any]] = {}
        self.progress: dict[Any, Any] = {}
        self.flow_run: Any = None
        self.flow_state: Any = None
        self.root_id: Any = None
        self.started_at: Any = None  # timestamp of the flow run's first Running state

    def duration(self, fallback: float) -> float:
        """Seconds from the flow run's start to its final state (as ``flow-run ls`` shows), else ``fallback``."""
        state = self.flow_state
        if self.started_at is None or state is None or not state.is_final():
            return fallback
        return max(0.0, (state.timestamp - self.started_at).total_seconds())

    def on_event(self, kind: str, run: Any, state: Any) -> None:
        with self.lock:
            if kind == "flow_run":
                if self.root_id is None:
                    self.root_id = run.id
                if run.id == self.root_id:
                    self.flow_run, self.flow_state = run, state
                    if state.type.value == "RUNNING" and self.started_at is None:
                        self.started_at = state.timestamp
            elif run.flow_run_id != self.root_id:
                return
            elif kind == "task_run":
                self.task_runs[run.id] = (run, state)
            elif kind == "notebook_cell":
                self.progress[run.id] = state

    def table(self, final: bool = False) -> Table:
        title = "Task runs"
        if self.flow_run is not None:
            title = Text(f"Flow run {self.flow_run.name!r} — {self.flow_state.name if self.flow_state else ''}")
        table = Table(title=title, title_justify="left", expand=False)
        table.add_column("Task")
        table.add_column("State")
        table.add_column("Duration", justify="right")
        with self.lock:
            rows = list(self.task_runs.values())
            progress = dict(self.progress)
        cached = final and any(_cache_text(state) for _, state in rows)
        if cached:
            table.add_column("Cache")
        table.add_column("Result / message", overflow="fold", max_width=80)
        hidden: list[Any] = []
        if len(rows) > MAX_ROWS:  # a big .map: the task runs that did not complete first, then a count of the rest
            ordered = sorted(range(len(rows)), key=lambda i: (rows[i][1].type.value == "COMPLETED", i))
            keep = set(ordered[: MAX_ROWS - 1])
            hidden = [state for i, (_, state) in enumerate(rows) if i not in keep]
            rows = [row for i, row in enumerate(rows) if i in keep]
        for record, state in rows:
            detail = ""
            cells = progress.get(record.id)
            if state.message:
                detail = state.message
            elif cells is not None and not state.is_final():
                detail = f"running {cells.describe()}"
            elif state.data and final:
                detail = state.data.get("summary", "")
                if cells is not None:
                    detail = f"{cells.done}/{cells.total} cells · {detail}"
            elapsed = record.total_run_time
            if not state.is_final() and record.start_time is not None:
                elapsed = max(elapsed, time.time() - record.start_time.timestamp())
            row = [record.name, state_text(state.type.value, state.name), duration_text(elapsed)]
            if cached:
                row.append(_cache_text(state))
            table.add_row(*row, detail)
        if hidden:
            counts: dict[str, int] = {}
            for state in hidden:
                counts[state.name] = counts.get(state.name, 0) + 1
            text = ", ".join(f"{n} {name}" for name, n in sorted(counts.items(), key=lambda kv: -kv[1]))
            table.add_row(f"… {len(hidden)} more", text, "", *([""] if cached else []), "see partita flow-run inspect")
        return table


MAX_ROWS = 40
"""Most task-run rows the live view and the summary show; the rest are counted by state."""

REFRESH_ALL = "*"
"""What a bare ``--refresh`` stands for (see :func:`normalize_refresh`)."""


def normalize_refresh(args: list[str]) -> list[str]:
    """Let ``--refresh`` go without a value: a bare one becomes ``--refresh=*`` (refresh all).

    ``--refresh`` is bare when it is last, when an option follows it, or when
    what follows is an existing file (``partita run --refresh pipeline.yaml``).
    """
    out = []
    for index, arg in enumerate(args):
        following = args[index + 1] if index + 1 < len(args) else None
        if arg == "--refresh" and (following is None or following.startswith("-") or _is_target(following)):
            out.append(f"--refresh={REFRESH_ALL}")
        else:
            out.append(arg)
    return out


def _is_target(text: str) -> bool:
    from pathlib import Path

    return Path(text.rsplit(":", 1)[0] if ".py:" in text else text).is_file()


def run_command(
    target: str = typer.Argument(..., help="pipeline.yaml, notebook.ipynb or file.py:flow_name"),
    param: list[str] = typer.Option([], "--param", "-p", help="Parameter as key=value (repeatable)."),
    mode: str = typer.Option(None, "--mode", help="Notebooks: 'cells' (task cells as tasks) or 'papermill' (whole notebook); default: cells when a cell is tagged task:NAME."),
    refresh: list[str] = typer.Option(
        [], "--refresh", metavar="[TASK]",
        help="Run tasks again instead of taking cached results: all of them, or the pipeline task named (repeatable).",
    ),
    kernel: Optional[str] = typer.Option(None, "--kernel", "-k", help="Notebook: kernel to run on instead of its kernelspec."),
    cwd: Optional[Path] = typer.Option(None, "--cwd", help="Notebook: working directory of the kernel (default: the notebook's folder)."),
    cell_timeout: Optional[float] = typer.Option(None, "--cell-timeout", min=0.001, help="Notebook: seconds each cell may run."),
    output: Optional[str] = typer.Option(None, "--output", "-o", help="Notebook: where to write the executed notebook (path or fsspec URL)."),
    kernels: Optional[int] = typer.Option(None, "--kernels", min=1, help="Notebook, cells mode: the most kernels the run keeps (reused by task after task; default PARTITA_CELLS_KERNELS, else the CPUs, at least 2)."),
) -> None:
    """Run TARGET on the engine, record it, and print a summary table."""
    from partita.engine import events
    from partita_workbench.cli.targets import YAML_SUFFIXES, load_target, parse_parameters
    from partita_workbench.cli.validate import print_report

    refresh_all = REFRESH_ALL in refresh
    tasks_to_refresh = [name for name in refresh if name != REFRESH_ALL]
    is_pipeline = target.endswith(YAML_SUFFIXES)
    try:
        if tasks_to_refresh and not is_pipeline:
            raise UserInputError(f"--refresh TASK is for pipeline files; use a bare --refresh to run every task of {target} again")
        if refresh_all:
            _refresh_everything()
        notebook_options = {k: v for k, v in {"kernel_name": kernel, "cwd": cwd, "timeout": cell_timeout,
                                               "output_path": output, "kernels": kernels}.items() if v is not None}
        flow = load_target(target, mode, refresh=True if refresh_all else tasks_to_refresh,
                           notebook_options=notebook_options)
        parameters = parse_parameters(flow, param)
        flow.validate_parameters(parameters)  # a bad -p value is refused before a run is recorded
        _check_result_storage()
    except ValidationError as exc:  # the report of 'partita validate', on stderr since it stops the run
        print_report({target: exc.problems}, to_stderr=True)
        raise typer.Exit(2)
    except UserInputError as exc:
        print_error(str(exc))
        raise typer.Exit(2)

    live_run = LiveRun()
    started = time.perf_counter()
    watchdog = _CancelledRunWatchdog(live_run, flow, started)
    unsubscribe = events.subscribe(live_run.on_event)
    unsubscribe_watchdog = events.subscribe(watchdog.on_event)
    interrupt: BaseException | None = None
    restore = _signals_interrupt()
    try:
        with Live(live_run.table(), console=console, refresh_per_second=8, transient=True, redirect_stderr=True) as live:
            watchdog.live = live
            stop = threading.Event()

            def refresh() -> None:
                while not stop.wait(0.125):
                    live.update(live_run.table())

            refresher = threading.Thread(target=refresh, daemon=True)
            refresher.start()
            watchdog.stop_refresh = stop
            try:
                state = _call(flow, parameters)
            finally:
                stop.set()
                refresher.join()
    except PartitaError as exc:
        from partita_workbench.cli.errors import explain

        print_error(str(explain(exc) or exc))  # as every other command says it (e.g. naming PARTITA_API_URL)
        raise typer.Exit(1 if live_run.flow_run is not None else 2)
    except (KeyboardInterrupt, TerminationSignal) as exc:
        interrupt = exc
    finally:
        unsubscribe()
        unsubscribe_watchdog()
        if not watchdog.claim_report():  # the watchdog reported the cancelled run and is ending the process
            threading.Event().wait()
    if interrupt is not None:
        from partita.engine.interrupts import deferred_signals

        with deferred_signals():
            _report_interrupt(live_run, flow, interrupt, time.perf_counter() - started)
        restore()
        _exit_now(143 if isinstance(interrupt, TerminationSignal) else 130)
    restore()
    _report_end(live_run, flow, state, time.perf_counter() - started)
    if state.is_cancelled():  # task threads stuck in user code must not keep the process alive
        _exit_now(1)
    raise typer.Exit(0 if state.is_completed() else 1)


def _report_end(live_run: LiveRun, flow: Any, state: Any, elapsed: float) -> None:
    """The summary table, the final state line, the failure message and where to look."""
    if live_run.task_runs:
        console.print(live_run.table(final=True))
    flow_run_id = state.state_details.get("flow_run_id") or (live_run.flow_run.id if live_run.flow_run else "?")
    name = live_run.flow_run.name if live_run.flow_run else flow.name
    console.print(Text.assemble(
        "Flow run ", (name, "bold"), f" ({flow_run_id}) of flow ", (flow.name, "bold"), " finished in state ",
        state_text(state.type.value, state.name), f" after {duration_text(live_run.duration(elapsed))}.",
    ), soft_wrap=True)  # whole lines, for grep; a terminal wraps them itself
    if state.is_completed() and state.data and state.data.get("summary"):
        console.print(f"Result: {state.data['summary']}", soft_wrap=True)
    if not state.is_completed():
        print_error(state.message or "the run did not complete", label=state.name)
    console.print(f"Inspect it: partita flow-run inspect {flow_run_id}", soft_wrap=True)


CANCELLED_RUN_GRACE_S = 2.0
"""How long ``partita run`` lets the flow's own thread stop after its run was cancelled from outside."""


class _CancelledRunWatchdog:
    """Ends ``partita run`` once its flow run is recorded CANCELLED, even if the flow's thread is stuck.

    A flow cancelled from outside (``partita flow-run cancel``) is recorded
    CANCELLED by the process's cancellation watcher, and the flow's own code
    is told to stop at its next Python instruction. Code blocked in one long
    call (``time.sleep``, a C extension) does not get there; after
    :data:`CANCELLED_RUN_GRACE_S` seconds, and once the run's
    ``on_cancellation`` hooks have returned, the watchdog prints the report and
    ends the process (exit code 1) without waiting for it, as the documentation
    of cancelling says.
    """

    def __init__(self, live_run: LiveRun, flow: Any, started: float) -> None:
        self.live_run, self.flow, self.started = live_run, flow, started
        self.finished = threading.Event()  # set once someone has claimed the end of the run
        self.live: Any = None
        self.stop_refresh: threading.Event | None = None
        self._lock = threading.Lock()
        self._reported = False
        self._armed = False

    def on_event(self, kind: str, run: Any, state: Any) -> None:
        if kind != "flow_run" or self._armed or state.type.value != "CANCELLED":
            return
        if self.live_run.root_id is not None and run.id != self.live_run.root_id:
            return
        self._armed = True
        threading.Thread(target=self._watch, args=(state,), name="partita-cancelled-run", daemon=True).start()

    def claim_report(self) -> bool:
        """True for the one caller that prints the end of the run."""
        with self._lock:
            if self._reported:
                return False
            self._reported = True
            self.finished.set()
            return True

    def _watch(self, state: Any) -> None:
        from partita.engine.flow_engine import final_hooks_running

        if self.finished.wait(CANCELLED_RUN_GRACE_S):
            return
        while final_hooks_running():  # the run's on_cancellation hooks get to finish
            if self.finished.wait(0.05):
                return
        if not self.claim_report():
            return
        if self.stop_refresh is not None:
            self.stop_refresh.set()
        if self.live is not None:
            self.live.stop()
        _report_end(self.live_run, self.flow, state, time.perf_counter() - self.started)
        _exit_now(1, force=True)


def _signals_interrupt() -> Any:
    """Make ``SIGTERM`` raise :class:`TerminationSignal` (``SIGINT`` raises ``KeyboardInterrupt``).

    Returns a function restoring the previous handlers.
    """
    import signal

    from partita.engine.interrupts import raise_termination

    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = signal.signal(signal.SIGTERM, raise_termination)
    return lambda: signal.signal(signal.SIGTERM, previous)


def _report_interrupt(live_run: LiveRun, flow: Any, interrupt: BaseException, elapsed: float) -> None:
    """The end of an interrupted run: one line saying so, the summary, where to look."""
    what = "SIGTERM" if isinstance(interrupt, TerminationSignal) else "Ctrl-C"
    state = live_run.flow_state
    if live_run.task_runs:
        console.print(live_run.table(final=True))
    if live_run.flow_run is None:
        err_console.print(Text.assemble(("Interrupted", "bold red"), f" ({what}) before the flow run started; nothing was run."))
        return
    flow_run = live_run.flow_run
    err_console.print(Text.assemble(
        ("Interrupted", "bold red"), f" ({what}): flow run ", (flow_run.name, "bold"), f" ({flow_run.id}) of flow ",
        (flow.name, "bold"), " stopped in state ", state_text(state.type.value, state.name) if state is not None else "?",
        f" after {duration_text(live_run.duration(elapsed))}.",
    ))
    console.print(f"Inspect it: partita flow-run inspect {flow_run.id}", soft_wrap=True)


def _exit_now(code: int, force: bool = False) -> None:
    """Exit with ``code``, without waiting for task threads still stuck in user code.

    Everything of the run is recorded by then (the engine flushed it); only
    threads that cannot be stopped (a Python task in ``time.sleep``) are left.
    ``force``: end the process even if only the main thread is busy (called
    from another thread, where raising cannot exit).
    """
    import os
    import sys

    main = threading.main_thread()
    stuck = [t for t in threading.enumerate() if t is not main and not t.daemon and t.is_alive()]
    if not stuck and not force:
        raise typer.Exit(code)
    from partita.engine.recorder import flush_all

    flush_all(timeout=10.0)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _check_result_storage() -> None:
    """Make a local result storage folder now, so a file in its way stops the command before a run starts.

    Raises:
        OSError: the folder cannot be made (explained by :mod:`partita_workbench.cli.errors`).
    """
    from partita.results import local_folder, storage_root

    folder = local_folder(storage_root())
    if folder is not None:
        Path(folder).expanduser().mkdir(parents=True, exist_ok=True)


def _refresh_everything() -> None:
    """Turn on ``PARTITA_REFRESH_CACHE`` for this process (every cached task runs again)."""
    import os

    from partita.settings import get_settings

    os.environ["PARTITA_REFRESH_CACHE"] = "true"
    get_settings.cache_clear()


def _call(flow: Any, parameters: dict[str, Any]) -> Any:
    if flow.is_async:
        return asyncio.run(flow(**parameters, return_state=True))
    return flow(**parameters, return_state=True)
