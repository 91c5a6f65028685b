"""``silt fs`` namespace commands: ls, mkdir, touch, mv, rm, stat, du."""

from __future__ import annotations

from typing import Any

import click

from siltfs.cli.main import open_fs
from siltfs.cli.options import json_option, recursive_option, write_type_option
from siltfs.cli.output import DU_HEADER, du_line, emit_json, long_line, stat_lines
from siltfs.model import paths
from siltfs.model.enums import WriteType


@click.command("ls")
@recursive_option("List the whole subtree.")
@click.option("-l", "long", is_flag=True, help="Long format: state, cached %, size, mtime.")
@json_option
@click.argument("path", default="/")
@click.pass_context
def ls(ctx: click.Context, path: str, recursive: bool, long: bool, as_json: bool) -> None:
    """List the entries of PATH (default /)."""
    infos = open_fs(ctx).ls(path, recursive=recursive)
    if as_json:
        emit_json([info.to_dict() for info in infos])
        return
    for info in infos:
        click.echo(long_line(info) if long else info.path)


@click.command("mkdir")
@click.option(
    "-p", "--parents", is_flag=True, help="Create missing parents; no error if it exists."
)
@write_type_option
@click.argument("path_list", metavar="PATH...", nargs=-1, required=True)
@click.pass_context
def mkdir(
    ctx: click.Context, path_list: tuple[str, ...], parents: bool, write_type: WriteType | None
) -> None:
    """Create directories."""
    fs = open_fs(ctx)
    for path in path_list:
        fs.mkdir(path, parents=parents, exist_ok=parents, write_type=write_type)


@click.command("touch")
@write_type_option
@click.option(
    "-d",
    "--date",
    "date",
    default=None,
    metavar="WHEN",
    help="Set access and modification time to WHEN (ISO 8601, UTC unless given, "
    "or @SECONDS) instead of now.",
)
@click.argument("path")
@click.pass_context
def touch(ctx: click.Context, path: str, write_type: WriteType | None, date: str | None) -> None:
    """Create an empty file at PATH if there is none; set its times (now, or -d WHEN)."""
    from siltfs.cli.posix import parse_date

    when = parse_date(date) if date is not None else None  # checked before any change
    fs = open_fs(ctx)
    fs.touch(path, write_type=write_type)
    fs.utime(path, ns=(when, when)) if when is not None else fs.utime(path)


@click.command("mv")
@click.argument("src")
@click.argument("dst")
@click.pass_context
def mv(ctx: click.Context, src: str, dst: str) -> None:
    """Rename SRC to DST (into DST if DST is an existing directory)."""
    fs = open_fs(ctx)
    src = paths.validate(src)
    dst = paths.validate(dst)
    if dst != src and fs.exists(dst) and fs.stat(dst).is_dir:
        dst = paths.join(dst, paths.split(src)[1])
    fs.rename(src, dst)


@click.command("rm")
@recursive_option("Delete directories and everything beneath them.")
@click.option(
    "-U",
    "--unchecked",
    is_flag=True,
    help="Also delete UFS entries siltfs never knew (written outside it).",
)
@click.option(
    "--namespace-only",
    is_flag=True,
    help="Remove from the namespace only; leave the under-storage untouched.",
)
@click.argument("path_list", metavar="PATH...", nargs=-1, required=True)
@click.pass_context
def rm(
    ctx: click.Context,
    path_list: tuple[str, ...],
    recursive: bool,
    unchecked: bool,
    namespace_only: bool,
) -> None:
    """Delete files (and directories with -R).  Pending persists never block a delete."""
    fs = open_fs(ctx)
    for path in path_list:
        fs.delete(path, recursive=recursive, unchecked=unchecked, namespace_only=namespace_only)


@click.command("stat")
@json_option
@click.argument("path")
@click.pass_context
def stat(ctx: click.Context, path: str, as_json: bool) -> None:
    """Show everything known about PATH."""
    info = open_fs(ctx).stat(path)
    if as_json:
        emit_json(info.to_dict())
        return
    for line in stat_lines(info):
        click.echo(line)


@click.command("du")
@click.option("-s", "--summarize", is_flag=True, help="One total for PATH only.")
@json_option
@click.argument("path", default="/")
@click.pass_context
def du(ctx: click.Context, path: str, summarize: bool, as_json: bool) -> None:
    """Size and cached bytes of PATH (without -s: of each entry directly in it)."""
    fs = open_fs(ctx)
    rows: list[dict[str, Any]]
    if summarize or not fs.stat(path).is_dir:
        rows = [fs.du(path)]
    else:
        rows = [fs.du(info.path) for info in fs.ls(path)]
    if as_json:
        emit_json(rows[0] if summarize else rows)
        return
    click.echo(DU_HEADER)
    for row in rows:
        click.echo(du_line(row))
