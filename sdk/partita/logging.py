"""Run loggers: ``get_run_logger()`` and ``log_prints`` (as Prefect's).

Records logged through a run logger carry the flow run and task run ids; a
handler on the ``partita`` logger sends them to the backend through the
write-behind recorder, and a console handler prints them to stderr
(``HH:MM:SS | LEVEL | Flow run 'x' - message``).

``log_prints=True`` on a flow or task turns ``print()`` calls made while it runs
into INFO records of the run logger (Prefect's ``log_prints``).
"""

from __future__ import annotations

import builtins
import contextvars
import logging
import sys
import threading
from typing import Any

from partita.context import flow_run_ctx, task_run_ctx

__all__ = ["get_run_logger", "get_logger"]

_setup_lock = threading.Lock()
_configured = False
log_prints_var: contextvars.ContextVar[bool] = contextvars.ContextVar("partita_log_prints", default=False)
_original_print = builtins.print


class RunLoggerAdapter(logging.LoggerAdapter):
    """Adds the run ids and a label to every record."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        kwargs["extra"] = {**self.extra, **(kwargs.get("extra") or {})}
        return msg, kwargs


class APILogHandler(logging.Handler):
    """Sends records that carry a run id to the backend (through the recorder)."""

    def emit(self, record: logging.LogRecord) -> None:
        flow_run_id = getattr(record, "flow_run_id", None)
        if flow_run_id is None:
            return
        ctx = flow_run_ctx.get()
        recorder = getattr(ctx, "recorder", None) or getattr(record, "recorder", None)
        if recorder is None:
            return
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
        except Exception:
            self.handleError(record)
            return
        import datetime as dt

        recorder.add_log(
            {
                "name": record.name,
                "level": record.levelno,
                "message": message,
                "timestamp": dt.datetime.fromtimestamp(record.created, dt.timezone.utc).isoformat(),
                "flow_run_id": str(flow_run_id),
                "task_run_id": str(record.task_run_id) if getattr(record, "task_run_id", None) else None,
            }
        )


class _ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        label = getattr(record, "run_label", None)
        record.run_label_text = f"{label} - " if label else ""
        return super().format(record)


def setup_logging() -> None:
    """Attach the API and console handlers to the ``partita`` logger (once)."""
    global _configured
    if _configured:
        return
    with _setup_lock:
        if _configured:
            return
        from partita.settings import get_settings

        logger = logging.getLogger("partita")
        logger.setLevel(get_settings().logging_level.upper())
        logger.addHandler(APILogHandler())
        console = logging.StreamHandler(sys.stderr)
        console.setFormatter(_ConsoleFormatter("%(asctime)s | %(levelname)-7s | %(run_label_text)s%(message)s", "%H:%M:%S"))
        console.set_name("partita-console")
        logger.addHandler(console)
        logger.propagate = False
        builtins.print = _print
        _configured = True


def console_handler() -> logging.Handler | None:
    """The console handler (so a live CLI view can redirect or silence it)."""
    for handler in logging.getLogger("partita").handlers:
        if handler.get_name() == "partita-console":
            return handler
    return None


def get_logger(name: str = "partita") -> logging.Logger:
    """A plain logger under ``partita`` (not tied to a run)."""
    return logging.getLogger(name if name.startswith("partita") else f"partita.{name}")


def get_run_logger() -> logging.LoggerAdapter:
    """A logger bound to the current task run or flow run.

    Returns:
        A :class:`logging.LoggerAdapter` whose records carry ``flow_run_id``,
        ``task_run_id`` and are stored by the backend with the run.

    Raises:
        partita.exceptions.MissingContextError: called outside a flow or task run.
    """
    setup_logging()
    task_ctx = task_run_ctx.get()
    flow_ctx = flow_run_ctx.get()
    if task_ctx is not None:
        run = task_ctx.task_run
        extra = {"flow_run_id": run.flow_run_id, "task_run_id": run.id, "run_label": f"Task run {run.name!r}"}
        return RunLoggerAdapter(logging.getLogger("partita.task_runs"), extra)
    if flow_ctx is not None:
        run = flow_ctx.flow_run
        extra = {"flow_run_id": run.id, "task_run_id": None, "run_label": f"Flow run {run.name!r}"}
        return RunLoggerAdapter(logging.getLogger("partita.flow_runs"), extra)
    from partita.exceptions import MissingContextError

    raise MissingContextError("get_run_logger() needs a running flow or task; call it from inside a @flow or @task")


def _print(*args: Any, sep: str | None = " ", end: str | None = "\n", file: Any = None, flush: bool = False) -> None:
    """``print`` that becomes a run log record while a ``log_prints`` run is active."""
    if log_prints_var.get() and (file is None or file is sys.stdout):
        text = (sep if sep is not None else " ").join(str(a) for a in args)
        try:
            get_run_logger().info(text)
            return
        except Exception:
            pass
    _original_print(*args, sep=sep, end=end, file=file, flush=flush)
