"""Facts about the current run (as Prefect's ``prefect.runtime``).

``partita.runtime.flow_run.id``, ``.name``, ``.parameters``, ``.flow_name``;
``partita.runtime.task_run.id``, ``.name``. Ids are strings; every attribute
is ``None`` outside a run (no exception), so code can run both inside and
outside flows.
"""

from __future__ import annotations

from typing import Any

from partita.context import flow_run_ctx, task_run_ctx

__all__ = ["flow_run", "task_run"]


class _FlowRun:
    @property
    def id(self) -> str | None:
        ctx = flow_run_ctx.get()
        return str(ctx.flow_run.id) if ctx else None

    @property
    def name(self) -> str | None:
        ctx = flow_run_ctx.get()
        return ctx.flow_run.name if ctx else None

    @property
    def flow_name(self) -> str | None:
        ctx = flow_run_ctx.get()
        return ctx.flow_run.flow_name if ctx else None

    @property
    def parameters(self) -> dict[str, Any]:
        ctx = flow_run_ctx.get()
        return dict(ctx.flow_run.parameters) if ctx else {}


class _TaskRun:
    @property
    def id(self) -> str | None:
        ctx = task_run_ctx.get()
        return str(ctx.task_run.id) if ctx else None

    @property
    def name(self) -> str | None:
        ctx = task_run_ctx.get()
        return ctx.task_run.name if ctx else None


flow_run = _FlowRun()
task_run = _TaskRun()
