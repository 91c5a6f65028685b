"""A worker's HTTP API: its block store, for masters and clients.

``GET  /api/v1/blocks/{id}``  -- the block (``Range: bytes=a-b`` gives 206); 404 if not here,
   410 ``block_corrupted`` if it was dropped for failing its checksums
``PUT  /api/v1/blocks/{id}?durable=&ssd=&pin=``  -- store the body as the block; the header
   ``X-Silt-Crc32c`` (the body's CRC-32C, 8 hex digits) is required, and a body that does
   not match it is refused (400) with nothing stored
``POST /api/v1/blocks/{pin,unpin,remove,free}`` ``{"ids": [...]}``
``GET  /api/v1/blocks``  -- ``{id: size}`` of every cached block
``GET  /api/v1/worker``  -- identity, tier usage and counters
``GET  /metrics``  -- Prometheus: cache per tier, hits/misses/evictions, operations
Every route needs a bearer token (``/metrics`` is open from loopback): the cluster
secret for everything, an admin or client token a master vouches for
(:mod:`siltfs.worker.credentials`) for block reads and for storing a block not held
here; a read-only token reads only (:func:`siltfs.server.roles.worker_refusal`).

Every byte sent is verified first (:mod:`siltfs.worker.checksums`): an answer reads the
chunks it covers in pieces of ``SEND_CHUNK`` and checks each piece before it leaves.  A
mismatch in the first piece is a 410 ``block_corrupted`` answer; later, the answer is cut
short (the client sees a broken body, then 410 when it asks again).  Either way the
block is dropped and counted (``silt_block_checksum_failures_total``).
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
from siltfs.errors import BlockCorrupted, FileExists, InvalidArgument, PermissionDenied
from siltfs.server.data import Unsatisfiable, parse_range
from siltfs.server.errors import error_response, install_error_handlers, silt_error_response
from siltfs.server.guard import Guard
from siltfs.server.models import BlockId
from siltfs.server.openapi import document_errors
from siltfs.server.opmetrics import OpMetrics, OpMetricsMiddleware
from siltfs.server.roles import CLUSTER, may_manage_blocks, worker_refusal
from siltfs.worker.blockstore import BlockStore
from siltfs.worker.checksums import BlockSums
from siltfs.worker.client import CRC_HEADER
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
        opened = store.open_block(block_id, promote=promote)
        if opened is None:
            why = store.corruption(block_id)
            if why is not None:
                raise BlockCorrupted(
                    f"failed its checksums ({why}) and was dropped", path=f"block {block_id}"
                )
            return error_response(
                404, "file_not_found", "block not cached here", f"block {block_id}"
            )
        source, sums = opened
        size = len(source) if isinstance(source, bytes) else os.fstat(source).st_size
        if size != sums.length:
            if not isinstance(source, bytes):
                os.close(source)
            reason = f"{size} bytes, {sums.length} recorded"
            raise store.corrupted(block_id, reason)
        try:
            wanted = parse_range(range_header, size)
        except Unsatisfiable:
            if not isinstance(source, bytes):
                os.close(source)
            return error_response(
                416,
                "range_not_satisfiable",
                f"range {range_header} outside 0..{size}",
                f"block {block_id}",
                {"Content-Range": f"bytes */{size}"},
            )
        checked = Checked(store, block_id, sums)
        if wanted is None:
            return BlockResponse(source, 0, size, 200, {}, checked)
        start, end = wanted
        headers = {"Content-Range": f"bytes {start}-{end - 1}/{size}"}
        return BlockResponse(source, start, end, 206, headers, checked)

    @router.put("/blocks/{block_id}")
    async def put_block(
        request: Request,
        block_id: BlockId,
        durable: bool = False,
        ssd: bool = False,
        pin: bool = False,
        crc: str | None = Header(None, alias=CRC_HEADER, pattern="^[0-9a-fA-F]{8}$"),
    ) -> JSONResponse:
        what = f"block {block_id}"
        role = request.scope.get("state", {}).get("silt_role", CLUSTER)
        if not may_manage_blocks(role):
            if pin:
                raise PermissionDenied("only the cluster secret pins blocks", what)
            if store.contains(block_id):
                raise FileExists("cached here already; only the cluster replaces a block", what)
        if crc is None:
            raise InvalidArgument(f"a block needs its CRC-32C in {CRC_HEADER}", path=what)
        data = await request.body()
        sums, whole = await run_in_threadpool(BlockSums.measure, data)
        if whole != int(crc, 16):
            raise InvalidArgument(
                f"the body's CRC-32C is {whole:08x}, {CRC_HEADER} says {crc.lower()}: "
                "damaged on the way, nothing stored",
                path=what,
            )
        if pin:
            store.pin([block_id])
        tier = await run_in_threadpool(
            store.put, block_id, data, durable=durable, ssd=ssd, sums=sums
        )
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


class Checked:
    """The checksums an answer verifies its bytes against, and what a mismatch does."""

    def __init__(self, store: BlockStore, block_id: int, sums: BlockSums) -> None:
        self.store = store
        self.block_id = block_id
        self.sums = sums

    def fail(self, start: int, end: int) -> BlockCorrupted:
        return self.store.corrupted(self.block_id, f"checksum mismatch in bytes {start}-{end - 1}")


class BlockResponse(Response):
    """Bytes [start, end) of a block from an open file (closed when done) or from bytes,
    sent in chunks of about ``SEND_CHUNK`` with the transport's flow control: the first
    bytes leave at once, and no copy of the whole block is ever made.  A chunk in the
    page cache is read in the event loop; one that must come from the disk, in a
    thread.  Each chunk is read whole checksum chunks at a time and verified before any
    of it is sent (:class:`Checked`)."""

    media_type = "application/octet-stream"

    def __init__(
        self,
        source: bytes | int,
        start: int,
        end: int,
        status: int,
        headers: dict[str, str],
        checked: Checked,
    ) -> None:
        self.source = source
        self.start = start
        self.end = end
        self.checked = checked
        self.sums = checked.sums
        self.status_code = status
        self.background = None
        self.init_headers({**headers, "Content-Length": str(end - start)})

    async def _read(self, pos: int, n: int) -> bytes | memoryview:
        source = self.source
        if isinstance(source, bytes):
            return memoryview(source)[pos : pos + n]
        if _in_page_cache(source, pos + n - 1):
            return os.pread(source, n, pos)  # a copy from memory: not worth a thread
        return await anyio.to_thread.run_sync(os.pread, source, n, pos)

    async def _verified(self, pos: int) -> tuple[bytes | memoryview, int]:
        """The checked chunk that begins at *pos* (a checksum chunk boundary) and covers
        up to ``SEND_CHUNK`` bytes of the answer, and where it begins."""
        sums = self.sums
        first, last = sums.span(pos, min(self.end, max(pos, self.start) + SEND_CHUNK))
        chunk = await self._read(first, last - first)
        if len(chunk) != last - first or not sums.check(first, [chunk]):
            raise self.checked.fail(first, last)
        return chunk, first

    async def _send_body(self, send: Send, first: tuple[bytes | memoryview, int] | None) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        pos = self.start
        while pos < self.end:
            if first is not None:
                (chunk, at), first = first, None
            else:
                try:
                    chunk, at = await self._verified(pos - pos % self.sums.chunk)
                except BlockCorrupted:
                    return  # the answer ends unfinished: the server closes the connection
            stop = min(self.end, at + len(chunk))
            piece = (
                chunk
                if (at, stop) == (pos, at + len(chunk))
                else memoryview(chunk)[pos - at : stop - at]
            )
            pos = stop
            await send({"type": "http.response.body", "body": piece, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            first = None
            if self.end > self.start:
                try:
                    first = await self._verified(self.start - self.start % self.sums.chunk)
                except BlockCorrupted as exc:
                    await silt_error_response(exc)(scope, receive, send)
                    return
            async with anyio.create_task_group() as group:

                async def until_disconnect() -> None:
                    while (await receive())["type"] != "http.disconnect":
                        pass
                    group.cancel_scope.cancel()

                group.start_soon(until_disconnect)
                await self._send_body(send, first)
                group.cancel_scope.cancel()
        finally:
            if isinstance(self.source, int):
                os.close(self.source)


def create_worker_app(node: WorkerNode, *, auth: bool = True) -> FastAPI:
    """The worker's API over *node*; *auth*: bearer tokens required (the node's
    credentials), else everyone may do everything (tests of the API only)."""
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
    app.add_middleware(
        Guard,
        credentials=node.credentials if auth else None,
        api_prefix=API,
        max_body=MAX_BLOCK_BODY,
        policy=worker_refusal,
        full_role=CLUSTER,
    )
    return app
