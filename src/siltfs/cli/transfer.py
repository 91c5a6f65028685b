"""``silt fs`` data commands: put/copyFromLocal, get/copyToLocal, cat, head, tail."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import click

from siltfs.cli.main import CliError, open_fs
from siltfs.cli.options import read_type_option, recursive_option, write_type_option
from siltfs.cli.output import TransferProgress, show_progress
from siltfs.errors import IsADirectory
from siltfs.model import paths
from siltfs.model.enums import ReadType, WriteType

if TYPE_CHECKING:
    from siltfs.client import FileSystem
    from siltfs.model.inode import FileInfo

CHUNK = 1024 * 1024


def _is_dir(fs: FileSystem, path: str) -> bool:
    return fs.exists(path) and fs.stat(path).is_dir


@click.command("put")
@recursive_option("Copy a local directory and everything in it.")
@write_type_option
@click.argument("local", type=click.Path(path_type=Path))
@click.argument("path")
@click.pass_context
def put(
    ctx: click.Context, local: Path, path: str, recursive: bool, write_type: WriteType | None
) -> None:
    """Copy the local file LOCAL to PATH (into PATH if it is a directory)."""
    fs = open_fs(ctx)
    path = paths.validate(path)
    if not local.exists():
        raise CliError(f"{local}: no such local file or directory")
    if _is_dir(fs, path):
        path = paths.join(path, local.name)
    if local.is_dir():
        if not recursive:
            raise CliError(f"{local}: is a directory (use -R to copy directories)")
        _put_tree(fs, local, path, write_type)
        return
    with TransferProgress(f"put {local.name}", show_progress()) as bar:
        fs.put(str(local), path, write_type=write_type, progress=bar.callback())


def _put_tree(fs: FileSystem, local: Path, path: str, write_type: WriteType | None) -> None:
    fs.mkdir(path, parents=True, exist_ok=True, write_type=write_type)
    for root, dirs, files in os.walk(local):
        dirs.sort()
        rel = Path(root).relative_to(local).as_posix()
        target = path if rel == "." else path.rstrip("/") + "/" + rel
        for name in dirs:
            fs.mkdir(paths.join(target, name), parents=True, exist_ok=True, write_type=write_type)
        for name in sorted(files):
            with TransferProgress(f"put {name}", show_progress()) as bar:
                fs.put(
                    os.path.join(root, name),
                    paths.join(target, name),
                    write_type=write_type,
                    progress=bar.callback(),
                )


@click.command("get")
@recursive_option("Copy a directory and everything in it.")
@read_type_option
@click.argument("path")
@click.argument("local", type=click.Path(path_type=Path))
@click.pass_context
def get(
    ctx: click.Context, path: str, local: Path, recursive: bool, read_type: ReadType | None
) -> None:
    """Copy PATH to the local file LOCAL (into LOCAL if it is a directory)."""
    fs = open_fs(ctx)
    info = fs.stat(path)
    if local.is_dir():
        local = local / (info.name or "root")
    if info.is_dir:
        if not recursive:
            raise CliError(f"{info.path}: is a directory (use -R to copy directories)")
        _get_tree(fs, info.path, local, read_type)
        return
    if not local.parent.is_dir():
        raise CliError(f"{local.parent}: no such local directory")
    with TransferProgress(f"get {info.name}", show_progress()) as bar:
        fs.get(info.path, str(local), read_type=read_type, progress=bar.callback())


def _get_tree(fs: FileSystem, path: str, local: Path, read_type: ReadType | None) -> None:
    local.mkdir(parents=True, exist_ok=True)
    for info in fs.ls(path, recursive=True):
        target = local.joinpath(*paths.relative(info.path, path).split("/"))
        if info.is_dir:
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        with TransferProgress(f"get {info.name}", show_progress()) as bar:
            fs.get(info.path, str(target), read_type=read_type, progress=bar.callback())


@click.command("cat")
@read_type_option
@click.argument("path")
@click.pass_context
def cat(ctx: click.Context, path: str, read_type: ReadType | None) -> None:
    """Write the bytes of PATH to stdout."""
    out = _stdout()
    with open_fs(ctx).open(path, "rb", read_type=read_type) as f:
        while chunk := f.read(CHUNK):
            out.write(chunk)
    out.flush()


@click.command("head")
@click.option("-c", "--bytes", "count", type=click.IntRange(min=0), default=1024, show_default=True)
@read_type_option
@click.argument("path")
@click.pass_context
def head(ctx: click.Context, path: str, count: int, read_type: ReadType | None) -> None:
    """Write the first bytes of PATH to stdout."""
    fs = open_fs(ctx)
    info = _file_info(fs, path)
    _write(_read_range(fs, info.path, 0, min(count, info.length), read_type))


@click.command("tail")
@click.option("-c", "--bytes", "count", type=click.IntRange(min=0), default=1024, show_default=True)
@read_type_option
@click.argument("path")
@click.pass_context
def tail(ctx: click.Context, path: str, count: int, read_type: ReadType | None) -> None:
    """Write the last bytes of PATH to stdout."""
    fs = open_fs(ctx)
    info = _file_info(fs, path)
    _write(_read_range(fs, info.path, max(0, info.length - count), info.length, read_type))


def _file_info(fs: FileSystem, path: str) -> FileInfo:
    info = fs.stat(path)
    if info.is_dir:
        raise IsADirectory("is a directory", path=info.path)
    return info


def _read_range(
    fs: FileSystem, path: str, start: int, end: int, read_type: ReadType | None
) -> bytes:
    if start >= end:
        return b""
    return fs.read_bytes(path, start, end, read_type=read_type)


def _stdout() -> BinaryIO:
    """The binary standard output (click's ``get_binary_stream`` is deprecated in 8.5)."""
    return sys.stdout.buffer


def _write(data: bytes) -> None:
    out = _stdout()
    out.write(data)
    out.flush()
