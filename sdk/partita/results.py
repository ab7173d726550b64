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
"""

from __future__ import annotations

import json
import os
import pickle
import uuid
from typing import Any

import fsspec

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


def storage_root(storage: str | None = None) -> str:
    if storage:
        return storage
    from partita.settings import get_settings

    return get_settings().resolved_result_storage()


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
    fs, path = fsspec.core.url_to_fs(url)
    if getattr(fs, "protocol", None) in ("file", ("file", "local")) or fs.__class__.__name__ == "LocalFileSystem":
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{uuid.uuid4().hex[:8]}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(blob)
        os.replace(tmp, path)
    else:
        fs.makedirs(fs._parent(path), exist_ok=True)
        with fs.open(path, "wb") as fh:
            fh.write(blob)
    return {"storage_key": url, "serializer": serializer, "summary": summarize(value)}


def load_result(record: dict[str, Any]) -> Any:
    """Read back the value a result record describes.

    Raises:
        partita.exceptions.MissingResult: the stored file is gone.
    """
    from partita.exceptions import MissingResult

    url = record["storage_key"]
    try:
        with fsspec.open(url, "rb") as fh:
            blob = fh.read()
    except FileNotFoundError as exc:
        raise MissingResult(f"the result stored at {url} no longer exists") from exc
    return _loads(blob, record.get("serializer", "cloudpickle"))
