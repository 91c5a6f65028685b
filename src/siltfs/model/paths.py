"""Namespace paths: validation and manipulation.  Paths are absolute, '/'-separated strings."""

from __future__ import annotations

import functools

from siltfs.errors import InvalidPath, NameTooLong, WrongType

MAX_NAME_BYTES = 255
MAX_PATH_BYTES = 4096
ROOT = "/"


def validate(path: object, *, what: str = "path") -> str:
    """Return the normalised form of *path* or raise InvalidPath/WrongType (cached for
    valid strings: hot paths are stat'ed over and over)."""
    if type(path) is str and what == "path":
        return _validate_cached(path)
    return _validate(path, what=what)


@functools.lru_cache(maxsize=8192)
def _validate_cached(path: str) -> str:
    return _validate(path, what="path")


def _validate(path: object, *, what: str = "path") -> str:
    """Return the normalised form of *path* or raise InvalidPath/WrongType.

    Accepted: absolute, no empty, '.' or '..' components, no NUL, each name at most
    255 bytes and the whole path at most 4096 bytes (UTF-8).  One trailing '/' is
    dropped.  Nothing else is rewritten: a path is never silently reinterpreted.
    """
    if isinstance(path, bytes):
        raise WrongType(f"{what} must be a str, not bytes", path=repr(path))
    if not isinstance(path, str):
        raise WrongType(f"{what} must be a str, not {type(path).__name__}", path=repr(path))
    if path == "":
        raise InvalidPath(f"{what} is empty", path="''")
    if "\x00" in path:
        raise InvalidPath(f"{what} contains a NUL character", path=path.replace("\x00", "\\0"))
    if not path.startswith("/"):
        raise InvalidPath(f"{what} must be absolute (start with '/')", path=path)
    try:
        encoded = path.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidPath(f"{what} is not valid UTF-8", path=repr(path)) from exc
    if len(encoded) > MAX_PATH_BYTES:
        raise NameTooLong(f"{what} is longer than {MAX_PATH_BYTES} bytes", path=path[:80] + "...")
    if path == ROOT:
        return ROOT
    body = path[1:-1] if path.endswith("/") else path[1:]
    for name in body.split("/"):
        validate_name(name, path)
    return "/" + body


def validate_name(name: str, path: str) -> None:
    if name == "":
        raise InvalidPath("empty path component", path=path)
    if name in (".", ".."):
        raise InvalidPath(f"'{name}' components are not allowed", path=path)
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise NameTooLong(f"a name is longer than {MAX_NAME_BYTES} bytes", path=path[:80] + "...")


def components(path: str) -> list[str]:
    return [] if path == ROOT else path[1:].split("/")


def join(parent: str, name: str) -> str:
    return "/" + name if parent == ROOT else parent + "/" + name


def split(path: str) -> tuple[str, str]:
    """('/a/b', 'c') for '/a/b/c'; ('/', 'a') for '/a'."""
    if path == ROOT:
        raise InvalidPath("the root has no parent", path=path)
    head, _, tail = path.rpartition("/")
    return (head or ROOT), tail


def is_ancestor(ancestor: str, path: str) -> bool:
    """True if *path* equals *ancestor* or lies beneath it."""
    if ancestor == ROOT:
        return True
    return path == ancestor or path.startswith(ancestor + "/")


def relative(path: str, base: str) -> str:
    """Path of *path* relative to *base* ('' if equal); *base* must be an ancestor."""
    if path == base:
        return ""
    if base == ROOT:
        return path[1:]
    return path[len(base) + 1 :]
