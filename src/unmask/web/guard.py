"""Refusing requests before any work: the optional bearer token and reading a refused upload.

:class:`BearerTokenMiddleware` is an ASGI middleware: when a token is set, every ``/api/`` route
except ``/api/health`` answers 401 unless the request carries ``Authorization: Bearer <token>``
(compared in constant time). :func:`discard_body` reads and drops a request body up to a byte
limit, so a client still sending its upload reads the refusal instead of a reset connection.
"""

from __future__ import annotations

import hmac
import json
import logging

log = logging.getLogger(__name__)

OPEN_PATHS = frozenset({"/api/health"})


async def discard_body(receive, limit: int) -> None:
    """Read and drop the request body from the ASGI ``receive`` until it ends, the client
    disconnects or more than ``limit`` bytes were read."""
    read = 0
    while read <= limit:
        message = await receive()
        if message["type"] != "http.request":
            return
        read += len(message.get("body", b""))
        if not message.get("more_body", False):
            return


def bearer_ok(header: str | None, token: str) -> bool:
    """Whether an ``Authorization`` header value carries ``token`` as a bearer token."""
    if not header:
        return False
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(value.strip().encode("utf-8"), token.encode("utf-8"))


class BearerTokenMiddleware:
    """ASGI middleware: 401 JSON ``{"detail": ...}`` for ``/api/`` requests without the token
    (``/api/health`` stays open); ``max_body`` bounds how much of a refused upload is read."""

    def __init__(self, app, token: str, max_body: int) -> None:
        if not token:
            raise ValueError("the token must not be empty")
        self.app = app
        self.token = token
        self.max_body = int(max_body)

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/") or path in OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        header = None
        for name, value in scope.get("headers", ()):
            if name == b"authorization":
                header = value.decode("latin-1")
                break
        if bearer_ok(header, self.token):
            await self.app(scope, receive, send)
            return
        detail = "missing bearer token" if header is None else "wrong bearer token"
        log.info("refused %s %s: %s", scope.get("method"), path, detail)
        await discard_body(receive, self.max_body)
        body = json.dumps({"detail": f"{detail}: send 'Authorization: Bearer <token>'"}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"www-authenticate", b'Bearer realm="unmask"'),
        ]
        await send({"type": "http.response.start", "status": 401, "headers": headers})
        await send({"type": "http.response.body", "body": body})
