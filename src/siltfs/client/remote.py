"""The remote FileSystem: the embedded API over HTTP, against ``silt master``.

``RemoteFileSystem(url, token=None, *, timeout=30, retries=3)`` has the methods of
:class:`~siltfs.client.embedded.EmbeddedFileSystem` with the same arguments, return
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

import codecs
import io
import json
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Any

import httpx

from siltfs.client.blocks import BlockSource
from siltfs.client.common import (
    CHUNK,
    Progress,
    check_bool,
    check_interval,
    read_slice,
    save_to_local,
)
from siltfs.client.mutable import MUTABLE_KINDS, open_mutable
from siltfs.client.posix import PosixMethods, creation, creation_params
from siltfs.client.remote_streams import RemoteReader, RemoteWriter
from siltfs.client.wire import (
    API,
    consistency_report,
    error_from_response,
    file_info,
    job_info,
    master_urls,
    mount_info,
)
from siltfs.errors import (
    InvalidArgument,
    IsADirectory,
    Unavailable,
    WrongType,
)
from siltfs.model import paths
from siltfs.model.consistency import ConsistencyReport
from siltfs.model.enums import JobState, ReadType, TtlAction, WriteType
from siltfs.model.inode import FileInfo, MountInfo
from siltfs.model.jobs import JobInfo
from siltfs.tls import check_cleartext, client_verify

Body = bytes | Callable[[], Iterable[bytes]]
_UNSET: Any = object()


# arguments: checked here exactly as the embedded FileSystem checks them ------------


def _enum(cls: Any, value: object) -> str | None:
    return None if value is None else str(cls.parse(value).value)


def _int(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise WrongType(f"{name} must be an int, not {type(value).__name__}")
    return value


def _params(**kwargs: Any) -> dict[str, Any]:
    return {k: str(v).lower() if isinstance(v, bool) else v for k, v in kwargs.items()
            if v is not None}  # fmt: skip


class RemoteFileSystem(PosixMethods):
    """The FileSystem API of a siltfs master at *url* (``http://host:port``).

    *url* may name several masters (a list, or comma-separated) serving one namespace:
    a call that cannot reach the current one moves on to the next.
    """

    def __init__(
        self, url: str | Sequence[str], token: str | None = None, *, timeout: float = 30.0,
        retries: int = 3, transport: httpx.BaseTransport | None = None,
        short_circuit: bool = True,
    ) -> None:  # fmt: skip
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
        self, method: str, route: str, *, params: dict[str, Any] | None = None,
        json: Any = None, content: Body | None = None, headers: dict[str, str] | None = None,
        idempotent: bool = False, timeout: Any = _UNSET,
    ) -> httpx.Response:  # fmt: skip
        self._check_open()
        attempt = 0
        while True:
            body = content() if callable(content) else content
            try:
                return self._http.request(
                    method, API + route, params=params, json=json, content=body, headers=headers,
                    timeout=self.timeout if timeout is _UNSET else timeout,
                )  # fmt: skip
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
    def mkdir(
        self, path: str, *, parents: bool = False, exist_ok: bool = False,
        write_type: WriteType | str | None = None,
    ) -> None:  # fmt: skip
        self._post(
            "/mkdir", path=paths.validate(path), parents=check_bool(parents, "parents"),
            exist_ok=check_bool(exist_ok, "exist_ok"), write_type=_enum(WriteType, write_type),
        )  # fmt: skip

    makedirs = mkdir

    def ls(
        self, path: str = "/", *, recursive: bool = False, sync_interval_ms: int | None = None
    ) -> list[FileInfo]:
        got = self._get(
            "/ls", path=paths.validate(path), recursive=check_bool(recursive, "recursive"),
            sync_interval_ms=check_interval(sync_interval_ms),
        )  # fmt: skip
        return [file_info(d) for d in got]

    def stat(self, path: str, *, sync_interval_ms: int | None = None) -> FileInfo:
        p = paths.validate(path)
        return file_info(
            self._get("/stat", path=p, sync_interval_ms=check_interval(sync_interval_ms))
        )

    def exists(self, path: str, *, sync_interval_ms: int | None = None) -> bool:
        p = paths.validate(path)
        got = self._get("/exists", path=p, sync_interval_ms=check_interval(sync_interval_ms))
        return bool(got["exists"])

    def rename(self, src: str, dst: str) -> None:
        self._post(
            "/rename", src=paths.validate(src, what="source"),
            dst=paths.validate(dst, what="destination"),
        )  # fmt: skip

    mv = rename

    def delete(
        self, path: str, *, recursive: bool = False, unchecked: bool = False,
        namespace_only: bool = False,
    ) -> None:  # fmt: skip
        """Delete *path*.  *unchecked* also removes UFS entries siltfs never knew;
        *namespace_only* removes the entry from the namespace and leaves the UFS as is."""
        self._post(
            "/delete", path=paths.validate(path), recursive=check_bool(recursive, "recursive"),
            unchecked=check_bool(unchecked, "unchecked"),
            namespace_only=check_bool(namespace_only, "namespace_only"),
        )  # fmt: skip

    rm = delete

    def sync_metadata(self, path: str = "/", *, recursive: bool = False) -> None:
        p = paths.validate(path)
        self._post("/sync_metadata", path=p, recursive=check_bool(recursive, "recursive"))

    # mounts ---------------------------------------------------------------
    def mount(
        self, path: str, uri: str, *, options: dict[str, Any] | None = None,
        sync_interval_ms: int | None = None, read_only: bool = False,
    ) -> MountInfo:  # fmt: skip
        if options is not None and not isinstance(options, dict):
            raise WrongType("mount options must be a dict")
        body = {
            # a URI that is no str is refused by the master as the embedded mount() refuses
            # it (InvalidArgument naming the path); None stands for any of them
            "path": paths.validate(path), "uri": uri if isinstance(uri, str) else None,
            "options": options, "sync_interval_ms": check_interval(sync_interval_ms),
            "read_only": check_bool(read_only, "read_only"),
        }  # fmt: skip
        try:
            content = json.dumps(body).encode()
        except (TypeError, ValueError) as exc:
            raise WrongType(f"mount options must be plain JSON values: {exc}") from exc
        headers = {"Content-Type": "application/json"}
        return mount_info(self._call("POST", "/mount", content=content, headers=headers))

    def unmount(self, path: str) -> None:
        self._post("/unmount", path=paths.validate(path))

    def mounts(self) -> list[MountInfo]:
        return [mount_info(d) for d in self._get("/mounts")]

    # data -----------------------------------------------------------------
    def open(
        self, path: str, mode: str = "rb", *, write_type: WriteType | str | None = None,
        read_type: ReadType | str | None = None, block_size: int | None = None,
        sync_interval_ms: int | None = None, encoding: str | None = None,
        replicas: int | None = None, perm: int | None = None, uid: int | None = None,
        gid: int | None = None, xattrs: dict[str, bytes] | None = None,
    ) -> IO[Any]:  # fmt: skip
        """As the embedded ``open`` (its docstring says what each argument does)."""
        p = paths.validate(path)
        if not isinstance(mode, str):
            raise WrongType(f"mode must be a str, not {type(mode).__name__}", path=p)
        if encoding is not None:
            try:
                codecs.lookup(encoding)
            except (LookupError, TypeError) as exc:
                raise InvalidArgument(f"unknown encoding {encoding!r}", path=p) from exc
        kind = mode.replace("b", "").replace("t", "")
        buffered: IO[Any]
        if kind == "r":
            params = _params(
                read_type=_enum(ReadType, read_type),
                sync_interval_ms=check_interval(sync_interval_ms),
            )
            raw: io.RawIOBase = RemoteReader(self, p, params)
            buffered = io.BufferedReader(raw, buffer_size=64 * 1024)  # type: ignore[arg-type]
        elif kind in ("w", "x"):
            bs = block_size
            if bs is not None and (not isinstance(bs, int) or isinstance(bs, bool) or bs <= 0):
                raise InvalidArgument(f"block_size must be a positive int, not {bs!r}", path=p)
            n = replicas
            if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
                raise InvalidArgument(f"replicas must be a positive int, not {n!r}", path=p)
            params = _params(  # arguments first, then the target: the embedded order
                write_type=_enum(WriteType, write_type), exclusive=kind == "x", block_size=bs,
                replicas=n, **creation_params(creation(p, perm, uid, gid, xattrs)),
            )  # fmt: skip
            self._post("/data/check", path=p, exclusive=kind == "x")  # fail early, as embedded
            raw = RemoteWriter(self, p, params)
            buffered = io.BufferedWriter(raw, buffer_size=1024 * 1024)  # type: ignore[arg-type]
        elif kind in MUTABLE_KINDS:
            return open_mutable(self, p, mode, kind, encoding, {
                "write_type": write_type, "block_size": block_size, "replicas": replicas,
                "perm": perm, "uid": uid, "gid": gid, "xattrs": xattrs,
            })  # fmt: skip
        else:
            raise InvalidArgument(
                f"unsupported mode {mode!r} (r, w, x, a, r+, w+, x+, a+; binary or text)",
                path=p,
            )
        if "b" in mode:
            return buffered
        return io.TextIOWrapper(buffered, encoding=encoding or "utf-8")  # type: ignore[arg-type]

    def write_bytes(
        self, path: str, data: bytes, *, write_type: WriteType | str | None = None,
        xattrs: dict[str, bytes] | None = None,
    ) -> FileInfo:  # fmt: skip
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise WrongType(f"data must be bytes, not {type(data).__name__}", path=str(path))
        body = bytes(data)
        p = paths.validate(path)
        made = creation_params(creation(p, None, None, None, xattrs))
        params = _params(write_type=_enum(WriteType, write_type), **made)
        return self._upload(p, params, body, len(body))

    def read_bytes(
        self, path: str, start: int | None = None, end: int | None = None, *,
        read_type: ReadType | str | None = None,
    ) -> bytes:  # fmt: skip
        return read_slice(lambda: self.open(path, "rb", read_type=read_type), path, start, end)

    cat = read_bytes

    def touch(self, path: str, *, write_type: WriteType | str | None = None) -> FileInfo:
        p = paths.validate(path)
        return file_info(self._post("/touch", path=p, write_type=_enum(WriteType, write_type)))

    def put(
        self, local_path: str | os.PathLike[str], path: str, *,
        write_type: WriteType | str | None = None, progress: Progress | None = None,
    ) -> FileInfo:  # fmt: skip
        local = os.fspath(local_path)
        if os.path.isdir(local):
            raise IsADirectory("is a local directory; put files one by one", path=local)
        total = os.path.getsize(local)
        p = paths.validate(path)
        params = _params(write_type=_enum(WriteType, write_type))  # before the target's checks
        self._post("/data/check", path=p, exclusive=False)

        def chunks() -> Iterator[bytes]:
            done = 0
            with open(local, "rb") as src:
                while chunk := src.read(CHUNK):
                    yield chunk
                    done += len(chunk)
                    if progress:
                        progress(done, total)

        return self._upload(p, params, chunks, total)

    def get(
        self, path: str, local_path: str | os.PathLike[str], *,
        read_type: ReadType | str | None = None, progress: Progress | None = None,
    ) -> None:  # fmt: skip
        save_to_local(lambda: self.open(path, "rb", read_type=read_type), local_path, progress)

    # persistence and cache --------------------------------------------------
    def persist(self, path: str) -> int:
        return int(self._post("/persist", path=paths.validate(path))["scheduled"])

    def wait_persisted(self, path: str | None = None, timeout: float | None = None) -> None:
        """Waits on the master; the HTTP read timeout is *timeout* plus the client's."""
        p = paths.ROOT if path is None else paths.validate(path)
        if timeout is not None and (not isinstance(timeout, (int, float)) or timeout < 0):
            raise InvalidArgument(f"timeout must be a non-negative number, not {timeout!r}", path=p)
        seconds = None if timeout is None else float(timeout)  # a bool is an int, as embedded
        wait = httpx.Timeout(self.timeout, read=None if seconds is None else seconds + self.timeout)
        self._call("POST", "/wait_persisted", json={"path": p, "timeout": seconds}, timeout=wait)

    def free(self, path: str) -> int:
        return int(self._post("/free", path=paths.validate(path))["freed"])

    def load(self, path: str, *, progress: Progress | None = None) -> int:
        """Load into the master's cache; *progress* is called once, when it is done."""
        got = self._call(
            "POST", "/load", json={"path": paths.validate(path)}, timeout=self._unbounded()
        )
        if progress:
            progress(got["done"], got["total"])
        return int(got["loaded"])

    def set_attribute(
        self, path: str, *, pinned: bool | None = None, ttl: int | None = None,
        ttl_action: TtlAction | str | None = None,
    ) -> FileInfo:  # fmt: skip
        if pinned is not None:
            check_bool(pinned, "pinned")
        got = self._post(
            "/set_attribute", path=paths.validate(path), pinned=pinned, ttl=ttl,
            ttl_action=_enum(TtlAction, ttl_action),
        )  # fmt: skip
        return file_info(got)

    def du(self, path: str) -> dict[str, Any]:
        return dict(self._get("/du", path=paths.validate(path)))

    # consistency and the persist queue ----------------------------------------
    def check_consistency(
        self, path: str = "/", *, repair: bool = False, remove_ghosts: bool = False
    ) -> ConsistencyReport:
        """Compare namespace and UFS under *path*; with *repair*, fix what is found."""
        body = {
            "path": paths.validate(path), "repair": check_bool(repair, "repair"),
            "remove_ghosts": check_bool(remove_ghosts, "remove_ghosts"),
        }  # fmt: skip
        return consistency_report(
            self._call("POST", "/check_consistency", json=body, timeout=self._unbounded())
        )

    def jobs(self, state: JobState | str | None = None) -> list[JobInfo]:
        """Persist jobs (PENDING, RUNNING, FAILED), with path, attempts, last error, age."""
        return [job_info(d) for d in self._get("/jobs", state=_enum(JobState, state))]

    def job(self, job_id: int) -> JobInfo:
        return job_info(self._get(f"/jobs/{_int(job_id, 'job id')}"))

    def retry_job(self, job_id: int | None = None, *, all_failed: bool = False) -> int:
        """Re-run one job (by id) or every FAILED job; returns how many were re-queued."""
        if all_failed:
            return int(self._post("/jobs/retry_failed")["retried"])
        if job_id is None:
            raise InvalidArgument("give a job id or all_failed=True")
        return int(self._post(f"/jobs/{_int(job_id, 'job id')}/retry")["retried"])

    def cancel_job(self, job_id: int) -> None:
        """Cancel a persist job: the file stays NOT_PERSISTED, its data pinned."""
        self._post(f"/jobs/{_int(job_id, 'job id')}/cancel")

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
    def close(self) -> None:
        if not self._closed:
            self._closed = True
            for client in self._clients:
                client.close()
            self.blocks.close()

    def __enter__(self) -> RemoteFileSystem:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
