"""``silt fs chmod/chown/ln/readlink/truncate/xattr``: POSIX metadata from the shell."""

from __future__ import annotations

import datetime

import click

from siltfs.cli.main import CliError, open_fs
from siltfs.cli.options import json_option
from siltfs.cli.output import emit_json


def _mode(text: str) -> int:
    try:
        value = int(text, 8)
    except ValueError:
        raise CliError(f"mode {text!r}: expected octal digits such as 644 or 4755") from None
    if not 0 <= value <= 0o7777:
        raise CliError(f"mode {text!r}: at most 7777")
    return value


@click.command("chmod")
@click.argument("mode")
@click.argument("path_list", metavar="PATH...", nargs=-1, required=True)
@click.pass_context
def chmod(ctx: click.Context, mode: str, path_list: tuple[str, ...]) -> None:
    """Set the permission bits of each PATH (octal MODE, e.g. 640 or 4755)."""
    bits = _mode(mode)  # checked before anything changes
    fs = open_fs(ctx)
    for path in path_list:
        fs.chmod(path, bits)


@click.command("chown")
@click.argument("owner", metavar="UID[:GID]")
@click.argument("path_list", metavar="PATH...", nargs=-1, required=True)
@click.pass_context
def chown(ctx: click.Context, owner: str, path_list: tuple[str, ...]) -> None:
    """Set the numeric owner (and group) of each PATH; ':GID' changes the group only."""
    uid_text, _, gid_text = owner.partition(":")
    try:
        uid = int(uid_text) if uid_text else -1
        gid = int(gid_text) if gid_text else -1
    except ValueError:
        raise CliError(f"owner {owner!r}: expected numeric UID[:GID]") from None
    fs = open_fs(ctx)
    for path in path_list:
        fs.chown(path, uid, gid)


def parse_date(text: str) -> int:
    """An ISO 8601 date/time (UTC unless it says otherwise) or @SECONDS, as ns."""
    if text.startswith("@"):
        try:
            return int(float(text[1:]) * 1e9)
        except ValueError:
            raise CliError(f"date {text!r}: expected @SECONDS") from None
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        raise CliError(
            f"date {text!r}: expected ISO 8601 (2026-01-31T12:00:00) or @SECONDS"
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return int(when.timestamp() * 1e9)


@click.command("ln")
@click.option(
    "-s",
    "symbolic",
    is_flag=True,
    required=True,
    help="A symbolic link (required: siltfs has no hard links).",
)
@click.argument("target")
@click.argument("path")
@click.pass_context
def ln(ctx: click.Context, symbolic: bool, target: str, path: str) -> None:
    """Make PATH a symbolic link to TARGET (stored as given, never resolved by siltfs)."""
    open_fs(ctx).symlink(target, path)


@click.command("readlink")
@click.argument("path")
@click.pass_context
def readlink(ctx: click.Context, path: str) -> None:
    """Print the target of the symbolic link PATH."""
    click.echo(open_fs(ctx).readlink(path))


@click.command("truncate")
@click.option("-s", "--size", type=click.IntRange(min=0), required=True, help="New size (bytes).")
@click.argument("path")
@click.pass_context
def truncate(ctx: click.Context, size: int, path: str) -> None:
    """Cut PATH to SIZE bytes or extend it with zeros (a new version of the file)."""
    open_fs(ctx).truncate(path, size)


@click.command("xattr")
@click.option("-n", "--name", default=None, help="The attribute (user.*).")
@click.option("-v", "--value", default=None, help="Set NAME to this value.")
@click.option("-x", "--remove", is_flag=True, help="Remove NAME.")
@json_option
@click.argument("path")
@click.pass_context
def xattr(
    ctx: click.Context, name: str | None, value: str | None, remove: bool, as_json: bool, path: str
) -> None:
    """Show, set (-n NAME -v VALUE) or remove (-n NAME -x) extended attributes of PATH."""
    if (value is not None or remove) and name is None:
        raise CliError("-v and -x need -n NAME")
    if value is not None and remove:
        raise CliError("give -v or -x, not both")
    fs = open_fs(ctx)
    if value is not None and name is not None:
        fs.setxattr(path, name, value.encode())
        return
    if remove and name is not None:
        fs.removexattr(path, name)
        return
    names = [name] if name is not None else fs.listxattr(path)
    found = {n: fs.getxattr(path, n).decode(errors="replace") for n in names}
    if as_json:
        emit_json(found)
        return
    for n, v in found.items():
        click.echo(f"{n}={v}")
