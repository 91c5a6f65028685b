"""``silt jobs``: the persist queue — list, show, retry, cancel."""

from __future__ import annotations

import click

from siltfs.cli.main import open_fs
from siltfs.cli.options import json_option
from siltfs.cli.output import emit_json
from siltfs.model.jobs import JobInfo


def _line(job: JobInfo) -> str:
    error = f"  last error: {job.last_error}" if job.last_error else ""
    return (
        f"{job.id:>6}  {job.state:<8} attempts={job.attempts:<2} age={job.age_s:8.1f}s  "
        f"{job.path or '(deleted)'}{error}"
    )


@click.group("jobs")
def jobs() -> None:
    """The persist queue (ASYNC_THROUGH uploads)."""


@jobs.command("ls")
@click.option(
    "--state",
    type=click.Choice(["pending", "running", "failed"], case_sensitive=False),
    default=None,
    help="Only jobs in this state.",
)
@json_option
@click.pass_context
def ls(ctx: click.Context, state: str | None, as_json: bool) -> None:
    """List persist jobs with path, state, attempts, age and last error."""
    listing = open_fs(ctx).jobs(state)
    if as_json:
        emit_json([j.to_dict() for j in listing])
        return
    for job in listing:
        click.echo(_line(job))
    click.echo(f"{len(listing)} job(s)")


@jobs.command("show")
@json_option
@click.argument("job_id", type=int)
@click.pass_context
def show(ctx: click.Context, job_id: int, as_json: bool) -> None:
    """Everything about one job."""
    job = open_fs(ctx).job(job_id)
    if as_json:
        emit_json(job.to_dict())
        return
    for key, value in job.to_dict().items():
        click.echo(f"{key:<14} {value}")


@jobs.command("retry")
@click.option("--all-failed", is_flag=True, help="Retry every FAILED job.")
@click.argument("job_id", type=int, required=False)
@click.pass_context
def retry(ctx: click.Context, job_id: int | None, all_failed: bool) -> None:
    """Run a FAILED (or stuck) job again now with a fresh attempt budget."""
    if (job_id is None) == (not all_failed):
        raise click.UsageError("give exactly one of JOB_ID or --all-failed")
    count = open_fs(ctx).retry_job(job_id, all_failed=all_failed)
    click.echo(f"{count} job(s) re-queued")


@jobs.command("cancel")
@click.argument("job_id", type=int)
@click.pass_context
def cancel(ctx: click.Context, job_id: int) -> None:
    """Cancel a job: its file stays NOT_PERSISTED, its data pinned in the cache."""
    open_fs(ctx).cancel_job(job_id)
