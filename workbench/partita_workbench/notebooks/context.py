"""What a notebook run needs to know about the run it is part of, if any."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

__all__ = ["RunIds", "current_run", "current_task_run", "run_logger"]


@dataclass(frozen=True)
class RunIds:
    """Ids of the task run executing a notebook.

    Attributes:
        flow_run_id: the flow run's id.
        task_run_id: the task run's id.
        task_run_name: the task run's name (``"report"``, ``"report-1"``...).
    """

    flow_run_id: str
    task_run_id: str
    task_run_name: str


def current_run() -> RunIds | None:
    """The current task run's ids (``partita.runtime``), or ``None`` outside a task run."""
    from partita import runtime  # attributes are None outside a run

    flow_run_id, task_run_id, task_run_name = runtime.flow_run.id, runtime.task_run.id, runtime.task_run.name
    if not flow_run_id or not task_run_id:
        return None
    return RunIds(str(flow_run_id), str(task_run_id), str(task_run_name or "notebook"))


def current_task_run() -> Any:
    """The running task run's record (:class:`partita.context.TaskRunRecord`), or ``None``."""
    from partita.context import task_run_ctx

    ctx = task_run_ctx.get()
    return ctx.task_run if ctx is not None else None


def run_logger() -> logging.Logger | logging.LoggerAdapter:
    """The run logger inside a run (``partita.get_run_logger``), else this package's logger."""
    from partita import get_run_logger
    from partita.exceptions import MissingContextError

    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger("partita_workbench.notebooks")
