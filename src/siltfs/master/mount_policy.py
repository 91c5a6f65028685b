"""Which storage a mount may reach: locations resolved, servers kept inside their roots.

Overlap and permission are decided on the *resolved* storage location
(:func:`storage_location`): every spelling that lands on the local file system
(``file://``, ``local://``, a plain path) is the ``realpath`` of that path; object stores
are ``scheme://bucket/prefix`` with scheme aliases unified.  Chained fsspec URLs
(``simplecache::file://...``) are refused: their real location depends on the chain.

A master serving clients (``silt master``; ``SecurityConfig.restrict_mounts``) only
mounts locations under ``[security] mount_roots`` -- by default the home's own UFS
directory -- and never the home itself, its cache, metastore, token or logs.  The
embedded API (one user, in process) mounts anything that user can read.
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from siltfs.config import SiltConfig
from siltfs.errors import InvalidArgument, PermissionDenied

SCHEME_ALIASES = {"s3a": "s3", "local": "file", "gcs": "gs"}  # other spellings, same store
LOCAL_SCHEMES = ("file", "local")


def storage_location(uri: str) -> str:
    """The canonical location *uri* reaches, ending in ``/`` (for prefix comparisons).

    InvalidArgument for URIs whose location cannot be decided (chained URLs)."""
    if not isinstance(uri, str) or not uri.strip():
        raise InvalidArgument("mount URI must be a non-empty string", path=repr(uri))
    if "\x00" in uri:
        raise InvalidArgument("mount URI contains a NUL character", path=repr(uri))
    if "::" in uri:
        raise InvalidArgument(
            "chained URLs (a::b://...) are not supported as mounts: their storage location "
            "depends on the chain; mount the underlying URL",
            path=uri,
        )
    scheme, sep, rest = uri.partition("://")
    if not sep:
        scheme, rest = "file", uri
    scheme = SCHEME_ALIASES.get(scheme.lower(), scheme.lower())
    if scheme in LOCAL_SCHEMES:
        return "file://" + os.path.realpath(os.path.abspath(rest or "/")).rstrip("/") + "/"
    return f"{scheme}://{posixpath.normpath('/' + rest).lstrip('/').rstrip('/')}/"


def _root(root: str) -> str:
    """A configured mount root as a location prefix; ``"s3://"`` alone allows the scheme."""
    scheme, sep, rest = root.partition("://")
    if sep and not rest.strip("/"):
        return SCHEME_ALIASES.get(scheme.lower(), scheme.lower()) + "://"
    return storage_location(root)


def within(location: str, root: str) -> bool:
    return location.startswith(root)


def check_allowed(config: SiltConfig, uri: str) -> None:
    """PermissionDenied unless a restricted master may mount *uri* (see the module doc)."""
    if not config.security.restrict_mounts:
        return
    where = storage_location(uri)
    home = storage_location(str(Path(config.home).expanduser()))
    ufs_dir = storage_location(str(config.root_ufs_dir.expanduser()))
    private = [storage_location(str(p.expanduser())) for p in (config.ssd_dir,)]
    if within(home, where) or any(within(where, p) or within(p, where) for p in private):
        raise PermissionDenied(
            f"{uri} would expose this master's own home (metastore, cache, token, logs)",
            path=uri,
        )
    if within(where, home) and not within(where, ufs_dir):
        raise PermissionDenied(
            f"{uri} is inside this master's home but outside its UFS directory", path=uri
        )
    roots = [_root(r) for r in config.security.mount_roots] or [ufs_dir]
    if not any(within(where, r) for r in roots):
        allowed = ", ".join(config.security.mount_roots) or str(config.root_ufs_dir)
        raise PermissionDenied(
            f"{uri} is outside the storage this master may mount ([security] mount_roots: "
            f"{allowed})",
            path=uri,
        )
