"""``silt fs`` mount-table and consistency commands: mount, unmount, mounts, check-consistency."""

from __future__ import annotations

import inspect
from typing import Any

import click

from siltfs.cli.main import CliError, open_fs
from siltfs.cli.options import json_option
from siltfs.cli.output import emit_json, mount_line, plain


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
    """Compare PATH in the namespace with the under-storage and report every divergence."""
    fs = open_fs(ctx)
    check = getattr(fs, "check_consistency", None)
    if check is None:
        raise CliError("check-consistency is not supported by this file system client")
    kwargs: dict[str, Any] = {"repair": repair}
    if remove_ghosts:
        if "remove_ghosts" not in inspect.signature(check).parameters:
            raise CliError("--remove-ghosts is not supported by this file system client")
        kwargs["remove_ghosts"] = True
    report = plain(check(path, **kwargs))
    if as_json:
        emit_json(report)
        return
    for line in report_lines(report):
        click.echo(line)


_ISSUE_KEYS = ("divergences", "inconsistencies", "issues", "problems")


def report_lines(report: Any) -> list[str]:
    """Human lines for a consistency report of unknown shape (dict or list of issues)."""
    issues: Any = report
    extra: dict[str, Any] = {}
    if isinstance(report, dict):
        key = next((k for k in _ISSUE_KEYS if isinstance(report.get(k), list)), None)
        issues = report[key] if key else []
        extra = {k: v for k, v in report.items() if k != key}
    lines = [_issue_line(issue) for issue in issues] if isinstance(issues, list) else []
    lines.extend(f"{k}: {v}" for k, v in extra.items() if not isinstance(v, (list, dict)))
    if isinstance(issues, list):
        count = len(issues)
        lines.append("consistent" if count == 0 else f"{count} divergence(s) found")
    return lines


def _issue_line(issue: Any) -> str:
    if not isinstance(issue, dict):
        return str(issue)
    kind = issue.get("kind") or issue.get("type") or issue.get("code") or "divergence"
    rest = "  ".join(
        f"{k}={v}" for k, v in issue.items() if k not in ("kind", "type", "code", "path")
    )
    return f"{kind:<20}  {issue.get('path', '')}  {rest}".rstrip()
