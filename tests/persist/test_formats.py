"""Staging names and process identities: the stored formats of today parse with the
one value type each (existing homes must open), and round-trip."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import pytest

from siltfs.persist.identity import HOST_TAG, ProcessId, host_tag, owner_is_dead, writer_is_dead
from siltfs.persist.staging import JOB, WRITE, StagingName


def dead_pid() -> int:
    """The pid of a child that has exited (and been reaped)."""
    proc = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    return int(proc.stdout)


# staging names ---------------------------------------------------------------------
@pytest.mark.parametrize(
    ("stored", "kind", "inode", "generation", "token"),
    [
        ("j42-3-0a1b2c3d4e5f", JOB, 42, 3, "0a1b2c3d4e5f"),  # a job (token: secrets.token_hex(6))
        ("w17-1-3f2a1bh12345pdeadbeef", WRITE, 17, 1, "3f2a1bh12345pdeadbeef"),  # a write
        (".silt_staging/j7-12-abcdef012345", JOB, 7, 12, "abcdef012345"),  # as a relative path
        ("j16777217-2-ffffffffffff", JOB, 16777217, 2, "ffffffffffff"),
    ],
)
def test_staging_names_of_today_parse(
    stored: str, kind: str, inode: int, generation: int, token: str
) -> None:
    name = StagingName.parse(stored)
    assert name == StagingName(kind, inode, generation, token)  # type: ignore[arg-type]
    assert str(name) == stored.rpartition("/")[2]
    assert name.rel(".silt_staging") == f".silt_staging/{stored.rpartition('/')[2]}"


@pytest.mark.parametrize(
    "other", ["", "j", "foo", "j-1-2", "x1-1-abc", "j1-1-", "j1-x-abc", "ja-1-abc", "j1-1-a-b"]
)
def test_other_names_are_not_staging_names(other: str) -> None:
    assert StagingName.parse(other) is None


def test_a_write_names_its_writer_and_a_job_does_not() -> None:
    write = StagingName.parse("w17-1-3f2a1bh12345pdeadbeef")
    assert write is not None
    assert write.writer() == ProcessId("3f2a1b", 12345, "deadbeef")
    job = StagingName.parse("j17-1-3f2a1bh12345pdeadbeef")
    assert job is not None and job.writer() is None


# process identities ----------------------------------------------------------------
def test_owner_form_of_today_parses_and_round_trips() -> None:
    stored = "worker-7.example:4242:1a2b3c4d"  # runner_identity(): host:pid:uuid4().hex[:8]
    pid = ProcessId.parse_owner(stored)
    assert pid == ProcessId(host_tag("worker-7.example"), 4242, "1a2b3c4d", "worker-7.example")
    assert pid.owner() == stored


@pytest.mark.parametrize("other", [None, "", "host:pid:x", "host:1", "a:1:b:c", ":1:x"])
def test_other_owner_strings_name_no_process(other: str | None) -> None:
    assert ProcessId.parse_owner(other) is None
    assert not owner_is_dead(other)


def test_token_form_of_today_parses_and_round_trips() -> None:
    stored = "3f2a1bh12345pdeadbeef"  # write_token(): <host hash>h<pid>p<random>
    pid = ProcessId.parse_token(stored)
    assert pid == ProcessId("3f2a1b", 12345, "deadbeef")
    assert pid.token() == stored
    with pytest.raises(ValueError):
        pid.owner()  # a token carries a hash of the host name only


def test_this_process_in_both_forms_matches_the_stored_formats() -> None:
    me = ProcessId.current()
    assert re.fullmatch(
        rf"{re.escape(socket.gethostname())}:{os.getpid()}:[0-9a-f]{{8}}", me.owner()
    )
    assert re.fullmatch(rf"[0-9a-f]{{6}}h{os.getpid()}p[0-9a-f]{{8}}", me.token())
    assert me.token().startswith(HOST_TAG)
    assert ProcessId.parse_owner(me.owner()) == me
    parsed = ProcessId.parse_token(me.token())
    assert parsed is not None and parsed.host_tag == me.host_tag and parsed.pid == me.pid


def test_only_a_gone_process_of_this_host_is_dead() -> None:
    gone = dead_pid()
    host = socket.gethostname()
    assert owner_is_dead(f"{host}:{gone}:1a2b3c4d")
    assert writer_is_dead(f"{HOST_TAG}h{gone}p0badf00d")
    assert not owner_is_dead(f"{host}:{os.getpid()}:1a2b3c4d")  # this process
    assert not writer_is_dead(f"{HOST_TAG}h{os.getpid()}p0badf00d")
    assert not owner_is_dead(f"{host}:{os.getppid()}:1a2b3c4d")  # alive
    other = "not-" + host
    assert not owner_is_dead(f"{other}:{gone}:1a2b3c4d")  # another host: cannot tell
    assert not writer_is_dead(f"{host_tag(other)}h{gone}p0badf00d")
