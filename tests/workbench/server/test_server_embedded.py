"""The embedded backend: its in-thread batch writer (the route's rows, its errors, when it is used) and inline SQLite."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
import time
import uuid

import pytest

from partita.client.embedded import EmbeddedBackend
from partita.client.orchestration import SyncPartitaClient, shared_sync_client
from partita.context import TaskRunRecord
from partita.engine.recorder import Recorder
from partita.exceptions import ObjectNotFound
from partita.states import State, StateType, new_id

from partita_workbench.server.embedded_writer import SQLiteBatchWriter

PG = "postgresql+asyncpg://postgres@127.0.0.1:5432/{}"


def _sdk_batch(flow_run_id: str, n: int) -> dict:
    """A batch as the SDK's recorder builds it: lists, ISO times with +00:00, plain dicts and strings."""
    start = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.timezone.utc)
    runs, states = [], []
    upstream = new_id()
    for i in range(n):
        record = TaskRunRecord(new_id(), f"add-{i}", flow_run_id, "add", str(i), tags=["t"] if i % 2 else [])
        record.run_count, record.start_time, record.end_time = 1, start, start + dt.timedelta(seconds=i + 0.5)
        record.task_inputs = {"upstream": [{"input_type": "task_run", "id": upstream}]} if i else {}
        record.total_run_time = 0.5
        record.cache_key = "ck" if i == 1 else None
        for kind, name, data in ((StateType.PENDING, "Pending", None), (StateType.RUNNING, "Running", None),
                                 (StateType.COMPLETED, "Completed", {"storage_key": f"k{i}"})):
            state = State(kind, name, data=data, state_details={"task_run_id": record.id, "x": i},
                          timestamp=start + dt.timedelta(seconds=i, microseconds=i))
            states.append(state.to_wire(record.id))
        runs.append(record.to_row())
    if n > 2:  # times a user may give: another offset (stored as UTC), naive (taken as UTC)
        states[1][4] = dt.datetime(2024, 5, 1, 14, 0, 0, 250000, tzinfo=dt.timezone(dt.timedelta(hours=2)))
        states[4][4] = dt.datetime(2024, 5, 1, 12, 0, 7)
    return {"task_runs": runs, "states": states}


def _rows(path, table: str) -> list[tuple]:
    """The table's rows (without ``created``/``updated``), JSON columns decoded (their spacing may differ)."""
    with sqlite3.connect(path) as db:
        info = [c for c in db.execute(f"PRAGMA table_info({table})") if c[1] not in ("created", "updated")]
        rows = db.execute(f"SELECT {', '.join(c[1] for c in info)} FROM {table}").fetchall()
    json_columns = {i for i, c in enumerate(info) if c[2] == "JSON"}
    return sorted(
        (tuple(json.loads(v) if i in json_columns and v is not None else v for i, v in enumerate(row)) for row in rows),
        key=str,
    )


@pytest.fixture
def two_backends(tmp_path):
    """Two embedded backends on two SQLite files, each with the same flow and flow run ids."""
    made = []
    for name in ("route", "writer"):
        backend = EmbeddedBackend(f"sqlite+aiosqlite:///{tmp_path / name}.db")
        made.append((backend, tmp_path / f"{name}.db"))
    yield made
    for backend, _ in made:
        backend.close()


def _client_for(backend: EmbeddedBackend) -> SyncPartitaClient:
    import httpx

    from partita.client.embedded import EmbeddedTransport

    client = SyncPartitaClient("http://embedded")  # replaced below: this backend, not the process's
    client._http = httpx.Client(transport=EmbeddedTransport(backend), timeout=None)
    client.api_url = None
    return client


def test_writer_stores_exactly_what_the_route_stores(two_backends):
    flow_run_id = new_id()
    batch = None
    for backend, _ in two_backends:
        client = _client_for(backend)
        flow = client.create_flow("same")
        client.create_flow_run(flow.id, "same", id=uuid.UUID(flow_run_id))
        batch = batch or _sdk_batch(flow_run_id, 5)
    (route_backend, route_db), (writer_backend, writer_db) = two_backends
    assert _client_for(route_backend).write_task_run_batch(batch) == {"task_runs": 5, "states": 15}
    writer = writer_backend.batch_writer()
    assert isinstance(writer, SQLiteBatchWriter)
    assert writer(batch) == {"task_runs": 5, "states": 15}
    assert writer(batch) == {"task_runs": 5, "states": 15}  # a retried batch adds nothing
    for table in ("task_run", "task_run_state"):
        assert _rows(writer_db, table) == _rows(route_db, table) and len(_rows(writer_db, table)) in (5, 15)
    # and the API reads the writer's rows back as it reads the route's
    stored = _client_for(writer_backend).read_task_runs(flow_run_id=flow_run_id)
    assert [r.name for r in stored] == [f"add-{i}" for i in range(5)]  # created in the order sent
    assert stored[2].state.type is StateType.COMPLETED and stored[2].state.data == {"storage_key": "k2"}
    assert stored[2].task_inputs["upstream"][0].id is not None and stored[1].cache_key == "ck"


