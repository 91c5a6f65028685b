"""One S3 call as the operations see it (:class:`Call`), and the answers they give."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field

from starlette.responses import Response

from siltfs.model.enums import WriteType
from siltfs.s3gw import xml
from siltfs.s3gw.errors import S3Error, access_denied, invalid_argument
from siltfs.s3gw.sigv4 import Auth

WRITE_TYPE_HEADER = "x-amz-meta-silt-write-type"
STORED_HEADERS = (
    "content-type",
    "content-encoding",
    "content-disposition",
    "content-language",
    "cache-control",
    "expires",
)


@dataclass
class Call:
    method: str
    bucket: str | None
    key: str | None
    query: dict[str, str]
    headers: Mapping[str, str]  # lower-case names
    auth: Auth
    body: AsyncIterator[bytes]
    default_write_type: WriteType
    region: str
    request_id: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def resource(self) -> str:
        if self.bucket is None:
            return "/"
        return f"/{self.bucket}/{self.key}" if self.key else f"/{self.bucket}"

    def require_write(self) -> None:
        if self.auth.key.read_only:
            raise access_denied(f"the access key {self.auth.key.access_key} is read-only")

    def write_type(self) -> WriteType:
        value = self.headers.get(WRITE_TYPE_HEADER)
        if value is None:
            return self.default_write_type
        try:
            return WriteType.parse(value)  # type: ignore[return-value]
        except ValueError as exc:
            raise invalid_argument(f"{WRITE_TYPE_HEADER}: {exc}", self.resource) from exc

    def int_param(self, name: str, default: int, low: int, high: int) -> int:
        value = self.query.get(name)
        if value is None or value == "":
            return default
        if not value.isdigit():
            raise invalid_argument(f"{name} must be an integer, not {value!r}", self.resource)
        return max(low, min(high, int(value)))


def xml_response(
    root: str, tree: xml.Tree, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(xml.document(root, tree), status, headers=headers, media_type="application/xml")


def error_response(err: S3Error, request_id: str, head: bool = False) -> Response:
    headers = {"x-amz-request-id": request_id, **err.headers}
    if err.status == 304 or head:
        return Response(b"", err.status, headers=headers)
    body = xml.error_document(err, request_id)
    return Response(body, err.status, headers=headers, media_type="application/xml")
