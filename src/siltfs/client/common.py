"""Pieces both clients (embedded and remote) share."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable
from typing import IO, Any

from siltfs.client.versions import Version
from siltfs.errors import FileNotFound, InvalidArgument, WrongType

__all__ = [
    "CHUNK",
    "PieceReader",
    "Progress",
    "abort_writer",
    "check_bool",
    "check_interval",
    "read_slice",
    "save_to_local",
    "seek_position",
]

Progress = Callable[[int, int], None]
CHUNK = 4 * 1024 * 1024


def seek_position(pos: int, size: int, offset: int, whence: int) -> int:
    """The new position of a seek (io semantics); ValueError for a bad whence/negative."""
    base = {io.SEEK_SET: 0, io.SEEK_CUR: pos, io.SEEK_END: size}.get(whence)
    if base is None:
        raise ValueError(f"invalid whence {whence}")
    if base + offset < 0:
        raise ValueError("negative seek position")
    return base + offset


def save_to_local(
    opener: Callable[[], IO[Any]], local_path: str | os.PathLike[str], progress: Progress | None
) -> None:
    """Copy an open siltfs file to *local_path* through a temporary file beside it, so a
    failure leaves no partial local file."""
    local = os.fspath(local_path)
    target_dir = os.path.dirname(os.path.abspath(local))
    if not os.path.isdir(target_dir):
        raise FileNotFound("local directory does not exist", path=target_dir)
    with opener() as src:
        total = src.raw.size  # type: ignore[attr-defined]
        fd, tmp = tempfile.mkstemp(prefix=".silt-get-", dir=target_dir)
        try:
            with os.fdopen(fd, "wb") as dst:
                done = 0
                while chunk := src.read(CHUNK):
                    dst.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
            os.replace(tmp, local)
        except BaseException:
            os.unlink(tmp)
            raise


def read_slice(
    opener: Callable[[], IO[Any]], path: str, start: int | None, end: int | None
) -> bytes:
    """Bytes [start, end) of an open siltfs file; negative bounds count from the end."""
    for name, value in (("start", start), ("end", end)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise WrongType(f"{name} must be an int or None, not {value!r}", path=str(path))
    with opener() as f:
        size = f.raw.size  # type: ignore[attr-defined]
        s = 0 if start is None else (start if start >= 0 else max(0, size + start))
        e = size if end is None else (end if end >= 0 else max(0, size + end))
        if e <= s:
            return b""
        f.seek(s)
        return f.read(e - s)  # type: ignore[no-any-return]


def check_bool(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise WrongType(f"{name} must be a bool, not {type(value).__name__}")
    return value


def check_interval(value: object) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < -1:
        raise InvalidArgument(f"sync_interval_ms must be -1, 0 or positive ms, not {value!r}")
    return value


class PieceReader(io.RawIOBase):
    """A seekable raw reader over fixed-size pieces of a file (cache blocks, HTTP ranges):
    subclasses say how long the file is, how big a piece is, and how to get one -- whole
    (``_piece``), or part of one straight into the caller's buffer (``_piece_into``)."""

    _pos = 0

    def _total(self) -> int:
        raise NotImplementedError

    def _piece_size(self) -> int:
        raise NotImplementedError

    def _piece(self, idx: int) -> bytes:
        raise NotImplementedError

    def version(self) -> Version:
        """The version this reader reads (the base of a change made through it)."""
        raise NotImplementedError

    def _piece_into(self, idx: int, offset: int, out: memoryview) -> int:
        """Bytes of piece *idx* from *offset* into *out* (never past the piece's end);
        how many.  By default copied from ``_piece``."""
        data = self._piece(idx)
        n = max(0, min(len(out), len(data) - offset))
        out[:n] = memoryview(data)[offset : offset + n]
        return n

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self._pos = seek_position(self._pos, self._total(), offset, whence)
        return self._pos

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        total, piece_size = self._total(), self._piece_size()
        while done < len(view) and self._pos < total:
            idx, off = divmod(self._pos, piece_size)
            want = min(len(view) - done, piece_size - off, total - self._pos)
            n = self._piece_into(idx, off, view[done : done + want])
            if n <= 0:
                break
            done += n
            self._pos += n
        return done


def abort_writer(f: IO[Any]) -> None:
    """Drop an unfinished write of either client: nothing of it is committed (closing
    the file instead would commit the partial data)."""
    raw = getattr(f, "raw", f)
    abort = getattr(raw, "abort", None)
    if abort is None:
        raise TypeError(f"{type(raw).__name__} cannot be aborted")
    abort()
