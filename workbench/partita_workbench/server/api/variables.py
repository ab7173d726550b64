"""``/api/variables``: named JSON values, by name (Prefect's variables API)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, status
from partita.client.resource_schemas import VariableCreate, VariableFilter, VariableModel, VariableUpdate

from partita_workbench.server.api.dependencies import DatabaseDep
from partita_workbench.server.operations import variables

router = APIRouter(prefix="/variables", tags=["variables"])

Name = Annotated[str, Path(min_length=1, max_length=255)]
FilterBody = Annotated[VariableFilter | None, Body()]


@router.post("/", status_code=status.HTTP_201_CREATED)
async def create_variable(body: VariableCreate, db: DatabaseDep) -> VariableModel:
    """Create a variable (409 if the name exists)."""
    async with db.write() as session:
        return await variables.create_variable(session, body)


@router.get("/name/{name}")
async def read_variable(name: Name, db: DatabaseDep) -> VariableModel:
    """The variable ``name``."""
    async with db.read() as session:
        return await variables.read_variable(session, name)


@router.patch("/name/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def update_variable(name: Name, body: VariableUpdate, db: DatabaseDep) -> None:
    """Change a variable's value or tags."""
    async with db.write() as session:
        await variables.update_variable(session, name, body)


@router.delete("/name/{name}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_variable(name: Name, db: DatabaseDep) -> None:
    """Delete the variable ``name``."""
    async with db.write() as session:
        await variables.delete_variable(session, name)


@router.post("/filter")
async def filter_variables(db: DatabaseDep, flt: FilterBody = None) -> list[VariableModel]:
    """Variables sorted by name, by name prefix and tags."""
    async with db.read() as session:
        return await variables.filter_variables(session, flt or VariableFilter())


@router.post("/count")
async def count_variables(db: DatabaseDep, flt: FilterBody = None) -> int:
    """How many variables match the filter."""
    async with db.read() as session:
        return await variables.count_variables(session, flt or VariableFilter())
