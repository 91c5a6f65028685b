"""Intents that can never be carried out are quarantined, not fatal: a home bricked by the
old rename bug (namespace renamed to a name the UFS cannot hold, its intent stored) opens
again, check_consistency reports it and repair puts the namespace back -- nothing lost."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx

from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.master.consistency import representable
from tests.servers import MasterProcess

from .conftest import ufs_tree

BAD = "bad\\name"


def brick(fs: EmbeddedFileSystem) -> None:
    """What the old code left behind: ``rename /ok -> /bad\\name`` committed in the
    namespace with its UFS step (the intent) still to do, which the UFS refuses."""
    info = fs.write_bytes("/ok", b"precious", write_type="CACHE_THROUGH")
    root_mount = next(m for m in fs.mounts() if m.path == "/")
    with fs.master.ms.transaction() as txn:
        inode = txn.get_inode(info.id)
        assert inode is not None
        inode.name = BAD
        txn.update_inode(inode)
        txn.insert_intent("rename", root_mount.id, "ok", BAD, 1)


def kinds(fs: EmbeddedFileSystem, repair: bool = False) -> list[tuple[str, str, bool]]:
    report = fs.check_consistency("/", repair=repair)
    return sorted((d.kind, d.path, d.repaired) for d in report.divergences)


def test_a_bricked_home_opens_reports_and_repairs(
    make_fs: Callable[..., EmbeddedFileSystem], tmp_path: Path
) -> None:
    fs = make_fs()
    brick(fs)
    fs.close()
    fs = make_fs()  # the old code raised InvalidPath here, from replay_intents
    assert kinds(fs) == [
        ("GHOST", "/ok", False),  # the UFS still holds the old name
        ("QUARANTINED_INTENT", f"/{BAD}", False),
        ("UNREPRESENTABLE_NAME", f"/{BAD}", False),
    ]
    assert 'silt_consistency_divergences{kind="QUARANTINED_INTENT"} 1.0' in fs.metrics_text()
    assert fs.read_bytes(f"/{BAD}") == b"precious"  # readable all along
    assert kinds(fs, repair=True) == [("QUARANTINED_INTENT", f"/{BAD}", True)]
    assert kinds(fs) == []
    assert fs.read_bytes("/ok") == b"precious"
    assert ufs_tree(fs.config.root_ufs_dir) == {"ok"}
    fs.rename("/ok", "/fine")  # and the namespace works on
    assert ufs_tree(fs.config.root_ufs_dir) == {"fine"}


def test_a_bricked_home_serves_again(
    make_fs: Callable[..., EmbeddedFileSystem], tmp_path: Path
) -> None:
    home = tmp_path / "served"
    fs = make_fs(home=home)
    brick(fs)
    fs.close()
    master = MasterProcess(home).start()
    try:
        r = httpx.post(
            master.url + "/api/v1/check_consistency",
            json={"path": "/", "repair": True},
            headers=master.auth(),
            timeout=30,
        )
        assert r.status_code == 200, r.text
        found = {d["kind"] for d in r.json()["divergences"]}
        assert "QUARANTINED_INTENT" in found
        r = httpx.get(
            master.url + "/api/v1/data", params={"path": "/ok"}, headers=master.auth(), timeout=30
        )
        assert r.status_code == 200 and r.content == b"precious"
    finally:
        master.stop()


def test_an_unrepresentable_name_is_renamed_by_repair(
    make_fs: Callable[..., EmbeddedFileSystem],
) -> None:
    fs = make_fs()
    info = fs.write_bytes("/plain", b"cached only", write_type="MUST_CACHE")
    with fs.master.ms.transaction() as txn:  # as an older siltfs could store it
        inode = txn.get_inode(info.id)
        assert inode is not None
        inode.name = "a%2fb"
        txn.update_inode(inode)
    assert kinds(fs) == [("UNREPRESENTABLE_NAME", "/a%2fb", False)]
    assert kinds(fs, repair=True) == [("UNREPRESENTABLE_NAME", "/a%2fb", True)]
    assert fs.read_bytes("/a_b") == b"cached only"
    fs.persist("/a_b")
    fs.wait_persisted("/", timeout=30)
    assert (fs.config.root_ufs_dir / "a_b").read_bytes() == b"cached only"
    assert kinds(fs) == []


def test_representable() -> None:
    assert representable("a\\b%2Fc%00") == "a_b_c_"
    assert representable("%2e%2e") == "_"
    assert representable("fine") == "fine"


def test_chained_quarantined_renames_are_repaired_newest_first(
    make_fs: Callable[..., EmbeddedFileSystem],
) -> None:
    """``/ok -> /bad\\name -> /worse%2fname``, both refused by the UFS (as the old code
    could leave them): undoing the newer one first puts the entry back at ``/ok``, the
    name the UFS holds, as the same entry.  Oldest first, the older rename's entry
    looked gone and the entry was left at ``/bad\\name``, which no UFS can hold: it
    was dropped and the UFS copy imported as a new entry (a GHOST)."""
    fs = make_fs()
    info = fs.write_bytes("/ok", b"precious", write_type="CACHE_THROUGH")
    root_mount = next(m for m in fs.mounts() if m.path == "/")
    with fs.master.ms.transaction() as txn:
        inode = txn.get_inode(info.id)
        assert inode is not None
        inode.name = "worse%2fname"
        txn.update_inode(inode)
        txn.insert_intent("rename", root_mount.id, "ok", BAD, 1)
        txn.insert_intent("rename", root_mount.id, BAD, "worse%2fname", 1)  # same ms
    fs.close()
    fs = make_fs()  # recovery quarantines both
    assert [k for k in kinds(fs) if k[0] == "QUARANTINED_INTENT"] == [
        ("QUARANTINED_INTENT", f"/{BAD}", False),
        ("QUARANTINED_INTENT", "/worse%2fname", False),
    ]
    report = fs.check_consistency("/", repair=True)
    assert [(d.kind, d.path, d.action) for d in report.divergences] == [
        ("QUARANTINED_INTENT", "/worse%2fname", f"renamed back to /{BAD}, the name the UFS holds"),
        ("QUARANTINED_INTENT", f"/{BAD}", "renamed back to /ok, the name the UFS holds"),
    ]
    assert kinds(fs) == []
    assert fs.stat("/ok").id == info.id  # the same entry, not a copy imported from the UFS
    assert fs.read_bytes("/ok") == b"precious"
    assert [i.path for i in fs.ls("/")] == ["/ok"]
    assert ufs_tree(fs.config.root_ufs_dir) == {"ok"}
