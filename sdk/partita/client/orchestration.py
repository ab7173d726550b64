"""``PartitaClient`` (async) and ``SyncPartitaClient``: one logic, two drivers.

Every API call is written once, as a generator that yields the
:class:`httpx.Request` to send and receives the :class:`httpx.Response`
(the shape of httpx's ``Auth.auth_flow``). Two short drivers send the requests:
one with :class:`httpx.Client`, one with :class:`httpx.AsyncClient`. The
transport is HTTP when ``PARTITA_API_URL`` is set and the in-process embedded
backend otherwise, so the same code path serves both modes.

Failed connections, 429 and 5xx answers are retried with exponential backoff
and jitter (``RETRY_DELAYS``); other 4xx answers raise
:class:`partita.exceptions.BackendError` (404: :class:`ObjectNotFound`) with
the server's ``detail``.
"""

from __future__ import annotations

import asyncio
import functools
import random
import time
import uuid
from typing import Any, Callable, Generator, Iterable, TypeVar

import httpx

from partita.client import schemas as s
from partita.client.resource_calls import ResourceCalls, api_call
from partita.exceptions import BackendError, ObjectAlreadyExists, ObjectNotFound, SlotsUnavailable, Unauthorized
from partita.states import State

T = TypeVar("T")
Call = Generator[httpx.Request, httpx.Response, T]

RETRY_DELAYS = (0.1, 0.3, 0.7, 1.5, 3.0, 5.0, 5.0, 5.0, 5.0, 5.0)  # ~31 s of outage tolerated
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_ERRORS = {401: Unauthorized, 404: ObjectNotFound, 409: ObjectAlreadyExists, 423: SlotsUnavailable}


def error_for_status(status_code: int) -> type[BackendError]:
    """The exception class for an HTTP error status (404: ObjectNotFound, 409, 401, 423; else BackendError)."""
    return _ERRORS.get(status_code, BackendError)


def _ids(values: Iterable[Any]) -> list[str]:
    return [str(v) for v in values]


