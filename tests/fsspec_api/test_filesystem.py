"""SiltFileSystem: registration, instance cache and lifecycle, paths, metadata, files."""

from __future__ import annotations

import datetime
import io
import pickle
import threading
from pathlib import Path
from typing import Any

import fsspec
import pytest

import siltfs
from siltfs.errors import InvalidArgument, Unavailable, WrongType
from siltfs.fsspec import SiltFile, SiltFileSystem

# -- registration, instances, lifecycle ----------------------------------------------


def test_registered_by_entry_point() -> None:
    assert fsspec.get_filesystem_class("silt") is SiltFileSystem


def test_text_round_trip_through_fsspec_open(silt_home: Path) -> None:
    with fsspec.open("silt:///a.txt", "w", home=str(silt_home)) as f:
        f.write("héllo\nwörld\n")
    with fsspec.open("silt:///a.txt", "r", home=str(silt_home)) as f:
        assert f.readlines() == ["héllo\n", "wörld\n"]
    with fsspec.open("silt:///a.txt", "rt", encoding="latin-1", home=str(silt_home)) as f:
        assert f.read() == "héllo\nwörld\n".encode().decode("latin-1")
    fs = fsspec.filesystem("silt", home=str(silt_home))
    assert fs.cat("/a.txt") == "héllo\nwörld\n".encode()
    fs.close()


def test_same_options_same_instance(silt_home: Path) -> None:
    a = fsspec.filesystem("silt", home=str(silt_home))
    b = fsspec.filesystem("silt", home=str(silt_home))
    assert a is b
    assert pickle.loads(pickle.dumps(a)) is a
    fs, path = fsspec.core.url_to_fs("silt:///x", home=str(silt_home))
    assert fs is a and path == "/x"
    a.close()


def test_one_client_per_home(silt_home: Path) -> None:
    """Other option spellings, other defaults and other threads share one embedded client."""
    a = fsspec.filesystem("silt", home=str(silt_home))
    b = fsspec.filesystem("silt", home=silt_home / "." / "", write_type="THROUGH")
    other: list[SiltFileSystem] = []
    t = threading.Thread(
        target=lambda: other.append(fsspec.filesystem("silt", home=str(silt_home)))
    )
    t.start()
    t.join()
    assert a is not b and other[0] is not a  # fsspec's cache keys on options and thread
    assert a.client is b.client is other[0].client
    a.pipe("/f", b"data")
    a.close()
    assert b.cat("/f") == b"data"  # the client lives on while b and other[0] use it
    b.close()
    other[0].close()
    with siltfs.connect(silt_home) as direct:  # the home is free again
        assert direct.read_bytes("/f") == b"data"


def test_conflicting_options_on_one_home(silt_home: Path, tmp_path: Path) -> None:
    a = SiltFileSystem(home=str(silt_home))
    with pytest.raises(InvalidArgument):
        SiltFileSystem(home=str(silt_home), ufs=f"file://{tmp_path / 'elsewhere'}")
    with pytest.raises(InvalidArgument):
        SiltFileSystem(home=str(silt_home), config=siltfs.SiltConfig(sync_interval_ms=0))
    a.close()


def test_close(silt_home: Path) -> None:
    fs = fsspec.filesystem("silt", home=str(silt_home))
    fs.pipe("/f", b"x")
    fs.close()
    fs.close()  # idempotent
    assert fs.closed
    with pytest.raises(Unavailable):
        fs.ls("/")
    with pytest.raises(Unavailable):
        fs.exists("/f")
    fresh = fsspec.filesystem("silt", home=str(silt_home))
    assert fresh is not fs and fresh.cat("/f") == b"x"
    fresh.close()
    with SiltFileSystem(home=str(silt_home)) as ctx:
        assert ctx.exists("/f")
    assert ctx.closed


def test_wrap_an_open_client(silt_home: Path) -> None:
    client = siltfs.connect(silt_home)
    try:
        fs = SiltFileSystem(fs=client)
        fs.pipe("/w", b"wrapped")
        fs.close()  # not ours: the client stays open
        assert client.read_bytes("/w") == b"wrapped"
        with pytest.raises(InvalidArgument):
            SiltFileSystem(fs=client, home=str(silt_home))
    finally:
        client.close()
    with pytest.raises(WrongType):
        SiltFileSystem(fs=object())  # type: ignore[arg-type]


