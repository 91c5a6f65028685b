"""Pieces both clients (embedded and remote) share."""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Callable
from typing import IO, Any

from siltfs.errors import FileNotFound, WrongType

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
