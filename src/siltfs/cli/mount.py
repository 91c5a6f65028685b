"""``silt mount`` and ``silt umount``: siltfs as a POSIX file system through FUSE."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from siltfs.cli.main import CliError, CliState, open_fs
from siltfs.client.base import FileSystem
from siltfs.model.enums import ReadType, WriteType


def _options(pairs: tuple[str, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pair in pairs:
        for item in pair.split(","):
            key, sep, value = item.partition("=")
            if not key:
                raise CliError(f"-o {pair!r}: expected KEY=VALUE or KEY")
            out[key] = value if sep else True
    return out


@click.command("mount")
@click.argument("mountpoint", type=click.Path(path_type=Path))
@click.option(
    "--master",
    "master",
    default=None,
    help="Master URL(s), comma-separated (default: $SILT_MASTER, else the home).",
)
@click.option(
    "--home",
    "home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Home to serve (through its running master if any; default ~/.silt).",
)
@click.option(
    "--allow-other",
    is_flag=True,
    help="Let every user use the mount; the kernel then enforces the modes and "
    "owners siltfs stores (default_permissions).",
)
@click.option("--read-only", is_flag=True, help="Mount read-only (EROFS on every change).")
@click.option(
    "--write-type",
    type=click.Choice([w.value for w in WriteType], case_sensitive=False),
    default=None,
    help="Write type of files written through the mount (default: the config's).",
)
@click.option(
    "--read-type",
    type=click.Choice([r.value for r in ReadType], case_sensitive=False),
    default=None,
    help="Read type of reads.",
)
@click.option(
    "--attr-timeout",
    type=click.FloatRange(0, 3600),
    default=1.0,
    show_default=True,
    help="Seconds the kernel caches attributes.",
)
@click.option(
    "--entry-timeout",
    type=click.FloatRange(0, 3600),
    default=1.0,
    show_default=True,
    help="Seconds the kernel caches name lookups.",
)
@click.option(
    "-o",
    "options",
    multiple=True,
    metavar="KEY[=VAL]",
    help="More FUSE options (repeatable; comma-separated lists too).",
)
@click.option(
    "--daemon",
    is_flag=True,
    help="Detach; log to <home>/logs/mount-<name>.log (exits once mounted).",
)
@click.option("--debug", is_flag=True, help="Log every FUSE operation (foreground).")
@click.pass_context
def mount(
    ctx: click.Context,
    mountpoint: Path,
    master: str | None,
    home: Path | None,
    allow_other: bool,
    read_only: bool,
    write_type: str | None,
    read_type: str | None,
    attr_timeout: float,
    entry_timeout: float,
    options: tuple[str, ...],
    daemon: bool,
    debug: bool,
) -> None:
    """Mount siltfs at MOUNTPOINT through FUSE, in the foreground until unmounted.

    \b
    Every program then reads and writes siltfs like a local disk.  Unmount with
    `silt umount MOUNTPOINT`, `fusermount3 -u MOUNTPOINT`, Ctrl-C or SIGTERM: open
    files are committed first.  A file changed through the mount becomes visible to
    other clients when it is closed, flushed or fsynced (close-to-open consistency).
    Exit status: 0 once unmounted, 1 on an error (a missing, non-empty or already
    mounted mount point; FUSE not installed: apt-get install fuse3).
    """
    from siltfs.mount import runner

    state = ctx.find_object(CliState)
    assert state is not None
    if home is not None:
        state.home = home
    if master is not None:
        state.master = master
    extra = _options(options)
    target = runner.check_mountpoint(str(mountpoint), nonempty=bool(extra.pop("nonempty", False)))
    home_dir = state.home if state.home is not None else Path.home() / ".silt"
    if daemon:
        _daemonize(target, home_dir)
        return
    fs = open_fs(ctx)
    from siltfs.mount.ops import SiltOperations

    spool = Path(home_dir) / "mount-spool"
    spool.mkdir(parents=True, exist_ok=True, mode=0o700)
    wt = write_type.upper() if write_type else _default_write_type(fs)
    ops = SiltOperations(
        fs,
        write_type=wt,
        read_type=read_type.upper() if read_type else None,
        spool_dir=tempfile.mkdtemp(prefix="m-", dir=spool),
        read_only=read_only,
    )
    fuse_options: dict[str, Any] = {
        "foreground": True,
        "fsname": "siltfs",
        "subtype": "silt",
        "hard_remove": True,
        "attr_timeout": attr_timeout,
        "entry_timeout": entry_timeout,
        "negative_timeout": 0,
        "debug": debug,
        "max_threads": 16,
        "max_idle_threads": 16,
    }
    if allow_other:
        fuse_options.update(allow_other=True, default_permissions=True)
    if read_only:
        fuse_options["ro"] = True
    fuse_options.update(extra)
    logging.basicConfig(
        level=logging.INFO if debug else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    runner.run(ops, target, fuse_options)


def _default_write_type(fs: FileSystem) -> str:
    config = getattr(fs, "config", None)
    wt = getattr(config, "default_write_type", WriteType.ASYNC_THROUGH)
    return str(wt.value)


def _daemonize(target: str, home: Path) -> None:
    """Run this same command without --daemon, detached, and wait until it is mounted."""
    from siltfs.mount import runner

    logs = home / "logs"
    logs.mkdir(parents=True, exist_ok=True, mode=0o700)
    log_path = logs / f"mount-{Path(target).name or 'root'}.log"
    argv = [a for a in sys.argv[1:] if a != "--daemon"]
    with open(log_path, "ab") as log:
        child = subprocess.Popen(
            [sys.executable, "-m", "siltfs.cli.main", *argv],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if runner.is_mounted(target):
            click.echo(f"mounted {target} (pid {child.pid}; log {log_path})")
            return
        if child.poll() is not None:
            raise CliError(f"mount failed (exit {child.returncode}); see {log_path}")
        time.sleep(0.05)
    raise CliError(f"not mounted after 30 s; see {log_path}")


@click.command("umount")
@click.argument("mountpoint", type=click.Path(path_type=Path))
@click.option("--lazy", "-z", is_flag=True, help="Detach now, clean up when no longer busy.")
def umount(mountpoint: Path, lazy: bool) -> None:
    """Unmount a siltfs mount (open files are committed by the mount first)."""
    from siltfs.mount import runner

    path = os.path.abspath(mountpoint)
    if not runner.is_mounted(path):
        raise CliError(f"{path}: not mounted")
    runner.unmount(path, lazy=lazy)
