"""The server's result store: files under one root folder, addressed by relative keys.

Used when the SDK, a worker on another machine and the JupyterLab front end
share no storage: results and executed notebooks are sent with ``PUT
/api/results/{key}`` and fetched with ``GET``. Bytes are stored and returned
as they are; the server never deserializes them.

A key is a relative POSIX path. Keys that could leave the root — absolute
paths, ``..`` segments, backslashes, drive letters, URLs, NUL — are refused,
and the resolved path (after symlinks) must still lie inside the root.
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

from partita_workbench.server.errors import InvalidRequest, ObjectNotFound

MAX_KEY_LENGTH = 1024
SERVER_URL_PREFIX = "partita://"  # the SDK's URLs of files in this store (partita.result_store)
_BAD = re.compile(r"[\x00\\]|^[A-Za-z]:|^/|://")


def check_key(key: str) -> str:
    """``key`` if it is a safe relative storage key; else InvalidRequest (422) saying why."""
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidRequest(f"storage key: must be 1 to {MAX_KEY_LENGTH} characters")
    if _BAD.search(key) or any(part in ("..", ".", "") for part in key.split("/")):
        raise InvalidRequest(
            f"storage key {key[:80]!r}: must be a relative path of plain names separated by '/' "
            "(no '..', '.', empty parts, backslashes, drive letters or URLs)"
        )
    return key


class ResultStore:
    """Files under ``root``; see the module docstring."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path(self, key: str) -> Path:
        """The file of ``key``, checked to lie inside the root (symlinks resolved)."""
        check_key(key)
        root = self.root.resolve()
        path = (root / key).resolve()
        if not path.is_relative_to(root) or path == root:
            raise InvalidRequest(f"storage key {key[:80]!r}: points outside the server's storage")
        return path

    def key_of(self, location: str) -> str | None:
        """The key of a result record's storage key when it lies in this store, else None.

        That is a ``partita://<key>`` URL (the SDK's ``PARTITA_RESULT_STORAGE=server``)
        or an absolute local path inside the root.
        """
        if location.startswith(SERVER_URL_PREFIX):
            key = location[len(SERVER_URL_PREFIX) :]
            try:
                self.path(key)
            except InvalidRequest:
                return None
            return key
        if location.startswith("file://"):
            location = location[len("file://") :]
        if not os.path.isabs(location):
            return None
        try:
            relative = Path(location).resolve().relative_to(self.root.resolve())
        except ValueError:
            return None
        return relative.as_posix()

    def stat(self, key: str) -> os.stat_result:
        """Size and modification time of what is stored under ``key``. ObjectNotFound if nothing."""
        path = self.path(key)
        if not path.is_file():
            raise ObjectNotFound("result", repr(key), "nothing is stored under this key")
        return path.stat()

    def read(self, key: str) -> bytes:
        path = self.path(key)
        if not path.is_file():
            raise ObjectNotFound("result", repr(key), "nothing is stored under this key")
        return path.read_bytes()

    def write(self, key: str, data: bytes) -> None:
        """Write atomically: a temporary file in the same folder, renamed into place."""
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.parent.resolve().is_relative_to(self.root.resolve()):
            raise InvalidRequest(f"storage key {key[:80]!r}: points outside the server's storage")
        temporary = path.parent / f".{path.name}.{uuid.uuid4().hex}.tmp"
        try:
            temporary.write_bytes(data)
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        try:
            return self.path(key).is_file()
        except InvalidRequest:
            return False
