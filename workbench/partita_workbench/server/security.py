"""Request guards: the API key / basic-auth check and the request body size limit (pure ASGI).

With ``PARTITA_SERVER_API_KEY`` set, every request but the health check must
carry ``Authorization: Bearer <key>``; with ``PARTITA_SERVER_API_AUTH_STRING``
(``user:password``), HTTP basic auth with that pair (either is enough when
both are set). Anything else is answered 401 before reaching a route; the
answer says whether credentials were missing or rejected (a wrong key).
Keys are compared in constant time.

Bodies larger than ``PARTITA_SERVER_MAX_BODY_BYTES`` are refused with 413,
from ``Content-Length`` when given and by counting otherwise.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from typing import Any, Awaitable, Callable

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

OPEN_PATHS = frozenset({"/api/health"})


async def _reply(send: Send, status: int, detail: str, headers: list[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps({"detail": detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value
    return None


class AuthMiddleware:
    """Refuse requests without the configured API key or basic-auth pair (see module docstring)."""

    def __init__(self, app: ASGIApp, api_key: str | None, auth_string: str | None) -> None:
        self.app = app
        self.api_key = api_key.encode() if api_key else None
        self.basic = base64.b64encode(auth_string.encode()) if auth_string else None

    def _refusal(self, scope: Scope) -> str | None:
        """Why the request is refused (the 401 detail), or ``None`` when its credentials are right.

        Missing credentials, credentials of a kind this server does not take,
        and wrong ones (a key or password that does not match) are told apart.
        """
        header = _header(scope, b"authorization") or b""
        scheme, _, credentials = header.partition(b" ")
        scheme, credentials = scheme.lower(), credentials.strip()
        if not credentials or scheme not in (b"bearer", b"basic"):
            accepted = []
            if self.api_key is not None:
                accepted.append("PARTITA_API_KEY as 'Authorization: Bearer <key>'")
            if self.basic is not None:
                accepted.append("PARTITA_API_AUTH_STRING as basic auth")
            return "authentication required: send " + " or ".join(accepted)
        if scheme == b"bearer":
            if self.api_key is None:
                return ("this server takes no API key but a user and password: unset PARTITA_API_KEY and set "
                        "PARTITA_API_AUTH_STRING to the server's PARTITA_SERVER_API_AUTH_STRING")
            if hmac.compare_digest(credentials, self.api_key):
                return None
            return "the API key was rejected: PARTITA_API_KEY does not match the server's PARTITA_SERVER_API_KEY"
        if self.basic is None:
            return ("this server takes an API key, not a user and password: set PARTITA_API_KEY to the server's "
                    "PARTITA_SERVER_API_KEY")
        try:
            normalised = base64.b64encode(base64.b64decode(credentials, validate=True))
        except (binascii.Error, ValueError):
            return "the basic auth credentials are malformed: set PARTITA_API_AUTH_STRING to 'user:password'"
        if hmac.compare_digest(normalised, self.basic):
            return None
        return ("the user and password were rejected: PARTITA_API_AUTH_STRING does not match the server's "
                "PARTITA_SERVER_API_AUTH_STRING")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in OPEN_PATHS or scope.get("method") == "OPTIONS":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        challenge = [(b"www-authenticate", b'Bearer realm="partita"' if self.api_key else b'Basic realm="partita"')]
        await _reply(send, 401, refusal, challenge)


class _TooLarge(Exception):
    pass


class BodySizeLimitMiddleware:
    """Answer 413 to request bodies over ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = _header(scope, b"content-length")
        message = f"request body larger than {self.max_bytes} bytes (PARTITA_SERVER_MAX_BODY_BYTES)"
        if length is not None:
            try:
                too_big = int(length) > self.max_bytes
            except ValueError:
                await _reply(send, 400, "invalid Content-Length header")
                return
            if too_big:
                await _reply(send, 413, message)
                return
        received = 0
        started = False

        async def counting_receive() -> dict[str, Any]:
            nonlocal received
            event = await receive()
            if event["type"] == "http.request":
                received += len(event.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return event

        async def tracking_send(event: dict[str, Any]) -> None:
            nonlocal started
            if event["type"] == "http.response.start":
                started = True
            await send(event)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except _TooLarge:
            if not started:
                await _reply(send, 413, message)
