"""Live events across server processes: two real uvicorn servers on one PostgreSQL database."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import queue
import subprocess
import threading
import time
import uuid

import httpx
import pytest
from partita.client.events import watch_events
from partita.client.orchestration import SyncPartitaClient
from partita.client.resource_schemas import EventKind, RunEvent
from partita.client.schemas import StateModel
from partita.states import Completed, Pending, Running, StateType
from support.cli import PARTITA
from support.server import UvicornServer, free_port

from partita_workbench.server import create_app
from partita_workbench.server.events_relay import APPLICATION_NAME, MAX_PAYLOAD, encode_event, pack


def _event(**fields) -> RunEvent:
    return RunEvent(kind=fields.pop("kind", EventKind.LOG), occurred=dt.datetime.now(dt.timezone.utc), **fields)


def test_events_are_packed_under_the_notification_limit():
    events = [_event(log={"message": f"line {i} " + "x" * 300}) for i in range(100)]
    payloads = pack(events)
    assert len(payloads) > 1 and all(len(p.encode()) <= MAX_PAYLOAD for p in payloads)
    decoded = [RunEvent.model_validate(e) for p in payloads for e in json.loads(p)]
    assert decoded == events


def test_an_event_too_large_for_one_notification_is_cut_and_marked():
    failure = {"traceback": ["ünïcode line\n" * 50] * 40}
    state = StateModel(type=StateType.FAILED, name="Failed", message="é" * 9000, state_details={"failure": failure})
    for event in (_event(log={"message": "ü" * 20_000, "level": 40}),
                  _event(kind=EventKind.STATE, run_kind="flow run", flow_run_id=uuid.uuid4(), state=state)):
        encoded = encode_event(event)
        assert len(encoded.encode()) <= MAX_PAYLOAD - 2
        cut = RunEvent.model_validate_json(encoded)
        assert cut.truncated and cut.kind == event.kind and cut.flow_run_id == event.flow_run_id
    assert cut.state.type is StateType.FAILED and cut.state.id == state.id
    small = _event(log={"message": "fits"})
    assert RunEvent.model_validate_json(encode_event(small)) == small


@pytest.mark.anyio
async def test_sqlite_servers_have_no_relay(sqlite_url):
    app = create_app(sqlite_url)
    async with app.router.lifespan_context(app):
        assert app.state.events.relay is None


def _watch(url: str, flow_run_id, out: queue.Queue, connected: threading.Event, last) -> None:
    with SyncPartitaClient(url) as client:
        for event in watch_events(client, flow_run_id, heartbeat=0.2, on_connect=connected.set):
            out.put(event)
            if last(event):
                return


@pytest.fixture
def two_servers(postgres_url, tmp_path):
    servers = [UvicornServer(postgres_url, env={"PARTITA_HOME": str(tmp_path / f"home-{i}")}) for i in range(2)]
    try:
        for server in servers:
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_a_watcher_on_one_server_sees_what_another_server_records(two_servers):
    watched, writer = two_servers
    with SyncPartitaClient(writer.url) as client, SyncPartitaClient(watched.url) as local:
        flow = client.create_flow("relayed")
        run = client.create_flow_run(flow.id, "watched", state=Pending())
        received: queue.Queue = queue.Queue()
        connected = threading.Event()

        def completed(event: RunEvent) -> bool:
            return event.run_kind == "flow run" and event.state is not None and event.state.type is StateType.COMPLETED

        watcher = threading.Thread(target=_watch, args=(watched.url, run.id, received, connected, completed), daemon=True)
        watcher.start()
        assert connected.wait(30)

        client.set_flow_run_state(run.id, Running())
        task_run_id = str(uuid.uuid4())
        client.write_task_run_batch({
            "task_runs": [[task_run_id, "load-0", str(run.id), "load", "0", None, {}, [], 1, None, None, 0.0]],
            "states": [[task_run_id, str(uuid.uuid4()), "RUNNING", "Running", "2024-05-01T12:00:00Z", None, {}, None]],
        })
        client.write_logs([{"name": "etl", "level": 20, "message": "halfway", "flow_run_id": str(run.id)},
                           {"name": "etl", "level": 40, "message": "ü" * 20_000, "flow_run_id": str(run.id)}])
        local.write_logs([{"name": "etl", "level": 20, "message": "through the watched server", "flow_run_id": str(run.id)}])
        client.set_flow_run_state(run.id, Completed())
        watcher.join(60)
        assert not watcher.is_alive(), "the run's completion, recorded through the other server, never arrived"

    seen = [received.get_nowait() for _ in range(received.qsize())]
    assert all(e.flow_run_id == run.id for e in seen)
    by_writer = [e for e in seen if not (e.log and e.log["message"] == "through the watched server")]
    kinds = [(e.kind.value, e.run_kind, e.state.type.value if e.state else None) for e in by_writer]
    assert kinds == [("state", "flow run", "RUNNING"), ("state", "task run", "RUNNING"),
                     ("log", None, None), ("log", None, None), ("state", "flow run", "COMPLETED")]
    assert by_writer[1].name == "load-0" and str(by_writer[1].task_run_id) == task_run_id
    assert by_writer[2].log["message"] == "halfway" and not by_writer[2].truncated
    assert by_writer[3].truncated and by_writer[3].log["message"].startswith("üü")
    assert len(seen) == len(by_writer) + 1  # the watched server's own event: delivered once, not echoed back


async def _relay_backends(url: str, terminate: bool = False) -> list[int]:
    import asyncpg

    connection = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))
    try:
        rows = await connection.fetch(
            "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
            APPLICATION_NAME,
        )
        if terminate:
            for row in rows:
                await connection.execute("SELECT pg_terminate_backend($1)", row["pid"])
        return [row["pid"] for row in rows]
    finally:
        await connection.close()


def test_the_relay_reconnects_after_losing_its_connection(two_servers, postgres_url):
    watched, writer = two_servers
    before = asyncio.run(_relay_backends(postgres_url, terminate=True))
    assert len(before) == 2
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        after = asyncio.run(_relay_backends(postgres_url))
        if len(after) == 2 and not set(after) & set(before):
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the relays did not reconnect")
    with SyncPartitaClient(writer.url) as client:
        run = client.create_flow_run(client.create_flow("relayed").id, "after-reconnect", state=Pending())
        received: queue.Queue = queue.Queue()
        connected = threading.Event()
        watcher = threading.Thread(target=_watch, args=(watched.url, run.id, received, connected, lambda e: True), daemon=True)
        watcher.start()
        assert connected.wait(30)
        client.set_flow_run_state(run.id, Running())
        watcher.join(60)
    assert received.get_nowait().state.type is StateType.RUNNING


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_every_worker_of_a_multi_process_server_streams_every_event(postgres_url, tmp_path):
    port = free_port()
    url = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PARTITA_HOME": str(tmp_path / "home"), "PARTITA_DATABASE_URL": postgres_url}
    env.pop("PARTITA_API_URL", None)
    process = subprocess.Popen([*PARTITA, "server", "start", "--port", str(port), "--workers", "2"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not _healthy(url):
            assert process.poll() is None and time.monotonic() < deadline, "the server did not start"
            time.sleep(0.2)
        while len(asyncio.run(_relay_backends(postgres_url))) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)  # the second worker may still be starting
        with SyncPartitaClient(url) as client:
            run = client.create_flow_run(client.create_flow("workers").id, "watched", state=Pending())
            queues = [queue.Queue() for _ in range(6)]  # six connections: both workers get some
            events = [threading.Event() for _ in queues]
            watchers = [threading.Thread(target=_watch, args=(url, run.id, q, e, lambda e: True), daemon=True)
                        for q, e in zip(queues, events)]
            for watcher in watchers:
                watcher.start()
            assert all(e.wait(30) for e in events)
            client.set_flow_run_state(run.id, Running())
            until = time.monotonic() + 60
            for watcher in watchers:
                watcher.join(max(0.0, until - time.monotonic()))
        assert [q.get_nowait().state.type for q in queues] == [StateType.RUNNING] * 6
    finally:
        process.terminate()
        process.wait(timeout=30)
