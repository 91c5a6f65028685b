"""TLS (siltfs.tls): ``silt up --tls`` serves HTTPS with a self-signed pair, clients verify
it against ``SILT_CA`` (and refuse it without), and a token never goes in clear over
http:// to an address that is not loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from siltfs import errors
from siltfs.client.remote import RemoteFileSystem
from tests.servers import SRC, free_port


def test_silt_up_tls_serves_https_that_clients_verify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, port = tmp_path / "h", free_port()
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    for key in ("SILT_MASTER", "SILT_TOKEN", "SILT_CA"):
        env.pop(key, None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "siltfs.cli.main",
            "--home",
            str(home),
            "up",
            "--tls",
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        text=True,
    )
    try:
        assert proc.stdout is not None
        text = ""
        for line in proc.stdout:
            text += line
            if line.startswith("silt up: use it"):
                break
        url = f"https://127.0.0.1:{port}"
        assert url in text, text
        token = (home / "token").read_text().strip()
        monkeypatch.delenv("SILT_CA", raising=False)
        with pytest.raises(errors.SiltError):  # self-signed: not in the system store
            RemoteFileSystem(url, token, retries=0).stat("/")
        monkeypatch.setenv("SILT_CA", str(home / "tls" / "cert.pem"))
        fs = RemoteFileSystem(url, token)
        try:
            fs.write_bytes("/over-tls", b"encrypted in transit")
            fs.wait_persisted("/", timeout=30)
            assert fs.read_bytes("/over-tls") == b"encrypted in transit"
        finally:
            fs.close()
        assert (home / "ufs" / "over-tls").read_bytes() == b"encrypted in transit"
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
        assert proc.returncode == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_a_token_never_goes_in_clear_to_another_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SILT_ALLOW_INSECURE", raising=False)
    with pytest.raises(errors.InvalidArgument, match="in clear"):
        RemoteFileSystem("http://192.0.2.1:19998", "secret")
    RemoteFileSystem("http://127.0.0.1:1", "secret").close()  # loopback: fine
    RemoteFileSystem("https://192.0.2.1:19998", "secret").close()  # no request is made
    monkeypatch.setenv("SILT_ALLOW_INSECURE", "1")
    RemoteFileSystem("http://192.0.2.1:19998", "secret").close()  # the operator said so