def test_writer_splits_a_batch_larger_than_sqlites_bound_values_limit(two_backends):
    """Each table's rows go in as one multi-row statement, split where SQLite's limit of bound values demands."""
    backend, path = two_backends[1]
    client = _client_for(backend)
    flow_run_id = new_id()
    client.create_flow_run(client.create_flow("big").id, "r", id=uuid.UUID(flow_run_id))
    writer = backend.batch_writer()
    connection = writer._connect()
    connection.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100)  # 5 task runs or 12 states per statement
    statements = []
    connection.set_trace_callback(lambda sql: statements.append(sql) if sql.startswith("INSERT") else None)
    assert writer(_sdk_batch(flow_run_id, 23)) == {"task_runs": 23, "states": 69}
    connection.set_trace_callback(None)
    assert len(_rows(path, "task_run")) == 23 and len(_rows(path, "task_run_state")) == 69
    assert sum(s.startswith("INSERT INTO task_run ") for s in statements) == 5  # 23 rows by 5
    assert sum(s.startswith("INSERT INTO task_run_state ") for s in statements) == 6  # 69 rows by 12


def test_writer_refuses_a_dangling_reference_and_stores_nothing(two_backends):
    backend, path = two_backends[1]
    client = _client_for(backend)
    flow = client.create_flow("dangling")
    flow_run_id = new_id()
    client.create_flow_run(flow.id, "r", id=uuid.UUID(flow_run_id))
    batch = _sdk_batch(flow_run_id, 3)
    orphan = new_id()
    batch["states"].append([orphan, new_id(), "RUNNING", "Running", "2024-05-01T12:00:00.000000+00:00", None, {}, None])
    writer = backend.batch_writer()
    with pytest.raises(ObjectNotFound, match=orphan):
        writer(batch)
    unknown_flow_run = new_id()
    with pytest.raises(ObjectNotFound, match=f"flow run {unknown_flow_run}"):
        writer(_sdk_batch(unknown_flow_run, 1))
    assert _rows(path, "task_run") == [] and _rows(path, "task_run_state") == []
    writer(_sdk_batch(flow_run_id, 2))  # the connection is still usable
    assert len(_rows(path, "task_run")) == 2


def test_the_embedded_client_records_through_the_writer_on_sqlite_only(postgres_database):
    assert isinstance(shared_sync_client().task_run_batch_writer(), SQLiteBatchWriter)
    assert isinstance(shared_sync_client().task_run_batch_writer(), SQLiteBatchWriter)
    remote = SyncPartitaClient("http://127.0.0.1:9")  # never contacted
    assert remote.task_run_batch_writer() == remote.write_task_run_batch
    pg = EmbeddedBackend(PG.format(postgres_database))
    try:
        assert pg.batch_writer() is None
    finally:
        pg.close()


def test_a_flush_sends_every_queued_batch_at_once_without_waiting_for_the_interval(partita_home):
    client = shared_sync_client()
    flow = client.create_flow("flushed")
    flow_run_id = new_id()
    client.create_flow_run(flow.id, "r", id=uuid.UUID(flow_run_id))
    recorder = Recorder(client, interval=30.0, batch_size=10)
    # the database is locked for a second: the queue fills up behind the first send, to the back-pressure limit
    blocker = sqlite3.connect(partita_home / "partita.db", isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    release = threading.Timer(1.0, lambda: (blocker.execute("ROLLBACK"), blocker.close()))
    started = time.monotonic()
    release.start()
    records = [TaskRunRecord(new_id(), f"t-{i}", flow_run_id, "t", str(i)) for i in range(12)]
    for record in records:
        for kind in (StateType.PENDING, StateType.RUNNING, StateType.COMPLETED):
            recorder.set_task_run_state(record, State(kind))
    assert recorder.flush(timeout=60)
    assert time.monotonic() - started < 10  # not a 30 s interval for what was left behind a batch
    release.join()
    recorder.close()
    assert len(client.read_task_runs(flow_run_id=flow_run_id)) == 12


def test_ids_are_time_ordered_version_7_uuids():
    first = new_id()
    time.sleep(0.002)
    later = [new_id() for _ in range(100)]
    parsed = uuid.UUID(first)
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122  # RFC 9562 keeps RFC 4122's variant
    assert abs((parsed.int >> 80) / 1000 - time.time()) < 60
    assert all(first < other for other in later) and len(set(later)) == 100


def test_the_embedded_app_runs_sqlite_inline_and_a_server_app_through_aiosqlite(tmp_path):
    import asyncio

    import aiosqlite

    from partita_workbench.server.database.engine import create_engine
    from partita_workbench.server.database.inline_sqlite import Connection

    async def driver_of(inline: bool) -> object:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}", inline=inline)
        try:
            async with engine.connect() as connection:
                raw = await connection.get_raw_connection()
                assert (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"
                assert (await connection.exec_driver_sql("PRAGMA foreign_keys")).scalar() == 1
                return type(raw.driver_connection)
        finally:
            await engine.dispose()

    assert asyncio.run(driver_of(True)) is Connection
    assert asyncio.run(driver_of(False)) is aiosqlite.Connection
    backend = EmbeddedBackend(f"sqlite+aiosqlite:///{tmp_path / 'embedded.db'}")
    try:
        async def embedded_driver() -> object:
            async with backend.app.state.database.engine.connect() as connection:
                return type((await connection.get_raw_connection()).driver_connection)

        assert backend.call(embedded_driver()) is Connection
    finally:
        backend.close()


def test_inline_sqlite_rolls_back_a_failed_write_and_keeps_serving(tmp_path):
    backend = EmbeddedBackend(f"sqlite+aiosqlite:///{tmp_path / 'embedded.db'}")
    try:
        client = _client_for(backend)
        flow = client.create_flow("f")
        run = client.create_flow_run(flow.id, "r")
        with pytest.raises(ObjectNotFound):
            client.write_task_run_batch({"task_runs": [[new_id(), "t", new_id(), "t", "0", None, {}, [], 0, None, None, 0.0]]})
        assert client.read_task_runs(flow_run_id=run.id) == []
        assert client.read_flow_run(run.id).name == "r"
    finally:
        backend.close()
