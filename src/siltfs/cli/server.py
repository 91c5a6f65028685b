"""``silt master``: serve the master's HTTP API (siltfs.server) on an embedded home.

The admin token is made on first start (``secrets.token_urlsafe``) and kept in
``<home>/token`` (mode 0600); clients pass it as ``token=`` or ``$SILT_TOKEN``.  The
cluster secret is made the same way in ``<home>/cluster-secret``: workers register with
it, and the master calls workers with it; it is no credential for the file system.
SIGTERM or Ctrl-C shut down gracefully: uvicorn stops accepting connections and lets
running requests finish (at most ``--graceful-timeout`` seconds), then the file system
is closed, which waits for in-flight persist commits.
"""

from __future__ import annotations

import os
import secrets
import signal
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from siltfs.cli.main import CliState, load_config
from siltfs.cli.options import HTTP_HEAD_LIMIT, tls_options
from siltfs.home import (
    CLUSTER_SECRET_FILE,
    TOKEN_FILE,
    private_dir,
    remove_master_file,
    write_master_file,
)


def ensure_token(home: Path) -> tuple[str, Path]:
    """The admin token in ``<home>/token``, created (mode 0600) if there is none yet."""
    return ensure_secret(home, TOKEN_FILE)


def ensure_cluster_secret(home: Path) -> tuple[str, Path]:
    """The cluster secret in ``<home>/cluster-secret``, created (0600) if there is none."""
    return ensure_secret(home, CLUSTER_SECRET_FILE)


def ensure_secret(home: Path, name: str) -> tuple[str, Path]:
    """The secret in ``<home>/<name>``, created (mode 0600) if there is none yet."""
    path = home / name
    private_dir(home)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        token = path.read_text(encoding="ascii").strip()
        if token:
            return token, path
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC, 0o600)
    token = secrets.token_urlsafe(32)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(token + "\n")
    os.chmod(path, 0o600)
    return token, path


@click.command("master")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=19998, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--home",
    "home_opt",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Home of the file system served (default: silt --home, $SILT_HOME, ~/.silt).",
)
@click.option(
    "--graceful-timeout",
    default=30,
    show_default=True,
    type=click.IntRange(0),
    help="Seconds running requests get to finish on shutdown.",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@click.option(
    "--metastore",
    "metastore_uri",
    default=None,
    metavar="URI",
    help="postgresql://... (a database shared by several masters) or a SQLite file "
    "(default: the metastore key of silt.toml, else <home>/metastore.db).",
)
@click.option(
    "--ufs",
    "ufs_uri",
    default=None,
    metavar="URI",
    help="What is mounted at / (any fsspec URI; default <home>/ufs).  Masters sharing a "
    "metastore must all be given the same one.",
)
@click.option(
    "--local-worker/--no-local-worker",
    default=None,
    help="Keep a block store in the master process too (default: cluster.local_worker).",
)
@tls_options
@click.option(
    "--access-log/--no-access-log",
    default=False,
    show_default=True,
    help="Log every request (worker heartbeats included: one line a second per worker).",
)
@click.pass_context
def master(
    ctx: click.Context,
    host: str,
    port: int,
    home_opt: Path | None,
    graceful_timeout: int,
    log_level: str,
    local_worker: bool | None,
    metastore_uri: str | None,
    ufs_uri: str | None,
    tls_cert: Path | None,
    tls_key: Path | None,
    access_log: bool,
) -> None:
    """Serve the siltfs API over HTTP (http://HOST:PORT/api/v1, docs at /docs)."""
    import uvicorn

    import siltfs
    from siltfs.server import create_app

    os.umask(0o077)  # everything a server writes under its home is private
    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    scheme = "https" if tls_cert else "http"
    state = ctx.find_object(CliState) or CliState(home=None)
    home = home_opt or state.home or Path.home() / ".silt"
    token, token_path = ensure_token(home)
    secret, secret_path = ensure_cluster_secret(home)
    cfg = load_config(home)
    if metastore_uri is not None:
        cfg = replace(cfg, metastore=metastore_uri).validate()
    # a master serving clients mounts only under [security] mount_roots
    cfg = replace(cfg, security=replace(cfg.security, restrict_mounts=True))
    if local_worker is not None:
        cfg = replace(cfg, cluster=replace(cfg.cluster, local_worker=local_worker))
    fs = siltfs.open_embedded(config=cfg, ufs=ufs_uri, token=secret, expect_workers=True)
    try:
        app = create_app(fs, token, cluster_secret=secret)
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=log_level,
            timeout_graceful_shutdown=graceful_timeout,
            access_log=access_log,
            h11_max_incomplete_event_size=HTTP_HEAD_LIMIT,
            ssl_certfile=str(tls_cert) if tls_cert else None,
            ssl_keyfile=str(tls_key) if tls_key else None,
        )
        server = uvicorn.Server(config)
        click.echo(f"silt master: serving {home} on {scheme}://{host}:{port}", err=True)
        click.echo(f"silt master: admin token in {token_path}", err=True)
        click.echo(f"silt master: cluster secret (for workers) in {secret_path}", err=True)
        click.echo(
            f"silt master: dashboard {scheme}://{host}:{port}/dashboard#token=<token>", err=True
        )
        announce_when_listening(server, home, host, port, scheme)
        serve_until_signalled(server)
    finally:
        remove_master_file(home)
        fs.close()
    click.echo("silt master: stopped", err=True)


def announce_when_listening(
    server: Any, home: Path, host: str, port: int, scheme: str = "http"
) -> None:
    """Write ``<home>/master.json`` once *server* listens, so the CLI, ``connect(home)``
    and fsspec ``home=`` go through this master (see :mod:`siltfs.home`)."""
    local = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    url = f"{scheme}://[{local}]:{port}" if ":" in local else f"{scheme}://{local}:{port}"

    def wait() -> None:
        while not server.should_exit:
            if server.started:
                write_master_file(home, url)
                return
            time.sleep(0.02)

    threading.Thread(target=wait, name="silt-announce", daemon=True).start()


def serve_until_signalled(server: Any, sockets: list[Any] | None = None) -> None:
    """Run a uvicorn server (on *sockets* if given) until SIGTERM/SIGINT; it stops
    accepting and lets running requests finish.  uvicorn re-raises the signal that
    stopped it once it is done; with these handlers that is a no-op, so the caller closes
    the file system cleanly."""
    previous = {sig: signal.signal(sig, _ignore) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run(sockets=sockets)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _ignore(signum: int, frame: Any) -> None:
    pass
