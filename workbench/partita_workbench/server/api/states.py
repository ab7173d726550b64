"""``/api/flow_run_states`` and ``/api/task_run_states``: a run's state history, oldest first."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from partita.client.schemas import StateModel

from partita_workbench.server.api.dependencies import DatabaseDep
from partita_workbench.server.operations.common import FLOW_RUN, TASK_RUN
from partita_workbench.server.operations.states import state_history

router = APIRouter(tags=["states"])


@router.get("/flow_run_states/")
async def read_flow_run_states(flow_run_id: uuid.UUID, db: DatabaseDep) -> list[StateModel]:
    """Every state the flow run has been in, oldest first."""
    async with db.read() as session:
        return await state_history(session, FLOW_RUN, flow_run_id)


@router.get("/task_run_states/")
async def read_task_run_states(task_run_id: uuid.UUID, db: DatabaseDep) -> list[StateModel]:
    """Every state the task run has been in, oldest first."""
    async with db.read() as session:
        return await state_history(session, TASK_RUN, task_run_id)
