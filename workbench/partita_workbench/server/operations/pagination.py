"""Offset and cursor pagination of filtered reads.

A cursor is an opaque URL-safe token naming where the previous page ended.
For orders on a timestamp and the id (flow runs and task runs by
``created``, logs by ``timestamp``) it holds the last row's values, and the
next page starts strictly after them (keyset pagination: stable while rows
are added). For the other orders it holds the offset of the next page.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, or_

from partita_workbench.server.errors import InvalidRequest


@dataclass(frozen=True)
class Keyset:
    """An order on ``(time_column, id_column)``; ``descending`` applies to the time column only."""

    time_column: Any
    id_column: Any
    descending: bool = False


def _encode(payload: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    """The payload of a cursor; raises InvalidRequest (422) for a token this server did not make."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        payload = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(payload, dict):
            raise ValueError
        return payload
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidRequest(
            "cursor: not a cursor of this server; pass the next_cursor of a previous page, or leave it out"
        ) from None


def _after(keyset: Keyset, payload: dict[str, Any]) -> ColumnElement[bool]:
    try:
        at = dt.datetime.fromisoformat(payload["t"])
        last_id = uuid.UUID(payload["i"])
    except (KeyError, TypeError, ValueError):
        raise InvalidRequest("cursor: this cursor belongs to another sort order; start again without it") from None
    beyond = keyset.time_column < at if keyset.descending else keyset.time_column > at
    return or_(beyond, and_(keyset.time_column == at, keyset.id_column > last_id))


def page_window(
    cursor: str | None, offset: int, keyset: Keyset | None
) -> tuple[list[ColumnElement[bool]], int]:
    """Extra WHERE clauses and the offset to read one page from ``cursor`` (or ``offset``)."""
    if cursor is None:
        return [], offset
    payload = decode_cursor(cursor)
    if keyset is not None and "t" in payload:
        return [_after(keyset, payload)], 0
    start = payload.get("o")
    if not isinstance(start, int) or start < 0 or keyset is not None and "t" not in payload and "o" not in payload:
        raise InvalidRequest("cursor: this cursor belongs to another sort order; start again without it")
    return [], start


def next_cursor(
    rows: list[Any], limit: int, offset: int, keyset: Keyset | None, time_and_id: Any
) -> str | None:
    """The cursor of the page after ``rows`` (read with ``limit + 1``), or None if it was the last."""
    if len(rows) <= limit or limit == 0:
        return None
    if keyset is None:
        return _encode({"o": offset + limit})
    at, row_id = time_and_id(rows[limit - 1])
    return _encode({"t": at.isoformat(), "i": str(row_id)})
