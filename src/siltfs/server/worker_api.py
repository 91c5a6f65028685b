"""A worker's HTTP API: its block store, for masters and clients.

``GET  /api/v1/blocks/{id}``  -- the block (``Range: bytes=a-b`` gives 206); 404 if not here
``PUT  /api/v1/blocks/{id}?durable=&ssd=&pin=``  -- store the body as the block
``POST /api/v1/blocks/{pin,unpin,remove,free}`` ``{"ids": [...]}``
``GET  /api/v1/blocks``  -- ``{id: size}`` of every cached block
``GET  /api/v1/worker``  -- identity, tier usage and counters
``GET  /metrics``  -- Prometheus: cache per tier, hits/misses/evictions, operations
Every route needs the cluster's bearer token (``/metrics`` is open from loopback).
"""

from __future__ import annotations

import os
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI, Header, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CollectorRegistry, generate_latest
from pydantic import BaseModel, ConfigDict, StrictInt
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from siltfs import __version__
from siltfs.server.data import Unsatisfiable, parse_range
from siltfs.server.errors import error_response, install_error_handlers
from siltfs.server.guard import Guard
from siltfs.server.models import BlockId
from siltfs.server.openapi import document_errors
from siltfs.server.opmetrics import OpMetrics, OpMetricsMiddleware
from siltfs.worker.metrics import CacheCollector
from siltfs.worker.node import WorkerNode

API = "/api/v1"
MAX_BLOCK_BODY = 4 * 1024**3
SEND_CHUNK = 1024 * 1024  # a block answer leaves in pieces of this size (measured best)


class IdsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[StrictInt]


def blocks_router(node: WorkerNode) -> APIRouter:
    router = APIRouter()
    store = node.store

    @router.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__, "id": node.id}

    @router.get("/worker")
    def worker() -> dict[str, Any]:
        return node.describe()

    @router.get("/blocks")
    def blocks() -> dict[str, int]:
        return {str(k): v for k, v in store.block_sizes().items()}

    @router.head("/blocks/{block_id}")
    def has_block(block_id: BlockId) -> Response:
        """200 if the block is here, 404 if not (no body either way)."""
        return Response(status_code=200 if store.contains(block_id) else 404)

    @router.get("/blocks/{block_id}")
    def get_block(
        block_id: BlockId,
        promote: bool = False,
        range_header: str | None = Header(None, alias="Range"),
    ) -> Response:
        source = _open_block(node, block_id, promote)
        if source is None:
            return error_response(
                404, "file_not_found", "block not cached here", f"block {block_id}"
            )
        size = len(source) if isinstance(source, bytes) else os.fstat(source).st_size
        try:
            wanted = parse_range(range_header, size)
        except Unsatisfiable:
            if not isinstance(source, bytes):
                os.close(source)
            return error_response(
                416, "range_not_satisfiable", f"range {range_header} outside 0..{size}",
                f"block {block_id}", {"Content-Range": f"bytes */{size}"},
            )  # fmt: skip
        if wanted is None:
            return BlockResponse(source, 0, size, 200, {})
        start, end = wanted
        headers = {"Content-Range": f"bytes {start}-{end - 1}/{size}"}
        return BlockResponse(source, start, end, 206, headers)

    @router.put("/blocks/{block_id}")
    async def put_block(
        request: Request, block_id: BlockId, durable: bool = False, ssd: bool = False,
        pin: bool = False,
    ) -> JSONResponse:  # fmt: skip
        data = await request.body()
        if pin:
            store.pin([block_id])
        tier = await run_in_threadpool(store.put, block_id, data, durable=durable, ssd=ssd)
        # the block-set version that includes this block: a heartbeat taken before it
        # (lower version) must not make the master forget the block
        return JSONResponse({"tier": tier, "size": len(data), "version": store.version})

    @router.post("/blocks/pin")
    def pin(body: IdsBody) -> dict[str, Any]:
        store.pin(body.ids)
        return {}

    @router.post("/blocks/unpin")
    def unpin(body: IdsBody) -> dict[str, Any]:
        store.unpin(body.ids)
        return {}

    @router.post("/blocks/remove")
    def remove(body: IdsBody) -> dict[str, Any]:
        store.remove(body.ids)
        return {}

    @router.post("/blocks/free")
    def free(body: IdsBody) -> dict[str, int]:
        return {"freed": store.free(body.ids)}

    return router


