"""Entry point of the ``silt`` command: the root group, error reporting, the connection.

Every failure a user can cause (a :class:`~siltfs.errors.SiltError`, or an ``OSError`` /
``ValueError`` from bad input) ends the command with one line on stderr,
``silt: error: <message>``, and exit status 1; usage errors keep click's status 2.
"""

from __future__ import annotations

import importlib
import os
import sys
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from siltfs import __version__
from siltfs.config import SiltConfig, config_from_dict
from siltfs.errors import InvalidArgument, SiltError

if TYPE_CHECKING:
    from siltfs.client import FileSystem

# Command groups, loaded on first use as "module:attribute".  Other layers add theirs
# here (``jobs``, ``up``, ``master``, ``worker``, ``bench``); nothing else needs to change.
COMMAND_GROUPS: dict[str, str] = {
    "fs": "siltfs.cli.fs:fs",
    "bench": "siltfs.cli.bench:bench",
    "jobs": "siltfs.cli.jobs:jobs",
    "master": "siltfs.cli.server:master",
    "worker": "siltfs.cli.cluster:worker",
    "up": "siltfs.cli.cluster:up",
    "token": "siltfs.cli.token:token",
    "mount": "siltfs.cli.mount:mount",
    "umount": "siltfs.cli.mount:umount",
    "s3": "siltfs.cli.s3:s3",
}

_FS_META_KEY = "siltfs.cli.fs"


def one_line(text: str) -> str:
    """*text* with line breaks folded into spaces, so an error is always one line."""
    return " ".join(text.split("\n")).strip()


def describe(exc: BaseException) -> str:
    """The user-facing message for *exc* (``path: reason`` when a path is known)."""
    if isinstance(exc, SiltError):
        return str(exc)
    if isinstance(exc, OSError) and exc.strerror:
        name = exc.filename
        return f"{name}: {exc.strerror}" if name is not None else exc.strerror
    return str(exc) or type(exc).__name__


class CliError(click.ClickException):
    """A failure reported as ``silt: error: <message>`` with exit status 1."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"silt: error: {one_line(self.format_message())}", file=file, err=True)


class SiltGroup(click.Group):
    """The root group: loads command groups lazily and turns errors into :class:`CliError`."""

    def __init__(self, *args: Any, lazy: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lazy = dict(lazy)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        spec = self._lazy.get(cmd_name)
        if spec is None:
            return super().get_command(ctx, cmd_name)
        module_name, _, attribute = spec.partition(":")
        command = getattr(importlib.import_module(module_name), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{spec} is not a click command")
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.ClickException, BrokenPipeError):
            raise  # click reports these itself
        except SiltError as exc:
            raise CliError(describe(exc)) from exc
        except (OSError, ValueError) as exc:
            raise CliError(describe(exc)) from exc


@dataclass
class CliState:
    """Global options, shared with every command through the click context."""

    home: Path | None
    master: str | None = None


@click.group(
    cls=SiltGroup,
    lazy=COMMAND_GROUPS,
    context_settings={"help_option_names": ["--help"], "max_content_width": 100},
)
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="SILT_HOME",
    default=None,
    help="Home of the embedded siltfs (metastore, cache, root UFS). [env SILT_HOME; ~/.silt]",
)
@click.version_option(version=__version__, prog_name="silt")
@click.pass_context
def cli(ctx: click.Context, home: Path | None) -> None:
    """silt: a data-orchestration file system with a write-back cache that never diverges."""
    ctx.obj = CliState(home=home, master=os.environ.get("SILT_MASTER") or None)


def load_config(home: Path) -> SiltConfig:
    """``<home>/silt.toml`` if it exists (keys as in :class:`siltfs.config.SiltConfig`,
    sections ``[cache]`` and ``[persist]``), else the defaults."""
    base = SiltConfig(home=home)
    path = home / "silt.toml"
    if not path.is_file():
        return base
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidArgument(f"invalid TOML: {exc}", path=str(path)) from exc
    data.pop("home", None)
    return config_from_dict(data, base)


def open_fs(ctx: click.Context) -> FileSystem:
    """The file system for this command, closed when the command's context ends.

    With ``SILT_MASTER`` set (``http(s)://`` URLs, comma-separated), that master (token:
    ``$SILT_TOKEN``, else the home's own when it is the master serving ``--home``);
    otherwise the home under ``--home`` (default ``~/.silt``): through the master serving
    it if one runs (``<home>/master.json``), else opened embedded.
    """
    existing = ctx.meta.get(_FS_META_KEY)
    if existing is not None:
        return existing  # type: ignore[no-any-return]
    import siltfs

    state = ctx.find_object(CliState) or CliState(home=None)
    home = Path(state.home) if state.home is not None else Path.home() / ".silt"
    if state.master:
        from siltfs.client.remote import master_urls

        urls = master_urls(state.master)  # a clear error for anything but http(s):// URLs
        fs = siltfs.connect(urls, token=_token_for(urls, home))
    else:
        fs = siltfs.connect(config=load_config(home))
    ctx.meta[_FS_META_KEY] = fs

    def close() -> None:
        ctx.meta.pop(_FS_META_KEY, None)
        fs.close()

    ctx.call_on_close(close)
    return fs


def _token_for(urls: list[str], home: Path) -> str | None:
    """``$SILT_TOKEN``, else the home's token when *urls* name the master serving it."""
    from siltfs.home import read_token, running_master

    if os.environ.get("SILT_TOKEN"):
        return os.environ["SILT_TOKEN"]
    served = running_master(home)
    if served is not None and served.url.rstrip("/") in urls:
        return read_token(home)
    return None


def _die(message: str) -> NoReturn:
    click.echo(f"silt: error: {one_line(message)}", err=True)
    sys.exit(1)


def main(argv: Sequence[str] | None = None) -> None:
    """Console entry point of ``silt``."""
    try:
        cli.main(args=list(argv) if argv is not None else None, prog_name="silt")
    except SiltError as exc:
        _die(describe(exc))
    except (OSError, ValueError) as exc:
        _die(describe(exc))


if __name__ == "__main__":
    # Run the canonical module, so command modules importing ``siltfs.cli.main``
    # share its objects instead of a second copy living in ``__main__``.
    from siltfs.cli.main import main as _main

    _main()