def test_remote_options_are_checked(silt_home: Path) -> None:
    with pytest.raises(InvalidArgument, match="master"):
        SiltFileSystem(master="http://127.0.0.1:9", home=str(silt_home))
    with pytest.raises(InvalidArgument, match="URL"):
        SiltFileSystem(master="localhost:19999")
    nobody = fsspec.filesystem("silt", master="http://127.0.0.1:9", token="t")
    with pytest.raises(Unavailable):  # nothing listens there: a clear error, not a hang
        nobody.ls("/")
    nobody.close()
    with pytest.raises(InvalidArgument):
        SiltFileSystem(home=str(silt_home), write_type="SOMETIMES")


# -- paths and metadata ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("silt:///a/b", "/a/b"),
        ("silt://a/b", "/a/b"),
        ("/a/b", "/a/b"),
        ("a/b", "/a/b"),
        ("silt:///a/b/", "/a/b"),
        ("silt://", "/"),
        ("silt:///", "/"),
        ("/", "/"),
        ("", "/"),
        (Path("/a/b"), "/a/b"),
    ],
)
def test_strip_protocol(url: str, path: str) -> None:
    assert SiltFileSystem._strip_protocol(url) == path


def test_parent_and_unstrip() -> None:
    assert SiltFileSystem._parent("silt:///a/b") == "/a"
    assert SiltFileSystem._parent("/a") == "/"
    assert SiltFileSystem._parent("/") == "/"


def test_unstrip_protocol(silt_fs: SiltFileSystem) -> None:
    assert silt_fs.unstrip_protocol("/a/b") == "silt:///a/b"
    assert silt_fs.unstrip_protocol("silt:///a/b") == "silt:///a/b"


def test_ls_and_info(silt_fs: SiltFileSystem) -> None:
    silt_fs.pipe({"/d/b": b"bb", "/d/a": b"a"})
    silt_fs.mkdir("/d/sub")
    assert silt_fs.ls("/d", detail=False) == ["/d/a", "/d/b", "/d/sub"]
    entries = {e["name"]: e for e in silt_fs.ls("silt:///d")}
    assert entries["/d/b"]["size"] == 2 and entries["/d/b"]["type"] == "file"
    assert entries["/d/sub"]["type"] == "directory" and entries["/d/sub"]["size"] == 0
    info = silt_fs.info("/d/b")
    moving = {"persistence_state", "fingerprint"}  # the persist runs meanwhile: may move on
    assert {k: v for k, v in info.items() if k not in moving} == {
        k: v for k, v in entries["/d/b"].items() if k not in moving
    }
    assert {"mtime", "persistence_state", "cached_percent"} <= set(info)
    assert info["cached_percent"] == 100
    assert silt_fs.ls("/d/a") == [silt_fs.info("/d/a")]  # ls of a file: the file
    assert silt_fs.info("/")["type"] == "directory"
    assert silt_fs.ls("/", detail=False) == ["/d"]  # nothing of siltfs' own shows
    silt_fs.client.wait_persisted("/", timeout=30)
    assert silt_fs.info("/d/b")["persistence_state"] == "PERSISTED"
    with pytest.raises(FileNotFoundError):
        silt_fs.info("/nope")
    with pytest.raises(FileNotFoundError):
        silt_fs.info("/d/a/child")  # under a file
    assert silt_fs.isdir("/d") and not silt_fs.isfile("/d")
    assert silt_fs.isfile("/d/a") and not silt_fs.isdir("/d/a")
    assert not silt_fs.exists("/d/a/child") and not silt_fs.exists("/d/../x")
    assert silt_fs.size("/d/b") == 2 and silt_fs.du("/d") == 3


def test_find_and_glob(silt_fs: SiltFileSystem) -> None:
    silt_fs.pipe({"/r/a.csv": b"", "/r/x/b.csv": b"", "/r/x/y/c.txt": b""})
    assert silt_fs.find("/r") == ["/r/a.csv", "/r/x/b.csv", "/r/x/y/c.txt"]
    assert silt_fs.find("/r", maxdepth=1) == ["/r/a.csv"]
    assert silt_fs.find("/r", maxdepth=2, withdirs=True) == [
        "/r",
        "/r/a.csv",
        "/r/x",
        "/r/x/b.csv",
        "/r/x/y",
    ]
    assert silt_fs.find("/r/a.csv") == ["/r/a.csv"]
    assert silt_fs.find("/missing") == []
    assert silt_fs.glob("/r/**/*.csv") == ["/r/a.csv", "/r/x/b.csv"]
    assert sorted(p for p, _, _ in silt_fs.walk("/r")) == ["/r", "/r/x", "/r/x/y"]


