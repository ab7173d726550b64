"""``/api/results/{key}``: the server's result store (bytes in, bytes out; never deserialized)."""

from __future__ import annotations

import email.utils
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from partita_workbench.server.api.dependencies import StoreDep

router = APIRouter(prefix="/results", tags=["results"])

Key = Annotated[str, Path(min_length=1, max_length=1024, description="relative path inside the store, e.g. 'ab/cd.pkl'")]


@router.put("/{key:path}", status_code=status.HTTP_204_NO_CONTENT, openapi_extra={
    "requestBody": {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
})
async def write_result(key: Key, request: Request, store: StoreDep) -> None:
    """Store the request body under ``key`` (replacing it atomically). 422 for keys leaving the store."""
    store.path(key)  # refuse a bad key before reading the body
    store.write(key, await request.body())


@router.get("/{key:path}", response_class=Response, responses={200: {"content": {"application/octet-stream": {}}}})
async def read_result(key: Key, store: StoreDep) -> Response:
    """The bytes stored under ``key`` (a result or an executed notebook). 404 if none, 422 for keys leaving the store."""
    stat = store.stat(key)
    return Response(store.read(key), media_type="application/octet-stream",
                    headers={"Last-Modified": email.utils.formatdate(stat.st_mtime, usegmt=True)})


@router.head("/{key:path}", response_class=Response, responses={200: {"description": "headers only"}})
async def result_info(key: Key, store: StoreDep) -> Response:
    """``Content-Length`` and ``Last-Modified`` of what is stored under ``key``, no body. 404 if none."""
    stat = store.stat(key)
    headers = {
        "Content-Length": str(stat.st_size),
        "Last-Modified": email.utils.formatdate(stat.st_mtime, usegmt=True),
    }
    return Response(status_code=200, headers=headers, media_type="application/octet-stream")
