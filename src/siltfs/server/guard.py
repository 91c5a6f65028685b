"""The ASGI middleware in front of every route: bearer-token auth and the body limit.

Auth (when the app has a token): every route under ``/api`` needs
``Authorization: Bearer <token>``, else 401 ``unauthenticated``.  ``/metrics`` needs it
too, except from a loopback client (127.0.0.1 / ::1), so a local Prometheus or
``curl localhost`` can scrape without the token.  ``/docs`` and ``/openapi.json`` are open
(they describe the API, they expose no data).

Roles: the admin token may do everything; client tokens (``silt token create``, checked
against :class:`~siltfs.server.tokens.TokenStore`) only what :mod:`siltfs.server.roles`
allows (403 ``permission_denied`` otherwise).  The role is left in ``scope["state"]``.

Body limit: a request body under ``/api`` larger than ``max_body`` bytes is refused with
413 ``payload_too_large`` before any handler runs -- except the data route, which
streams.  Checked on ``Content-Length``, and by buffering (at most ``max_body`` + 1
bytes) when the body is chunked.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from siltfs.server.errors import error_response
from siltfs.server.roles import ADMIN, CLIENT, READ_ONLY, refusal
from siltfs.server.tokens import TokenStore

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value)
    return None


class Guard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        api_prefix: str,
        max_body: int,
        streaming_paths: Collection[str] = (),
        tokens: TokenStore | None = None,
    ) -> None:
        self.app = app
        self.token = token.encode() if token is not None else None
        self.tokens = tokens  # client tokens (siltfs.server.tokens); roles in .roles
        self.api_prefix = api_prefix.rstrip("/")
        self.max_body = max_body
        self.streaming_paths = frozenset(streaming_paths)

    def _is_api(self, path: str) -> bool:
        return path == self.api_prefix or path.startswith(self.api_prefix + "/")

    def _needs_token(self, scope: Scope) -> bool:
        path: str = scope["path"]
        if path == "/api" or path.startswith("/api/"):
            return True
        if path.rstrip("/") == "/metrics":
            client = scope.get("client")
            return not (client and client[0] in LOOPBACK)
        return False

    def _role(self, scope: Scope) -> str | None:
        """The role of the request's bearer token (None: no valid token)."""
        assert self.token is not None
        value = _header(scope, b"authorization")
        if value is None:
            return None
        scheme, _, credentials = value.strip().partition(b" ")
        if scheme.lower() != b"bearer":
            return None
        credentials = credentials.strip()
        if secrets.compare_digest(credentials, self.token):
            return ADMIN
        client = self.tokens.lookup(credentials) if self.tokens is not None else None
        if client is None:
            return None
        return READ_ONLY if client.read_only else CLIENT

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        role = ADMIN
        if self.token is not None and self._needs_token(scope):
            found = self._role(scope)
            if found is None:
                response = error_response(
                    401,
                    "unauthenticated",
                    "missing or wrong bearer token (send 'Authorization: Bearer <token>')",
                    headers={"WWW-Authenticate": "Bearer"},
                )
                await response(scope, receive, send)
                return
            role = found
            route = path[len(self.api_prefix) :] if self._is_api(path) else path
            why = refusal(role, scope["method"], route)
            if why is not None:
                await error_response(403, "permission_denied", why, path=route)(
                    scope, receive, send
                )
                return
        scope.setdefault("state", {})["silt_role"] = role
        if not self._is_api(path) or path in self.streaming_paths:
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None:
            if declared.isdigit() and int(declared) > self.max_body:
                await self._too_large(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        if _header(scope, b"transfer-encoding") is None:
            await self.app(scope, receive, send)
            return
        # chunked: buffer up to the limit, then replay the body to the app
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            body += message.get("body", b"")
            if len(body) > self.max_body:
                await self._too_large(scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(
            413,
            "payload_too_large",
            f"request body larger than {self.max_body} bytes",
            headers={"Connection": "close"},
        )
        await response(scope, receive, send)
