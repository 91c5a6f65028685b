"""AWS Signature Version 2 -- only because boto3's ``generate_presigned_url`` still makes
SigV2 URLs by default (``?AWSAccessKeyId=&Expires=&Signature=``), and old clients sign the
``Authorization: AWS key:signature`` header with it.

``signature = base64(HMAC-SHA1(secret, string to sign))`` where the string to sign is the
method, Content-MD5, Content-Type, the date (``Expires`` for a URL), the ``x-amz-*``
headers and the resource (``/bucket/key`` plus the signed sub-resources).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping, Sequence
from urllib.parse import quote

from siltfs.s3gw.errors import S3Error, access_denied
from siltfs.s3gw.sigv4 import UNSIGNED, Auth, Lookup, check_key, check_skew, mismatch

SUBRESOURCES = {
    "acl",
    "delete",
    "lifecycle",
    "location",
    "logging",
    "notification",
    "partNumber",
    "policy",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
}


def string_to_sign(
    method: str,
    resource: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    date: str,
) -> str:
    amz = sorted((k, " ".join(v.split())) for k, v in headers.items() if k.startswith("x-amz-"))
    sub = sorted((k, v) for k, v in query if k in SUBRESOURCES)
    canonical = quote(resource, safe="/~")
    if sub:
        canonical += "?" + "&".join(f"{k}={v}" if v else k for k, v in sub)
    lines = [method, headers.get("content-md5", ""), headers.get("content-type", ""), date]
    return "\n".join(lines + [f"{k}:{v}" for k, v in amz] + [canonical])


def _sign(secret: str, text: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), text.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def authenticate(
    method: str,
    resource: str,
    query: Sequence[tuple[str, str]],
    headers: Mapping[str, str],
    lookup: Lookup,
) -> Auth:
    """Check a SigV2 header or presigned URL; *resource* is ``/bucket/key`` whatever the
    addressing style."""
    params = dict(query)
    if "authorization" in headers:
        access, _, given = headers["authorization"][4:].strip().partition(":")
        date = "" if "x-amz-date" in headers else headers.get("date", "")
        if not (date or headers.get("x-amz-date")):
            raise access_denied("the request has no Date or x-amz-date header")
        check_skew(headers.get("x-amz-date") or date)
    else:
        access, given, date = (
            params["AWSAccessKeyId"],
            params.get("Signature", ""),
            params.get("Expires", ""),
        )
        if not date.isdigit():
            raise S3Error(
                "AuthorizationQueryParametersError", "Expires must be a number of seconds"
            )
        if int(date) < time.time():
            raise access_denied("Request has expired")
    key = check_key(lookup(access), access)
    rest = [(k, v) for k, v in query if k not in ("AWSAccessKeyId", "Signature", "Expires")]
    text = string_to_sign(method, resource, rest, headers, date)
    if not hmac.compare_digest(_sign(key.secret_key, text), given):
        raise mismatch(access, text)
    return Auth(key, "", "", b"", given, UNSIGNED, presigned="authorization" not in headers)
