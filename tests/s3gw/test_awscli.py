"""The AWS CLI (``aws s3`` and ``aws s3api``, a real subprocess with its default
settings: checksums on, multipart above 8 MiB) against a real ``silt s3``; what it wrote
is checked in the namespace through the master, not through the gateway."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from siltfs.client.remote import RemoteFileSystem
from tests.s3gw.gateway import ACCESS, REGION, SECRET, GatewayProcess


def aws_command() -> list[str]:
    """``aws`` of this environment (awscli v1 is a test dependency): run as a module of
    the test interpreter so a fresh venv needs nothing on PATH."""
    return [sys.executable, "-m", "awscli"]


@pytest.fixture
def aws(gateway: GatewayProcess, tmp_path: Path) -> Any:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": ACCESS,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),  # nothing of the machine's own
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*aws_command(), "--endpoint-url", gateway.url, *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check:
            assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-2000:])
        return done

    return run


def test_cp_ls_rm(aws: Any, bucket: str, fs: RemoteFileSystem, tmp_path: Path) -> None:
    small = tmp_path / "small.txt"
    small.write_bytes(b"hello from the aws cli\n")
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(20 * 1024 * 1024 + 17))  # multipart: 8 MiB parts
    aws("s3", "cp", str(small), f"s3://{bucket}/dir/small.txt")
    aws("s3", "cp", str(big), f"s3://{bucket}/dir/big.bin")
    assert fs.read_bytes(f"/{bucket}/dir/small.txt") == small.read_bytes()
    assert fs.read_bytes(f"/{bucket}/dir/big.bin") == big.read_bytes()
    listing = aws("s3", "ls", f"s3://{bucket}/dir/").stdout
    assert "small.txt" in listing and "big.bin" in listing
    back = tmp_path / "back.bin"
    aws("s3", "cp", f"s3://{bucket}/dir/big.bin", str(back))
    assert back.read_bytes() == big.read_bytes()
    aws("s3", "rm", "--recursive", f"s3://{bucket}/dir")
    assert fs.ls(f"/{bucket}") == []


def test_sync_both_ways(aws: Any, bucket: str, fs: RemoteFileSystem, tmp_path: Path) -> None:
    src = tmp_path / "src"
    for rel, data in {
        "a.csv": b"a,b\n1,2\n",
        "sub/b.txt": b"bee",
        "sub/deep/c": b"c" * 5000,
    }.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    aws("s3", "sync", str(src), f"s3://{bucket}/tree")
    assert sorted(i.path for i in fs.ls(f"/{bucket}/tree", recursive=True) if not i.is_dir) == [
        f"/{bucket}/tree/a.csv",
        f"/{bucket}/tree/sub/b.txt",
        f"/{bucket}/tree/sub/deep/c",
    ]
    again = aws("s3", "sync", str(src), f"s3://{bucket}/tree").stdout
    assert "upload:" not in again  # sizes and times match: nothing to send
    dst = tmp_path / "dst"
    aws("s3", "sync", f"s3://{bucket}/tree", str(dst))
    for rel in ("a.csv", "sub/b.txt", "sub/deep/c"):
        assert (dst / rel).read_bytes() == (src / rel).read_bytes()


def test_s3api(aws: Any, fs: RemoteFileSystem, tmp_path: Path) -> None:
    name = "awscli-s3api"
    aws("s3api", "create-bucket", "--bucket", name)
    body = tmp_path / "body"
    body.write_bytes(b"x" * 1000)
    put = json.loads(
        aws(
            "s3api",
            "put-object",
            "--bucket",
            name,
            "--key",
            "k/1",
            "--body",
            str(body),
            "--metadata",
            "owner=ml-team",
        ).stdout
    )
    head = json.loads(aws("s3api", "head-object", "--bucket", name, "--key", "k/1").stdout)
    assert head["ContentLength"] == 1000
    assert head["ETag"] == put["ETag"]
    assert head["Metadata"] == {"owner": "ml-team"}
    listed = json.loads(aws("s3api", "list-objects-v2", "--bucket", name).stdout)
    assert [o["Key"] for o in listed["Contents"]] == ["k/1"]
    missing = aws(
        "s3api", "get-object", "--bucket", name, "--key", "nope", str(tmp_path / "o"), check=False
    )
    assert missing.returncode != 0 and "NoSuchKey" in missing.stderr
    aws("s3api", "delete-object", "--bucket", name, "--key", "k/1")
    aws("s3api", "delete-bucket", "--bucket", name)
    assert not fs.exists(f"/{name}")
