"""``silt worker`` (a block-store server that registers with masters) and ``silt up``
(master + one worker + the persist runner on embedded defaults, in one command)."""

from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import click

from siltfs.cli.main import CliState, load_config
from siltfs.cli.options import HTTP_HEAD_LIMIT, tls_options
from siltfs.cli.server import ensure_cluster_secret, ensure_token, serve_until_signalled
from siltfs.home import CLUSTER_SECRET_FILE, HomeLock, private_dir, read_token
from siltfs.tls import client_verify, make_self_signed

PR_SET_PDEATHSIG = 1


def _home(ctx: click.Context, home_opt: Path | None) -> Path:
    state = ctx.find_object(CliState) or CliState(home=None)
    return home_opt or state.home or Path(os.environ.get("SILT_HOME") or Path.home() / ".silt")


def _bind(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP: asyncio sets TCP_NODELAY only on sockets whose proto says TCP; without
    # it every keep-alive response waits for the peer's delayed ACK (~40 ms)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from exc
    return sock


@click.command("worker")
@click.option(
    "--master",
    "masters",
    multiple=True,
    envvar="SILT_MASTER",
    help="Master URL to register with (repeat, or comma-separate, for several masters).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=0,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port (0: any free one).",
)
@click.option("--advertise", default=None, help="URL the masters and clients use to reach it.")
@click.option(
    "--home",
    "home_opt",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Worker home: its cache lives in <home>/cache (default <silt home>/worker).",
)
@click.option(
    "--secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The cluster secret (default: $SILT_CLUSTER_SECRET, else <silt home>/cluster-secret).",
)
@click.option(
    "--log-level",
    default="info",
    show_default=True,
    type=click.Choice(["critical", "error", "warning", "info", "debug"]),
)
@click.option(
    "--access-log/--no-access-log",
    default=False,
    show_default=True,
    help="Log every request (heartbeats and block reads included).",
)
@tls_options
@click.pass_context
def worker(
    ctx: click.Context,
    masters: tuple[str, ...],
    host: str,
    port: int,
    advertise: str | None,
    home_opt: Path | None,
    secret_file: Path | None,
    log_level: str,
    access_log: bool,
    tls_cert: Path | None,
    tls_key: Path | None,
) -> None:
    """Serve a block store and register it with the master(s)."""
    import uvicorn

    from siltfs.server.worker_api import create_worker_app
    from siltfs.worker.blockstore import BlockStore
    from siltfs.worker.node import WorkerNode

    os.umask(0o077)  # the cache and the worker's files are private
    urls = [u.strip().rstrip("/") for m in masters for u in m.split(",") if u.strip()]
    if not urls:
        raise click.UsageError("give --master URL (or set SILT_MASTER)")
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise click.UsageError(f"master URL must be http(s)://host:port, not {url!r}")
    silt_home = _home(ctx, None)
    home = home_opt or silt_home / "worker"
    if secret_file is not None:
        secret = read_token(secret_file.parent, secret_file.name)
    else:
        secret = os.environ.get("SILT_CLUSTER_SECRET") or read_token(silt_home, CLUSTER_SECRET_FILE)
    if not secret:
        where = secret_file or silt_home / CLUSTER_SECRET_FILE
        raise click.UsageError(
            f"no cluster secret in {where}: copy the masters' <home>/{CLUSTER_SECRET_FILE} "
            "there, or give --secret-file or $SILT_CLUSTER_SECRET"
        )
    cfg = load_config(home if (home / "silt.toml").is_file() else silt_home)
    sock = _bind(host, port)
    bound = sock.getsockname()[1]
    if (tls_cert is None) != (tls_key is None):
        raise click.UsageError("--tls-cert and --tls-key go together")
    url = advertise or f"{'https' if tls_cert else 'http'}://{host}:{bound}"
    store = BlockStore(cfg.cache.mem_capacity, cfg.cache.ssd_capacity, home / "cache" / "ssd")
    node = WorkerNode(
        store,
        home=home,
        url=url,
        masters=urls,
        secret=secret,
        heartbeat_interval_s=cfg.cluster.heartbeat_interval_s,
    )
    app = create_worker_app(node)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            log_level=log_level,
            timeout_graceful_shutdown=10,
            access_log=access_log,
            h11_max_incomplete_event_size=HTTP_HEAD_LIMIT,
            ssl_certfile=str(tls_cert) if tls_cert else None,
            ssl_keyfile=str(tls_key) if tls_key else None,
        )
    )
    click.echo(f"silt worker: {node.id} serving {home} on {url}", err=True)
    click.echo(f"silt worker: registering with {', '.join(urls)}", err=True)
    node.start()
    try:
        serve_until_signalled(server, [sock])
    finally:
        node.close()
        sock.close()
    click.echo("silt worker: stopped", err=True)


