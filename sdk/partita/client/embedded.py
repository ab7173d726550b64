"""The embedded backend: the FastAPI app running inside this process.

With no ``PARTITA_API_URL`` set, clients talk to ``partita_workbench.server``'s
app in-process (SQLite under ``PARTITA_HOME``) through the transports defined
here. The app runs on one background event loop thread for the whole process;
requests are handed to it with :class:`httpx.ASGITransport`, so the client code
is the same as over HTTP. This is the only place where the SDK imports the
workbench.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from typing import Any

import httpx

_lock = threading.Lock()
_backends: dict[str, "EmbeddedBackend"] = {}


class EmbeddedBackend:
    """The backend app, its lifespan entered, on a dedicated event loop thread."""

    def __init__(self, database_url: str) -> None:
        from partita_workbench.server import create_app  # the one SDK → workbench import

        self.database_url = database_url
        self.app = create_app(database_url=database_url, embedded=True)
        self.loop = asyncio.new_event_loop()
        self._started = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="partita-embedded-backend", daemon=True)
        self._thread.start()
        self._started.wait()
        if self._error is not None:
            raise self._error
        self.transport = httpx.ASGITransport(app=self.app)
        self._batch_writer: Any = None
        self._batch_writer_made = False

    def batch_writer(self) -> Any:
        """The in-thread writer of task-run batches (a callable), or ``None`` when the database is not a SQLite file.

        See :mod:`partita_workbench.server.embedded_writer`.
        """
        if not self._batch_writer_made:
            from partita_workbench.server.embedded_writer import batch_writer_for

            self._batch_writer = batch_writer_for(self.app, self.loop)
            self._batch_writer_made = True
        return self._batch_writer

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        try:
            async with self.app.router.lifespan_context(self.app):
                self._started.set()
                await self._stop.wait()
        except BaseException as exc:  # startup failed: report to the creating thread
            self._error = exc
            self._started.set()

    def call(self, coro: Any, timeout: float | None = None) -> Any:
        """Run ``coro`` on the backend loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        response = await self.transport.handle_async_request(request)
        body = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=body, request=request)

    def close(self) -> None:
        if self._batch_writer is not None:
            self._batch_writer.close()
        if self._stop is not None and self._thread.is_alive():
            self.loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout=10)


def get_embedded_backend(database_url: str) -> EmbeddedBackend:
    """The process's embedded backend for ``database_url``, started on first use."""
    backend = _backends.get(database_url)
    if backend is None:
        with _lock:
            backend = _backends.get(database_url)
            if backend is None:
                backend = EmbeddedBackend(database_url)
                _backends[database_url] = backend
    return backend


def shutdown_embedded_backends() -> None:
    """Stop every embedded backend (runs at interpreter exit).

    Write-behind recorders are flushed first, so nothing recorded in this
    process is lost when it exits normally.
    """
    import sys

    recorder = sys.modules.get("partita.engine.recorder")
    if recorder is not None:
        recorder.flush_all()
    with _lock:
        for backend in _backends.values():
            backend.close()
        _backends.clear()


atexit.register(shutdown_embedded_backends)


class EmbeddedTransport(httpx.BaseTransport):
    """Synchronous httpx transport into the embedded app."""

    def __init__(self, backend: EmbeddedBackend) -> None:
        self.backend = backend

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return self.backend.call(self.backend.handle(request))


class AsyncEmbeddedTransport(httpx.AsyncBaseTransport):
    """Asynchronous httpx transport into the embedded app (from any event loop)."""

    def __init__(self, backend: EmbeddedBackend) -> None:
        self.backend = backend

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        running = asyncio.get_running_loop()
        if running is self.backend.loop:
            return await self.backend.handle(request)
        future = asyncio.run_coroutine_threadsafe(self.backend.handle(request), self.backend.loop)
        return await asyncio.wrap_future(future)
