"""Health and version of the backend."""

from __future__ import annotations

import functools
from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter

router = APIRouter(tags=["admin"])


@functools.cache
def partita_version() -> str:
    """The installed distribution's version (``importlib.metadata``), or ``"unknown"``."""
    try:
        return version("partita")
    except PackageNotFoundError:
        return "unknown"


@router.get("/health")
async def health() -> bool:
    """True while the server answers; the only route open without the API key."""
    return True


@router.get("/version")
async def read_version() -> dict[str, str]:
    """The server's Partita version, e.g. ``{"version": "0.1.0"}``."""
    return {"version": partita_version()}