def _wait_healthy(
    url: str, token: str, procs: list[subprocess.Popen[bytes]], timeout: float
) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            raise click.ClickException("a component exited during start-up (see its log)")
        try:
            r = httpx.get(
                url + "/api/v1/health",
                headers={"Authorization": f"Bearer {token}"},
                verify=client_verify(),
            )
            if r.status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise click.ClickException(f"{url} did not become healthy within {timeout:.0f} s")


def _workers_registered(url: str, token: str) -> int:
    import httpx

    try:
        r = httpx.get(
            url + "/api/v1/workers",
            headers={"Authorization": f"Bearer {token}"},
            verify=client_verify(),
        )
        return sum(1 for w in r.json() if w["alive"] and w["id"] != "local")
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return 0


def _free_ports(host: str, port: int, worker_port: int) -> int:
    """Fail before starting anything if a port is taken; the worker's port (chosen when 0)."""
    with _bind(host, port):
        pass
    with _bind(host, worker_port) as sock:
        chosen = int(sock.getsockname()[1])
    if chosen == port:
        raise click.ClickException("--worker-port must differ from --port")
    return chosen


def _tail(log: Path, lines: int = 5) -> str:
    """The last non-empty lines of *log*, folded into one line (the reason of a failure)."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"see {log}"
    last = [ln.strip() for ln in text.splitlines() if ln.strip()][-lines:]
    return " | ".join(last) + f" (log {log})" if last else f"see {log}"


def die_with_parent() -> None:
    """In a child, before exec: SIGTERM when the parent dies (Linux PR_SET_PDEATHSIG)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        pass  # not Linux: the children outlive a SIGKILLed parent


def _start_s3(
    start: Any,
    host: str,
    port: int,
    credentials: Path,
    master_url: str,
    token_path: Path,
    tls_args: list[str],
    timeout: float,
    logs: Path,
) -> str:
    """Start ``silt s3`` on the master (with the home's token); its URL once it answers."""
    import httpx

    proc = start(
        "s3",
        [
            "s3",
            "--master",
            master_url,
            "--host",
            host,
            "--port",
            str(port),
            "--credentials",
            str(credentials),
            "--token-file",
            str(token_path),
            *tls_args,
        ],
    )
    url = f"{'https' if tls_args else 'http'}://{host}:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:  # up when it refuses an anonymous request
            if httpx.get(url + "/", verify=client_verify(), timeout=1).status_code == 403:
                return url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            raise click.ClickException(f"the S3 gateway did not start: {_tail(logs / 's3.log')}")
        time.sleep(0.1)


