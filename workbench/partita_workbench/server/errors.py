"""Errors of the backend and the one place they become HTTP responses.

::

    ServerError                 base; carries an HTTP status and a message
    ├── ObjectNotFound          404: an id in the path or body names nothing stored
    ├── ObjectConflict          409: the request clashes with stored data
    └── InvalidRequest          422: well-formed JSON whose values make no sense

Database errors that bad input can cause are mapped too: an integrity error
(duplicate id, dangling reference; SQLSTATE class 23) is a 409, and a data
error (a value too long or out of range for its column, a NUL character in
text; SQLSTATE class 22, or a value the driver refuses to encode) a 422, so
bad input never yields a 500. Other database errors are server faults.
Every error body is ``{"detail": "<message>"}``, as FastAPI's own errors.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError


class ServerError(Exception):
    """Base of the backend's errors; ``status_code`` is the HTTP status it maps to."""

    status_code = 500

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ObjectNotFound(ServerError):
    """No stored object has this id."""

    status_code = 404

    def __init__(self, kind: str, object_id: Any, hint: str = "") -> None:
        message = f"{kind} {object_id} not found"
        super().__init__(f"{message}; {hint}" if hint else message)
        self.kind = kind
        self.object_id = object_id


class ObjectConflict(ServerError):
    """The request conflicts with what is stored."""

    status_code = 409


class InvalidRequest(ServerError):
    """The body parsed, but a value in it is unusable (e.g. a filter on an unknown state type)."""

    status_code = 422


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


async def _server_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServerError)
    return JSONResponse({"detail": exc.message}, status_code=exc.status_code)


async def _integrity_error(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": f"the request conflicts with stored data: {_first_line(exc)}"}, status_code=409
    )


async def _data_error(_request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(
        {"detail": f"a value does not fit its database column: {_first_line(exc)}"}, status_code=422
    )


def _sqlstate(exc: DBAPIError) -> str:
    """The SQLSTATE code of a driver error, when the driver gives one (asyncpg does)."""
    for error in (exc.orig, getattr(exc.orig, "__cause__", None)):
        code = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        if isinstance(code, str):
            return code
    return ""


async def _database_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DBAPIError)
    state = _sqlstate(exc)
    if state.startswith("23"):
        return await _integrity_error(request, exc)
    if state.startswith("22") or isinstance(getattr(exc.orig, "__cause__", None), ValueError):
        return await _data_error(request, exc)
    raise exc  # a server fault: the default 500 handling logs it


def install_exception_handlers(app: FastAPI) -> None:
    """Register the mapping above on ``app``."""
    app.add_exception_handler(ServerError, _server_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(DBAPIError, _database_error)
