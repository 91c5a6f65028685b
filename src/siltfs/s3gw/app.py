"""The gateway as an ASGI application (:class:`Gateway`, served by uvicorn): addressing
(path-style ``/bucket/key`` and virtual-host ``bucket.<domain>``), SigV4
authentication, dispatch by method and sub-resource, and the one place every error
becomes an S3 error answer."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from siltfs.client import FileSystem
from siltfs.errors import SiltError
from siltfs.model.enums import WriteType
from siltfs.s3gw import buckets, keys, listing, multipart, objects, sigv2, sigv4
from siltfs.s3gw.context import Call, error_response
from siltfs.s3gw.credentials import Credentials
from siltfs.s3gw.errors import S3Error, from_silt, not_implemented
from siltfs.s3gw.meta import MetaStore
from siltfs.s3gw.store import Store

log = logging.getLogger("siltfs.s3gw")
Handler = Callable[[Store, Call], Awaitable[Response]]

# sub-resources of features the gateway does not have: NotImplemented, cleanly
UNSUPPORTED = {
    "accelerate",
    "analytics",
    "attributes",
    "cors",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "logging",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "tagging",
    "torrent",
    "versionId",
    "versions",
    "website",
    "acl",
    "versioning",
    "location",
    "uploads",
    "delete",
}


def _subresources(query: dict[str, str]) -> set[str]:
    return {k for k in query if k in UNSUPPORTED}


def _head(store: Store, call: Call) -> Awaitable[Response]:
    return objects.get_object(store, call, head=True)


def route(call: Call) -> Handler:
    """The operation a request asks for (NotImplemented for unsupported features)."""
    q, m = call.query, call.method
    sub = _subresources(q)
    if call.bucket is None:
        if m == "GET":
            return buckets.list_buckets
        raise S3Error("MethodNotAllowed", f"{m} is not allowed on the service", 405)
    if not call.key:
        table: dict[tuple[str, str], Handler] = {
            ("GET", "location"): buckets.get_location,
            ("GET", "versioning"): buckets.get_versioning,
            ("GET", "acl"): buckets.get_acl,
            ("GET", "uploads"): multipart.list_uploads,
            ("POST", "delete"): objects.delete_objects,
        }
        for name in sub:
            handler = table.get((m, name))
            if handler is not None:
                return handler
        if sub:
            raise not_implemented(f"{m} ?{sorted(sub)[0]}")
        plain: dict[str, Handler] = {
            "GET": listing.list_v2 if q.get("list-type") == "2" else listing.list_v1,
            "PUT": buckets.create_bucket,
            "HEAD": buckets.head_bucket,
            "DELETE": buckets.delete_bucket,
        }
        if m in plain:
            return plain[m]
        raise S3Error("MethodNotAllowed", f"{m} is not allowed on a bucket", 405)
    if sub - {"uploads"} or (sub and m != "POST"):
        raise not_implemented(f"{m} ?{sorted(sub)[0]} on an object")
    if "uploadId" in q:
        parts: dict[str, Handler] = {
            "GET": multipart.list_parts,
            "PUT": multipart.upload_part,
            "POST": multipart.complete,
            "DELETE": multipart.abort,
        }
        if m in parts:
            return parts[m]
    elif m == "POST" and "uploads" in q:
        return multipart.create
    handlers: dict[str, Handler] = {
        "GET": objects.get_object,
        "HEAD": _head,
        "PUT": objects.put_object,
        "DELETE": objects.delete_object,
    }
    if m in handlers:
        return handlers[m]
    raise S3Error("MethodNotAllowed", f"{m} is not allowed on an object", 405)


def _has_body(request: Request) -> bool:
    length = request.headers.get("content-length")
    return "transfer-encoding" in request.headers or (length is not None and length != "0")


class Gateway:
    """The S3 API over *fs* for the key pairs in *credentials*."""

    def __init__(
        self,
        fs: FileSystem,
        credentials: Credentials,
        *,
        write_type: WriteType = WriteType.ASYNC_THROUGH,
        region: str = "us-east-1",
        domains: Sequence[str] = ("localhost",),
    ) -> None:
        self.store = Store(fs, MetaStore(fs), write_type)
        self.credentials = credentials
        self.write_type = write_type
        self.region = region
        self.domains = tuple(d.lower().strip(".") for d in domains)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        response = await self.handle(request)
        await response(scope, receive, send)

    def _virtual_bucket(self, host: str) -> str | None:
        name = host.rsplit(":", 1)[0].lower() if not host.startswith("[") else host
        for domain in self.domains:
            if name.endswith("." + domain) and len(name) > len(domain) + 1:
                return name[: -len(domain) - 1]
        return None

    def path_style(self, host: str) -> bool:
        return self._virtual_bucket(host) is None

    def address(self, host: str, path: str) -> tuple[str | None, str | None]:
        """(bucket, key) of a request: virtual-host when *host* is ``<bucket>.<domain>``."""
        bucket = self._virtual_bucket(host)
        if bucket is not None:
            key = path[1:] if path.startswith("/") else path
            return bucket, key or None
        rest = path[1:] if path.startswith("/") else path
        if not rest:
            return None, None
        bucket, _, key = rest.partition("/")
        return bucket, key or None

    async def handle(self, request: Request) -> Response:
        request_id = secrets.token_hex(8).upper()
        method = request.method
        try:
            call = self._call(request, request_id)
            handler = route(call)
            response = await handler(self.store, call)
        except S3Error as err:
            response = error_response(err, request_id, head=method == "HEAD")
        except SiltError as exc:
            response = error_response(
                from_silt(exc, request.url.path), request_id, method == "HEAD"
            )
        except ClientDisconnect:
            response = Response(b"", 400)  # nobody is listening; nothing was written
        except Exception:
            log.exception("unexpected failure of %s %s", method, request.url.path)
            internal = S3Error(
                "InternalError", "We encountered an internal error. Please try again.", 500
            )
            response = error_response(internal, request_id, method == "HEAD")
        response.headers["x-amz-request-id"] = request_id
        if response.status_code >= 300 and _has_body(request):
            # the body may be unread (an early refusal; botocore sends none after a final
            # answer to Expect: 100-continue): the connection cannot carry another request
            response.headers["Connection"] = "close"
        return response

    def _call(self, request: Request, request_id: str) -> Call:
        scope = request.scope
        headers = {k: ",".join(request.headers.getlist(k)) for k in request.headers.keys()}
        raw_query = scope.get("query_string", b"").decode("latin-1")
        pairs = parse_qsl(raw_query, keep_blank_values=True)
        path: str = scope["path"]
        host = headers.get("host", "")
        bucket, key = self.address(host, path)
        lookup = self.credentials.get
        if headers.get("authorization", "").startswith("AWS ") or "AWSAccessKeyId" in dict(pairs):
            resource = path if self.path_style(host) else f"/{bucket}{path}"
            auth = sigv2.authenticate(request.method, resource, pairs, headers, lookup)
        else:
            auth = sigv4.authenticate(request.method, path, pairs, headers, lookup)
        if bucket is not None:
            keys.check_bucket(bucket)  # the gateway's own hidden directories are not buckets
        query: dict[str, Any] = dict(pairs)
        return Call(
            method=request.method,
            bucket=bucket,
            key=key,
            query=query,
            headers=headers,
            auth=auth,
            body=request.stream(),
            default_write_type=self.write_type,
            region=self.region,
            request_id=request_id,
        )
