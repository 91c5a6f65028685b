"""Data routes: ranged, streamed reads and streamed, all-or-nothing writes.

``GET  /data?path=&read_type=&sync_interval_ms=``  -- the bytes; one ``Range: bytes=a-b``
   (or ``a-``, ``-n``) gives 206 with ``Content-Range``; ``ETag`` names the exact file
   version (inode id, generation, length) and ``If-Match`` with another
   version fails with 404 ``file_not_found`` -- a reader never mixes two versions.
``GET  /data/info?path=...``  -- ``{"length", "etag", "inode_id", "generation", ...}``
   for a reader about to fetch ranges (all open errors surface here, as JSON).
``POST /data/check {"path", "exclusive"}``  -- the checks ``open(path, "wb")`` makes.
``PUT  /data?path=&write_type=&exclusive=&block_size=``  -- the body becomes the file.
   It is committed only when the whole body arrived (``Content-Length`` bytes, or the
   end of a chunked body); on a disconnect or any error the writer is aborted, so no
   partial file ever appears.  Answers the new file's FileInfo.
``POST /data/change?path=&length=&block_size=&blocks=&shared=``  -- a change to a file
   (the new blocks in the body, the rest kept from its base by id): the next version,
   copy-on-write; all or nothing, as ``PUT /data``.
"""

from __future__ import annotations

import collections
import contextlib
import functools
from collections.abc import AsyncIterator, Callable, Iterator
from typing import IO, Annotated, Any

import anyio
from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from siltfs.client.changes import change_writer
from siltfs.client.common import abort_writer
from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.client.posix import creation, parse_xattrs
from siltfs.client.versions import MAX_CHANGE_TEXT, Change, block_lengths, parse_change
from siltfs.errors import FileNotFound, InvalidArgument, UfsError
from siltfs.model import paths
from siltfs.model.enums import WriteType
from siltfs.model.inode import FileInfo
from siltfs.server.errors import error_response
from siltfs.server.held import HeldVersions
from siltfs.server.models import (
    MAX_BLOCK_SIZE,
    MAX_INT,
    BlockSizeQuery,
    InodeQuery,
    OwnerQuery,
    PathQuery,
    PermQuery,
    ReadTypeQuery,
    ReleaseBody,
    ReplicasQuery,
    SyncQuery,
    WriteCheckBody,
    WriteTypeQuery,
    XattrsQuery,
)

READ_CHUNK = 1024 * 1024
WRITE_BATCH = 1024 * 1024


def data_etag(inode: Any) -> str:
    """A strong ETag for one version of a file's bytes.

    Bytes never change under one inode id + generation: an overwrite makes a new inode,
    a metadata sync that sees new UFS content bumps the generation.  Persisting (which
    records a fingerprint) does not change the bytes, so it is not part of the tag.
    """
    return f'"{inode.id}-{inode.generation}-{inode.length}"'


class Unsatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """``(start, end)`` (end exclusive) for one byte range, None to send everything.

    A header we do not understand (other units, several ranges, bad syntax) is ignored,
    as RFC 9110 allows; a well-formed range outside the file raises Unsatisfiable.
    """
    if header is None:
        return None
    unit, _, spec = header.strip().partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    if not dash or not (first.isdigit() or last.isdigit()):
        return None
    if first and not first.isdigit() or last and not last.isdigit():
        return None
    if not first:  # suffix: the last N bytes
        n = int(last)
        if n == 0 or size == 0:
            raise Unsatisfiable
        return max(0, size - n), size
    start = int(first)
    end = int(last) + 1 if last else size
    if last and end <= start:
        return None
    if start >= size:
        raise Unsatisfiable
    return start, min(end, size)


def _open_reader(
    fs: EmbeddedFileSystem,
    path: str,
    read_type: str | None,
    sync_interval_ms: int | None,
    inode_id: int | None = None,
) -> tuple[IO[Any], Any]:
    """Open *path*; with *inode_id* (a reader that opened that file earlier), follow the
    file to wherever it was renamed meanwhile."""
    try:
        f = fs.open(path, "rb", read_type=read_type, sync_interval_ms=sync_interval_ms)
    except FileNotFound:
        moved = _current_path(fs, inode_id) if inode_id is not None else None
        if moved is None:
            raise
        f = fs.open(moved, "rb", read_type=read_type, sync_interval_ms=sync_interval_ms)
    inode = getattr(getattr(f, "raw", f), "inode")  # noqa: B009 - the BlockReader's inode
    if inode_id is not None and inode.id != inode_id:  # another file took the name
        moved = _current_path(fs, inode_id)
        if moved is not None:
            f.close()
            return _open_reader(fs, moved, read_type, sync_interval_ms)
    return f, inode


def _current_path(fs: EmbeddedFileSystem, inode_id: int) -> str | None:
    return fs.master.path_of_inode(inode_id)


