"""The siltfs exception tree.

Every failure a user can see is a :class:`SiltError`.  Each class has a stable
``code`` (used on the wire) and an HTTP ``status``; where a Python built-in fits,
the class also derives from it, so ``except FileNotFoundError`` keeps working::

    SiltError
    ├── InvalidPath            (ValueError)          400 invalid_path
    │   └── NameTooLong        (OSError ENAMETOOLONG) 400 name_too_long
    ├── InvalidArgument        (ValueError)          400 invalid_argument
    │   └── WrongType          (TypeError)           400 wrong_type
    ├── FileNotFound           (FileNotFoundError)   404 file_not_found
    │   └── AttributeNotFound  (OSError ENODATA)     404 attribute_not_found
    ├── FileExists             (FileExistsError)     409 file_exists
    ├── DirectoryNotEmpty      (OSError ENOTEMPTY)   409 directory_not_empty
    ├── IsADirectory           (IsADirectoryError)   409 is_a_directory
    ├── NotADirectory          (NotADirectoryError)  409 not_a_directory
    ├── MountError             (OSError)             409 mount_error
    ├── StaleVersion           (OSError ESTALE)      409 stale_version
    ├── PermissionDenied       (PermissionError)     403 permission_denied
    ├── Unauthenticated        (PermissionError)     401 unauthenticated
    ├── ResourceExhausted      (OSError ENOSPC)      507 resource_exhausted
    │   └── NotEnoughWorkers                         409 not_enough_workers
    ├── FileLost               (OSError EIO)         410 file_lost
    │   └── BlockCorrupted                           410 block_corrupted
    ├── UfsError               (OSError)             502 ufs_error
    ├── PersistFailed          (OSError)             500 persist_failed
    ├── PersistTimeout         (TimeoutError)        504 persist_timeout
    ├── Unavailable            (ConnectionError)     503 unavailable
    ├── JobNotFound            (LookupError)         404 job_not_found
    ├── NotSupported           (OSError ENOTSUP)     501 not_supported
    └── HomeLocked             (BlockingIOError)     423 home_locked

Errors raised by third-party code (fsspec, sqlite3, ...) are translated at the one
boundary where they enter (the UFS adapter, the metastore), never passed through raw.
"""

from __future__ import annotations

import errno as _errno
from typing import Any, ClassVar

__all__ = [
    "AttributeNotFound",
    "BlockCorrupted",
    "DirectoryNotEmpty",
    "FileExists",
    "FileLost",
    "FileNotFound",
    "HomeLocked",
    "InvalidArgument",
    "InvalidPath",
    "IsADirectory",
    "JobNotFound",
    "MountError",
    "NameTooLong",
    "NotADirectory",
    "NotEnoughWorkers",
    "NotSupported",
    "PermissionDenied",
    "PersistFailed",
    "PersistTimeout",
    "ResourceExhausted",
    "SiltError",
    "StaleVersion",
    "UfsError",
    "Unauthenticated",
    "Unavailable",
    "WrongType",
    "error_class_for_code",
]


class SiltError(Exception):
    """Base of every siltfs error; carries ``path`` and a human ``message``."""

    code: ClassVar[str] = "silt_error"
    status: ClassVar[int] = 500
    errno_value: ClassVar[int | None] = None

    def __init__(self, message: str, path: str | None = None, **details: Any) -> None:
        self.message = message
        self.path = path
        self.details = details
        text = f"{path}: {message}" if path else message
        if self.errno_value is not None and isinstance(self, OSError):
            OSError.__init__(self, self.errno_value, message, path)
        else:
            Exception.__init__(self, text)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.message, self.path, self.details))

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "path": self.path, **self.details}


class InvalidPath(SiltError, ValueError):
    code = "invalid_path"
    status = 400


class NameTooLong(InvalidPath, OSError):
    """A name over 255 bytes or a path over 4,096 (or over what a UFS on it takes)."""

    code = "name_too_long"
    status = 400
    errno_value = _errno.ENAMETOOLONG


