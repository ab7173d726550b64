"""Live events over a real server: state changes and logs of one flow run, or of all."""

from __future__ import annotations

import queue
import threading
import uuid

import pytest

from partita.client.events import SSEDecoder, watch_events
from partita.client.orchestration import SyncPartitaClient
from partita.exceptions import BackendError
from partita.states import Completed, Pending, Running


def test_decoder_reads_events_and_skips_comments():
    decoder = SSEDecoder()
    lines = [": connected", "", "event: log", 'data: {"kind": "log", "occurred": "2024-05-01T12:00:00Z",',
             'data:  "log": {"message": "hi"}}', "", ": heartbeat", ""]
    events = [e for e in map(decoder.feed, lines) if e is not None]
    assert decoder.connected and len(events) == 1
    assert events[0].log == {"message": "hi"}


def test_the_embedded_backend_has_no_stream(monkeypatch):
    client = SyncPartitaClient()
    with pytest.raises(BackendError, match="PARTITA_API_URL"):
        next(watch_events(client))


def _collect(url: str, flow_run_id, out: queue.Queue, connected: threading.Event, last) -> None:
    """Put every event of the stream in ``out`` until one for which ``last(event)`` is true.

    The stream ends on an event it expects, never on a flag set by the writer:
    a reader slowed down by a busy machine still gets every event it is owed.
    """
    with SyncPartitaClient(url) as client:
        for event in watch_events(client, flow_run_id, heartbeat=0.2, on_connect=connected.set):
            out.put(event)
            if last(event):
                return


def test_state_changes_and_logs_are_streamed(http_server):
    with SyncPartitaClient(http_server.url) as client:
        flow = client.create_flow("streamed")
        run = client.create_flow_run(flow.id, "watched", state=Pending())
        other = client.create_flow_run(flow.id, "other", state=Pending())
        events: queue.Queue = queue.Queue()
        everything: queue.Queue = queue.Queue()
        connected, connected_all = threading.Event(), threading.Event()

        def completed(event) -> bool:
            return event.flow_run_id == run.id and event.state is not None and event.state.type.value == "COMPLETED"

        threads = [
            threading.Thread(target=_collect, args=(http_server.url, run.id, events, connected, completed), daemon=True),
            threading.Thread(target=_collect, args=(http_server.url, None, everything, connected_all, completed), daemon=True),
        ]
        for thread in threads:
            thread.start()
        assert connected.wait(30) and connected_all.wait(30)

        client.set_flow_run_state(other.id, Running())
        client.set_flow_run_state(run.id, Running())
        task_run_id = str(uuid.uuid4())
        client.write_task_run_batch({
            "task_runs": [[task_run_id, "load-0", str(run.id), "load", "0", None, {}, [], 1, None, None, 0.0]],
            "states": [[task_run_id, str(uuid.uuid4()), "RUNNING", "Running", "2024-05-01T12:00:00Z", None, {}, None]],
        })
        client.write_logs([{"name": "etl", "level": 20, "message": "halfway", "flow_run_id": str(run.id)}])
        client.set_flow_run_state(run.id, Completed())
        for thread in threads:
            thread.join(60)
        assert not any(thread.is_alive() for thread in threads), "a stream did not deliver the run's completion"

        seen = [events.get_nowait() for _ in range(events.qsize())]
        kinds = [(e.kind.value, e.run_kind, e.state.type.value if e.state else None) for e in seen]
        assert kinds == [("state", "flow run", "RUNNING"), ("state", "task run", "RUNNING"),
                         ("log", None, None), ("state", "flow run", "COMPLETED")]
        assert seen[1].name == "load-0" and str(seen[1].task_run_id) == task_run_id
        assert seen[2].log["message"] == "halfway"
        assert all(e.flow_run_id == run.id for e in seen)
        unfiltered = [everything.get_nowait() for _ in range(everything.qsize())]
        assert unfiltered[0].flow_run_id == other.id  # the unfiltered stream has the other run too
        assert [e for e in unfiltered if e.flow_run_id == run.id] == seen
