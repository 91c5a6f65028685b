"""``silt bench``: run benchmark suites, print the table, optionally write JSON.

The suites make their own data in a fresh temporary directory (``--workdir`` chooses
where) and never touch ``--home``.  ``--quick`` runs fewer rounds on smaller data; it
is a smoke test and says nothing reliable about speed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from siltfs.cli.main import CliError


@click.command("bench")
@click.argument("suites", nargs=-1, metavar="[SUITE]...")
@click.option("--quick", is_flag=True, help="Fewer rounds, smaller data (well under a minute).")
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, allow_dash=True),
    default=None,
    help="Also write the results as JSON to this file ('-': stdout, the table goes to stderr).",
)
@click.option(
    "--rounds", type=click.IntRange(min=1), default=None, help="Rounds per suite [5; quick 3]."
)
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the generated data goes [$TMPDIR or /tmp].",
)
@click.option("--keep", is_flag=True, help="Keep the generated data.")
@click.option("--strict", is_flag=True, help="Exit with status 1 if a target is missed.")
@click.option("--list", "list_only", is_flag=True, help="List the suites and exit.")
def bench(
    suites: tuple[str, ...],
    quick: bool,
    json_path: str | None,
    rounds: int | None,
    workdir: Path | None,
    keep: bool,
    strict: bool,
    list_only: bool,
) -> None:
    """Measure siltfs against its baselines (all suites unless SUITEs are named).

    Suites: meta, small, writeback, read, mutable, remote-meta, remote-read, scale, mount,
    s3 (--list says what each measures).  Each figure is the median of per-round rates,
    siltfs and its baseline alternating in the same process.
    """
    from rich.console import Console

    from siltfs.bench import PLANNED, SUITES
    from siltfs.bench.runner import render_table, report, run_suites

    if list_only:
        for name, spec in SUITES.items():
            click.echo(f"{name:<12} {spec}")
        for name, what in PLANNED.items():
            click.echo(f"{name:<12} (planned) {what}")
        return
    names = list(dict.fromkeys(suites)) or list(SUITES)
    for name in names:
        if name in PLANNED:
            raise CliError(f"suite {name} is not available yet: {PLANNED[name]}")
        if name not in SUITES:
            raise click.BadParameter(
                f"unknown suite {name!r}; choose from {', '.join(SUITES)}", param_hint="SUITE"
            )
    to_stdout = json_path == "-"
    stream = sys.stderr if to_stdout else sys.stdout
    console = Console(file=stream, width=None if stream.isatty() else 130)

    def log(message: str) -> None:
        click.echo(message, err=True)

    results = run_suites(
        names, SUITES, quick=quick, rounds=rounds, workdir=workdir, keep=keep, log=log
    )
    render_table(results, console)
    if json_path is not None:
        text = json.dumps(report(results, quick=quick, rounds=rounds), indent=2)
        if to_stdout:
            click.echo(text)
        else:
            Path(json_path).write_text(text + "\n", encoding="utf-8")
    missed = [f"{f.suite}: {f.name}" for r in results for f in r.figures if f.met is False]
    if missed and strict:
        raise CliError(f"{len(missed)} target(s) missed: {'; '.join(missed)}")
