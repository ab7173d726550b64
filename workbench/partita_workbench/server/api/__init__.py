"""The REST API: one router per resource, all under ``/api``."""

from __future__ import annotations

from fastapi import APIRouter

from partita_workbench.server.api import (
    admin,
    artifacts,
    concurrency_limits,
    events,
    flow_runs,
    flows,
    logs,
    results,
    states,
    task_runs,
    variables,
)


def api_router() -> APIRouter:
    """All routes, under the ``/api`` prefix."""
    router = APIRouter(prefix="/api")
    for module in (
        admin, flows, flow_runs, task_runs, states, logs, artifacts, variables, concurrency_limits, results, events,
    ):
        router.include_router(module.router)
    return router
