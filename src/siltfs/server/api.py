"""The master's HTTP API: ``create_app(fs, token)`` over an embedded FileSystem.

Every route lives under ``/api/v1`` and speaks JSON (the data route speaks bytes, see
:mod:`siltfs.server.data`).  Reads are GET with query parameters; everything else is
POST with a JSON body whose keys are the keyword arguments of the FileSystem method of
the same name.  Answers are the ``to_dict()`` of what the method returns.  Errors are
described in :mod:`siltfs.server.errors`, auth and the body limit in
:mod:`siltfs.server.guard`.  ``/metrics`` (Prometheus text), ``/docs`` (OpenAPI UI),
``/dashboard`` (web page over ``/api/v1/overview``, see :mod:`siltfs.server.dashboard`).

Handlers are plain ``def``: FastAPI runs them in its thread pool, and the embedded
FileSystem is thread-safe (one metastore connection per thread, one namespace lock).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse

from siltfs import __version__
from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.errors import PermissionDenied
from siltfs.server.dashboard import dashboard_router
from siltfs.server.data import data_router
from siltfs.server.errors import install_error_handlers
from siltfs.server.guard import Guard
from siltfs.server.held import HeldVersions, ReleaseHolds
from siltfs.server.models import (
    CheckBody,
    DeleteBody,
    HeartbeatBody,
    InodeId,
    JobId,
    MkdirBody,
    MountBody,
    PathBody,
    PathQuery,
    RenameBody,
    SetAttributeBody,
    StateQuery,
    SyncBody,
    SyncQuery,
    TouchBody,
    WaitBody,
)
from siltfs.server.openapi import document_errors
from siltfs.server.opmetrics import OpMetrics, OpMetricsMiddleware
from siltfs.server.posix_api import posix_router
from siltfs.server.roles import ADMIN, may_repair
from siltfs.server.tokens import MasterCredentials, TokenStore

API_PREFIX = "/api/v1"

MAX_JSON_BODY = 1024 * 1024


def namespace_router(fs: EmbeddedFileSystem) -> APIRouter:
    router = APIRouter()

    @router.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": __version__}

    @router.get("/stat")
    def stat(path: PathQuery, sync_interval_ms: SyncQuery = None) -> dict[str, Any]:
        return fs.stat(path, sync_interval_ms=sync_interval_ms).to_dict()

    @router.get("/ls")
    def ls(
        path: PathQuery = "/", recursive: bool = False, sync_interval_ms: SyncQuery = None
    ) -> list[dict[str, Any]]:
        infos = fs.ls(path, recursive=recursive, sync_interval_ms=sync_interval_ms)
        return [i.to_dict() for i in infos]

    @router.get("/path_of_inode")
    def path_of_inode(inode: InodeId) -> dict[str, str | None]:
        return {"path": fs.path_of_inode(inode)}

    @router.get("/exists")
    def exists(path: PathQuery, sync_interval_ms: SyncQuery = None) -> dict[str, bool]:
        return {"exists": fs.exists(path, sync_interval_ms=sync_interval_ms)}

    @router.get("/du")
    def du(path: PathQuery = "/") -> dict[str, Any]:
        return fs.du(path)

    @router.post("/mkdir")
    def mkdir(body: MkdirBody) -> dict[str, Any]:
        fs.mkdir(
            body.path, parents=body.parents, exist_ok=body.exist_ok, write_type=body.write_type
        )
        return {}

    @router.post("/delete")
    def delete(body: DeleteBody) -> dict[str, Any]:
        fs.delete(
            body.path,
            recursive=body.recursive,
            unchecked=body.unchecked,
            namespace_only=body.namespace_only,
        )
        return {}

    @router.post("/rename")
    def rename(body: RenameBody) -> dict[str, Any]:
        fs.rename(body.src, body.dst)
        return {}

    @router.post("/touch")
    def touch(body: TouchBody) -> dict[str, Any]:
        return fs.touch(body.path, write_type=body.write_type).to_dict()

    @router.post("/sync_metadata")
    def sync_metadata(body: SyncBody) -> dict[str, Any]:
        fs.sync_metadata(body.path, recursive=body.recursive)
        return {}

    @router.get("/mounts")
    def mounts() -> list[dict[str, Any]]:
        return [m.to_dict() for m in fs.mounts()]

    @router.post("/mount")
    def mount(body: MountBody) -> dict[str, Any]:
        info = fs.mount(
            body.path,
            body.uri,
            options=body.options,
            sync_interval_ms=body.sync_interval_ms,
            read_only=body.read_only,
        )
        return info.to_dict()

    @router.post("/unmount")
    def unmount(body: PathBody) -> dict[str, Any]:
        fs.unmount(body.path)
        return {}

    return router


def persistence_router(fs: EmbeddedFileSystem) -> APIRouter:
    router = APIRouter()

    @router.post("/persist")
    def persist(body: PathBody) -> dict[str, int]:
        return {"scheduled": fs.persist(body.path)}

    @router.post("/wait_persisted")
    def wait_persisted(body: WaitBody) -> dict[str, Any]:
        """Blocks (server side) until everything under path is persisted or timeout."""
        fs.wait_persisted(body.path, timeout=body.timeout)
        return {}

    @router.post("/free")
    def free(body: PathBody) -> dict[str, int]:
        return {"freed": fs.free(body.path)}

    @router.post("/load")
    def load(body: PathBody) -> dict[str, int]:
        seen = {"done": 0, "total": 0}

        def progress(done: int, total: int) -> None:
            seen["done"], seen["total"] = done, total

        loaded = fs.load(body.path, progress=progress)
        return {"loaded": loaded, "done": seen["done"], "total": seen["total"]}

    @router.post("/set_attribute")
    def set_attribute(body: SetAttributeBody) -> dict[str, Any]:
        info = fs.set_attribute(
            body.path, pinned=body.pinned, ttl=body.ttl, ttl_action=body.ttl_action
        )
        return info.to_dict()

    @router.post("/check_consistency")
    def check_consistency(body: CheckBody, request: Request) -> dict[str, Any]:
        role = request.scope.get("state", {}).get("silt_role", ADMIN)
        if body.repair and not may_repair(role):
            raise PermissionDenied("a repair needs the admin token", path=body.path)
        report = fs.check_consistency(
            body.path, repair=body.repair, remove_ghosts=body.remove_ghosts
        )
        return report.to_dict()

    @router.get("/jobs")
    def jobs(state: StateQuery = None) -> list[dict[str, Any]]:
        return [j.to_dict() for j in fs.jobs(state)]

    @router.get("/jobs/{job_id:int}")
    def job(job_id: JobId) -> dict[str, Any]:
        return fs.job(job_id).to_dict()

    @router.post("/jobs/retry_failed")
    def retry_failed() -> dict[str, int]:
        return {"retried": fs.retry_job(all_failed=True)}

    @router.post("/jobs/{job_id:int}/retry")
    def retry(job_id: JobId) -> dict[str, int]:
        return {"retried": fs.retry_job(job_id)}

    @router.post("/jobs/{job_id:int}/cancel")
    def cancel(job_id: JobId) -> dict[str, Any]:
        fs.cancel_job(job_id)
        return {}

    return router


def cluster_router(fs: EmbeddedFileSystem, credentials: MasterCredentials | None) -> APIRouter:
    router = APIRouter()

    @router.post("/workers/heartbeat")
    def heartbeat(body: HeartbeatBody) -> dict[str, Any]:
        """A worker registers and reports (with the cluster secret); the answer says what
        to pin and drop, and -- when they changed since ``credentials_version`` -- the
        digests of the admin and client tokens the worker is to accept."""
        answer = fs.master.cluster_heartbeat(body.model_dump())
        if credentials is not None:
            version, tokens = credentials.published()
            if version != body.credentials_version:
                answer["credentials"] = {"version": version, "tokens": tokens}
        return answer

    @router.get("/workers")
    def workers() -> list[dict[str, Any]]:
        """Every member of the cluster: address, liveness, tier usage."""
        return fs.master.cluster_overview()

    return router


def create_app(
    fs: EmbeddedFileSystem,
    token: str | None,
    *,
    cluster_secret: str | None = None,
    max_json_body: int = MAX_JSON_BODY,
) -> FastAPI:
    """The master's API over *fs*.  With a *token* (the admin token), ``/api`` needs
    ``Bearer <token>``, a client token of the home, or -- for worker registration only --
    the *cluster_secret* (without one, no worker can register).

    The app does not own *fs*: whoever created it closes it (``silt master`` does so
    after uvicorn's graceful shutdown).
    """
    app = FastAPI(
        title="siltfs master",
        version=__version__,
        description="The siltfs FileSystem API over HTTP (see siltfs.server.api).",
    )
    install_error_handlers(app)
    document_errors(app, API_PREFIX)
    app.include_router(namespace_router(fs), prefix=API_PREFIX)
    app.include_router(persistence_router(fs), prefix=API_PREFIX)
    held = HeldVersions(fs.master)
    app.include_router(data_router(fs, held), prefix=API_PREFIX)
    app.include_router(posix_router(fs), prefix=API_PREFIX)
    credentials = None
    if token is not None:
        credentials = MasterCredentials(token, cluster_secret, TokenStore(fs.config.home))
    app.include_router(cluster_router(fs, credentials), prefix=API_PREFIX)
    ops = getattr(fs.master, "op_metrics", None) or OpMetrics(fs.master.registry, "master")
    fs.master.op_metrics = ops  # one set per registry, however many apps are made
    app.include_router(dashboard_router(fs, API_PREFIX))  # /dashboard is open, overview not

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics() -> PlainTextResponse:
        """Prometheus text; open to loopback clients, else behind the token."""
        return PlainTextResponse(
            fs.metrics_text(), media_type="text/plain; version=0.0.4; charset=utf-8"
        )

    app.add_middleware(ReleaseHolds, held=held)  # (inside the guard)
    app.add_middleware(OpMetricsMiddleware, metrics=ops)
    app.add_middleware(
        Guard,
        credentials=credentials,
        api_prefix=API_PREFIX,
        max_body=max_json_body,
        streaming_paths=(API_PREFIX + "/data", API_PREFIX + "/data/change"),
    )
    return app