class ClientLogic(ResourceCalls):
    """The API calls, free of I/O. See the module docstring.

    ``api_key`` is sent as ``Authorization: Bearer <key>``; ``auth_string``
    (``user:password``) as basic auth when no key is given.
    """

    def __init__(self, api_url: str | None = None, api_key: str | None = None, auth_string: str | None = None) -> None:
        self.api_url = api_url
        self.headers: dict[str, str] = {}
        if api_key:
            self.headers["Authorization"] = f"Bearer {api_key}"
        elif auth_string:
            import base64

            self.headers["Authorization"] = "Basic " + base64.b64encode(auth_string.encode()).decode()

    def _request(
        self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None, content: bytes | None = None
    ) -> httpx.Request:
        return httpx.Request(method, self._base + path, json=json, params=params, content=content, headers=self.headers)

    def _request_json_bytes(self, method: str, path: str, body: Any) -> httpx.Request:
        """A request whose JSON body is encoded by pydantic-core (several times quicker than ``json``)."""
        from pydantic_core import to_json

        headers = {**self.headers, "Content-Type": "application/json"}
        return httpx.Request(method, self._base + path, content=to_json(body), headers=headers)

    @property
    def _base(self) -> str:
        return self.api_url or "http://embedded/api"

    @staticmethod
    def _check(response: httpx.Response) -> httpx.Response:
        if response.status_code < 400:
            return response
        try:
            detail = response.json().get("detail", response.text)
        except ValueError:
            detail = response.text
        message = f"{response.request.method} {response.request.url.path} -> {response.status_code}: {detail}"
        error = error_for_status(response.status_code)
        if response.status_code == 401:
            message += "; set PARTITA_API_KEY (or PARTITA_API_AUTH_STRING) to the server's key"
        raise error(message)

    # -- health ------------------------------------------------------------------
    @api_call
    def hello(self) -> Call[bool]:
        response = yield self._request("GET", "/health")
        return bool(self._check(response).json())

    # -- flows ---------------------------------------------------------------------
    @api_call
    def create_flow(self, name: str, tags: list[str] | None = None) -> Call[s.FlowModel]:
        response = yield self._request("POST", "/flows/", json={"name": name, "tags": tags or []})
        return s.FlowModel.model_validate(self._check(response).json())

    # -- flow runs -------------------------------------------------------------------
    @api_call
    def create_flow_run(
        self,
        flow_id: uuid.UUID,
        name: str,
        parameters: dict[str, Any] | None = None,
        state: State | None = None,
        parent_task_run_id: uuid.UUID | None = None,
        tags: list[str] | None = None,
        id: uuid.UUID | None = None,
    ) -> Call[s.FlowRunModel]:
        body = {
            "id": str(id or uuid.uuid4()),
            "flow_id": str(flow_id),
            "name": name,
            "parameters": parameters or {},
            "parent_task_run_id": str(parent_task_run_id) if parent_task_run_id else None,
            "tags": tags or [],
            "state": state.to_json() if state is not None else None,
        }
        response = yield self._request("POST", "/flow_runs/", json=body)
        return s.FlowRunModel.model_validate(self._check(response).json())

    @api_call
    def read_flow_run(self, flow_run_id: uuid.UUID | str) -> Call[s.FlowRunModel]:
        response = yield self._request("GET", f"/flow_runs/{flow_run_id}")
        return s.FlowRunModel.model_validate(self._check(response).json())

    @api_call
    def read_flow_runs(self, flow_run_filter: s.FlowRunFilter | None = None) -> Call[list[s.FlowRunModel]]:
        body = (flow_run_filter or s.FlowRunFilter()).model_dump(mode="json", exclude_none=True)
        response = yield self._request("POST", "/flow_runs/filter", json=body)
        return [s.FlowRunModel.model_validate(r) for r in self._check(response).json()]

    @api_call
    def set_flow_run_state(self, flow_run_id: uuid.UUID | str, state: State, force: bool = False) -> Call[s.OrchestrationResult]:
        body = {"state": state.to_json(), "force": force}
        response = yield self._request("POST", f"/flow_runs/{flow_run_id}/set_state", json=body)
        return s.OrchestrationResult.model_validate(self._check(response).json())

    @api_call
    def read_flow_run_states(self, flow_run_id: uuid.UUID | str) -> Call[list[State]]:
        response = yield self._request("GET", "/flow_run_states/", params={"flow_run_id": str(flow_run_id)})
        return [State.from_json(d) for d in self._check(response).json()]

    # -- task runs -------------------------------------------------------------------
    @api_call
    def read_task_run(self, task_run_id: uuid.UUID | str) -> Call[s.TaskRunModel]:
        response = yield self._request("GET", f"/task_runs/{task_run_id}")
        return s.TaskRunModel.model_validate(self._check(response).json())

    @api_call
    def read_task_runs(self, flow_run_id: uuid.UUID | str | None = None, limit: int = 10_000, offset: int = 0) -> Call[list[s.TaskRunModel]]:
        body: dict[str, Any] = {"limit": limit, "offset": offset}
        if flow_run_id is not None:
            body["task_runs"] = {"flow_run_id": {"any_": [str(flow_run_id)]}}
        response = yield self._request("POST", "/task_runs/filter", json=body)
        return [s.TaskRunModel.model_validate(r) for r in self._check(response).json()]

    @api_call
    def read_task_run_states(self, task_run_id: uuid.UUID | str) -> Call[list[State]]:
        response = yield self._request("GET", "/task_run_states/", params={"task_run_id": str(task_run_id)})
        return [State.from_json(d) for d in self._check(response).json()]

    @api_call
    def write_task_run_batch(self, batch: dict[str, Any]) -> Call[dict[str, int]]:
        """Send a write-behind batch (already JSON-ready: ``TaskRunBatch`` shape)."""
        response = yield self._request_json_bytes("POST", "/task_runs/batch", batch)
        return self._check(response).json()

    # -- logs --------------------------------------------------------------------------
    @api_call
    def write_logs(self, logs: list[dict[str, Any]]) -> Call[None]:
        response = yield self._request("POST", "/logs/", json=logs)
        self._check(response)

    @api_call
    def read_logs(
        self,
        flow_run_id: uuid.UUID | str | None = None,
        task_run_id: uuid.UUID | str | None = None,
        level: int | None = None,
        limit: int = 10_000,
        offset: int = 0,
    ) -> Call[list[s.LogModel]]:
        fields: dict[str, Any] = {}
        if flow_run_id is not None:
            fields["flow_run_id"] = {"any_": [str(flow_run_id)]}
        if task_run_id is not None:
            fields["task_run_id"] = {"any_": [str(task_run_id)]}
        if level is not None:
            fields["level"] = {"ge_": level}
        body = {"logs": fields, "limit": limit, "offset": offset}
        response = yield self._request("POST", "/logs/filter", json=body)
        return [s.LogModel.model_validate(r) for r in self._check(response).json()]


