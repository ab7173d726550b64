"""FastAPI dependencies shared by the routers.

They are ``async def``: FastAPI runs a plain ``def`` dependency on a worker thread,
a thread hand-off per dependency and request for what is an attribute read.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from partita_workbench.server.database.engine import Database
from partita_workbench.server.events import EventBroker
from partita_workbench.server.storage import ResultStore


async def get_database(request: Request) -> Database:
    """The app's :class:`Database`, set up by the lifespan in ``app.py``."""
    return request.app.state.database


async def get_broker(request: Request) -> EventBroker:
    """The app's live-event broker."""
    return request.app.state.events


async def get_store(request: Request) -> ResultStore:
    """The app's result store (``PARTITA_SERVER_STORAGE``)."""
    return request.app.state.store


DatabaseDep = Annotated[Database, Depends(get_database)]
BrokerDep = Annotated[EventBroker, Depends(get_broker)]
StoreDep = Annotated[ResultStore, Depends(get_store)]
