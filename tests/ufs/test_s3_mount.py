"""siltfs over S3 (a moto server on 127.0.0.1): mounting with options (Python API and CLI),
empty directories, multipart uploads and the sweeper, and a SIGKILL in the middle of a
directory move on the flat keyspace."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from siltfs.cli.main import cli
from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.errors import InvalidArgument, InvalidPath, MountError, UfsError
from siltfs.model.enums import PersistenceState
from siltfs.ufs.abc import StoredAttrs
from siltfs.ufs.s3 import S3Ufs
from siltfs.ufs.s3_options import MIN_PART_SIZE
from tests.s3server import ACCESS_KEY, SECRET_KEY, S3Bucket

MakeFs = Callable[..., EmbeddedFileSystem]
PART = MIN_PART_SIZE  # the smallest part S3 takes: "large" files stay cheap to test
STAGING = ".silt_staging"


def s3_root(
    make_fs: MakeFs, bucket: S3Bucket, prefix: str = "root", **kwargs: Any
) -> EmbeddedFileSystem:
    options = {**bucket.options, "part_size": str(PART)}
    return make_fs(ufs=bucket.uri(prefix), ufs_options=options, **kwargs)


def closed_endpoint() -> str:
    """An endpoint on a loopback port nothing listens on (bound, never listening)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def big(n: int, seed: int = 1) -> bytes:
    return (bytes(range(256)) * (n // 256 + 1))[seed : n + seed]


# mounting ------------------------------------------------------------------------
def test_mount_s3_with_options(s3_bucket: S3Bucket, make_fs: MakeFs) -> None:
    s3_bucket.put("lake/existing/data.csv", b"a,b\n1,2\n")  # written by another tool
    fs = make_fs()
    info = fs.mount("/lake", s3_bucket.uri("lake"), options=s3_bucket.options)
    assert info.options["endpoint_url"] == s3_bucket.endpoint
    assert fs.read_bytes("/lake/existing/data.csv") == b"a,b\n1,2\n"
    fs.write_bytes("/lake/new/f", b"through", write_type="CACHE_THROUGH")
    assert s3_bucket.read("lake/new/f") == b"through"
    s3_bucket.put(f"lake/{STAGING}/j1-1-leftover", b"x")  # staging is never listed
    assert sorted(i.path for i in fs.ls("/lake", sync_interval_ms=0)) == [
        "/lake/existing",
        "/lake/new",
    ]
    with pytest.raises(InvalidPath):
        fs.write_bytes(f"/lake/{STAGING}/x", b"reserved")
    fs.check_consistency("/", repair=True)  # the leftover is orphaned staging: swept
    assert s3_bucket.tree("lake") == {"existing", "existing/data.csv", "new", "new/f"}


def test_mount_refuses_unknown_options_and_unreachable_buckets(
    s3_bucket: S3Bucket, make_fs: MakeFs
) -> None:
    fs = make_fs()
    uri = s3_bucket.uri("lake")
    with pytest.raises(InvalidArgument) as info:
        fs.mount("/lake", uri, options={**s3_bucket.options, "endpoint": "http://x"})
    assert info.value.path == uri and "endpoint" in info.value.message
    with pytest.raises(MountError, match="s3://silt-no-such-bucket/x is not an existing"):
        fs.mount("/gone", "s3://silt-no-such-bucket/x", options=s3_bucket.options)
    closed = {**s3_bucket.options, "endpoint_url": closed_endpoint(), "max_attempts": "1"}
    with pytest.raises(MountError, match="cannot reach") as down:
        fs.mount("/down", uri, options=closed)
    assert down.value.path == "/down"
    assert [m.path for m in fs.mounts()] == ["/"]
    assert not fs.exists("/lake") and not fs.exists("/gone") and not fs.exists("/down")


def test_overlapping_s3_mounts_are_refused(s3_bucket: S3Bucket, make_fs: MakeFs) -> None:
    from siltfs.master.mounts import normalise_uri

    assert normalise_uri("s3a://b/x/../p/") == normalise_uri("s3://b/p") == "s3://b/p/"
    fs = make_fs()
    fs.mount("/lake", s3_bucket.uri("lake"), options=s3_bucket.options)
    for uri in (
        f"s3a://{s3_bucket.name}/lake/sub",  # inside it, other spelling
        f"s3://{s3_bucket.name}",  # the whole bucket contains it
    ):
        with pytest.raises(MountError, match="overlaps"):
            fs.mount("/other", uri, options=s3_bucket.options)
    fs.mount("/lake2", s3_bucket.uri("lake2"), options=s3_bucket.options)  # a sibling prefix
    fs.write_bytes("/lake2/f", b"2", write_type="CACHE_THROUGH")
    assert s3_bucket.keys() == ["lake2/f"]


def test_mount_s3_from_the_cli(tmp_path: Path, s3_bucket: S3Bucket) -> None:
    runner = CliRunner()
    home = tmp_path / "home"
    local = tmp_path / "local.txt"
    local.write_bytes(b"from the command line")

    def silt(*args: str) -> Any:
        return runner.invoke(cli, ["--home", str(home), "fs", *args], catch_exceptions=False)

    uri = s3_bucket.uri("lake")
    opts = [f"-o{k}={v}" for k, v in s3_bucket.options.items()]
    bad = silt("mount", *opts, "-o", "colour=blue", "/lake", uri)
    assert bad.exit_code == 1
    assert bad.stderr.startswith(f"silt: error: {uri}: unknown S3 mount option(s) colour")
    result = silt("mount", *opts, "/lake", uri)
    assert result.exit_code == 0, result.output
    assert silt("put", "--write-type", "CACHE_THROUGH", str(local), "/lake/t.txt").exit_code == 0
    assert s3_bucket.read("lake/t.txt") == b"from the command line"
    assert silt("ls", "/lake").stdout.split() == ["/lake/t.txt"]
    line = silt("mounts").stdout
    assert uri in line and SECRET_KEY not in line and ACCESS_KEY not in line
    raw = silt("mounts", "--json").stdout
    table = {m["path"]: m for m in json.loads(raw)}
    assert table["/lake"]["uri"] == uri
    assert SECRET_KEY not in raw and ACCESS_KEY not in raw  # credentials never printed
    assert table["/lake"]["options"]["secret"] == "***"


# empty directories ------------------------------------------------------------------
def test_empty_directories_are_preserved(
    s3_bucket: S3Bucket, make_fs: MakeFs, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    fs = make_fs(home=home)
    fs.mount("/lake", s3_bucket.uri("lake"), options=s3_bucket.options)
    fs.mkdir("/lake/empty", write_type="CACHE_THROUGH")
    fs.mkdir("/lake/d", write_type="ASYNC_THROUGH")
    fs.write_bytes("/lake/d/only", b"soon gone", write_type="ASYNC_THROUGH")
    fs.mkdir("/lake/never-filled", write_type="ASYNC_THROUGH")
    fs.wait_persisted("/", timeout=30)
    fs.delete("/lake/d/only")
    fs.wait_persisted("/", timeout=30)
    keys = s3_bucket.keys("lake/")
    assert keys == ["lake/d/", "lake/empty/", "lake/never-filled/"]  # markers, nothing else
    fs.close()

    again = make_fs(home=home, sync_interval_ms=0)  # restart, metadata sync always
    fresh = make_fs(home=tmp_path / "other-home", sync_interval_ms=0)  # knows nothing yet
    fresh.mount("/lake", s3_bucket.uri("lake"), options=s3_bucket.options)
    for view in (again, fresh):
        entries = {i.path: i.is_dir for i in view.ls("/lake")}
        assert entries == {"/lake/d": True, "/lake/empty": True, "/lake/never-filled": True}
        assert view.ls("/lake/d") == [] and view.ls("/lake/empty") == []
        assert view.check_consistency("/").divergences == []


# multipart uploads ---------------------------------------------------------------
def test_large_file_is_persisted_in_parts(s3_bucket: S3Bucket, make_fs: MakeFs) -> None:
    fs = s3_root(make_fs, s3_bucket)
    data = big(PART + PART // 2)
    fs.write_bytes("/A/B/big", data)  # ASYNC_THROUGH
    fs.rename("/A", "/C")
    fs.wait_persisted(timeout=60)
    head = s3_bucket.client.head_object(Bucket=s3_bucket.name, Key="root/C/B/big")
    assert head["ContentLength"] == len(data)
    assert s3_bucket.read("root/C/B/big") == data
    assert s3_bucket.tree("root") == {"C", "C/B", "C/B/big"}
    assert s3_bucket.uploads() == []
    fs.rename("/C", "/D")  # a persisted tree: copied object by object, fingerprint refreshed
    assert s3_bucket.tree("root") == {"D", "D/B", "D/B/big"}
    assert fs.check_consistency("/").divergences == []
    assert fs.stat("/D/B/big").persistence_state is PersistenceState.PERSISTED


def test_failed_multipart_upload_is_aborted(s3_bucket: S3Bucket) -> None:
    ufs = S3Ufs(s3_bucket.uri("root"), {**s3_bucket.options, "part_size": str(PART)})
    with pytest.raises(RuntimeError):
        with ufs.open_write("big") as f:
            f.write(big(PART + 1))  # the first part is uploaded now
            assert len(s3_bucket.uploads()) == 1
            raise RuntimeError("the source broke")
    assert s3_bucket.uploads() == []
    assert s3_bucket.keys() == []
    ufs.write("big", [big(PART), big(PART // 2, 7)])  # a complete one: in parts, committed
    assert ufs.read_range("big", PART - 2, PART + 2) == big(PART)[-2:] + big(PART // 2, 7)[:2]
    assert s3_bucket.uploads() == []


def _start_upload(bucket: S3Bucket, key: str) -> str:
    """A multipart upload with one part, never completed: what a killed upload leaves."""
    upload_id: str = bucket.client.create_multipart_upload(Bucket=bucket.name, Key=key)["UploadId"]
    bucket.client.upload_part(
        Bucket=bucket.name, Key=key, UploadId=upload_id, PartNumber=1, Body=big(PART)
    )
    return upload_id


def test_sweeper_aborts_uploads_of_dead_jobs_only(s3_bucket: S3Bucket, make_fs: MakeFs) -> None:
    dead_at_start = f"root/{STAGING}/j7-1-0123456789ab"
    _start_upload(s3_bucket, dead_at_start)
    user_upload = "root/data/someone-elses-upload"  # not staging: never touched
    _start_upload(s3_bucket, user_upload)
    fs = s3_root(make_fs, s3_bucket)  # opening sweeps what dead jobs left
    assert [k for k, _ in s3_bucket.uploads()] == [user_upload]

    from siltfs.testing import inject_faults

    faults = inject_faults(fs)
    gate = faults.block("open_write", f"{STAGING}/*")
    fs.write_bytes("/f", b"pending")
    assert gate.wait_reached(10)  # the job runs (its lease is live), its upload not yet
    assert len(fs.jobs("running")) == 1
    (staged,) = [rel for op, rel in faults.calls if op == "open_write"]
    live = f"root/{staged}"
    _start_upload(s3_bucket, live)  # stands for the live job's upload in flight
    dead = f"root/{STAGING}/j99-1-fedcba987654"
    _start_upload(s3_bucket, dead)
    assert fs.master.persister.sweep_staging() == 1
    assert {k for k, _ in s3_bucket.uploads()} == {user_upload, live}
    gate.release()
    fs.wait_persisted(timeout=30)  # the job is done: its token is no longer live
    fs.master.persister.sweep_staging()
    assert [k for k, _ in s3_bucket.uploads()] == [user_upload]
    assert s3_bucket.tree("root") == {"f"}


def test_abort_stale_uploads_respects_age_and_keep(s3_bucket: S3Bucket) -> None:
    ufs = S3Ufs(s3_bucket.uri("root"), s3_bucket.options)
    for name in ("a", "b", "c"):
        _start_upload(s3_bucket, f"root/stage/{name}")
    _start_upload(s3_bucket, "root/stagex/d")  # same leading characters, other directory
    # (moto dates every upload 2010-11-10: "younger than 300 years" is the check it allows)
    assert ufs.abort_stale_uploads("stage", 300 * 365 * 86400.0) == 0
    seen: list[str] = []

    def keep(upload: Any) -> bool:
        seen.append(upload.rel)
        return bool(upload.rel == "stage/b")

    assert ufs.abort_stale_uploads("stage", 0.0, keep) == 2
    assert sorted(seen) == ["stage/a", "stage/b", "stage/c"]
    assert [k for k, _ in s3_bucket.uploads()] == ["root/stage/b", "root/stagex/d"]


def test_unreachable_endpoint_is_a_ufs_error(s3_bucket: S3Bucket) -> None:
    options = {**s3_bucket.options, "endpoint_url": closed_endpoint(), "max_attempts": "1"}
    ufs = S3Ufs(s3_bucket.uri("root"), options)
    with pytest.raises(UfsError) as info:
        ufs.list("x")
    assert info.value.path == "x" and "list failed" in info.value.message


# a SIGKILL in the middle of a directory move ------------------------------------
CHILD = Path(__file__).with_name("s3_crash_child.py")


def test_kill_9_in_the_middle_of_a_tree_move_rolls_forward(
    tmp_path: Path, s3_bucket: S3Bucket, make_fs: MakeFs
) -> None:
    from tests.ufs.s3_crash_child import EMPTY_DIRS, FILES

    home = tmp_path / "home"
    uri = s3_bucket.uri("root")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["SILT_CRASH_AT"] = "ufs.move_tree.partial"
    args = [sys.executable, str(CHILD), str(home), uri, s3_bucket.endpoint, ACCESS_KEY, SECRET_KEY]
    proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True)
    assert proc.stdout is not None
    lines = [line.strip() for line in proc.stdout]  # until it dies at the crash point
    rc = proc.wait(timeout=60)
    assert lines == ["READY"] and rc == -signal.SIGKILL
    half = s3_bucket.tree("root")
    assert any(p.startswith("C/") for p in half) and any(p.startswith("A/") for p in half)

    fs = make_fs(home=home, ufs=uri, ufs_options=s3_bucket.options)  # restart: roll forward
    moved = {"/C" + p[2:]: data for p, data in FILES.items()}
    for path, data in moved.items():
        assert fs.read_bytes(path) == data
        assert s3_bucket.read("root" + path) == data
    assert not fs.exists("/A")
    assert not [k for k in s3_bucket.keys("root/") if k.startswith("root/A")]
    namespace = {i.path.lstrip("/") for i in fs.ls("/", recursive=True)}
    assert s3_bucket.tree("root") == namespace
    assert {"/C" + d[2:] for d in EMPTY_DIRS} <= {"/" + p for p in namespace}
    with fs.master.ms.snapshot() as txn:
        assert txn.list_intents() == []
    assert fs.check_consistency("/").divergences == []


# POSIX attributes as S3 user metadata ---------------------------------------------
@pytest.mark.parametrize("write_type", ["CACHE_THROUGH", "ASYNC_THROUGH"])
def test_mode_owner_and_mtime_go_to_user_metadata_and_come_back(
    s3_bucket: S3Bucket, make_fs: MakeFs, tmp_path: Path, write_type: str
) -> None:
    fs = s3_root(make_fs, s3_bucket)
    with fs.open("/d/f", "wb", write_type=write_type, perm=0o640, uid=1234, gid=5678) as f:
        f.write(b"data")
    fs.wait_persisted("/d/f", timeout=60)
    head = s3_bucket.client.head_object(Bucket=s3_bucket.name, Key="root/d/f")
    meta = head["Metadata"]
    assert meta["silt-mode"] == str(0o640)
    assert (meta["silt-uid"], meta["silt-gid"]) == ("1234", "5678")
    assert int(meta["silt-mtime-ns"]) == fs.stat("/d/f").mtime_ns
    assert s3_bucket.read("root/d/f") == b"data"
    written_ns = int(meta["silt-mtime-ns"])
    # a namespace rebuilt from the bucket (another home) reads them back on import
    other = s3_root(make_fs, s3_bucket, home=tmp_path / "other-home")
    st = other.stat("/d/f")
    assert (st.mode & 0o7777, st.uid, st.gid) == (0o640, 1234, 5678)
    assert st.mtime_ns == written_ns
    assert other.read_bytes("/d/f") == b"data"


def test_objects_without_metadata_get_defaults_and_the_configured_owner(
    s3_bucket: S3Bucket, make_fs: MakeFs
) -> None:
    s3_bucket.put("root/plain", b"by another tool")
    s3_bucket.put("root/dir/inner", b"x")
    fs = s3_root(make_fs, s3_bucket, import_uid=1000, import_gid=100)
    st = fs.stat("/plain")
    assert (st.mode, st.uid, st.gid) == (0o100644, 1000, 100)
    d = fs.stat("/dir")
    assert (d.mode, d.uid, d.gid) == (0o040755, 1000, 100)


def test_s3_attributes_are_stored_as_user_metadata(s3_bucket: S3Bucket) -> None:
    ufs = S3Ufs(s3_bucket.uri("u"), s3_bucket.options)
    ufs.write("f", [b"content"])
    assert ufs.stored_attrs("f") is None
    ufs.set_attributes("f", StoredAttrs(mode=0o600, uid=7, gid=8, mtime_ns=5))
    got = ufs.stored_attrs("f")
    assert got is not None and (got.mode, got.uid, got.gid, got.mtime_ns) == (0o600, 7, 8, 5)
    assert ufs.read_range("f", 0, 7) == b"content"  # the copy onto itself kept the bytes
    ufs.move("f", "g")
    assert ufs.stored_attrs("g") == got  # a move keeps them
