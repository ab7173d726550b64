"""Variables: named JSON values, read and written by name (Prefect's variables)."""

from __future__ import annotations

from partita.client.resource_schemas import VariableCreate, VariableFilter, VariableModel, VariableUpdate
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from partita_workbench.server.database.models import Variable
from partita_workbench.server.database.types import utcnow
from partita_workbench.server.errors import ObjectConflict, ObjectNotFound
from partita_workbench.server.operations.filters import any_strings

MAX_VALUE_BYTES = 1_000_000  # a variable is configuration, not data


def variable_model(row: Variable) -> VariableModel:
    return VariableModel(id=row.id, name=row.name, value=row.value, tags=row.tags, created=row.created, updated=row.updated)


def _check_size(value) -> None:
    import json

    from partita_workbench.server.errors import InvalidRequest

    if len(json.dumps(value)) > MAX_VALUE_BYTES:
        raise InvalidRequest(f"value: larger than {MAX_VALUE_BYTES} bytes of JSON; store data as a result or artifact")


async def create_variable(session: AsyncSession, body: VariableCreate) -> VariableModel:
    """Raises ObjectConflict when the name is taken."""
    _check_size(body.value)
    if await session.scalar(select(Variable.id).where(Variable.name == body.name)):
        raise ObjectConflict(f"a variable named {body.name!r} exists; update it with PATCH /api/variables/name/{body.name}")
    row = Variable(name=body.name, value=body.value, tags=body.tags)
    session.add(row)
    await session.flush()
    return variable_model(row)


async def _by_name(session: AsyncSession, name: str) -> Variable:
    row = await session.scalar(select(Variable).where(Variable.name == name))
    if row is None:
        raise ObjectNotFound("variable", repr(name))
    return row


async def read_variable(session: AsyncSession, name: str) -> VariableModel:
    return variable_model(await _by_name(session, name))


async def update_variable(session: AsyncSession, name: str, body: VariableUpdate) -> VariableModel:
    _check_size(body.value)
    row = await _by_name(session, name)
    if "value" in body.model_fields_set:
        row.value = body.value
    if body.tags is not None:
        row.tags = body.tags
    row.updated = utcnow()
    await session.flush()
    return variable_model(row)


async def delete_variable(session: AsyncSession, name: str) -> None:
    await session.delete(await _by_name(session, name))


def _where(flt: VariableFilter) -> list:
    clauses = []
    if flt.name_like:
        clauses.append(Variable.name.startswith(flt.name_like, autoescape=True))
    return clauses


async def filter_variables(session: AsyncSession, flt: VariableFilter) -> list[VariableModel]:
    rows = [variable_model(row) for row in await session.scalars(select(Variable).where(*_where(flt)).order_by(Variable.name))]
    if flt.tags is not None and flt.tags.any_ is not None:
        wanted = set(any_strings(flt.tags.any_, "tags.any_"))
        rows = [row for row in rows if wanted & set(row.tags)]
    return rows[flt.offset : flt.offset + flt.limit]


async def count_variables(session: AsyncSession, flt: VariableFilter) -> int:
    if flt.tags is not None:
        return len(await filter_variables(session, flt.model_copy(update={"limit": 10**9, "offset": 0})))
    return int(await session.scalar(select(func.count()).select_from(Variable).where(*_where(flt))) or 0)
