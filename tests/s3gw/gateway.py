"""``silt s3`` in a subprocess for tests (:class:`GatewayProcess`), its credentials file,
and boto3 clients for it."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import httpx

from tests.servers import MasterProcess, ServerProcess

ACCESS = "AKIDSILTTEST"
SECRET = "silt/test/secret+key"
RO_ACCESS = "AKIDSILTREADONLY"
RO_SECRET = "read-only-secret"
REGION = "us-east-1"
CREDENTIALS = f"""
[[credentials]]
access_key = "{ACCESS}"
secret_key = "{SECRET}"

[[credentials]]
access_key = "{RO_ACCESS}"
secret_key = "{RO_SECRET}"
read_only = true
"""


def write_credentials(path: Path, text: str = CREDENTIALS, mode: int = 0o600) -> Path:
    path.write_text(text)
    os.chmod(path, mode)
    return path


class GatewayProcess(ServerProcess):
    """``silt s3 --master URL`` (or ``--home DIR``) on a free port."""

    kind = "s3"

    def __init__(
        self,
        home: Path,
        credentials: Path,
        *,
        master: MasterProcess | None = None,
        args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(home, None, env)
        self.credentials = credentials
        self.master = master
        self.args = args

    def command(self) -> list[str]:
        where = ["--master", self.master.url] if self.master else ["--home", str(self.home)]
        return [
            "s3",
            *where,
            "--port",
            str(self.port),
            "--credentials",
            str(self.credentials),
            "--log-level",
            "warning",
            *self.args,
        ]

    def environment(self) -> dict[str, str]:
        env = super().environment()
        env.pop("SILT_TOKEN", None)
        if self.master is not None:
            env["SILT_TOKEN"] = self.master.token
        return env

    def ready(self) -> bool:
        try:
            r = httpx.get(self.url + "/", timeout=1)
        except httpx.TransportError:
            return False
        return r.status_code == 403  # up, and refusing an anonymous request

    def start(self, timeout: float = 30.0) -> GatewayProcess:
        self.launch(timeout)
        return self


@functools.cache
def client(endpoint: str, access: str = ACCESS, secret: str = SECRET) -> Any:
    """A boto3 client (one per endpoint and key: making one takes ~0.1 s)."""
    return make_client(endpoint, access, secret)


def make_client(endpoint: str, access: str = ACCESS, secret: str = SECRET, **config: Any) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access,
        aws_secret_access_key=secret,
        region_name=REGION,
        config=Config(retries={"max_attempts": 1}, **config),
    )


def signed(
    gateway: GatewayProcess,
    method: str,
    path: str,
    *,
    host: str | None = None,
    data: bytes = b"",
    headers: dict[str, str] | None = None,
    access: str = ACCESS,
    secret: str = SECRET,
    payload_hash: str | None = None,
) -> httpx.Response:
    """A request signed by botocore's own SigV4 signer, sent with httpx to the gateway
    (*host*: the Host header it is signed for, e.g. ``bucket.localhost:PORT``)."""
    import hashlib

    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    host = host or f"127.0.0.1:{gateway.port}"
    content_hash = payload_hash or hashlib.sha256(data).hexdigest()

    class Signer(S3SigV4Auth):  # botocore's signer, told what x-amz-content-sha256 to sign
        def payload(self, request: Any) -> str:
            return content_hash

    request = AWSRequest(method=method, url=f"http://{host}{path}", data=data, headers=headers)
    Signer(Credentials(access, secret), "s3", REGION).add_auth(request)
    sent = {k: v for k, v in request.headers.items()}
    sent["Host"] = host
    return httpx.request(method, gateway.url + path, headers=sent, content=data, timeout=30)