def _unreachable(api_url: str | None, exc: httpx.TransportError) -> BackendError:
    """The error for a backend the client could not reach (shared by both drivers): the URL, why, what to do."""
    advice = ("set PARTITA_API_URL to http://HOST:PORT/api" if isinstance(exc, httpx.UnsupportedProtocol)
              else "start it with `partita server start` or fix PARTITA_API_URL")
    return BackendError(f"cannot reach the Partita backend at {api_url} ({str(exc).rstrip('.')}); "
                        f"{advice}, or unset PARTITA_API_URL for the embedded backend")


def _should_retry(response: httpx.Response | None, attempt: int, error: BaseException | None = None) -> float | None:
    """Delay before the next try, or ``None`` to stop (shared by both drivers).

    ``error``: the transport error of a try that got no response; a URL
    whose scheme is not http(s) fails at once, since no retry can mend it.
    """
    if attempt >= len(RETRY_DELAYS) or isinstance(error, httpx.UnsupportedProtocol):
        return None
    if response is not None and response.status_code not in _RETRY_STATUS:
        return None
    delay = RETRY_DELAYS[attempt] * (1 + random.random() * 0.2)
    if response is not None and response.status_code == 429:
        try:  # Retry-After in seconds, as sent by rate limiters
            delay = max(delay, min(float(response.headers.get("retry-after", 0)), 60.0))
        except ValueError:
            pass
    return delay


def _sync_method(name: str) -> Callable[..., Any]:
    logic = getattr(ClientLogic, name)

    @functools.wraps(logic)
    def method(self: "SyncPartitaClient", *args: Any, **kwargs: Any) -> Any:
        gen = logic(self, *args, **kwargs)
        try:
            request = next(gen)
            while True:
                request = gen.send(self._send(request))
        except StopIteration as stop:
            return stop.value

    return method


def _async_method(name: str) -> Callable[..., Any]:
    logic = getattr(ClientLogic, name)

    @functools.wraps(logic)
    async def method(self: "PartitaClient", *args: Any, **kwargs: Any) -> Any:
        gen = logic(self, *args, **kwargs)
        try:
            request = next(gen)
            while True:
                request = gen.send(await self._send(request))
        except StopIteration as stop:
            return stop.value

    return method


def _expose(driver: Callable[[str], Callable[..., Any]]) -> Callable[[type], type]:
    def decorate(cls: type) -> type:
        for name in dir(ClientLogic):
            if getattr(getattr(ClientLogic, name), "__api_call__", False):
                setattr(cls, name, driver(name))
        return cls

    return decorate


def _transport_args(api_url: str | None, sync: bool) -> dict[str, Any]:
    if api_url:
        return {"timeout": httpx.Timeout(30.0, connect=5.0)}
    from partita.client.embedded import AsyncEmbeddedTransport, EmbeddedTransport, get_embedded_backend
    from partita.settings import get_settings

    backend = get_embedded_backend(get_settings().resolved_database_url())
    return {"transport": EmbeddedTransport(backend) if sync else AsyncEmbeddedTransport(backend), "timeout": None}


def _normalise_url(api_url: str | None) -> str | None:
    if not api_url:
        return None
    api_url = api_url.rstrip("/")
    return api_url if api_url.endswith("/api") else api_url + "/api"


