"""The hand-written value encoders of the bulk path agree with SQLAlchemy's column types."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import Uuid
from sqlalchemy.dialects import sqlite

from partita_workbench.server.database.types import Timestamp
from partita_workbench.server.operations.bulk import POSTGRESQL, SQLITE

DATETIMES = [
    dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc),
    dt.datetime(2024, 5, 1, 14, 0, 0, 7, tzinfo=dt.timezone(dt.timedelta(hours=2))),
    dt.datetime(2024, 12, 31, 23, 30, tzinfo=dt.timezone(-dt.timedelta(hours=5, minutes=30))),
    dt.datetime(2024, 5, 1, 12, 0, 0, 999999),  # naive: taken as UTC
    dt.datetime(1, 1, 1),
]


def sqlalchemy_sqlite_value(value: dt.datetime) -> str:
    dialect = sqlite.dialect()
    processor = Timestamp().dialect_impl(dialect).bind_processor(dialect)
    return processor(Timestamp().process_bind_param(value, dialect))


@pytest.mark.parametrize("value", DATETIMES)
def test_sqlite_timestamps_match_sqlalchemy(value):
    assert SQLITE.timestamp(value) == sqlalchemy_sqlite_value(value)


@pytest.mark.parametrize("value", DATETIMES)
def test_postgresql_timestamps_are_aware_and_equal(value):
    encoded = POSTGRESQL.timestamp(value)
    assert encoded.tzinfo is not None
    assert encoded == (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc))


def test_uuids_match_sqlalchemy():
    value = uuid.uuid4()
    processor = Uuid().bind_processor(sqlite.dialect())
    assert SQLITE.uuid(value) == processor(value)
    assert POSTGRESQL.uuid(value) == value
    assert SQLITE.uuid(None) is None


def test_json_values():
    assert SQLITE.json({}) == "{}" and SQLITE.json([]) == "[]" and SQLITE.json(None) == "null"
    assert SQLITE.json({"a": [1, "x"]}) == '{"a": [1, "x"]}'
    assert SQLITE.json_or_null(None) is None and SQLITE.json_or_null({}) == "{}"
