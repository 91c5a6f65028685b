"""S3 errors, and the one place siltfs errors become S3 errors (:func:`s3_errors`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from siltfs import errors as silt


class S3Error(Exception):
    """An S3 error answer: *code* (``NoSuchKey``...), HTTP *status*, a message naming the
    resource and the reason, and extra XML fields (``details``)."""

    def __init__(
        self, code: str, message: str, status: int = 400, resource: str = "", **details: str
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.resource = resource
        self.details = details
        self.headers: dict[str, str] = {}


def no_such_bucket(bucket: str) -> S3Error:
    return S3Error(
        "NoSuchBucket", "The specified bucket does not exist", 404, f"/{bucket}", BucketName=bucket
    )


def no_such_key(bucket: str, key: str) -> S3Error:
    return S3Error(
        "NoSuchKey", "The specified key does not exist.", 404, f"/{bucket}/{key}", Key=key
    )


def no_such_upload(upload_id: str) -> S3Error:
    return S3Error(
        "NoSuchUpload",
        "The specified multipart upload does not exist. The upload ID may be invalid, or the "
        "upload may have been aborted or completed.",
        404,
        UploadId=upload_id,
    )


def not_implemented(what: str) -> S3Error:
    return S3Error("NotImplemented", f"{what} is not implemented by the siltfs gateway", 501)


def access_denied(message: str = "Access Denied") -> S3Error:
    return S3Error("AccessDenied", message, 403)


def invalid_argument(message: str, resource: str = "") -> S3Error:
    return S3Error("InvalidArgument", message, 400, resource)


# siltfs error class -> (S3 code, status); the first match in this order wins
_MAP: list[tuple[type[silt.SiltError], str, int]] = [
    (silt.FileNotFound, "NoSuchKey", 404),
    (silt.InvalidPath, "InvalidArgument", 400),
    (silt.InvalidArgument, "InvalidArgument", 400),
    (silt.IsADirectory, "InvalidArgument", 400),
    (silt.NotADirectory, "InvalidArgument", 400),
    (silt.FileExists, "OperationAborted", 409),
    (silt.DirectoryNotEmpty, "OperationAborted", 409),
    (silt.PermissionDenied, "AccessDenied", 403),
    (silt.Unauthenticated, "AccessDenied", 403),
    (silt.MountError, "AccessDenied", 403),
    (silt.ResourceExhausted, "ServiceUnavailable", 503),
    (silt.Unavailable, "ServiceUnavailable", 503),
    (silt.PersistTimeout, "ServiceUnavailable", 503),
    (silt.HomeLocked, "ServiceUnavailable", 503),
]


def from_silt(exc: silt.SiltError, resource: str = "") -> S3Error:
    """The S3 error for a siltfs error (InternalError for anything unexpected)."""
    for cls, code, status in _MAP:
        if isinstance(exc, cls):
            return S3Error(code, str(exc), status, resource)
    return S3Error("InternalError", str(exc), 500, resource)


@contextmanager
def s3_errors(resource: str = "") -> Iterator[None]:
    """Turn a siltfs error raised inside into the matching :class:`S3Error`."""
    try:
        yield
    except silt.SiltError as exc:
        raise from_silt(exc, resource) from exc