@_expose(_sync_method)
class SyncPartitaClient(ClientLogic):
    """Blocking client (thread-safe). ``api_url=None`` means the embedded backend."""

    def __init__(self, api_url: str | None = None, api_key: str | None = None, auth_string: str | None = None) -> None:
        super().__init__(_normalise_url(api_url), api_key, auth_string)
        args = _transport_args(self.api_url, sync=True)
        self._embedded = getattr(args.get("transport"), "backend", None)  # the in-process backend, if any
        self._http = httpx.Client(**args)

    def _send(self, request: httpx.Request) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = self._http.send(request)
            except httpx.TransportError as exc:
                delay = _should_retry(None, attempt, exc)
                if delay is None:
                    raise _unreachable(self.api_url, exc) from exc
            else:
                delay = _should_retry(response, attempt)
                if delay is None:
                    return response
            time.sleep(delay)
            attempt += 1

    def task_run_batch_writer(self) -> Callable[[dict[str, Any]], Any]:
        """What stores a write-behind batch: :meth:`write_task_run_batch`, or in embedded mode on a
        SQLite file the backend's in-thread writer (same rows and transaction, no HTTP hop;
        :mod:`partita_workbench.server.embedded_writer`)."""
        writer = self._embedded.batch_writer() if self._embedded is not None else None
        return writer or self.write_task_run_batch

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "SyncPartitaClient":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


@_expose(_async_method)
class PartitaClient(ClientLogic):
    """Asynchronous client. ``api_url=None`` means the embedded backend."""

    def __init__(self, api_url: str | None = None, api_key: str | None = None, auth_string: str | None = None) -> None:
        super().__init__(_normalise_url(api_url), api_key, auth_string)
        self._http = httpx.AsyncClient(**_transport_args(self.api_url, sync=False))

    async def _send(self, request: httpx.Request) -> httpx.Response:
        attempt = 0
        while True:
            try:
                response = await self._http.send(request)
            except httpx.TransportError as exc:
                delay = _should_retry(None, attempt, exc)
                if delay is None:
                    raise _unreachable(self.api_url, exc) from exc
            else:
                delay = _should_retry(response, attempt)
                if delay is None:
                    return response
            await asyncio.sleep(delay)
            attempt += 1

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> "PartitaClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()


_shared_sync: SyncPartitaClient | None = None


def get_client(sync_client: bool = False) -> PartitaClient | SyncPartitaClient:
    """A client configured from settings (as Prefect's ``get_client``).

    Args:
        sync_client: return a :class:`SyncPartitaClient` instead of the async one.
    """
    from partita.settings import get_settings

    settings = get_settings()
    cls = SyncPartitaClient if sync_client else PartitaClient
    return cls(settings.api_url, settings.api_key, settings.api_auth_string)


def shared_sync_client() -> SyncPartitaClient:
    """The process-wide blocking client used by the engine (created on first use)."""
    global _shared_sync
    if _shared_sync is None:
        from partita.settings import get_settings

        settings = get_settings()
        _shared_sync = SyncPartitaClient(settings.api_url, settings.api_key, settings.api_auth_string)
        _freeze_long_lived_objects()
    return _shared_sync


_frozen = False


def _freeze_long_lived_objects() -> None:
    """Move what exists now (modules, the backend app, its schemas) out of the garbage collector's sight.

    Once the client (and with it the embedded backend) is up, the process
    holds a large, permanent heap of imported objects. CPython's full
    collections traverse all of it, and the engine, the recorder and the
    backend allocate enough to trigger them often: measured here, they made
    validating a 1,000-task batch 5-7 times slower. ``gc.freeze()`` (CPython
    3.7+, the technique its documentation recommends for long-lived objects)
    stops that; garbage made later is collected as usual. Done once per
    process; no full collection first, which would add tens of milliseconds
    to every start for the little start-up garbage it would free.
    """
    global _frozen
    if _frozen:
        return
    import gc

    gc.freeze()
    _frozen = True


def reset_shared_client() -> None:
    """Forget the shared client (after settings change, e.g. in tests)."""
    global _shared_sync
    import sys

    recorder = sys.modules.get("partita.engine.recorder")
    if recorder is not None:
        recorder.flush_all()
    if _shared_sync is not None:
        _shared_sync.close()
    _shared_sync = None
