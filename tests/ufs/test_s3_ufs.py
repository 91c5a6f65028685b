"""S3 through s3fs, against a real S3 endpoint (moto server on 127.0.0.1)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from siltfs.errors import FileNotFound, InvalidArgument, InvalidPath
from siltfs.testing.ufs import UfsFactory, names, read_all
from siltfs.ufs.abc import UnderFileSystem
from siltfs.ufs.registry import open_ufs
from siltfs.ufs.s3 import S3Ufs
from tests.s3server import S3Bucket
from tests.ufs.test_fsspec_ufs import _FsspecUfsTests

PREFIX = "lake/root"


class TestS3Ufs(_FsspecUfsTests):
    """The whole UFS contract on ``s3://bucket/lake/root``, plus what a flat keyspace adds."""

    @pytest.fixture
    def make_ufs(self, s3_bucket: S3Bucket) -> Iterator[UfsFactory]:
        opened: list[UnderFileSystem] = []

        def factory() -> UnderFileSystem:
            ufs = open_ufs(s3_bucket.uri(PREFIX), s3_bucket.options)
            opened.append(ufs)
            return ufs

        yield factory
        for ufs in opened:
            ufs.close()

    @pytest.fixture
    def bucket(self, s3_bucket: S3Bucket) -> S3Bucket:
        return s3_bucket

    def test_is_the_s3_adapter(self, ufs: UnderFileSystem) -> None:
        assert isinstance(ufs, S3Ufs)

    def test_keys_land_under_the_prefix(self, ufs: UnderFileSystem, bucket: S3Bucket) -> None:
        ufs.mkdirs("a/b")
        ufs.write("a/b/f", [b"abc"])
        assert bucket.read(f"{PREFIX}/a/b/f") == b"abc"
        # the mount root needs no marker: it is a directory while the bucket exists
        assert bucket.keys() == [f"{PREFIX}/a/", f"{PREFIX}/a/b/", f"{PREFIX}/a/b/f"]

    def test_empty_directory_is_a_marker_and_survives(
        self, ufs: UnderFileSystem, bucket: S3Bucket
    ) -> None:
        ufs.mkdirs("empty")
        assert f"{PREFIX}/empty/" in bucket.keys()
        again = S3Ufs(bucket.uri(PREFIX), bucket.options)  # another client sees it
        st = again.status("empty")
        assert st is not None and st.is_dir
        assert names(again.list("")) == {"empty": True}
        assert again.list("empty") == []

    def test_implicit_directories_of_other_writers(
        self, ufs: UnderFileSystem, bucket: S3Bucket
    ) -> None:
        bucket.put(f"{PREFIX}/x/y/f", b"written by another tool")  # no markers at all
        x = ufs.status("x")
        assert x is not None and x.is_dir
        assert names(ufs.list("")) == {"x": True}
        assert names(ufs.list("x")) == {"y": True}
        assert read_all(ufs, "x/y/f") == b"written by another tool"

    def test_last_entry_removed_keeps_an_implicit_directory(
        self, ufs: UnderFileSystem, bucket: S3Bucket
    ) -> None:
        bucket.put(f"{PREFIX}/x/f", b"1")
        bucket.put(f"{PREFIX}/y/g", b"2")
        ufs.delete("x/f")
        ufs.move("y/g", "g")
        for rel in ("x", "y"):
            st = ufs.status(rel)
            assert st is not None and st.is_dir, rel
            assert ufs.list(rel) == []
        assert {f"{PREFIX}/x/", f"{PREFIX}/y/"} <= set(bucket.keys())

    def test_deleting_missing_entries_creates_nothing(
        self, ufs: UnderFileSystem, bucket: S3Bucket
    ) -> None:
        before = bucket.keys()
        ufs.delete("missing/deeper")
        ufs.delete("missing/deeper", recursive=True)
        assert bucket.keys() == before

    def test_directory_move_carries_markers(self, ufs: UnderFileSystem, bucket: S3Bucket) -> None:
        ufs.mkdirs("src/empty")
        ufs.mkdirs("src/full")
        ufs.write("src/full/f", [b"f"])
        bucket.put(f"{PREFIX}/src/implicit/g", b"g")
        ufs.move("src", "dst")
        assert bucket.tree(PREFIX) == {
            "dst",
            "dst/empty",
            "dst/full",
            "dst/full/f",
            "dst/implicit",
            "dst/implicit/g",
        }
        assert ufs.list("dst/empty") == []
        assert not [k for k in bucket.keys() if k.startswith(f"{PREFIX}/src")]

    def test_external_changes_are_seen_at_once(
        self, ufs: UnderFileSystem, bucket: S3Bucket
    ) -> None:
        ufs.write("f", [b"old"])
        assert names(ufs.list("")) == {"f": False}
        first = ufs.status("f")
        bucket.put(f"{PREFIX}/f", b"changed elsewhere")
        bucket.put(f"{PREFIX}/new", b"n")
        assert names(ufs.list("")) == {"f": False, "new": False}
        second = ufs.status("f")
        assert first is not None and second is not None
        assert second.fingerprint != first.fingerprint and second.size == 17
        bucket.client.delete_object(Bucket=bucket.name, Key=f"{PREFIX}/new")
        assert ufs.status("new") is None

    def test_root_of_an_unused_prefix_is_an_empty_directory(self, bucket: S3Bucket) -> None:
        ufs = S3Ufs(bucket.uri("never/written"), bucket.options)
        root = ufs.status("")
        assert root is not None and root.is_dir
        assert ufs.list("") == []

    def test_missing_bucket(self, s3_endpoint: str, bucket: S3Bucket) -> None:
        ufs = S3Ufs("s3://silt-no-such-bucket/p", bucket.options)
        assert ufs.status("") is None
        with pytest.raises(FileNotFound):
            ufs.list("")

    def test_whole_bucket_as_root(self, bucket: S3Bucket) -> None:
        ufs = S3Ufs(bucket.uri(), bucket.options)
        ufs.mkdirs("d")
        ufs.write("d/f", [b"x"])
        assert bucket.keys() == ["d/", "d/f"]
        assert names(ufs.list("")) == {"d": True}
        ufs.delete("", recursive=True)
        assert bucket.keys() == []


class TestOptions:
    def test_mount_options_map_to_s3fs(self, s3_bucket: S3Bucket) -> None:
        ufs = open_ufs(s3_bucket.uri("p"), {**s3_bucket.options, "part_size": "6291456"})
        assert isinstance(ufs, S3Ufs)
        assert ufs.part_size == 6 * 2**20
        assert ufs.fs.client_kwargs["region_name"] == "us-east-1"
        assert ufs.fs.key == s3_bucket.options["key"]

    @pytest.mark.parametrize(
        ("options", "match"),
        [
            ({"endpoint": "http://x"}, "unknown S3 mount option"),
            ({"anon": "maybe"}, "true or false"),
            ({"part_size": "1024"}, "at least"),
            ({"part_size": "big"}, "number of bytes"),
            ({"key": ""}, "non-empty string"),
            ({"client_kwargs": "x"}, "must be a dict"),
        ],
    )
    def test_bad_options(self, options: dict[str, str], match: str) -> None:
        with pytest.raises(InvalidArgument, match=match) as info:
            open_ufs("s3://bucket/p", options)
        assert info.value.path == "s3://bucket/p"

    @pytest.mark.parametrize("uri", ["s3://", "s3:///p", "s3://b/a/../c", "s3://b/a//c"])
    def test_bad_uris(self, uri: str) -> None:
        with pytest.raises(InvalidPath):
            open_ufs(uri)
