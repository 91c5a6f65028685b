"""AWS Signature Version 4 for S3: the Authorization header, presigned query strings
(``X-Amz-Expires`` checked) and the signatures of ``aws-chunked`` chunks and trailers.

The algorithm is AWS's ("Authenticating Requests (AWS Signature Version 4)"):
``signature = HMAC(signing key, string to sign)`` where the string to sign hashes the
canonical request (method, URI, sorted query, signed headers, payload hash) and the
signing key derives from the secret, the date, the region and the service.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import quote

from siltfs.s3gw.credentials import KeyPair
from siltfs.s3gw.errors import S3Error, access_denied

ALGORITHM = "AWS4-HMAC-SHA256"
UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
MAX_SKEW = timedelta(minutes=15)
MAX_EXPIRES = 7 * 24 * 3600
AMZ_DATE = "%Y%m%dT%H%M%SZ"

Lookup = Callable[[str], KeyPair | None]


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    k = _hmac(("AWS4" + secret).encode("utf-8"), date)
    return _hmac(_hmac(_hmac(k, region), service), "aws4_request")


def _uri_encode(value: str, safe: str = "") -> str:
    return quote(value, safe="-_.~" + safe)


def canonical_request(
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    signed_headers: Sequence[str],
    payload_hash: str,
) -> str:
    """The canonical request; *path* decoded (S3 encodes it once, keeping ``/``), *query*
    decoded pairs, *headers* by lower-case name (several values already joined by ``,``)."""
    pairs = sorted((_uri_encode(k), _uri_encode(v)) for k, v in query)
    canonical_query = "&".join(f"{k}={v}" for k, v in pairs)
    lines = "".join(f"{h}:{' '.join(headers.get(h, '').split())}\n" for h in signed_headers)
    return "\n".join(
        [
            method,
            _uri_encode(path, "/"),
            canonical_query,
            lines,
            ";".join(signed_headers),
            payload_hash,
        ]
    )


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


def sign(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Auth:
    """An authenticated request: who, and what continuing signatures (chunks) chain to."""

    key: KeyPair
    amz_date: str
    scope: str
    signing_key: bytes
    signature: str
    payload_hash: str  # x-amz-content-sha256 (UNSIGNED-PAYLOAD for a presigned URL)
    presigned: bool = False

    def chunk_signature(self, previous: str, chunk_sha256: str) -> str:
        text = "\n".join(
            [
                "AWS4-HMAC-SHA256-PAYLOAD",
                self.amz_date,
                self.scope,
                previous,
                EMPTY_SHA256,
                chunk_sha256,
            ]
        )
        return sign(self.signing_key, text)

    def trailer_signature(self, previous: str, trailer: bytes) -> str:
        digest = hashlib.sha256(trailer).hexdigest()
        text = "\n".join(["AWS4-HMAC-SHA256-TRAILER", self.amz_date, self.scope, previous, digest])
        return sign(self.signing_key, text)


def _parse_date(value: str) -> datetime:
    try:
        return datetime.strptime(value, AMZ_DATE).replace(tzinfo=UTC)
    except ValueError:
        pass
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError) as exc:
        raise access_denied(f"the request date {value!r} cannot be parsed") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _credential(value: str, malformed: str) -> tuple[str, str, str, str]:
    """``AK/date/region/service/aws4_request`` -> (AK, date, region, service)."""
    parts = value.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts):
        raise S3Error(malformed, f"the Credential {value!r} is malformed", 400)
    if parts[3] != "s3":
        raise S3Error(malformed, f"the Credential names service {parts[3]!r}, not s3", 400)
    return parts[0], parts[1], parts[2], parts[3]


def _header_fields(value: str) -> dict[str, str]:
    if not value.startswith(ALGORITHM + " "):
        raise S3Error("AuthorizationHeaderMalformed", f"unsupported algorithm in {value[:40]!r}")
    out: dict[str, str] = {}
    for item in value[len(ALGORITHM) + 1 :].split(","):
        name, sep, val = item.strip().partition("=")
        if sep:
            out[name] = val
    for name in ("Credential", "SignedHeaders", "Signature"):
        if name not in out:
            raise S3Error("AuthorizationHeaderMalformed", f"the Authorization header has no {name}")
    return out


def authenticate(
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    lookup: Lookup,
    now: datetime | None = None,
) -> Auth:
    """Check the request's signature (header or presigned query); the :class:`Auth` or an
    :class:`S3Error` (AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch,
    RequestTimeTooSkewed, Authorization...Malformed)."""
    now = now or datetime.now(UTC)
    params = dict(query)
    if "authorization" in headers:
        return _from_header(method, path, query, headers, lookup, now)
    if params.get("X-Amz-Algorithm") is not None:
        return _from_query(method, path, query, headers, lookup, now)
    raise access_denied("anonymous requests are not allowed; sign with AWS Signature Version 4")


def check_key(key: KeyPair | None, access: str) -> KeyPair:
    if key is None:
        raise S3Error(
            "InvalidAccessKeyId",
            "The AWS Access Key Id you provided does not exist in our records.",
            403,
            AWSAccessKeyId=access,
        )
    return key


def mismatch(access: str, text: str) -> S3Error:
    return S3Error(
        "SignatureDoesNotMatch",
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
        403,
        AWSAccessKeyId=access,
        StringToSign=text,
    )


def _verify(expected: str, given: str, access: str, text: str) -> None:
    if not hmac.compare_digest(expected, given.lower()):
        raise mismatch(access, text)


def check_skew(value: str, now: datetime | None = None) -> datetime:
    """The request's date, if within 15 minutes of *now* (RequestTimeTooSkewed if not)."""
    now = now or datetime.now(UTC)
    when = _parse_date(value)
    if abs(now - when) > MAX_SKEW:
        raise S3Error(
            "RequestTimeTooSkewed",
            "The difference between the request time and the current time is too large.",
            403,
            RequestTime=value,
            ServerTime=now.strftime(AMZ_DATE),
            MaxAllowedSkewMilliseconds="900000",
        )
    return when


