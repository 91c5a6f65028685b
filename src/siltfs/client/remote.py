"""The remote FileSystem: the embedded API over HTTP, against ``silt master``.

``RemoteFileSystem(url, token=None, *, timeout=30, retries=3)`` is a
:class:`~siltfs.client.base.FileSystem` (the public methods and their argument checks
are written there, the same for both clients) with the embedded client's return
types (FileInfo, MountInfo, JobInfo, ConsistencyReport rebuilt from JSON) and errors
(the server's ``code`` re-raised as the same :mod:`siltfs.errors` class, with message,
path and details).  The token comes from *token* or ``$SILT_TOKEN``.

Failures of the connection itself: a call that never reached the server (connect
error) is retried; calls that only read (stat, ls, exists, mounts, jobs, du, reads of
data) are also retried after the connection broke mid-call; every other call fails at
once with :class:`~siltfs.errors.Unavailable` -- it may or may not have happened.

Files: ``open(path, "rb")`` is seekable.  Cached blocks are read straight from the
worker holding them (from its block file when the worker is on this host: a
short-circuit read; ``short_circuit=False`` turns that off); the rest comes from the
master in ranges (a block, or 4 MiB if nothing is cached), each checked
against the version (ETag) it opened and the ``Content-Range`` it asked for; a broken
transfer resumes where it stopped (also across a restart of the master), and a file
replaced or deleted meanwhile raises FileNotFound -- never bytes of two versions.
``open(path, "wb")`` spools to a local temporary file and uploads it on close; the
server commits only a complete body.
"""

from __future__ import annotations

import io
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import httpx

from siltfs.client.base import FileSystem, local_chunks
from siltfs.client.blocks import BlockSource
from siltfs.client.common import PieceReader, Progress
from siltfs.client.posix import creation_params
from siltfs.client.remote_streams import RemoteReader, RemoteWriter
from siltfs.client.versions import MAX_CHANGE_TEXT, Change, block_lengths, encode_indices
from siltfs.client.wire import (
    API,
    RELEASE_HEADER,
    consistency_report,
    error_from_response,
    file_info,
    job_info,
    master_urls,
    mount_info,
)
from siltfs.errors import SiltError, StaleVersion, Unavailable, WrongType
from siltfs.model import blockmap
from siltfs.model import posix as px
from siltfs.model.consistency import ConsistencyReport
from siltfs.model.enums import JobState, ReadType, TtlAction, WriteType
from siltfs.model.inode import FileInfo, MountInfo, block_count
from siltfs.model.jobs import JobInfo
from siltfs.tls import check_cleartext, client_verify

__all__ = ["RemoteFileSystem"]

Body = bytes | Callable[[], Iterable[bytes]]
_UNSET: Any = object()


def _value(member: WriteType | ReadType | JobState | TtlAction | None) -> str | None:
    """An enum member (checked by FileSystem) as the API spells it; None: the default."""
    return None if member is None else str(member.value)


def _params(**kwargs: Any) -> dict[str, Any]:
    return {
        k: str(v).lower() if isinstance(v, bool) else v for k, v in kwargs.items() if v is not None
    }


