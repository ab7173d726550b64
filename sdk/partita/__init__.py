"""Partita: workflow orchestration with every run recorded.

The public API follows Prefect 3: ``flow``, ``task``, states, futures,
``get_run_logger``, ``get_client``. Importing ``partita`` is cheap: the
engine, the client, pydantic and the backend are loaded on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "flow": "partita.flows",
    "Flow": "partita.flows",
    "task": "partita.tasks",
    "Task": "partita.tasks",
    "State": "partita.states",
    "StateType": "partita.states",
    "Scheduled": "partita.states",
    "Late": "partita.states",
    "AwaitingRetry": "partita.states",
    "Pending": "partita.states",
    "Running": "partita.states",
    "Retrying": "partita.states",
    "Completed": "partita.states",
    "Cached": "partita.states",
    "Failed": "partita.states",
    "TimedOut": "partita.states",
    "Crashed": "partita.states",
    "Cancelling": "partita.states",
    "Cancelled": "partita.states",
    "Paused": "partita.states",
    "PartitaFuture": "partita.futures",
    "PartitaFutureList": "partita.futures",
    "wait": "partita.futures",
    "as_completed": "partita.futures",
    "unmapped": "partita.engine.inputs",
    "get_run_logger": "partita.logging",
    "get_client": "partita.client.orchestration",
    "PartitaClient": "partita.client.orchestration",
    "SyncPartitaClient": "partita.client.orchestration",
    "ThreadPoolTaskRunner": "partita.task_runners",
    "runtime": "partita.runtime",
    "cache_policies": "partita.cache_policies",
    "variables": "partita.variables",
    "artifacts": "partita.artifacts",
    "concurrency": "partita.concurrency",
    "create_markdown_artifact": "partita.artifacts",
    "create_table_artifact": "partita.artifacts",
    "create_link_artifact": "partita.artifacts",
    "create_progress_artifact": "partita.artifacts",
    "update_progress_artifact": "partita.artifacts",
    "create_image_artifact": "partita.artifacts",
}

_MODULES = frozenset({"runtime", "cache_policies", "variables", "artifacts"})  # exported as modules, not attributes

__all__ = sorted([*_EXPORTS, "__version__"])

if TYPE_CHECKING:  # pragma: no cover
    from partita import artifacts, cache_policies, runtime, variables
    from partita.artifacts import (
        create_image_artifact, create_link_artifact, create_markdown_artifact, create_progress_artifact,
        create_table_artifact, update_progress_artifact,
    )
    from partita.concurrency import concurrency
    from partita.client.orchestration import PartitaClient, SyncPartitaClient, get_client
    from partita.engine.inputs import unmapped
    from partita.flows import Flow, flow
    from partita.futures import PartitaFuture, PartitaFutureList, as_completed, wait
    from partita.logging import get_run_logger
    from partita.states import (
        AwaitingRetry, Cached, Cancelled, Cancelling, Completed, Crashed, Failed, Late, Paused,
        Pending, Retrying, Running, Scheduled, State, StateType, TimedOut,
    )
    from partita.task_runners import ThreadPoolTaskRunner
    from partita.tasks import Task, task


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'partita' has no attribute {name!r}")
    value = importlib.import_module(module)
    if name not in _MODULES:
        value = getattr(value, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
