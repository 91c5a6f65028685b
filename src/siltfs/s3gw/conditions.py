"""HTTP details of object reads: byte ranges (206/416), conditional requests
(If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since -> 304/412) and dates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from siltfs.s3gw.errors import S3Error


def http_date(mtime: float) -> str:
    return format_datetime(datetime.fromtimestamp(int(mtime), UTC), usegmt=True)


def iso_date(mtime: float) -> str:
    when = datetime.fromtimestamp(mtime, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _parse_http_date(value: str) -> datetime | None:
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _etag_matches(header: str, etag: str) -> bool:
    for item in header.split(","):
        item = item.strip()
        if item == "*" or item.strip('"') == etag:
            return True
    return False


def check_conditions(
    headers: Mapping[str, str], etag: str, mtime: float, prefix: str = "if-", read: bool = True
) -> None:
    """Raise the S3 answer to a failed precondition: 412 PreconditionFailed, or for a read
    304 Not Modified (an :class:`S3Error` with status 304).  *prefix*
    ``x-amz-copy-source-if-`` checks a copy's source (there every failure is 412)."""
    modified = datetime.fromtimestamp(int(mtime), UTC)
    if_match = headers.get(prefix + "match")
    if_none = headers.get(prefix + "none-match")
    if_unmod = headers.get(prefix + "unmodified-since")
    if_mod = headers.get(prefix + "modified-since")
    if if_match is not None:
        if not _etag_matches(if_match, etag):
            raise _failed(prefix + "match")
    elif if_unmod is not None:
        when = _parse_http_date(if_unmod)
        if when is not None and modified > when:
            raise _failed(prefix + "unmodified-since")
    if if_none is not None:
        if _etag_matches(if_none, etag):
            raise (
                _not_modified(etag) if read and prefix == "if-" else _failed(prefix + "none-match")
            )
    elif if_mod is not None:
        when = _parse_http_date(if_mod)
        if when is not None and modified <= when and when <= datetime.now(UTC):
            raise (
                _not_modified(etag)
                if read and prefix == "if-"
                else _failed(prefix + "modified-since")
            )


def _failed(condition: str) -> S3Error:
    return S3Error(
        "PreconditionFailed",
        "At least one of the pre-conditions you specified did not hold",
        412,
        Condition=condition.title(),
    )


def _not_modified(etag: str) -> S3Error:
    err = S3Error("NotModified", "Not Modified", 304)
    err.headers["ETag"] = f'"{etag}"'
    return err


def parse_range(value: str | None, size: int) -> tuple[int, int] | None:
    """``Range: bytes=a-b | a- | -n`` -> [start, end) within *size*; None for no range or
    one S3 ignores (several ranges, another unit, a malformed one); InvalidRange (416)
    when it cannot be satisfied."""
    if value is None:
        return None
    unit, sep, spec = value.strip().partition("=")
    if unit.strip().lower() != "bytes" or not sep or "," in spec:
        return None
    first, dash, last = spec.strip().partition("-")
    first, last = first.strip(), last.strip()
    if not dash or (first and not first.isdigit()) or (last and not last.isdigit()):
        return None
    if not first:
        if not last:
            return None
        n = int(last)
        if n == 0 or size == 0:
            raise invalid_range(size)
        return max(0, size - n), size
    start = int(first)
    end = size if not last else min(size, int(last) + 1)
    if last and int(last) < start:
        return None
    if start >= size:
        raise invalid_range(size)
    return start, end


def invalid_range(size: int) -> S3Error:
    err = S3Error(
        "InvalidRange", "The requested range is not satisfiable", 416, ActualObjectSize=str(size)
    )
    err.headers["Content-Range"] = f"bytes */{size}"
    return err
