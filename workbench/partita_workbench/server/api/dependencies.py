"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from partita_workbench.server.database.engine import Database


def get_database(request: Request) -> Database:
    """The app's :class:`Database`, set up by the lifespan in ``app.py``."""
    return request.app.state.database


DatabaseDep = Annotated[Database, Depends(get_database)]
