"""S3 mount options: what each means, and their mapping to ``s3fs.S3FileSystem``
arguments (InvalidArgument naming the URI for an unknown option or a bad value)."""

from __future__ import annotations

from typing import Any

from siltfs.errors import InvalidArgument

MIN_PART_SIZE = 5 * 2**20  # S3 refuses smaller parts (except the last)
DEFAULT_PART_SIZE = 50 * 2**20

OPTIONS = {
    "endpoint_url": "URL of an S3-compatible endpoint (default: AWS)",
    "key": "access key id (default: the AWS credential chain)",
    "secret": "secret access key",
    "token": "session token (temporary credentials)",
    "region": "region name, e.g. us-east-1",
    "anon": "true: unsigned requests (public buckets)",
    "part_size": f"multipart part size in bytes (>= {MIN_PART_SIZE}, default {DEFAULT_PART_SIZE})",
    "max_attempts": "attempts per request before an error is reported (botocore retries)",
    "connect_timeout": "seconds to wait for a connection (default 60)",
    "client_kwargs": "dict passed to the botocore client (Python API only)",
}
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off", "")


def s3fs_options(uri: str, options: dict[str, Any] | None) -> dict[str, Any]:
    """Map siltfs mount options to ``s3fs.S3FileSystem`` arguments (InvalidArgument for
    an unknown option or a bad value)."""
    opts = dict(options or {})
    unknown = sorted(set(opts) - set(OPTIONS))
    if unknown:
        raise InvalidArgument(
            f"unknown S3 mount option(s) {', '.join(unknown)}; known: {', '.join(OPTIONS)}",
            path=uri,
        )
    kwargs: dict[str, Any] = {"skip_instance_cache": True, "use_listings_cache": False}
    client_kwargs = opts.pop("client_kwargs", None) or {}
    if not isinstance(client_kwargs, dict):
        raise InvalidArgument("S3 mount option client_kwargs must be a dict", path=uri)
    client_kwargs = dict(client_kwargs)
    for name in ("endpoint_url", "key", "secret", "token", "region"):
        value = opts.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not value:
            raise InvalidArgument(f"S3 mount option {name} must be a non-empty string", path=uri)
        if name == "region":
            client_kwargs["region_name"] = value
        else:
            kwargs[name] = value
    if "anon" in opts:
        kwargs["anon"] = _bool(uri, "anon", opts["anon"])
    part_size = _int(uri, "part_size", opts.get("part_size", DEFAULT_PART_SIZE))
    if part_size < MIN_PART_SIZE:
        raise InvalidArgument(
            f"S3 mount option part_size must be at least {MIN_PART_SIZE} bytes (5 MiB)", path=uri
        )
    kwargs["default_block_size"] = part_size
    config: dict[str, Any] = {}
    if "max_attempts" in opts:
        attempts = _int(uri, "max_attempts", opts["max_attempts"])
        if attempts < 1:
            raise InvalidArgument("S3 mount option max_attempts must be at least 1", path=uri)
        config["retries"] = {"max_attempts": attempts, "mode": "standard"}
    if "connect_timeout" in opts:
        config["connect_timeout"] = _number(uri, "connect_timeout", opts["connect_timeout"])
    if config:
        kwargs["config_kwargs"] = config
    if client_kwargs:
        kwargs["client_kwargs"] = client_kwargs
    return kwargs


def _bool(uri: str, name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise InvalidArgument(f"S3 mount option {name} must be true or false, not {value!r}", path=uri)


def _int(uri: str, name: str, value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise InvalidArgument(
        f"S3 mount option {name} must be a number of bytes, not {value!r}", path=uri
    )


def _number(uri: str, name: str, value: Any) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1.0
    if isinstance(value, bool) or not number > 0:
        raise InvalidArgument(
            f"S3 mount option {name} must be a positive number, not {value!r}", path=uri
        )
    return number
