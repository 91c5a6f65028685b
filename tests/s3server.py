"""A real S3 endpoint for tests: moto in server mode on 127.0.0.1, one per test session.

``s3_endpoint`` (session) is the server's URL; ``s3_bucket`` (function) is a fresh, empty
bucket with the mount options siltfs needs (:attr:`S3Bucket.options`) and a boto3 client
for looking at the bucket from the outside (what is *really* stored).  Credentials are
fake and passed explicitly to every client; nothing is read from or written to the
environment.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

ACCESS_KEY = "silt-test-key"
SECRET_KEY = "silt-test-secret"
REGION = "us-east-1"


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """``http://127.0.0.1:<port>`` of a moto S3 server running for the whole session."""
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@functools.cache
def s3_client(endpoint: str) -> Any:
    """A boto3 client for *endpoint* (one per endpoint: making one takes ~0.1 s)."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
    )


@dataclass
class S3Bucket:
    name: str
    endpoint: str
    client: Any  # a boto3 S3 client, independent of siltfs

    @property
    def options(self) -> dict[str, str]:
        """siltfs mount options (``mount(..., options=...)``, ``connect(ufs_options=...)``)."""
        return {
            "endpoint_url": self.endpoint,
            "key": ACCESS_KEY,
            "secret": SECRET_KEY,
            "region": REGION,
        }

    def uri(self, prefix: str = "") -> str:
        return f"s3://{self.name}/{prefix}".rstrip("/")

    def keys(self, prefix: str = "") -> list[str]:
        """Every object key under *prefix*, directory markers included, sorted."""
        keys: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.name, Prefix=prefix
        ):
            keys.extend(c["Key"] for c in page.get("Contents", []))
        return sorted(keys)

    def tree(self, prefix: str = "") -> set[str]:
        """What a file system would show under *prefix*: files, marked directories and the
        directories implied by deeper keys, as paths relative to *prefix* (like the
        local ``ufs_tree``).  The marker of *prefix* itself is left out."""
        base = prefix.rstrip("/") + "/" if prefix else ""
        out: set[str] = set()
        for key in self.keys(base):
            rel = key[len(base) :].rstrip("/")
            parts = rel.split("/") if rel else []
            for i in range(1, len(parts) + 1):
                out.add("/".join(parts[:i]))
        return out

    def read(self, key: str) -> bytes:
        body: bytes = self.client.get_object(Bucket=self.name, Key=key)["Body"].read()
        return body

    def put(self, key: str, data: bytes = b"") -> None:
        self.client.put_object(Bucket=self.name, Key=key, Body=data)

    def uploads(self, prefix: str = "") -> list[tuple[str, str]]:
        """(key, upload id) of every multipart upload started and not completed/aborted."""
        out = self.client.list_multipart_uploads(Bucket=self.name, Prefix=prefix)
        return sorted((u["Key"], u["UploadId"]) for u in out.get("Uploads", []))

    def empty(self) -> None:
        for key, upload_id in self.uploads():
            self.client.abort_multipart_upload(Bucket=self.name, Key=key, UploadId=upload_id)
        keys = self.keys()
        for i in range(0, len(keys), 1000):
            self.client.delete_objects(
                Bucket=self.name,
                Delete={"Objects": [{"Key": k} for k in keys[i : i + 1000]], "Quiet": True},
            )


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> Iterator[S3Bucket]:
    """A fresh, empty bucket on the session's moto server; emptied and removed afterwards."""
    client = s3_client(s3_endpoint)
    name = f"silt-{uuid.uuid4().hex[:16]}"
    client.create_bucket(Bucket=name)
    bucket = S3Bucket(name=name, endpoint=s3_endpoint, client=client)
    yield bucket
    bucket.empty()
    client.delete_bucket(Bucket=name)
