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


API_PREFIX = "/api"


def api_router() -> APIRouter:
    """All routes, to be included under :data:`API_PREFIX`.

    The routes every flow run calls (create a flow, a flow run, a task run,
    set their states, store batches and logs) are each resource's
    ``engine_router``, included first. FastAPI prepares the routes of an
    included router when a request first reaches it, all of them at once: a
    process that only runs flows then never prepares the routes that read,
    filter and page. Include it with ``prefix=API_PREFIX``: FastAPI checks
    the paths of a router included without a prefix by preparing every
    route at once, at start-up.
    """
    router = APIRouter()
    router.include_router(admin.router)
    for module in (flows, flow_runs, task_runs, logs):
        router.include_router(module.engine_router)
    for module in (
        flows, flow_runs, task_runs, states, logs, artifacts, variables, concurrency_limits, results, events,
    ):
        router.include_router(module.router)
    return router
