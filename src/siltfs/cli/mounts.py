"""``silt fs`` mount-table and consistency commands: mount, unmount, mounts, check-consistency.

``check-consistency`` exits 0 when the namespace and the UFS agree (with ``--repair``:
when every divergence it found was repaired), 3 when divergences remain, and 1 when the
check itself failed (the error on stderr), so scripts and monitors can tell them apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from siltfs.cli.main import open_fs
from siltfs.cli.options import json_option
from siltfs.cli.output import emit_json, mount_line

if TYPE_CHECKING:
    from siltfs.model.consistency import ConsistencyReport


def _parse_options(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    options: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"expected KEY=VALUE, got {item!r}", ctx=ctx, param=param)
        options[key.strip()] = value
    return options


@click.command("mount")
@click.option(
    "--option",
    "-o",
    "options",
    multiple=True,
    callback=_parse_options,
    metavar="KEY=VALUE",
    help="An option for the under-storage (repeatable), e.g. -o anon=true.",
)
@click.option(
    "--sync-interval",
    "sync_interval_ms",
    type=click.IntRange(min=-1),
    default=None,
    metavar="MS",
    help="Metadata sync interval in ms (-1 never, 0 always; default: configured).",
)
@click.option("--read-only", is_flag=True, help="Refuse writes under the mount point.")
@click.argument("path")
@click.argument("uri")
@click.pass_context
def mount(
    ctx: click.Context,
    path: str,
    uri: str,
    options: dict[str, str],
    sync_interval_ms: int | None,
    read_only: bool,
) -> None:
    """Mount the under-storage URI (file:///dir, s3://bucket/prefix, ...) at PATH."""
    open_fs(ctx).mount(
        path, uri, options=options or None, sync_interval_ms=sync_interval_ms, read_only=read_only
    )


@click.command("unmount")
@click.argument("path")
@click.pass_context
def unmount(ctx: click.Context, path: str) -> None:
    """Remove the mount at PATH (the under-storage itself is untouched)."""
    open_fs(ctx).unmount(path)


@click.command("mounts")
@json_option
@click.pass_context
def mounts(ctx: click.Context, as_json: bool) -> None:
    """List the mount table."""
    table = open_fs(ctx).mounts()
    if as_json:
        emit_json([m.to_dict() for m in table])
        return
    for m in sorted(table, key=lambda m: m.path):
        click.echo(mount_line(m))


@click.command("check-consistency")
@click.option("--repair", is_flag=True, help="Fix what is found, without losing data.")
@click.option(
    "--remove-ghosts",
    is_flag=True,
    help="With --repair: delete UFS entries the namespace does not know.",
)
@json_option
@click.argument("path", default="/")
@click.pass_context
def check_consistency(
    ctx: click.Context, path: str, repair: bool, remove_ghosts: bool, as_json: bool
) -> None:
    """Compare PATH in the namespace with the under-storage and report every divergence.

    Kinds: GHOST, MISSING_UFS_COPY, FINGERPRINT_MISMATCH, ORPHANED_STAGING, STUCK_JOB,
    FAILED_JOB, LOST, QUARANTINED_INTENT, UNREPRESENTABLE_NAME.  A file still waiting to
    be persisted is not a divergence.

    \b
    Exit status:
      0  consistent (with --repair: every divergence found was repaired)
      3  divergences remain
      1  the check itself failed (error on stderr)
    """
    if remove_ghosts and not repair:
        raise click.UsageError("--remove-ghosts only makes sense with --repair")
    report = open_fs(ctx).check_consistency(path, repair=repair, remove_ghosts=remove_ghosts)
    if as_json:
        emit_json(report.to_dict())
    else:
        _print_report(report, path)
    if not report.consistent:
        ctx.exit(3)


def _print_report(report: ConsistencyReport, path: str) -> None:
    for d in report.divergences:
        action = f"  -> {d.action}" if d.action else ""
        click.echo(f"{d.kind:<21} {d.path}: {d.detail}{action}")
    summary = f"{report.checked_entries} entries checked under {path}: "
    if not report.divergences:
        click.echo(summary + "consistent")
    else:
        fixed = sum(d.repaired for d in report.divergences)
        click.echo(summary + f"{len(report.divergences)} divergence(s), {fixed} repaired")