def _stream(f: IO[Any], first: bytes, remaining: int) -> Iterator[bytes]:
    try:
        if first:
            yield first
        while remaining > 0:
            chunk = f.read(min(READ_CHUNK, remaining))
            if not chunk:
                raise UfsError("file ended before its recorded length")
            remaining -= len(chunk)
            yield chunk
    finally:
        f.close()


RAW_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The file's bytes (streamed; committed once all of them arrived).",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@contextlib.asynccontextmanager
async def all_or_nothing(abort: Callable[[], object], path: str) -> AsyncIterator[None]:
    """Around the taking in and commit of a body: any failure, a disconnect too (400
    ``invalid_argument``), runs *abort* -- shielded from the cancellation a disconnect
    brings -- before it propagates, so nothing half-written is ever committed."""
    try:
        yield
    except BaseException as exc:
        with anyio.CancelScope(shield=True):
            await run_in_threadpool(abort)
        if isinstance(exc, ClientDisconnect):
            raise InvalidArgument("client disconnected; nothing was written", path=path) from exc
        raise


def data_router(fs: EmbeddedFileSystem, held: HeldVersions) -> APIRouter:
    router = APIRouter()

    @router.get("/data/info")
    def data_info(
        path: PathQuery,
        read_type: ReadTypeQuery = None,
        sync_interval_ms: SyncQuery = None,
        hold: bool = False,
    ) -> dict[str, Any]:
        """What a ranged reader needs before it fetches: length and version (ETag);
        *hold*: keep the version's cached blocks readable (``/data/held``) until the
        ``hold`` answered is released (server.held)."""
        f, inode = _open_reader(fs, path, read_type, sync_interval_ms)
        ids = inode.block_ids()
        token = held.hold(ids) if hold else None  # (the reader holds them until here)
        f.close()
        master = fs.master
        located = ((i, bid, master.locate_block(bid)) for i, bid in enumerate(ids))
        return {
            "hold": token,
            "blocks": [
                {"index": i, "id": bid, "locations": where} for i, bid, where in located if where
            ],
            "path": paths.validate(path),
            "length": inode.length,
            "etag": data_etag(inode),
            "inode_id": inode.id,
            "generation": inode.generation,
            "block_size": inode.block_size,
            "block_ids": ids,
        }

    @router.get("/data/held", response_class=Response)
    def read_held(
        hold: Annotated[str, Query(max_length=64)],
        index: Annotated[int, Query(ge=0, le=MAX_INT)],
        offset: Annotated[int, Query(ge=0, le=MAX_INT)],
        length: Annotated[int, Query(ge=1, le=MAX_BLOCK_SIZE)],
    ) -> Response:
        """Bytes of block *index* of a held version, from *offset*: what a reader of a
        version that is gone (replaced, unlinked) still reads; 404 once the block is not
        cached (or the hold is gone)."""
        bid = held.block_id(hold, index)
        data = fs.master.read_block_range(bid, offset, length, wait=False)
        if data is None:
            raise FileNotFound(f"block {index} of that version is not cached", path=f"block {bid}")
        return Response(bytes(data), media_type="application/octet-stream")

    @router.post("/data/release")
    def release_holds(body: ReleaseBody) -> dict[str, Any]:
        """Let go of holds (as the ``X-Silt-Release`` header does on any request)."""
        held.release(body.holds)
        return {"ok": True}

    @router.get("/data", response_class=StreamingResponse)
    def read_data(
        path: PathQuery,
        read_type: ReadTypeQuery = None,
        sync_interval_ms: SyncQuery = None,
        range_header: str | None = Header(None, alias="Range"),
        if_match: str | None = Header(None, alias="If-Match"),
        inode_id: InodeQuery = None,
    ) -> Response:
        """The file's bytes, whole or one ``Range``; streamed.  ``inode``: the id the
        reader opened -- the file is followed if it was renamed since."""
        f, inode = _open_reader(fs, path, read_type, sync_interval_ms, inode_id)
        try:
            size: int = inode.length
            etag = data_etag(inode)
            if if_match is not None and if_match.strip() not in ("*", etag):
                raise FileNotFound(
                    f"changed since it was opened (version {if_match.strip()} is gone)",
                    path=paths.validate(path),
                )
            headers = {"Accept-Ranges": "bytes", "ETag": etag, "X-Silt-Length": str(size)}
            try:
                wanted = parse_range(range_header, size)
            except Unsatisfiable:
                f.close()
                headers["Content-Range"] = f"bytes */{size}"
                return error_response(
                    416,
                    "range_not_satisfiable",
                    f"range {range_header} outside 0..{size}",
                    paths.validate(path),
                    headers,
                )
            start, end = wanted if wanted is not None else (0, size)
            f.seek(start)
            # read the first piece now: an error there is still a proper JSON answer
            first = f.read(min(READ_CHUNK, end - start)) if end > start else b""
            if len(first) != min(READ_CHUNK, end - start):
                raise UfsError("file ended before its recorded length", path=path)
        except BaseException:
            f.close()
            raise
        headers["Content-Length"] = str(end - start)
        status = 200
        if wanted is not None:
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        return StreamingResponse(
            _stream(f, first, end - start - len(first)),
            status_code=status,
            headers=headers,
            media_type="application/octet-stream",
        )

    @router.post("/data/check")
    def check_write(body: WriteCheckBody) -> dict[str, Any]:
        """The checks open(path, "wb"/"xb") makes before any byte is sent."""
        fs.master.check_write(paths.validate(body.path), body.exclusive)
        return {"ok": True}

    @router.put("/data", openapi_extra=RAW_BODY)
    async def write_data(
        request: Request,
        path: PathQuery,
        write_type: WriteTypeQuery = None,
        exclusive: bool = False,
        block_size: BlockSizeQuery = None,
        replicas: ReplicasQuery = None,
        perm: PermQuery = None,
        uid: OwnerQuery = None,
        gid: OwnerQuery = None,
        xattrs: XattrsQuery = None,
    ) -> Response:
        """Stream the request body into a new file; commit only once all of it arrived.
        *perm*, *uid*, *gid*: of a new file; *xattrs*: JSON of name to base64 value."""
        new_xattrs = parse_xattrs(xattrs, path)
        declared = request.headers.get("content-length")
        expected = int(declared) if declared is not None and declared.isdigit() else None
        mode = "xb" if exclusive else "wb"
        f = await run_in_threadpool(
            functools.partial(
                fs.open,
                path,
                mode,
                write_type=write_type,
                block_size=block_size,
                replicas=replicas,
                perm=perm,
                uid=uid,
                gid=gid,
                xattrs=new_xattrs,
            )
        )
        received = 0
        async with all_or_nothing(functools.partial(abort_writer, f), path):
            batch = bytearray()
            async for piece in request.stream():
                received += len(piece)
                batch += piece
                if len(batch) >= WRITE_BATCH:
                    await run_in_threadpool(f.write, bytes(batch))
                    batch.clear()
            if expected is not None and received != expected:
                raise InvalidArgument(
                    f"body ended after {received} of {expected} bytes; nothing was written",
                    path=path,
                )
            if batch:
                await run_in_threadpool(f.write, bytes(batch))
            await run_in_threadpool(f.close)
        info: Any = getattr(getattr(f, "raw", None), "info", None)  # what BlockWriter committed
        if not isinstance(info, FileInfo):
            info = await run_in_threadpool(fs.stat, path)
        return JSONResponse(info.to_dict())

    @router.post("/data/change", openapi_extra=RAW_BODY)
    async def write_change(
        request: Request,
        path: PathQuery,
        length: Annotated[int, Query(ge=0, le=MAX_INT)],
        block_size: Annotated[int, Query(ge=1, le=MAX_BLOCK_SIZE)],
        blocks: Annotated[str, Query(max_length=MAX_CHANGE_TEXT)] = "",
        shared: Annotated[str, Query(max_length=MAX_CHANGE_TEXT)] = "",
        write_type: WriteTypeQuery = None,
        exclusive: bool = False,
        replicas: ReplicasQuery = None,
        perm: PermQuery = None,
        uid: OwnerQuery = None,
        gid: OwnerQuery = None,
        xattrs: XattrsQuery = None,
    ) -> Response:
        """Commit a change to a file as its next version (client.versions): the body is
        the new blocks (indices ``blocks``, as runs ``a-b,c``) one after another, each as
        long as its block; ``shared``: the blocks kept from the version it builds on
        (``first:count:first_id;...``).  Committed only once every block arrived;
        409 ``stale_version`` if a kept block is gone."""
        p = paths.validate(path)
        try:
            indices, kept = parse_change(length, block_size, blocks, shared)
            sizes = block_lengths(length, block_size, indices)
        except ValueError as exc:
            raise InvalidArgument(f"bad change: {exc}", path=p) from exc
        made = creation(p, perm, uid, gid, parse_xattrs(xattrs, p))
        change = Change(length, block_size, indices, lambda: (), kept, exclusive)
        wt: WriteType | None = None if write_type is None else WriteType.parse(write_type)  # type: ignore[assignment]
        writer = await run_in_threadpool(change_writer, fs.master, p, change, wt, replicas, made)
        async with all_or_nothing(writer.abort, p):
            buf = bytearray()
            todo = collections.deque(zip(indices, sizes, strict=True))  # (no copy per block)
            async for piece in request.stream():
                buf += piece
                while todo and len(buf) >= todo[0][1]:
                    index, size = todo.popleft()
                    block = bytes(buf[:size])
                    del buf[:size]
                    await run_in_threadpool(writer.put, index, block)
            if todo or buf:
                raise InvalidArgument(
                    f"body does not hold the {len(indices)} block(s) named; nothing was written",
                    path=p,
                )
            await run_in_threadpool(writer.commit)
        info = await run_in_threadpool(writer.describe)
        return JSONResponse(info.to_dict())

    return router