def test_times_and_keys(silt_fs: SiltFileSystem) -> None:
    before = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=5)
    silt_fs.pipe("/t", b"1")
    assert silt_fs.created("/t") >= before and silt_fs.modified("/t") >= before
    key = silt_fs.ukey("/t")
    assert silt_fs.ukey("/t") == key and isinstance(silt_fs.checksum("/t"), int)
    silt_fs.pipe("/t", b"2")
    assert silt_fs.ukey("/t") != key  # an overwrite is a new file
    with pytest.raises(FileNotFoundError):
        silt_fs.created("/none")


def test_directories(silt_fs: SiltFileSystem) -> None:
    silt_fs.mkdir("/a/b/c")
    with pytest.raises(FileExistsError):
        silt_fs.mkdir("/a/b")
    with pytest.raises(FileNotFoundError):
        silt_fs.mkdir("/x/y", create_parents=False)
    silt_fs.makedirs("/a/b/c", exist_ok=True)
    with pytest.raises(FileExistsError):
        silt_fs.makedirs("/a/b/c")
    with pytest.raises(OSError):  # not empty
        silt_fs.rmdir("/a/b")
    silt_fs.rmdir("/a/b/c")
    assert not silt_fs.exists("/a/b/c")
    silt_fs.touch("/a/f")
    with pytest.raises(NotADirectoryError):
        silt_fs.rmdir("/a/f")


def test_rm(silt_fs: SiltFileSystem) -> None:
    silt_fs.pipe({"/r/a": b"", "/r/s/b": b"", "/r/s/c": b"", "/q": b""})
    with pytest.raises(OSError):
        silt_fs.rm("/r")  # a non-empty directory needs recursive
    silt_fs.rm("/r/s/*")
    assert silt_fs.ls("/r/s") == []
    silt_fs.rm("/r", recursive=True)
    assert not silt_fs.exists("/r")
    with pytest.raises(FileNotFoundError):
        silt_fs.rm("/r", recursive=True)
    with pytest.raises(FileNotFoundError):
        silt_fs.rm_file("/r")
    silt_fs.pipe({"/r/a": b"", "/r/s/b": b""})
    silt_fs.rm("silt:///", recursive=True)  # the root stays, empty
    assert silt_fs.ls("/") == []


# -- data --------------------------------------------------------------------------------


def test_file_objects(silt_fs: SiltFileSystem) -> None:
    data = bytes(range(256)) * 40
    with silt_fs.open("/f.bin", "wb", block_size=1000) as f:
        assert isinstance(f, SiltFile) and f.writable() and not f.seekable()
        f.write(data[:5000])
        assert f.tell() == 5000
        f.write(memoryview(data)[5000:])
        with pytest.raises(io.UnsupportedOperation):
            f.seek(0)
        with pytest.raises(io.UnsupportedOperation):
            f.read()
    assert silt_fs.info("/f.bin")["block_size"] == 1000
    with silt_fs.open("silt:///f.bin", "rb") as f:
        assert f.size == len(data) and f.name == "/f.bin" and f.readable()
        assert f.read(10) == data[:10] and f.tell() == 10
        f.seek(-6, io.SEEK_END)
        assert f.read() == data[-6:]
        f.seek(2999)
        buf = bytearray(2)
        assert f.readinto(buf) == 2 and bytes(buf) == data[2999:3001]
        assert f.info()["size"] == len(data)
    assert f.closed
    with pytest.raises(ValueError):
        f.read()
    with pytest.raises(IsADirectoryError):
        silt_fs.open("/", "rb")
    with pytest.raises(FileExistsError):
        silt_fs.open("/f.bin", "xb")
    for mode in ("rwb", "r++b", "q"):
        with pytest.raises(ValueError, match="unsupported mode"):
            silt_fs.open("/f.bin", mode)


def test_compression_and_lines(silt_fs: SiltFileSystem) -> None:
    with silt_fs.open("/l.txt.gz", "wt", compression="gzip") as f:
        f.writelines(f"line {i}\n" for i in range(1000))
    with silt_fs.open("/l.txt.gz", "rt", compression="infer") as f:
        lines = list(f)
    assert len(lines) == 1000 and lines[-1] == "line 999\n"


