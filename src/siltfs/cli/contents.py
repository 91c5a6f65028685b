"""``silt fs`` commands over what the namespace holds: count, checksum, cp (within siltfs)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from siltfs.cli.main import CliError, open_fs
from siltfs.cli.options import json_option, recursive_option, write_type_option
from siltfs.cli.output import TransferProgress, emit_json, show_progress
from siltfs.client.common import abort_writer
from siltfs.errors import FileExists, IsADirectory
from siltfs.model import paths
from siltfs.model.enums import WriteType
from siltfs.model.inode import content_digest

if TYPE_CHECKING:
    from siltfs.client import FileSystem
    from siltfs.model.inode import FileInfo

CHUNK = 4 * 1024 * 1024

__all__ = ["checksum", "count", "cp"]


@click.command("count")
@json_option
@click.argument("path_list", nargs=-1, required=True, metavar="PATH...")
@click.pass_context
def count(ctx: click.Context, path_list: tuple[str, ...], as_json: bool) -> None:
    """Directories, files and bytes under each PATH (PATH itself included).

    Columns: DIR_COUNT FILE_COUNT CONTENT_SIZE PATH, as ``hdfs dfs -count`` prints them.
    """
    fs = open_fs(ctx)
    rows = [_count(fs, path) for path in path_list]
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        click.echo(f"{row['directories']:>12} {row['files']:>12} {row['bytes']:>18} {row['path']}")


def _count(fs: FileSystem, path: str) -> dict[str, Any]:
    top = fs.stat(path)
    entries = [top, *fs.ls(top.path, recursive=True)] if top.is_dir else [top]
    files = [i for i in entries if not i.is_dir]
    return {
        "path": top.path,
        "directories": len(entries) - len(files),
        "files": len(files),
        "bytes": sum(i.length for i in files),
    }


@click.command("checksum")
@json_option
@click.argument("path_list", nargs=-1, required=True, metavar="PATH...")
@click.pass_context
def checksum(ctx: click.Context, path_list: tuple[str, ...], as_json: bool) -> None:
    """The MD5 of the content of each file PATH.

    siltfs records it when a file is written (it is the file's S3 ETag); a file loaded
    from the under-storage without one is read whole to compute it.
    """
    fs = open_fs(ctx)
    infos = [fs.stat(path) for path in path_list]  # every path checked first
    for info in infos:
        if info.is_dir:
            raise IsADirectory("is a directory; checksum takes files", path=info.path)
    rows = []
    for info in infos:
        digest, recorded = _md5(fs, info)
        rows.append(
            {
                "path": info.path,
                "algorithm": "MD5",
                "checksum": digest,
                "recorded": recorded,
                "length": info.length,
            }
        )
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        click.echo(f"MD5 {row['checksum']} {row['path']}")


def _md5(fs: FileSystem, info: FileInfo) -> tuple[str, bool]:
    if info.checksum:
        return info.checksum, True
    digest = content_digest()
    with fs.open(info.path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest(), False


@click.command("cp")
@recursive_option("Copy a directory and everything in it.")
@write_type_option
@click.option("-n", "--no-clobber", is_flag=True, help="Never overwrite an existing file.")
@click.argument("src")
@click.argument("dst")
@click.pass_context
def cp(
    ctx: click.Context,
    src: str,
    dst: str,
    recursive: bool,
    write_type: WriteType | None,
    no_clobber: bool,
) -> None:
    """Copy SRC to DST within siltfs (into DST if it is a directory).

    The bytes are read and written again: the copy is a new file with its own write type
    (default: the configured one) and persists on its own.  With -R a directory is copied
    with everything in it; DST must not be inside SRC.
    """
    fs = open_fs(ctx)
    info = fs.stat(src)
    dst = paths.validate(dst)
    if fs.exists(dst) and fs.stat(dst).is_dir:
        dst = paths.join(dst, info.name or "root")
    if info.is_dir:
        if not recursive:
            raise CliError(f"{info.path}: is a directory (use -R to copy directories)")
        if dst == info.path or dst.startswith(info.path.rstrip("/") + "/"):
            raise CliError(f"{dst}: inside the directory being copied ({info.path})")
        _copy_tree(fs, info, dst, write_type, no_clobber)
        return
    if dst == info.path:
        raise CliError(f"{dst}: source and destination are the same file")
    _copy_file(fs, info, dst, write_type, no_clobber)


def _copy_tree(
    fs: FileSystem, top: FileInfo, dst: str, write_type: WriteType | None, no_clobber: bool
) -> None:
    entries = fs.ls(top.path, recursive=True)  # listed before the first write
    fs.mkdir(dst, parents=True, exist_ok=True, write_type=write_type)
    for entry in entries:
        target = paths.join(dst, paths.relative(entry.path, top.path))
        if entry.is_dir:
            fs.mkdir(target, parents=True, exist_ok=True, write_type=write_type)
        else:
            _copy_file(fs, entry, target, write_type, no_clobber)


def _copy_file(
    fs: FileSystem, info: FileInfo, dst: str, write_type: WriteType | None, no_clobber: bool
) -> None:
    if no_clobber and fs.exists(dst):
        raise FileExists("already exists (--no-clobber)", path=dst)
    with TransferProgress(f"cp {info.name}", show_progress()) as bar, fs.open(info.path) as src:
        progress = bar.callback()
        out = fs.open(dst, "wb", write_type=write_type)
        try:
            done = 0
            while chunk := src.read(CHUNK):
                out.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, info.length)
        except BaseException:
            abort_writer(out)  # nothing of a failed copy becomes visible
            raise
        out.close()