def _open_block(node: WorkerNode, block_id: int, promote: bool) -> bytes | int | None:
    """The block to send: an open descriptor of its SSD file (sent in chunks, never read
    whole into memory), its bytes if it is in the MEM tier, None if it is not here.
    Counted as a hit and touched (LRU) like ``BlockStore.get``."""
    store = node.store
    if not promote:
        with store.lock:
            if block_id not in store.mem and block_id in store.ssd:
                try:
                    fd = os.open(store.ssd.path(block_id), os.O_RDONLY | os.O_CLOEXEC)
                except FileNotFoundError:
                    fd = -1
                if fd >= 0:
                    store.ssd.touch(block_id)
                    store.hits["SSD"] += 1
                    return fd
    return store.get(block_id, promote=promote)


_NOWAIT: int | None = getattr(os, "RWF_NOWAIT", None)


def _in_page_cache(fd: int, offset: int) -> bool:
    """Whether the byte at *offset* can be read without waiting for the disk (Linux
    ``RWF_NOWAIT``; elsewhere assumed).  Block files are read sequentially, so the last
    byte of a chunk stands for the chunk."""
    if _NOWAIT is None:
        return True
    try:
        return os.preadv(fd, [bytearray(1)], offset, _NOWAIT) == 1
    except BlockingIOError:
        return False
    except OSError:  # RWF_NOWAIT not supported here
        return True


class BlockResponse(Response):
    """Bytes [start, end) of a block from an open file (closed when done) or from bytes,
    sent in chunks of ``SEND_CHUNK`` with the transport's flow control: the first bytes
    leave at once, and no copy of the whole block is ever made.  A chunk in the page
    cache is read in the event loop; one that must come from the disk, in a thread."""

    media_type = "application/octet-stream"

    def __init__(
        self, source: bytes | int, start: int, end: int, status: int, headers: dict[str, str]
    ) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.status_code = status
        self.background = None
        self.init_headers({**headers, "Content-Length": str(end - start)})

    async def _send_body(self, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})  # fmt: skip
        pos, end, source = self.start, self.end, self.source
        while pos < end:
            n = min(SEND_CHUNK, end - pos)
            chunk: bytes | memoryview
            if isinstance(source, bytes):
                chunk = memoryview(source)[pos : pos + n]
            elif _in_page_cache(source, pos + n - 1):
                chunk = os.pread(source, n, pos)  # a copy from memory: not worth a thread
            else:
                chunk = await anyio.to_thread.run_sync(os.pread, source, n, pos)
            if not chunk:
                break  # shorter than it was: the answer ends early, the client sees it
            pos += len(chunk)
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:

                async def until_disconnect() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    group.cancel_scope.cancel()

                group.start_soon(until_disconnect)
                await self._send_body(send)
                group.cancel_scope.cancel()
        finally:
            if isinstance(self.source, int):
                os.close(self.source)


def create_worker_app(node: WorkerNode, token: str | None) -> FastAPI:
    app = FastAPI(title="siltfs worker", version=__version__)
    install_error_handlers(app)
    document_errors(app, API)
    app.include_router(blocks_router(node), prefix=API)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CacheCollector(node.store))
    ops = OpMetrics(registry, "worker")

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        return PlainTextResponse(
            generate_latest(registry).decode(), media_type="text/plain; version=0.0.4"
        )

    app.add_middleware(OpMetricsMiddleware, metrics=ops)
    app.add_middleware(Guard, token=token, api_prefix=API, max_body=MAX_BLOCK_BODY)
    return app
