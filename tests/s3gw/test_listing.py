"""ListObjects v1 and v2 through boto3 against a real ``silt s3``: S3 key order across
the namespace's tree, prefixes, delimiters, pagination, start-after, URL encoding."""

from __future__ import annotations

from typing import Any

import pytest

KEYS = [
    "a-c",
    "a/b",
    "a/c/d",
    "a/c/e",
    "a0",
    "b",
    "b/x",
    "dir/sub/f",
    "dir/z",
    "é/ü",
    "z z+y",
]


@pytest.fixture
def filled(s3: Any, bucket: str) -> str:
    for key in KEYS:
        if key == "b":
            continue  # "b" and "b/x" cannot both be held; b/x wins
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return bucket


def all_keys(s3: Any, bucket: str, **kw: Any) -> tuple[list[str], list[str]]:
    keys: list[str] = []
    prefixes: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, **kw):
        keys += [o["Key"] for o in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    return keys, prefixes


def expected() -> list[str]:
    return sorted((k for k in KEYS if k != "b"), key=lambda k: k.encode())


def test_order_is_s3_byte_order(s3: Any, filled: str) -> None:
    keys, prefixes = all_keys(s3, filled)
    assert keys == expected()
    assert prefixes == []


@pytest.mark.parametrize("page_size", [1, 2, 3, 1000])
def test_pagination_v2(s3: Any, filled: str, page_size: int) -> None:
    keys, _ = all_keys(s3, filled, PaginationConfig={"PageSize": page_size})
    assert keys == expected()


def test_pagination_v1_with_delimiter(s3: Any, filled: str) -> None:
    keys: list[str] = []
    prefixes: list[str] = []
    for page in s3.get_paginator("list_objects").paginate(
        Bucket=filled, Delimiter="/", PaginationConfig={"PageSize": 2}
    ):
        keys += [o["Key"] for o in page.get("Contents", [])]
        prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    assert keys == ["a-c", "a0", "z z+y"]
    assert prefixes == ["a/", "b/", "dir/", "é/"]


def test_delimiter_and_prefix(s3: Any, filled: str) -> None:
    out = s3.list_objects_v2(Bucket=filled, Delimiter="/", Prefix="a/")
    assert [o["Key"] for o in out["Contents"]] == ["a/b"]
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == ["a/c/"]
    out = s3.list_objects_v2(Bucket=filled, Prefix="di")
    assert [o["Key"] for o in out["Contents"]] == ["dir/sub/f", "dir/z"]
    out = s3.list_objects_v2(Bucket=filled, Prefix="a/c/d")
    assert [o["Key"] for o in out["Contents"]] == ["a/c/d"]
    out = s3.list_objects_v2(Bucket=filled, Prefix="nothing")
    assert out["KeyCount"] == 0 and "Contents" not in out
    # a delimiter other than "/"
    out = s3.list_objects_v2(Bucket=filled, Delimiter="-")
    assert [p["Prefix"] for p in out.get("CommonPrefixes", [])] == ["a-"]
    assert "a-c" not in [o["Key"] for o in out["Contents"]]


def test_start_after_and_max_keys(s3: Any, filled: str) -> None:
    out = s3.list_objects_v2(Bucket=filled, StartAfter="a0")
    assert [o["Key"] for o in out["Contents"]] == [k for k in expected() if k > "a0"]
    out = s3.list_objects_v2(Bucket=filled, MaxKeys=2)
    assert out["IsTruncated"] and out["KeyCount"] == 2
    nxt = s3.list_objects_v2(
        Bucket=filled, MaxKeys=2, ContinuationToken=out["NextContinuationToken"]
    )
    assert [o["Key"] for o in nxt["Contents"]] == expected()[2:4]
    out = s3.list_objects(Bucket=filled, Marker="dir/z")
    assert [o["Key"] for o in out["Contents"]] == ["z z+y", "é/ü"]


def test_etag_and_size_in_listing(s3: Any, filled: str) -> None:
    out = s3.list_objects_v2(Bucket=filled, Prefix="a/b", FetchOwner=True)
    (entry,) = out["Contents"]
    head = s3.head_object(Bucket=filled, Key="a/b")
    assert entry["ETag"] == head["ETag"] and entry["Size"] == 3
    assert entry["Owner"]["ID"]


def test_encoding_type_url_raw(gateway: Any, filled: str) -> None:
    from tests.s3gw.gateway import signed

    r = signed(gateway, "GET", f"/{filled}?encoding-type=url&list-type=2&prefix=z")
    assert r.status_code == 200
    assert b"<Key>z%20z%2By</Key>" in r.content
