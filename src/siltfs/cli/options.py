"""Options shared by several ``silt fs`` commands."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from siltfs.model.enums import ReadType, TtlAction, WriteType

F = TypeVar("F", bound=Callable[..., Any])
# uvicorn's limit on a request's line and headers (h11: 16 KiB by default) -- a path of
# 4,096 characters sent percent-encoded, with xattrs, can be longer; h11 would refuse it
# with a plain-text 400 before the API sees it
HTTP_HEAD_LIMIT = 256 * 1024


def _to_write_type(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    return None if value is None else WriteType.parse(value)


def _to_read_type(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    return None if value is None else ReadType.parse(value)


def _to_ttl_action(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    return None if value is None else TtlAction.parse(value)


def write_type_option(f: F) -> F:
    return click.option(
        "--write-type",
        "write_type",
        type=click.Choice([m.value for m in WriteType], case_sensitive=False),
        default=None,
        callback=_to_write_type,
        help="How new data is written (default: the configured write type).",
    )(f)


def read_type_option(f: F) -> F:
    return click.option(
        "--read-type",
        "read_type",
        type=click.Choice([m.value for m in ReadType], case_sensitive=False),
        default=None,
        callback=_to_read_type,
        help="Whether reads fill the cache (default: the configured read type).",
    )(f)


def ttl_action_option(f: F) -> F:
    return click.option(
        "--action",
        "ttl_action",
        type=click.Choice([m.value.lower() for m in TtlAction], case_sensitive=False),
        default=None,
        callback=_to_ttl_action,
        help="What happens when the TTL expires (default: keep the current action).",
    )(f)


def json_option(f: F) -> F:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print the result as JSON (plain dicts)."
    )(f)


def recursive_option(help_text: str) -> Callable[[F], F]:
    def decorate(f: F) -> F:
        return click.option("-R", "-r", "--recursive", "recursive", is_flag=True, help=help_text)(f)

    return decorate


def tls_options(f: F) -> F:
    """``--tls-cert`` and ``--tls-key``: a server (master, worker, S3 gateway) on HTTPS."""
    key = click.option(
        "--tls-key",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        default=None,
        help="The certificate's private key (PEM).",
    )
    cert = click.option(
        "--tls-cert",
        type=click.Path(dir_okay=False, exists=True, path_type=Path),
        default=None,
        help="Serve HTTPS with this certificate (PEM).",
    )
    return cert(key(f))
