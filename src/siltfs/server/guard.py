"""The ASGI middleware in front of every route: bearer-token auth and the body limit.

Auth (when the app has credentials): every route under ``/api`` needs
``Authorization: Bearer <token>``, else 401 ``unauthenticated``.  ``/metrics`` needs it
too, except from a loopback client (127.0.0.1 / ::1), so a local Prometheus or
``curl localhost`` can scrape without the token.  ``/docs`` and ``/openapi.json`` are open
(they describe the API, they expose no data).

Roles: the app's credentials say which role a token has (a master's:
:class:`~siltfs.server.tokens.MasterCredentials`; a worker's:
:class:`~siltfs.worker.credentials.WorkerCredentials`), its policy what each role may
call (:mod:`siltfs.server.roles`; 403 ``permission_denied`` otherwise).  The role is left
in ``scope["state"]["silt_role"]``; without credentials it is the app's full role.

Body limit: a request body under ``/api`` larger than ``max_body`` bytes is refused with
413 ``payload_too_large`` before any handler runs -- except the data route, which
streams.  Checked on ``Content-Length``, and by buffering (at most ``max_body`` + 1
bytes) when the body is chunked.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from siltfs.server.errors import error_response
from siltfs.server.roles import ADMIN, refusal

LOOPBACK = ("127.0.0.1", "::1", "localhost")
Policy = Callable[[str, str, str], "str | None"]  # (role, method, route) -> why refused


class Credentials(Protocol):
    def role(self, token: bytes) -> str | None:
        """The role of a bearer token (None: not a valid token)."""
        ...


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
        credentials: Credentials | None,
        api_prefix: str,
        max_body: int,
        streaming_paths: Collection[str] = (),
        policy: Policy = refusal,
        full_role: str = ADMIN,
    ) -> None:
        self.app = app
        self.credentials = credentials
        self.policy = policy
        self.full_role = full_role  # the role of every request when there is no auth
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
        assert self.credentials is not None
        value = _header(scope, b"authorization")
        if value is None:
            return None
        scheme, _, token = value.strip().partition(b" ")
        if scheme.lower() != b"bearer" or not token.strip():
            return None
        return self.credentials.role(token.strip())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        role = self.full_role
        if self.credentials is not None and self._needs_token(scope):
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
            why = self.policy(role, scope["method"], route)
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