def test_cat_pipe_touch(silt_fs: SiltFileSystem) -> None:
    silt_fs.pipe_file("/c", b"0123456789")
    assert silt_fs.cat_file("/c", 2, 5) == b"234"
    assert silt_fs.cat_file("/c", -3) == b"789"
    assert silt_fs.cat_file("/c", None, -8) == b"01"
    assert silt_fs.cat(["/c", "/c"]) == {"/c": b"0123456789"}
    assert silt_fs.head("/c", 2) == b"01" and silt_fs.tail("/c", 2) == b"89"
    with pytest.raises(FileExistsError):
        silt_fs.pipe_file("/c", b"x", mode="create")
    silt_fs.touch("/c", truncate=False)
    assert silt_fs.cat("/c") == b"0123456789"
    silt_fs.touch("/c")
    assert silt_fs.cat("/c") == b""
    silt_fs.touch("/new/empty", truncate=False)
    assert silt_fs.info("/new/empty")["size"] == 0
    assert silt_fs.read_text("/c") == ""
    silt_fs.write_text("/c", "text")
    assert silt_fs.read_text("/c") == "text"


def test_transactions(silt_fs: SiltFileSystem) -> None:
    with silt_fs.transaction:
        with silt_fs.open("/t1", "wb") as f:
            f.write(b"one")
        silt_fs.pipe("/t2", b"two")
        assert not silt_fs.exists("/t1") and not silt_fs.exists("/t2")
    assert silt_fs.cat("/t1") == b"one" and silt_fs.cat("/t2") == b"two"
    with pytest.raises(RuntimeError), silt_fs.transaction:
        silt_fs.pipe("/t1", b"replaced")
        silt_fs.pipe("/t3", b"three")
        raise RuntimeError("abort")
    assert silt_fs.cat("/t1") == b"one" and not silt_fs.exists("/t3")


def test_put_get_with_callbacks(silt_fs: SiltFileSystem, tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(b"z" * 100_000)
    sizes: list[int] = []

    class Callback(fsspec.callbacks.Callback):  # type: ignore[misc]
        def call(self, *args: object, **kwargs: object) -> None:
            sizes.append(self.value)

    silt_fs.put_file(str(src), "/up/src.bin", callback=Callback())
    assert silt_fs.cat("/up/src.bin") == src.read_bytes() and sizes[-1] == 100_000
    with pytest.raises(FileExistsError):
        silt_fs.put_file(str(src), "/up/src.bin", mode="create")
    sizes.clear()
    out = tmp_path / "deep" / "out.bin"
    silt_fs.get_file("/up/src.bin", str(out), callback=Callback())
    assert out.read_bytes() == src.read_bytes() and sizes[-1] == 100_000
    buf = io.BytesIO()
    silt_fs.get_file("/up/src.bin", buf)
    assert buf.getvalue() == src.read_bytes()


def test_write_and_read_types(silt_home: Path) -> None:
    fs = SiltFileSystem(home=str(silt_home), write_type="MUST_CACHE", read_type="NO_CACHE")
    fs.pipe("/m", b"cached only")
    assert fs.info("/m")["persistence_state"] == "NOT_PERSISTED"
    fs.pipe("/t", b"through", write_type="THROUGH")
    assert fs.info("/t")["persistence_state"] == "PERSISTED"
    assert fs.info("/t")["cached_percent"] == 0
    assert fs.cat("/t") == b"through"
    assert fs.info("/t")["cached_percent"] == 0  # NO_CACHE from the storage options
    assert fs.cat_file("/t", read_type="CACHE") == b"through"
    assert fs.info("/t")["cached_percent"] == 100
    with fs.open("/c", "wb", write_type="CACHE_THROUGH") as f:
        f.write(b"c")
    assert fs.info("/c")["persistence_state"] == "PERSISTED"
    fs.close()


def test_created_over_a_remote_master(silt_cluster: Any) -> None:
    """``created`` comes from the client contract (FileInfo.created_ms), remote too."""
    before = datetime.datetime.now(datetime.UTC) - datetime.timedelta(seconds=5)
    fs = SiltFileSystem(master=silt_cluster.url, token=silt_cluster.token, skip_instance_cache=True)
    try:
        fs.pipe("/created-remote", b"1")
        when = fs.created("/created-remote")
        assert before <= when <= datetime.datetime.now(datetime.UTC)
        with pytest.raises(FileNotFoundError):
            fs.created("/created-none")
    finally:
        fs.close()
