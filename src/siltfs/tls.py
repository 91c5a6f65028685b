"""TLS for masters and workers, and the rule that a token never travels in clear.

Servers serve TLS when given ``--tls-cert``/``--tls-key`` (``silt up --tls`` makes a
self-signed pair under ``<home>/tls/``).  Every siltfs HTTP client verifies what it talks
to against the system's CA store, or against ``$SILT_CA`` (a CA bundle: e.g. the
self-signed ``<home>/tls/cert.pem``).  A bearer token is never sent over plain ``http://``
to an address that is not loopback, unless ``$SILT_ALLOW_INSECURE=1`` says so.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
from pathlib import Path
from urllib.parse import urlsplit

from siltfs.errors import InvalidArgument

LOOPBACK_NAMES = ("localhost", "localhost.localdomain")
__all__ = ["check_cleartext", "client_verify", "make_self_signed"]


def client_verify() -> ssl.SSLContext:
    """How siltfs clients verify servers: ``$SILT_CA`` if set, else the system store."""
    ca = os.environ.get("SILT_CA")
    if ca:
        if not Path(ca).is_file():
            raise InvalidArgument("SILT_CA is not a file (a PEM CA bundle)", path=ca)
        return ssl.create_default_context(cafile=ca)
    return ssl.create_default_context()


def _loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_cleartext(url: str, token: str | None) -> None:
    """InvalidArgument if *token* would go in clear to a non-loopback *url*."""
    parts = urlsplit(url)
    if token is None or parts.scheme != "http" or _loopback(parts.hostname or ""):
        return
    if os.environ.get("SILT_ALLOW_INSECURE") == "1":
        return
    raise InvalidArgument(
        "refusing to send the token in clear over http:// to a non-loopback address; use "
        "https:// (servers: --tls-cert/--tls-key) or set SILT_ALLOW_INSECURE=1",
        path=url,
    )


def make_self_signed(directory: Path, *, days: int = 825) -> tuple[Path, Path]:
    """A self-signed certificate and key for this machine (localhost, 127.0.0.1, ::1)
    in *directory* (kept if already there); returns ``(cert, key)``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    if cert_path.is_file() and key_path.is_file():
        return cert_path, key_path
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "siltfs self-signed")])
    now = datetime.datetime.now(datetime.UTC)
    san = x509.SubjectAlternativeName(
        [
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            x509.IPAddress(ipaddress.ip_address("::1")),
        ]
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(san, critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert_path, key_path
