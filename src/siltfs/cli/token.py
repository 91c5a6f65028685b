"""``silt token``: client tokens of a home's master (create, ls, revoke).

The admin token (``<home>/token``) may do everything; a client token may use the file
system but not the mount table, repairs, the queue's retry/cancel or worker registration,
and a ``--read-only`` one only read (see :mod:`siltfs.server.roles`).  Tokens are stored
hashed in ``<home>/tokens.json``; a running master sees changes at its next request.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from siltfs.cli.main import CliState
from siltfs.cli.options import json_option
from siltfs.cli.output import emit_json
from siltfs.home import private_dir
from siltfs.server.tokens import TokenStore


def _store(ctx: click.Context) -> TokenStore:
    state = ctx.find_object(CliState) or CliState(home=None)
    home = state.home or Path(os.environ.get("SILT_HOME") or Path.home() / ".silt")
    return TokenStore(private_dir(Path(home)))


@click.group("token")
def token() -> None:
    """Client tokens for the master of this home (--home, $SILT_HOME, ~/.silt)."""


@token.command("create")
@click.option("--name", default="client", show_default=True, help="What the token is for.")
@click.option("--read-only", is_flag=True, help="May read, never change anything.")
@json_option
@click.pass_context
def create(ctx: click.Context, name: str, read_only: bool, as_json: bool) -> None:
    """Make a client token and print it (once: only its hash is kept)."""
    record, value = _store(ctx).create(name, read_only=read_only)
    if as_json:
        emit_json({**record.public(), "token": value})
        return
    kind = "read-only client" if read_only else "client"
    click.echo(value)
    click.echo(f"silt token: {kind} token {record.id} ({record.name}); shown once", err=True)


@token.command("ls")
@json_option
@click.pass_context
def ls(ctx: click.Context, as_json: bool) -> None:
    """List client tokens (id, name, read-only, created); never the tokens themselves."""
    records = [t.public() for t in _store(ctx).list()]
    if as_json:
        emit_json(records)
        return
    for r in records:
        click.echo(f"{r['id']}  {'read-only' if r['read_only'] else 'client   '}  {r['name']}")


@token.command("revoke")
@click.argument("token_id")
@click.pass_context
def revoke(ctx: click.Context, token_id: str) -> None:
    """Revoke the client token TOKEN_ID (the master refuses it from its next request)."""
    record = _store(ctx).revoke(token_id)
    click.echo(f"silt token: revoked {record.id} ({record.name})", err=True)
