"""How commands print: JSON of plain dicts, Alluxio-like human lines, progress bars."""

from __future__ import annotations

import dataclasses
import json
import stat
import sys
from datetime import datetime
from enum import Enum
from types import TracebackType
from typing import TYPE_CHECKING, Any

import click

from siltfs.model.inode import is_secret_option

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from siltfs.model.inode import FileInfo, MountInfo

MiB = 1024 * 1024
PROGRESS_THRESHOLD = 8 * MiB  # transfers up to this size never show a progress bar


def plain(value: Any) -> Any:
    """*value* as JSON-ready data: ``to_dict()``, dataclasses, enums, lists and dicts."""
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return plain(to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain(dataclasses.asdict(value))
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    return value


def emit_json(data: Any) -> None:
    click.echo(json.dumps(plain(data), indent=2, default=str))


def format_time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds).strftime("%Y-%m-%d %H:%M:%S")


def long_line(info: FileInfo) -> str:
    """One ``ls -l`` line: mode, size, mtime, cached %, persistence state, path."""
    mode = "drwx" if info.is_dir else "-rw-"
    state = info.persistence_state.value
    pin = "  pinned" if info.pinned else ""
    return (
        f"{mode}  {info.length:>12}  {format_time(info.mtime)}  {info.cached_percent:>3}%  "
        f"{state:<15}  {info.path}{pin}"
    )


def _kind(info: FileInfo) -> str:
    if info.is_dir:
        return "directory"
    kinds = {
        stat.S_IFLNK: "symlink",
        stat.S_IFIFO: "fifo",
        stat.S_IFSOCK: "socket",
        stat.S_IFCHR: "character device",
        stat.S_IFBLK: "block device",
    }
    return kinds.get(stat.S_IFMT(info.mode), "file")


def stat_lines(info: FileInfo) -> list[str]:
    ttl = "none" if info.ttl is None else f"{info.ttl} ms ({info.ttl_action.value})"
    rows = [
        ("path", info.path),
        ("type", _kind(info)),
        ("mode", f"{stat.filemode(info.mode)} ({stat.S_IMODE(info.mode):04o})"),
        ("owner", f"{info.uid}:{info.gid}"),
        ("id", str(info.id)),
        ("length", str(info.length)),
        ("block size", str(info.block_size)),
        ("blocks", str(len(info.block_ids))),
        ("persistence state", info.persistence_state.value),
        ("cached", f"{info.cached_percent}%"),
        ("pinned", "yes" if info.pinned else "no"),
        ("ttl", ttl),
        ("modified", format_time(info.mtime)),
        ("generation", str(info.generation)),
        ("mount point", "yes" if info.mount_point else "no"),
    ]
    if info.target is not None:
        rows.append(("link target", info.target))
    if info.checksum is not None:
        rows.append(("md5", info.checksum))
    if info.fingerprint is not None:
        rows.append(("fingerprint", info.fingerprint))
    return [f"{name + ':':<20}{value}" for name, value in rows]


DU_HEADER = f"{'SIZE':>14}  {'CACHED':>14}  {'':>6}  PATH"


def du_line(usage: dict[str, Any]) -> str:
    length = int(usage.get("length", 0))
    cached = int(usage.get("cached_bytes", 0))
    percent = f"({cached * 100 // length}%)" if length else "(100%)"
    return f"{length:>14}  {cached:>14}  {percent:>6}  {usage.get('path', '')}"


def _mask(key: str, value: Any) -> str:
    return "***" if is_secret_option(key) else str(value)


def mount_line(mount: MountInfo) -> str:
    flags = ["ro" if mount.read_only else "rw"]
    if mount.sync_interval_ms is not None:
        flags.append(f"sync={mount.sync_interval_ms}ms")
    flags.extend(f"{k}={_mask(k, v)}" for k, v in sorted(mount.options.items()))
    return f"{mount.path:<24}  {mount.to_dict()['uri']}  ({', '.join(flags)})"


def show_progress(as_json: bool = False) -> bool:
    """Progress bars only on a terminal, never with ``--json``."""
    return not as_json and sys.stdout.isatty()


class TransferProgress:
    """A ``progress(done, total)`` callback drawing a rich bar once *total* is large.

    Use as a context manager; the bar appears on the first call whose total exceeds
    :data:`PROGRESS_THRESHOLD` and is stopped on exit.
    """

    def __init__(self, description: str, enabled: bool = True) -> None:
        self._description = description
        self._enabled = enabled
        self._progress: Progress | None = None
        self._task: TaskID | None = None

    def callback(self) -> TransferProgress | None:
        """This object if enabled (to pass as ``progress=``), else None."""
        return self if self._enabled else None

    def __call__(self, done: int, total: int) -> None:
        if not self._enabled:
            return
        if self._progress is None:
            if total <= PROGRESS_THRESHOLD:
                return
            self._start(total)
        assert self._progress is not None and self._task is not None
        self._progress.update(self._task, completed=done, total=total)

    def _start(self, total: int) -> None:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
        )
        self._progress.start()
        self._task = self._progress.add_task(self._description, total=total)

    def __enter__(self) -> TransferProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
