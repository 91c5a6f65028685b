"""Operation counts and latencies of an HTTP server (master or worker), per route.

``silt_requests_total{server,method,route,status}`` and
``silt_request_seconds{server,method,route}`` (a histogram); *route* is the route
template (``/api/v1/blocks/{block_id}``), never the raw URL, so labels stay bounded.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API = "/api/v1"
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class OpMetrics:
    def __init__(self, registry: CollectorRegistry, server: str) -> None:
        self.server = server
        self.count = Counter(
            "silt_requests",
            "API operations served",
            ["server", "method", "route", "status"],
            registry=registry,
        )
        self.seconds = Histogram(
            "silt_request_seconds",
            "API operation latency",
            ["server", "method", "route"],
            buckets=BUCKETS,
            registry=registry,
        )


class OpMetricsMiddleware:
    def __init__(self, app: ASGIApp, *, metrics: OpMetrics) -> None:
        self.app = app
        self.metrics = metrics

    def _route(self, scope: Scope) -> str:
        """The template of the route that handled the request (routing leaves it in
        the scope); "unmatched" for unknown URLs."""
        route = scope.get("route")
        path = getattr(route, "path_format", None) or getattr(route, "path", None)
        if not path:
            return "unmatched"
        if scope["path"].startswith(API) and not str(path).startswith(API):
            return API + str(path)  # a route of a router included under the API prefix
        return str(path)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route, method = self._route(scope), scope.get("method", "?")
            m = self.metrics
            m.count.labels(m.server, method, route, str(status)).inc()
            m.seconds.labels(m.server, method, route).observe(time.perf_counter() - start)