def _from_header(
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    lookup: Lookup,
    now: datetime,
) -> Auth:
    fields = _header_fields(headers["authorization"])
    access, date, region, service = _credential(
        fields["Credential"], "AuthorizationHeaderMalformed"
    )
    signed = fields["SignedHeaders"].split(";")
    if "host" not in signed:
        raise S3Error("AuthorizationHeaderMalformed", "the host header must be signed")
    amz_date = headers.get("x-amz-date") or headers.get("date")
    if not amz_date:
        raise access_denied("the request has no x-amz-date or Date header")
    when = check_skew(amz_date, now)
    stamp = when.strftime(AMZ_DATE)
    if date != stamp[:8]:
        raise S3Error(
            "AuthorizationHeaderMalformed", f"the credential date {date} is not {stamp[:8]}"
        )
    payload = headers.get("x-amz-content-sha256")
    if payload is None:
        raise S3Error(
            "InvalidRequest", "Missing required header for this request: x-amz-content-sha256"
        )
    key = check_key(lookup(access), access)
    scope = f"{date}/{region}/{service}/aws4_request"
    skey = signing_key(key.secret_key, date, region, service)
    canonical = canonical_request(method, path, query, headers, signed, payload)
    text = string_to_sign(stamp, scope, canonical)
    _verify(sign(skey, text), fields["Signature"], access, text)
    return Auth(key, stamp, scope, skey, fields["Signature"].lower(), payload)


def _from_query(
    method: str,
    path: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    lookup: Lookup,
    now: datetime,
) -> Auth:
    bad = "AuthorizationQueryParametersError"
    params = dict(query)
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise S3Error(bad, f"X-Amz-Algorithm must be {ALGORITHM}")
    for name in (
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-Expires",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
    ):
        if name not in params:
            raise S3Error(bad, f"the presigned URL has no {name}")
    access, date, region, service = _credential(params["X-Amz-Credential"], bad)
    try:
        when = datetime.strptime(params["X-Amz-Date"], AMZ_DATE).replace(tzinfo=UTC)
        expires = int(params["X-Amz-Expires"])
    except ValueError as exc:
        raise S3Error(bad, "X-Amz-Date or X-Amz-Expires is malformed") from exc
    if not 0 < expires <= MAX_EXPIRES:
        raise S3Error(bad, f"X-Amz-Expires must be between 1 and {MAX_EXPIRES} seconds")
    if when - now > MAX_SKEW:
        raise S3Error("RequestTimeTooSkewed", "The presigned URL is dated in the future.", 403)
    if now > when + timedelta(seconds=expires):
        raise access_denied("Request has expired")
    if date != params["X-Amz-Date"][:8]:
        raise S3Error(bad, "the credential date does not match X-Amz-Date")
    key = check_key(lookup(access), access)
    signed = params["X-Amz-SignedHeaders"].split(";")
    rest = [(k, v) for k, v in query if k != "X-Amz-Signature"]
    payload = headers.get("x-amz-content-sha256") or UNSIGNED
    scope = f"{date}/{region}/{service}/aws4_request"
    skey = signing_key(key.secret_key, date, region, service)
    canonical = canonical_request(method, path, rest, headers, signed, payload)
    text = string_to_sign(params["X-Amz-Date"], scope, canonical)
    _verify(sign(skey, text), params["X-Amz-Signature"], access, text)
    return Auth(key, params["X-Amz-Date"], scope, skey, params["X-Amz-Signature"], payload, True)
