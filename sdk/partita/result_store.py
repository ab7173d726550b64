"""``partita://`` URLs: the backend's result store, as an fsspec filesystem.

With ``PARTITA_RESULT_STORAGE=server`` the result storage root is
``partita://results``: persisted results, cache entries and executed notebooks
are sent to the result store of the backend the client talks to
(``PUT /api/results/{key}``) instead of being written to a local folder, and
read back through it (``GET``; ``HEAD`` for the size and modification time).
A result record then holds ``"storage_key": "partita://results/<hex>"``,
which any process pointed at the same server (``PARTITA_API_URL``) can load,
whatever its ``PARTITA_HOME`` and whether or not it shares files with the
writer. This is the role of Prefect's remote result storage blocks, with the
Partita server as the storage.

A URL names a key relative to the store of *the configured server*, not a
server of its own: ``partita://results/ab12`` is ``GET
{PARTITA_API_URL}/results/results/ab12``. Without ``PARTITA_API_URL`` it is the
embedded backend's store (``<PARTITA_HOME>/storage``).

Only reads and writes of files are supported (what results, caches and
notebooks need); folders are implied by keys, so ``makedirs`` does nothing,
and listing or deleting raises :class:`NotImplementedError`.

The filesystem is registered with fsspec under the protocol ``partita``
(entry point ``fsspec.specs``, and by :mod:`partita.results` on import).
"""

from __future__ import annotations

import email.utils
import io
from typing import Any
from urllib.parse import quote

from fsspec.spec import AbstractFileSystem

PROTOCOL = "partita"
SERVER_STORAGE = "server"
"""The ``PARTITA_RESULT_STORAGE`` value that selects the server's store."""
SERVER_STORAGE_URL = f"{PROTOCOL}://results"
"""The result storage root it stands for."""


def is_server_url(url: str) -> bool:
    """Whether ``url`` names a file in the server's result store."""
    return url.startswith(f"{PROTOCOL}://")


def quoted_key(key: str) -> str:
    """``key`` escaped for a URL path (``/`` kept)."""
    return quote(key, safe="/")


class _Upload(io.BytesIO):
    """A write-mode file: the bytes are sent in one request when it is closed without error."""

    def __init__(self, fs: "ServerResultFileSystem", key: str) -> None:
        super().__init__()
        self.fs, self.key, self._discard = fs, key, False

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        self._discard = exc_type is not None  # never store half of a file
        self.close()

    def close(self) -> None:
        if self.closed:
            return
        data = self.getvalue()
        super().close()
        if not self._discard:
            self.fs.pipe_file(self.key, data)


class ServerResultFileSystem(AbstractFileSystem):
    """fsspec filesystem of ``partita://<key>`` (see the module docstring)."""

    protocol = PROTOCOL
    root_marker = ""

    @staticmethod
    def _client() -> Any:
        from partita.client.orchestration import shared_sync_client

        return shared_sync_client()

    def _key(self, path: str) -> str:
        return self._strip_protocol(path).strip("/")

    def cat_file(self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> bytes:
        """The stored bytes (``start:end`` of them). Raises FileNotFoundError when nothing is stored."""
        from partita.exceptions import ObjectNotFound

        try:
            data = self._client().read_result_bytes(self._key(path))
        except ObjectNotFound:
            raise FileNotFoundError(path) from None
        return data[start:end] if start is not None or end is not None else data

    def pipe_file(self, path: str, value: bytes, mode: str = "overwrite", **kwargs: Any) -> None:
        """Store ``value`` (replacing what was there; the server writes atomically)."""
        self._client().write_result_bytes(self._key(path), bytes(value))

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        """``{"name", "size", "type": "file", "mtime"}`` (POSIX seconds). Raises FileNotFoundError."""
        from partita.exceptions import ObjectNotFound

        key = self._key(path)
        try:
            headers = self._client().read_result_info(key)
        except ObjectNotFound:
            raise FileNotFoundError(path) from None
        modified = headers.get("last-modified")
        mtime = email.utils.parsedate_to_datetime(modified).timestamp() if modified else None
        return {"name": key, "size": int(headers.get("content-length", 0)), "type": "file", "mtime": mtime}

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        if mode == "rb":
            return io.BytesIO(self.cat_file(path))
        if mode == "wb":
            return _Upload(self, self._key(path))
        raise NotImplementedError(f"{path}: the server's result store opens files for 'rb' or 'wb', not {mode!r}")

    def makedirs(self, path: str, exist_ok: bool = False) -> None:
        """Nothing to do: folders are implied by keys."""

    def mkdir(self, path: str, create_parents: bool = True, **kwargs: Any) -> None:
        """Nothing to do: folders are implied by keys."""

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> Any:
        raise NotImplementedError("the server's result store cannot be listed; read files by key")

    def rm_file(self, path: str) -> None:
        raise NotImplementedError("files in the server's result store cannot be deleted through the API")


def register() -> None:
    """Make ``partita://`` URLs known to fsspec (idempotent)."""
    import fsspec

    fsspec.register_implementation(PROTOCOL, ServerResultFileSystem, clobber=True)
