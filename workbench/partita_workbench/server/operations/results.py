"""Result records of runs, and where the server's store can serve their values."""

from __future__ import annotations

import uuid

from partita.client.resource_schemas import ResultRecordModel
from sqlalchemy.ext.asyncio import AsyncSession

from partita_workbench.server.errors import ObjectNotFound
from partita_workbench.server.operations.common import RunKind
from partita_workbench.server.storage import ResultStore


async def result_record(session: AsyncSession, kind: RunKind, run_id: uuid.UUID, store: ResultStore) -> ResultRecordModel:
    """The result record (``state.data``) of a run's current state.

    ``storage_key`` is given relative to the server's store when the value
    lies inside it (then ``fetchable`` is true and ``GET /api/results/{key}``
    returns its bytes); otherwise as recorded.

    Raises:
        ObjectNotFound: no such run, or its state has no persisted result.
    """
    run = await session.get(kind.run, run_id)
    if run is None:
        raise ObjectNotFound(kind.label, run_id)
    state = await session.get(kind.state, run.state_id) if run.state_id is not None else None
    data = state.data if state is not None else None
    if not isinstance(data, dict) or not isinstance(data.get("storage_key"), str):
        raise ObjectNotFound(f"result of {kind.label}", run_id, "its state has no persisted result")
    recorded = data["storage_key"]
    key = store.key_of(recorded)
    if key is None and store.exists(recorded):
        key = recorded
    return ResultRecordModel(
        run_id=run_id,
        state_id=state.id,
        storage_key=key or recorded,
        serializer=data.get("serializer"),
        summary=data.get("summary"),
        fetchable=key is not None and store.exists(key),
        data=data,
    )
