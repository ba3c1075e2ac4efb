"""ASGI middleware: one log line per request, body size limits, rate limits on public endpoints.

The log line holds the method, the path (our paths carry no personal data: no query string, no
client address is logged), the status, the body sizes and the time taken. A body announced larger
than the limit is refused before it is read (413); one that streams past it is cut by
:func:`kaga_vc.server._http.read_body`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from ..errors import DOCUMENT_TOO_LARGE, RATE_LIMITED
from ._problems import problem_body

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

log = logging.getLogger("kaga_vc.server.access")


async def _send_problem(send: Send, code: str, detail: str, status: int) -> None:
    import json

    body = json.dumps(problem_body(code, detail, status)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/problem+json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class RequestLog:
    """One line per request on the ``kaga_vc.server.access`` logger; no personal data."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        sent = 0

        async def counting_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        try:
            await self.app(scope, receive, counting_send)
        finally:
            path = str(scope.get("path", ""))[:200].encode("ascii", "backslashreplace").decode()
            log.info("%s %s %d %dB %.1fms", scope.get("method", "-"), path, status or 500, sent,
                     (time.perf_counter() - started) * 1000)


class BodyLimit:
    """Refuse a request whose ``Content-Length`` is over ``limit`` bytes with 413 before reading it."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope.get("headers", ()):
                if name == b"content-length":
                    try:
                        length = int(value)
                    except ValueError:
                        length = self.limit + 1
                    if length > self.limit:
                        await _send_problem(send, DOCUMENT_TOO_LARGE,
                                            f"the request body is larger than {self.limit} bytes", 413)
                        return
        await self.app(scope, receive, send)


class RateLimiter:
    """A token bucket per client and minute for the public endpoints (per worker, in memory)."""

    def __init__(self, per_minute: int, *, max_clients: int = 10_000) -> None:
        self.rate = per_minute / 60.0
        self.capacity = float(max(per_minute, 1))
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str, now: float | None = None) -> bool:
        if self.rate <= 0:
            return True
        moment = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.get(client, (self.capacity, moment))
            tokens = min(self.capacity, tokens + (moment - last) * self.rate)
            allowed = tokens >= 1.0
            self._buckets[client] = (tokens - 1.0 if allowed else tokens, moment)
            if len(self._buckets) > self.max_clients:  # forget the longest idle clients
                for key, _ in sorted(self._buckets.items(), key=lambda kv: kv[1][1])[: self.max_clients // 10]:
                    del self._buckets[key]
            return allowed


def rate_limited_problem() -> tuple[str, str, int]:
    return RATE_LIMITED, "too many requests from this client; try again in a minute", 429