class InvalidArgument(SiltError, ValueError):
    code = "invalid_argument"
    status = 400


class WrongType(InvalidArgument, TypeError):
    code = "wrong_type"
    status = 400


class FileNotFound(SiltError, FileNotFoundError):
    code = "file_not_found"
    status = 404
    errno_value = _errno.ENOENT


class AttributeNotFound(FileNotFound):
    """An extended attribute the entry does not have (getxattr's ENODATA)."""

    code = "attribute_not_found"
    status = 404
    errno_value = _errno.ENODATA


class FileExists(SiltError, FileExistsError):
    code = "file_exists"
    status = 409
    errno_value = _errno.EEXIST


class DirectoryNotEmpty(SiltError, OSError):
    code = "directory_not_empty"
    status = 409
    errno_value = _errno.ENOTEMPTY


class IsADirectory(SiltError, IsADirectoryError):
    code = "is_a_directory"
    status = 409
    errno_value = _errno.EISDIR


class NotADirectory(SiltError, NotADirectoryError):
    code = "not_a_directory"
    status = 409
    errno_value = _errno.ENOTDIR


class MountError(SiltError, OSError):
    code = "mount_error"
    status = 409
    errno_value = _errno.EBUSY


class PermissionDenied(SiltError, PermissionError):
    code = "permission_denied"
    status = 403
    errno_value = _errno.EACCES


class Unauthenticated(SiltError, PermissionError):
    code = "unauthenticated"
    status = 401
    errno_value = _errno.EACCES


class ResourceExhausted(SiltError, OSError):
    code = "resource_exhausted"
    status = 507
    errno_value = _errno.ENOSPC


class NotEnoughWorkers(ResourceExhausted):
    """More replicas asked for than the cluster has members: a conflict with its state."""

    code = "not_enough_workers"
    status = 409


class FileLost(SiltError, OSError):
    code = "file_lost"
    status = 410
    errno_value = _errno.EIO


class BlockCorrupted(FileLost):
    """A cached block failed its checksum; it was dropped.  A persisted file is re-read
    from the UFS instead (the reader never sees this); an unpersisted one has lost it."""

    code = "block_corrupted"
    status = 410


class UfsError(SiltError, OSError):
    code = "ufs_error"
    status = 502
    errno_value = _errno.EIO


class PersistFailed(SiltError, OSError):
    code = "persist_failed"
    status = 500
    errno_value = _errno.EIO


class PersistTimeout(SiltError, TimeoutError):
    code = "persist_timeout"
    status = 504


class Unavailable(SiltError, ConnectionError):
    code = "unavailable"
    status = 503


class JobNotFound(SiltError, LookupError):
    code = "job_not_found"
    status = 404


class NotSupported(SiltError, OSError):
    """An operation siltfs does not offer (say, hard links): nothing was changed."""

    code = "not_supported"
    status = 501
    errno_value = _errno.ENOTSUP


class StaleVersion(SiltError, OSError):
    """A copy-on-write change builds on blocks of a version that is gone (replaced by
    another writer and dropped, or evicted from the cache); nothing was committed."""

    code = "stale_version"
    status = 409
    errno_value = _errno.ESTALE


class HomeLocked(SiltError, BlockingIOError):
    """The home is held by another process (a master or an embedded file system)."""

    code = "home_locked"
    status = 423
    errno_value = _errno.EWOULDBLOCK


def _rebuild(
    cls: type[SiltError], message: str, path: str | None, details: dict[str, Any]
) -> SiltError:
    return cls(message, path, **details)


def _all_error_classes() -> list[type[SiltError]]:
    seen: list[type[SiltError]] = []
    stack: list[type[SiltError]] = [SiltError]
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return seen


def error_class_for_code(code: str) -> type[SiltError]:
    """The class whose stable ``code`` is *code* (``SiltError`` if unknown)."""
    for cls in _all_error_classes():
        if cls.code == code:
            return cls
    return SiltError
