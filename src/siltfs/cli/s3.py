"""``silt s3``: the S3-compatible gateway (:mod:`siltfs.s3gw`) over an embedded home or
remote master(s).  Access keys come from a 0600 TOML file (``--credentials``), read at
start and again on SIGHUP (a refused file keeps the keys in force).  SIGTERM or Ctrl-C
stop it gracefully: running requests finish, then the file system is closed."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import click

from siltfs.cli.cluster import _bind
from siltfs.cli.main import CliState, load_config
from siltfs.cli.options import HTTP_HEAD_LIMIT, tls_options
from siltfs.cli.server import serve_until_signalled
from siltfs.client.base import FileSystem
from siltfs.errors import SiltError
from siltfs.model.enums import WriteType


@click.command("s3")
@click.option(
    "--home",
    "home_opt",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Home served (default: silt --home, $SILT_HOME, ~/.silt); through its master if one runs.",
)
@click.option(
    "--master",
    "master",
    default=None,
    metavar="URL[,URL]",
    help="Serve these master(s) instead of a home (token: $SILT_TOKEN or --token-file).",
)
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help="The master's token (default $SILT_TOKEN).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=9000,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0: any free one).",
)
@click.option(
    "--credentials",
    "credentials_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML file of [[credentials]] access_key/secret_key/read_only (mode 0600).",
)
@click.option(
    "--write-type",
    "write_type",
    default=WriteType.ASYNC_THROUGH.value,
    show_default=True,
    type=click.Choice([m.value for m in WriteType], case_sensitive=False),
    help="How objects are written (per request: x-amz-meta-silt-write-type).",
)
@click.option(
    "--region", default="us-east-1", show_default=True, help="The region GetBucketLocation reports."
)
@click.option(
    "--domain",
    "domains",
    multiple=True,
    default=("localhost",),
    show_default=True,
    help="Virtual-host addressing: <bucket>.<domain> names a bucket (repeatable).",
)
@tls_options
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@click.option(
    "--access-log/--no-access-log", default=False, show_default=True, help="Log every request."
)
@click.pass_context
def s3(
    ctx: click.Context,
    home_opt: Path | None,
    master: str | None,
    token_file: Path | None,
    host: str,
    port: int,
    credentials_path: Path,
    write_type: str,
    region: str,
    domains: tuple[str, ...],
    tls_cert: Path | None,
    tls_key: Path | None,
    log_level: str,
    access_log: bool,
) -> None:
    """Serve the S3 API (path-style and virtual-host) over siltfs."""
    import uvicorn

    import siltfs
    from siltfs.s3gw.app import Gateway
    from siltfs.s3gw.credentials import Credentials

    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    state = ctx.find_object(CliState) or CliState(home=None)
    master = master or (state.master if home_opt is None else None)
    if master and home_opt is not None:
        raise click.UsageError("give --home or --master, not both")
    credentials = Credentials(credentials_path)  # refused before anything starts
    sock = _bind(host, port)
    bound = sock.getsockname()[1]
    if master:
        from siltfs.client.wire import master_urls

        token = token_file.read_text().strip() if token_file else os.environ.get("SILT_TOKEN")
        fs: FileSystem = siltfs.connect(master_urls(master), token=token or None)
        what = master
    else:
        home = home_opt or state.home or Path(os.environ.get("SILT_HOME") or Path.home() / ".silt")
        fs = siltfs.connect(config=load_config(home))
        what = str(home)
    try:
        app = Gateway(
            fs,
            credentials,
            write_type=WriteType(write_type.upper()),
            region=region,
            domains=domains,
        )
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                log_level=log_level,
                access_log=access_log,
                h11_max_incomplete_event_size=HTTP_HEAD_LIMIT,
                timeout_graceful_shutdown=30,
                ssl_certfile=str(tls_cert) if tls_cert else None,
                ssl_keyfile=str(tls_key) if tls_key else None,
            )
        )

        def on_hup(signum: int, frame: Any) -> None:
            try:
                n = credentials.reload()
                click.echo(f"silt s3: reloaded {n} key pair(s) from {credentials_path}", err=True)
            except (SiltError, OSError) as exc:
                click.echo(f"silt s3: error: {exc}; keeping the keys in force", err=True)

        signal.signal(signal.SIGHUP, on_hup)
        scheme = "https" if tls_cert else "http"
        click.echo(
            f"silt s3: serving {what} on {scheme}://{host}:{bound} "
            f"({len(credentials)} key pair(s), write type {write_type.upper()})",
            err=True,
        )
        serve_until_signalled(server, [sock])
    finally:
        sock.close()
        fs.close()
    click.echo("silt s3: stopped", err=True)