@click.command("up")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port",
    default=19998,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="The master's port (the worker takes a free one).",
)
@click.option(
    "--home",
    "home_opt",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Home (default: silt --home, $SILT_HOME, ~/.silt).",
)
@click.option(
    "--worker-port",
    default=0,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="The worker's port (0: a free one).",
)
@click.option(
    "--tls",
    is_flag=True,
    help="Serve HTTPS with a self-signed pair made in <home>/tls (clients: SILT_CA).",
)
@click.option("--timeout", default=60.0, show_default=True, help="Seconds to wait for start-up.")
@click.option(
    "--s3-port",
    type=click.IntRange(1, 65535),
    default=None,
    help="Also start the S3 gateway (silt s3) on this port.",
)
@click.option(
    "--s3-credentials",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The gateway's credentials file (TOML, mode 0600; see silt s3).",
)
@click.pass_context
def up(
    ctx: click.Context,
    host: str,
    port: int,
    home_opt: Path | None,
    worker_port: int,
    tls: bool,
    timeout: float,
    s3_port: int | None,
    s3_credentials: Path | None,
) -> None:
    """Start a master (with the persist runner) and one worker; stop both on Ctrl-C.

    Before anything starts, the home must be free (no other master or process holds
    it) and both ports must be free; a component that fails to start is reported with
    the end of its log.  The master and the worker die with ``silt up`` (SIGTERM from the
    kernel if it is killed)."""
    os.umask(0o077)
    home = _home(ctx, home_opt)
    if (s3_port is None) != (s3_credentials is None):
        raise click.UsageError("--s3-port and --s3-credentials go together")
    if s3_credentials is not None:
        from siltfs.s3gw.credentials import load_keys

        load_keys(s3_credentials)  # a refused file stops everything before it starts
        with _bind(host, s3_port or 0):
            pass
    HomeLock(home).acquire().release()  # HomeLocked naming the holder, before anything
    worker_port = _free_ports(host, port, worker_port)
    token, token_path = ensure_token(home)
    secret, _ = ensure_cluster_secret(home)
    logs = private_dir(home / "logs")
    tls_args: list[str] = []
    env = {**os.environ, "SILT_CLUSTER_SECRET": secret}
    env.pop("SILT_TOKEN", None)
    if tls:
        cert, key = make_self_signed(home / "tls")
        tls_args = ["--tls-cert", str(cert), "--tls-key", str(key)]
        env["SILT_CA"] = os.environ["SILT_CA"] = str(cert)  # children and this process verify
    url = f"{'https' if tls else 'http'}://{host}:{port}"
    base = [sys.executable, "-m", "siltfs.cli.main", "--home", str(home)]
    env.pop("SILT_MASTER", None)
    procs: list[subprocess.Popen[bytes]] = []
    names: dict[int, str] = {}

    def start(name: str, args: list[str]) -> subprocess.Popen[bytes]:
        fd = os.open(logs / f"{name}.log", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(fd, "ab") as log:
            # own session: a terminal's Ctrl-C reaches `up` only, which stops them in order
            proc = subprocess.Popen(
                base + args,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=die_with_parent,
            )
        procs.append(proc)
        names[proc.pid] = name
        return proc

    stopping = {"signal": 0}

    def on_signal(signum: int, frame: Any) -> None:
        stopping["signal"] = signum

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        start(
            "master",
            ["master", "--host", host, "--port", str(port), "--no-local-worker", *tls_args],
        )
        try:
            _wait_healthy(url, token, procs, timeout)
        except click.ClickException as exc:
            raise click.ClickException(
                f"the master did not start: {_tail(logs / 'master.log')}"
            ) from exc
        worker_proc = start(
            "worker",
            ["worker", "--master", url, "--host", host, "--port", str(worker_port), *tls_args],
        )
        deadline = time.monotonic() + timeout
        while _workers_registered(url, token) < 1:
            if worker_proc.poll() is not None or time.monotonic() > deadline:
                raise click.ClickException(
                    f"the worker did not register: {_tail(logs / 'worker.log')}"
                )
            time.sleep(0.1)
        if s3_port is not None and s3_credentials is not None:
            s3_url = _start_s3(
                start, host, s3_port, s3_credentials, url, token_path, tls_args, timeout, logs
            )
        click.echo(f"silt up: master     {url}   (API {url}/api/v1, docs {url}/docs)")
        click.echo(f"silt up: worker     registered (log {logs / 'worker.log'})")
        click.echo(f"silt up: dashboard  {url}/dashboard#token={token}")
        if s3_port is not None:
            click.echo(f"silt up: s3         {s3_url}   (keys in {s3_credentials})")
        click.echo(f"silt up: token      {token_path}   (export SILT_TOKEN=$(cat {token_path}))")
        click.echo(f"silt up: use it     SILT_MASTER={url} silt fs ls /   (Ctrl-C stops)")
        sys.stdout.flush()
        while not stopping["signal"]:
            if any(p.poll() is not None for p in procs):
                dead = [names[p.pid] for p in procs if p.poll() is not None]
                click.echo(f"silt up: {', '.join(dead)} exited; stopping", err=True)
                break
            time.sleep(0.2)
    finally:
        # the gateway (a client) first; then the master: its graceful shutdown commits
        # in-flight persists, which read blocks from the worker; then the worker
        for proc in sorted(procs, key=lambda p: names[p.pid] != "s3"):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=120)
                except subprocess.TimeoutExpired:
                    proc.kill()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    click.echo("silt up: stopped", err=True)
    if not stopping["signal"]:
        raise SystemExit(1)
