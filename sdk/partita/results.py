"""Persisted results: values written through fsspec, described by a result record.

A *result record* is the JSON dict kept in a COMPLETED state's ``data``::

    {"storage_key": "<fsspec URL or absolute path>",
     "serializer": "cloudpickle" | "pickle" | "json",
     "summary": "<repr of the value, at most 200 characters>"}

Values are written under the result storage root (setting
``PARTITA_RESULT_STORAGE``, default ``<PARTITA_HOME>/storage``). Local writes
go to a temporary file renamed into place, so a crash never leaves a
half-written result behind. Serializers as Prefect's: ``cloudpickle``
(default), ``pickle``, ``json``.

``PARTITA_RESULT_STORAGE=server`` sends values to the backend's result store
instead (``partita://`` URLs, :mod:`partita.result_store`), so processes that
share no files — a worker on another machine, the JupyterLab front end — load
them through the API.
"""

from __future__ import annotations

import json
import os
import pickle
import uuid
from random import getrandbits
from typing import Any

import fsspec

from partita.result_store import register as _register_server_store

_register_server_store()

SERIALIZERS = ("cloudpickle", "pickle", "json")
SUMMARY_LENGTH = 200


def _dumps(value: Any, serializer: str) -> bytes:
    if serializer == "cloudpickle":
        import cloudpickle

        return cloudpickle.dumps(value)
    if serializer == "pickle":
        return pickle.dumps(value)
    if serializer == "json":
        return json.dumps(value).encode()
    raise ValueError(f"unknown result serializer {serializer!r}; use one of {', '.join(SERIALIZERS)}")


def _loads(blob: bytes, serializer: str) -> Any:
    if serializer in ("cloudpickle", "pickle"):
        return pickle.loads(blob)
    if serializer == "json":
        return json.loads(blob)
    raise ValueError(f"unknown result serializer {serializer!r}; use one of {', '.join(SERIALIZERS)}")


def summarize(value: Any) -> str:
    """A short ``repr`` of a value for display (at most ``SUMMARY_LENGTH`` characters)."""
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not fail the run
        text = f"<{type(value).__name__}>"
    return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 1] + "…"


_root: tuple[Any, str] | None = None


def storage_root(storage: str | None = None) -> str:
    """``storage``, or the result storage root of the settings (``PARTITA_RESULT_STORAGE``)."""
    global _root
    if storage:
        return storage
    from partita.settings import get_settings

    settings = get_settings()
    if _root is None or _root[0] is not settings:
        _root = (settings, settings.resolved_result_storage())
    return _root[1]


def local_folder(storage: str) -> str | None:
    """The local folder of a storage root (a path or a ``file://`` URL), ``None`` for any other fsspec URL."""
    if "://" not in storage:
        return storage
    return storage.removeprefix("file://") if storage.startswith("file://") else None


def persist_result(value: Any, *, key: str | None = None, storage: str | None = None, serializer: str = "cloudpickle") -> dict[str, Any]:
    """Write ``value`` and return its result record.

    Args:
        value: any value the serializer accepts.
        key: file name under the storage root (default: a random UUID hex).
        storage: fsspec URL or path of the storage root (default from settings).
        serializer: ``cloudpickle``, ``pickle`` or ``json``.

    Raises:
        ValueError: unknown serializer.
        TypeError / pickle.PicklingError: the value cannot be serialized.
    """
    blob = _dumps(value, serializer)
    root = storage_root(storage).rstrip("/")
    url = f"{root}/{key or uuid.uuid4().hex}"
    write_bytes(url, blob)
    return {"storage_key": url, "serializer": serializer, "summary": summarize(value)}


def _is_local(fs: Any) -> bool:
    return getattr(fs, "protocol", None) in ("file", ("file", "local")) or fs.__class__.__name__ == "LocalFileSystem"


def write_bytes(url: str, blob: bytes) -> None:
    """Write ``blob`` at ``url`` (fsspec URL or path), creating folders.

    Local files are written to a temporary name and renamed into place, so a
    reader never sees half a file.
    """
    if "://" not in url:
        _write_local(url, blob)
        return
    fs, path = fsspec.core.url_to_fs(url)
    if _is_local(fs):
        _write_local(path, blob)
    else:
        fs.makedirs(fs._parent(path), exist_ok=True)
        with fs.open(path, "wb") as fh:
            fh.write(blob)


def _write_local(path: str, blob: bytes) -> None:
    tmp = f"{path}.{getrandbits(32):08x}.tmp"
    try:
        fh = open(tmp, "wb")
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fh = open(tmp, "wb")
    with fh:
        fh.write(blob)
    os.replace(tmp, path)


def modified_time(url: str) -> float | None:
    """Last-modified time (POSIX seconds) of the file at ``url``, or ``None`` when absent."""
    try:
        if "://" not in url:
            return os.stat(url).st_mtime
        fs, path = fsspec.core.url_to_fs(url)
        info = fs.info(path)
    except FileNotFoundError:
        return None
    modified = info.get("mtime") or info.get("LastModified") or info.get("created")
    if hasattr(modified, "timestamp"):
        return modified.timestamp()
    return float(modified) if modified is not None else 0.0


def read_bytes(url: str) -> bytes | None:
    """The bytes stored at ``url``, or ``None`` when there is no such file."""
    try:
        if "://" not in url:
            with open(url, "rb") as fh:
                return fh.read()
        with fsspec.open(url, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        return None


def load_result(record: dict[str, Any]) -> Any:
    """Read back the value a result record describes.

    Raises:
        partita.exceptions.MissingResult: the stored file is gone.
    """
    from partita.exceptions import MissingResult

    url = record["storage_key"]
    blob = read_bytes(url)
    if blob is None:
        raise MissingResult(f"the result stored at {url} no longer exists")
    return _loads(blob, record.get("serializer", "cloudpickle"))
