"""Bodies stream through the gateway in both directions: a 300 MiB object put (one
PutObject, and a multipart upload) and read back never makes the gateway's peak RSS grow
by anything near its size."""

from __future__ import annotations

import hashlib
import io
from typing import Any

from tests.s3gw.gateway import GatewayProcess

MiB = 1024 * 1024
SIZE = 300 * MiB


def peak_rss(gateway: GatewayProcess) -> int:
    assert gateway.proc is not None
    with open(f"/proc/{gateway.proc.pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def test_large_objects_stream(gateway: GatewayProcess, s3: Any, bucket: str) -> None:
    from boto3.s3.transfer import TransferConfig

    data = bytes(range(256)) * (SIZE // 256)
    before = peak_rss(gateway)
    wt = {"silt-write-type": "MUST_CACHE"}  # nothing to persist afterwards
    s3.put_object(Bucket=bucket, Key="one", Body=data, Metadata=wt)
    cfg = TransferConfig(
        multipart_threshold=16 * MiB, multipart_chunksize=16 * MiB, max_concurrency=2
    )
    s3.upload_fileobj(io.BytesIO(data), bucket, "multi", Config=cfg, ExtraArgs={"Metadata": wt})
    for key in ("one", "multi"):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"]
        digest, n = hashlib.md5(), 0
        while chunk := body.read(4 * MiB):
            digest.update(chunk)
            n += len(chunk)
        assert n == SIZE and digest.digest() == hashlib.md5(data).digest()
    grown = peak_rss(gateway) - before
    assert grown < 100 * MiB, f"the gateway's peak RSS grew by {grown // MiB} MiB"
    s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "one"}, {"Key": "multi"}]})
