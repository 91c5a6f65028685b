"""``silt fs`` cache and persistence commands.

persist, wait-persisted, free, load, pin, unpin, setTtl, unsetTtl.
"""

from __future__ import annotations

import click

from siltfs.cli.main import open_fs
from siltfs.cli.options import json_option, read_type_option, ttl_action_option
from siltfs.cli.output import TransferProgress, emit_json, show_progress
from siltfs.model.enums import ReadType, TtlAction


@click.command("persist")
@json_option
@click.argument("path_list", metavar="PATH...", nargs=-1, required=True)
@click.pass_context
def persist(ctx: click.Context, path_list: tuple[str, ...], as_json: bool) -> None:
    """Schedule the unpersisted files under each PATH for persistence (retries FAILED ones)."""
    fs = open_fs(ctx)
    counts = {path: fs.persist(path) for path in path_list}
    total = sum(counts.values())
    if as_json:
        emit_json({"scheduled": total, "paths": counts})
        return
    click.echo(f"scheduled {total} file{'' if total == 1 else 's'} for persistence")


@click.command("wait-persisted")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=None,
    help="Give up after this many seconds (default: wait as long as it takes).",
)
@click.argument("path", required=False)
@click.pass_context
def wait_persisted(ctx: click.Context, path: str | None, timeout: float | None) -> None:
    """Wait until every file under PATH (default: everywhere) is persisted."""
    open_fs(ctx).wait_persisted(path, timeout=timeout)


@click.command("free")
@json_option
@click.argument("path")
@click.pass_context
def free(ctx: click.Context, path: str, as_json: bool) -> None:
    """Drop the cached blocks of persisted files under PATH."""
    freed = open_fs(ctx).free(path)
    if as_json:
        emit_json({"path": path, "freed_bytes": freed})
        return
    click.echo(f"freed {freed} bytes under {path}")


@click.command("load")
@json_option
@read_type_option
@click.argument("path")
@click.pass_context
def load(ctx: click.Context, path: str, as_json: bool, read_type: ReadType | None) -> None:
    """Load the files under PATH into the cache."""
    # The file system's load has no read type: loading always caches.  The option is
    # accepted for symmetry with the other read commands and Alluxio's CLI.
    del read_type
    with TransferProgress(f"load {path}", show_progress(as_json)) as bar:
        loaded = open_fs(ctx).load(path, progress=bar.callback())
    if as_json:
        emit_json({"path": path, "loaded_bytes": loaded})
        return
    click.echo(f"loaded {loaded} bytes under {path}")


@click.command("pin")
@click.argument("path")
@click.pass_context
def pin(ctx: click.Context, path: str) -> None:
    """Keep the blocks of PATH in the cache (never evicted)."""
    open_fs(ctx).set_attribute(path, pinned=True)


@click.command("unpin")
@click.argument("path")
@click.pass_context
def unpin(ctx: click.Context, path: str) -> None:
    """Let the blocks of PATH be evicted again."""
    open_fs(ctx).set_attribute(path, pinned=False)


@click.command("setTtl")
@ttl_action_option
@click.argument("path")
@click.argument("ms", type=click.IntRange(min=0))
@click.pass_context
def set_ttl(ctx: click.Context, path: str, ms: int, ttl_action: TtlAction | None) -> None:
    """Set the time-to-live of PATH to MS milliseconds.

    When it expires PATH is deleted (or its cached blocks freed, with --action free).
    """
    open_fs(ctx).set_attribute(path, ttl=ms, ttl_action=ttl_action)


@click.command("unsetTtl")
@click.argument("path")
@click.pass_context
def unset_ttl(ctx: click.Context, path: str) -> None:
    """Remove the TTL of PATH."""
    open_fs(ctx).set_attribute(path, ttl=-1)