class RemoteFileSystem(FileSystem):
    """The FileSystem API of a siltfs master at *url* (``http://host:port``).

    *url* may name several masters (a list, or comma-separated) serving one namespace:
    a call that cannot reach the current one moves on to the next.
    """

    def __init__(
        self,
        url: str | Sequence[str],
        token: str | None = None,
        *,
        timeout: float = 30.0,
        retries: int = 3,
        transport: httpx.BaseTransport | None = None,
        short_circuit: bool = True,
    ) -> None:
        urls = master_urls(url)
        token = token if token is not None else (os.environ.get("SILT_TOKEN") or None)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.urls = urls
        self._current = 0
        self.timeout = timeout
        self.retries = max(retries, len(urls) - 1)
        for u in urls:  # never a token in clear to another machine (a test transport: no wire)
            if transport is None:
                check_cleartext(u, token)
        verify = client_verify()
        self._clients = [
            httpx.Client(
                base_url=u, headers=headers, timeout=timeout, transport=transport, verify=verify
            )
            for u in urls
        ]
        self._closed = False
        self.blocks = BlockSource(token, short_circuit=short_circuit, timeout=timeout)
        self._releases: list[str] = []  # holds of closed readers, sent with the next call
        self._releases_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"RemoteFileSystem({self.url!r})"

    @property
    def url(self) -> str:
        """The master currently in use."""
        return self.urls[self._current]

    @property
    def _http(self) -> httpx.Client:
        return self._clients[self._current]

    def _fail_over(self) -> None:
        if len(self.urls) > 1:
            self._current = (self._current + 1) % len(self.urls)

    # transport ------------------------------------------------------------
    def _unbounded(self) -> httpx.Timeout:
        """For server-side work of unbounded length (load, check_consistency)."""
        return httpx.Timeout(self.timeout, read=None)

    def _check_open(self) -> None:
        """After close() every call fails with Unavailable, as the embedded one's do."""
        if self._closed:
            raise Unavailable("this file system is closed", path=self.url)

    def _backoff(self, attempt: int) -> float:
        return float(min(2.0, 0.1 * 2**attempt))

    def _send(
        self,
        method: str,
        route: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any = None,
        content: Body | None = None,
        headers: dict[str, str] | None = None,
        idempotent: bool = False,
        timeout: Any = _UNSET,
    ) -> httpx.Response:
        self._check_open()
        with self._releases_lock:
            releases, self._releases = self._releases[:64], self._releases[64:]
        if releases:  # readers closed since: their holds go with this request (server.held)
            headers = {**(headers or {}), RELEASE_HEADER: ",".join(releases)}
        attempt = 0
        while True:
            body = content() if callable(content) else content
            try:
                return self._http.request(
                    method,
                    API + route,
                    params=params,
                    json=json,
                    content=body,
                    headers=headers,
                    timeout=self.timeout if timeout is _UNSET else timeout,
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                error: Exception = exc  # never reached the server: always safe to retry
                retry = True
            except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
                error, retry = exc, idempotent
            except httpx.TimeoutException as exc:
                raise Unavailable(f"no answer from the master at {self.url}: {exc!r}") from exc
            if not retry or attempt >= self.retries:
                raise Unavailable(f"master at {self.url} unreachable: {error!r}") from error
            self._fail_over()
            if self._current == 0 or len(self.urls) == 1:
                time.sleep(self._backoff(attempt))  # every master tried: wait, go round again
            attempt += 1

    def _call(self, method: str, route: str, **kwargs: Any) -> Any:
        response = self._send(method, route, **kwargs)
        if not response.is_success:
            raise error_from_response(response)
        return response.json() if response.content else None

    def _get(self, route: str, **params: Any) -> Any:
        return self._call("GET", route, params=_params(**params), idempotent=True)

    def _post(self, route: str, **body: Any) -> Any:
        return self._call("POST", route, json=body)

    def posix_op(self, op: str, path: str, args: dict[str, Any]) -> Any:
        body = {k: v for k, v in args.items() if v is not None}
        answer = self._call("POST", f"/posix/{op}", json={"path": path, **body})
        if "value" in answer:
            return answer["value"]
        if "names" in answer:
            return answer["names"]
        return file_info(answer)

    def _upload(self, path: str, params: dict[str, Any], body: Body, size: int) -> FileInfo:
        headers = {"Content-Length": str(size)}
        params = {"path": path, **params}
        return file_info(self._call("PUT", "/data", params=params, content=body, headers=headers))

    # namespace ------------------------------------------------------------
    def _mkdir(self, p: str, parents: bool, exist_ok: bool, write_type: WriteType | None) -> None:
        self._post(
            "/mkdir", path=p, parents=parents, exist_ok=exist_ok, write_type=_value(write_type)
        )

    def _ls(self, p: str, recursive: bool, sync_interval_ms: int | None) -> list[FileInfo]:
        got = self._get("/ls", path=p, recursive=recursive, sync_interval_ms=sync_interval_ms)
        return [file_info(d) for d in got]

    def _stat(self, p: str, sync_interval_ms: int | None) -> FileInfo:
        return file_info(self._get("/stat", path=p, sync_interval_ms=sync_interval_ms))

    def _exists(self, p: str, sync_interval_ms: int | None) -> bool:
        got = self._get("/exists", path=p, sync_interval_ms=sync_interval_ms)
        return bool(got["exists"])

    def _rename(self, src: str, dst: str) -> None:
        self._post("/rename", src=src, dst=dst)

    def _delete(self, p: str, recursive: bool, unchecked: bool, namespace_only: bool) -> None:
        self._post(
            "/delete",
            path=p,
            recursive=recursive,
            unchecked=unchecked,
            namespace_only=namespace_only,
        )

    def _sync_metadata(self, p: str, recursive: bool) -> None:
        self._post("/sync_metadata", path=p, recursive=recursive)

    # mounts ---------------------------------------------------------------
    def _mount(
        self,
        p: str,
        uri: str,
        options: dict[str, Any] | None,
        sync_interval_ms: int | None,
        read_only: bool,
    ) -> MountInfo:
        body = {
            # a URI that is no str is refused by the master as the embedded mount() refuses
            # it (InvalidArgument naming the path); None stands for any of them
            "path": p,
            "uri": uri if isinstance(uri, str) else None,
            "options": options,
            "sync_interval_ms": sync_interval_ms,
            "read_only": read_only,
        }
        try:
            content = json.dumps(body).encode()
        except (TypeError, ValueError) as exc:
            raise WrongType(f"mount options must be plain JSON values: {exc}") from exc
        headers = {"Content-Type": "application/json"}
        return mount_info(self._call("POST", "/mount", content=content, headers=headers))

    def _unmount(self, p: str) -> None:
        self._post("/unmount", path=p)

    def mounts(self) -> list[MountInfo]:
        return [mount_info(d) for d in self._get("/mounts")]

    # data -----------------------------------------------------------------
    def _open_reader(
        self, p: str, read_type: ReadType | None, sync_interval_ms: int | None
    ) -> PieceReader:
        params = _params(read_type=_value(read_type), sync_interval_ms=sync_interval_ms)
        return RemoteReader(self, p, params)

    def _commit_change(
        self, p: str, change: Change, write_type: WriteType | None, replicas: int | None,
        made: px.Creation,
    ) -> None:  # fmt: skip
        size = sum(block_lengths(change.length, change.block_size, change.indices))
        count = block_count(change.length, change.block_size)
        blocks, shared = encode_indices(change.indices), blockmap.encode_kept(change.shared, count)
        if max(len(blocks), len(shared)) > MAX_CHANGE_TEXT:  # the caller writes it whole
            raise StaleVersion("the change is too scattered to send by blocks", path=p)
        params = _params(
            path=p,
            length=change.length,
            block_size=change.block_size,
            blocks=blocks,
            shared=shared,
            exclusive=change.exclusive,
            write_type=_value(write_type),
            replicas=replicas,
            **creation_params(made),
        )
        headers = {"Content-Length": str(size)}
        self._call("POST", "/data/change", params=params, content=change.blocks, headers=headers)

    def _open_writer(
        self,
        p: str,
        write_type: WriteType | None,
        exclusive: bool,
        block_size: int | None,
        replicas: int | None,
        made: px.Creation,
    ) -> io.RawIOBase:
        params = _params(
            write_type=_value(write_type),
            exclusive=exclusive,
            block_size=block_size,
            replicas=replicas,
            **creation_params(made),
        )
        self._post("/data/check", path=p, exclusive=exclusive)  # fail early, as embedded
        return RemoteWriter(self, p, params)

    def _write_bytes(
        self, p: str, data: bytes, write_type: WriteType | None, made: px.Creation
    ) -> FileInfo:
        body = bytes(data)
        params = _params(write_type=_value(write_type), **creation_params(made))
        return self._upload(p, params, body, len(body))

    def _touch(self, p: str, write_type: WriteType | None) -> FileInfo:
        return file_info(self._post("/touch", path=p, write_type=_value(write_type)))

    def _put(
        self,
        local: str,
        total: int,
        p: str,
        write_type: WriteType | None,
        progress: Progress | None,
    ) -> FileInfo:
        params = _params(write_type=_value(write_type))
        self._post("/data/check", path=p, exclusive=False)

        def chunks() -> Iterator[bytes]:  # called again for each attempt of the upload
            with open(local, "rb") as src:
                yield from local_chunks(src, total, progress)

        return self._upload(p, params, chunks, total)

    # persistence and cache --------------------------------------------------
    def _persist(self, p: str) -> int:
        return int(self._post("/persist", path=p)["scheduled"])

    def _wait_persisted(self, p: str, timeout: float | None) -> None:
        """Waits on the master; the HTTP read timeout is *timeout* plus the client's."""
        seconds = None if timeout is None else float(timeout)  # a bool is an int, as embedded
        wait = httpx.Timeout(self.timeout, read=None if seconds is None else seconds + self.timeout)
        self._call("POST", "/wait_persisted", json={"path": p, "timeout": seconds}, timeout=wait)

    def _free(self, p: str) -> int:
        return int(self._post("/free", path=p)["freed"])

    def _load(self, p: str, progress: Progress | None) -> int:
        """Load into the master's cache; *progress* is called once, when it is done."""
        got = self._call("POST", "/load", json={"path": p}, timeout=self._unbounded())
        if progress:
            progress(got["done"], got["total"])
        return int(got["loaded"])

    def _set_attribute(
        self, p: str, pinned: bool | None, ttl: int | None, ttl_action: TtlAction | None
    ) -> FileInfo:
        got = self._post(
            "/set_attribute", path=p, pinned=pinned, ttl=ttl, ttl_action=_value(ttl_action)
        )
        return file_info(got)

    def _du(self, p: str) -> dict[str, Any]:
        return dict(self._get("/du", path=p))

    # consistency and the persist queue ----------------------------------------
    def _check_consistency(self, p: str, repair: bool, remove_ghosts: bool) -> ConsistencyReport:
        body = {"path": p, "repair": repair, "remove_ghosts": remove_ghosts}
        return consistency_report(
            self._call("POST", "/check_consistency", json=body, timeout=self._unbounded())
        )

    def _jobs(self, state: JobState | None) -> list[JobInfo]:
        return [job_info(d) for d in self._get("/jobs", state=_value(state))]

    def _job(self, job_id: int) -> JobInfo:
        return job_info(self._get(f"/jobs/{job_id}"))

    def _path_of_inode(self, inode_id: int) -> str | None:
        found = self._get("/path_of_inode", inode=inode_id)["path"]
        return None if found is None else str(found)

    def _retry_failed(self) -> int:
        return int(self._post("/jobs/retry_failed")["retried"])

    def _retry_job(self, job_id: int) -> int:
        return int(self._post(f"/jobs/{job_id}/retry")["retried"])

    def _cancel_job(self, job_id: int) -> None:
        self._post(f"/jobs/{job_id}/cancel")

    def metrics_text(self) -> str:
        """The master's metrics in Prometheus text format."""
        self._check_open()
        try:
            response = self._http.get("/metrics")
        except httpx.TransportError as exc:
            raise Unavailable(f"master at {self.url} unreachable: {exc!r}") from exc
        if not response.is_success:
            raise error_from_response(response)
        return response.text

    # lifecycle --------------------------------------------------------------
    def _release_later(self, hold: str) -> None:
        """A reader's hold is no longer needed: released with the next request."""
        with self._releases_lock:
            self._releases.append(hold)

    def close(self) -> None:
        if not self._closed:
            with self._releases_lock:
                releases, self._releases = self._releases, []
            if releases:
                try:
                    self._call("POST", "/data/release", json={"holds": releases})
                except SiltError:
                    pass  # (the master lets them go after server.held.TTL_S)
            self._closed = True
            for client in self._clients:
                client.close()
            self.blocks.close()
