"""Access keys: a TOML file of ``[[credentials]]`` entries, private (mode 0600), loaded at
start and again on SIGHUP (:meth:`Credentials.reload`)::

    [[credentials]]
    access_key = "AKIA..."
    secret_key = "..."
    read_only = false          # optional
"""

from __future__ import annotations

import os
import stat
import threading
import tomllib
from dataclasses import dataclass
from pathlib import Path

from siltfs.errors import InvalidArgument, PermissionDenied


@dataclass(frozen=True)
class KeyPair:
    access_key: str
    secret_key: str
    read_only: bool = False


def load_keys(path: Path) -> dict[str, KeyPair]:
    """The key pairs in *path*, by access key; refused unless the file is mode 0600 (no
    access for group or others) and every entry is complete and unique."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise InvalidArgument(
            f"cannot read the credentials file: {exc.strerror}", path=str(path)
        ) from exc
    if not stat.S_ISREG(st.st_mode):
        raise InvalidArgument("the credentials file is not a regular file", path=str(path))
    if st.st_mode & 0o077:
        raise PermissionDenied(
            f"the credentials file must be private (chmod 600), it is {stat.filemode(st.st_mode)}",
            path=str(path),
        )
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidArgument(f"invalid TOML: {exc}", path=str(path)) from exc
    entries = data.get("credentials")
    if not isinstance(entries, list) or not entries:
        raise InvalidArgument("no [[credentials]] entries", path=str(path))
    keys: dict[str, KeyPair] = {}
    for i, entry in enumerate(entries, 1):
        where = f"[[credentials]] entry {i}"
        if not isinstance(entry, dict):
            raise InvalidArgument(f"{where} is not a table", path=str(path))
        unknown = set(entry) - {"access_key", "secret_key", "read_only"}
        if unknown:
            raise InvalidArgument(f"{where}: unknown keys {sorted(unknown)}", path=str(path))
        access, secret = entry.get("access_key"), entry.get("secret_key")
        read_only = entry.get("read_only", False)
        if not isinstance(access, str) or not access or not access.isprintable() or " " in access:
            raise InvalidArgument(f"{where}: access_key must be a non-empty string", path=str(path))
        if not isinstance(secret, str) or not secret:
            raise InvalidArgument(f"{where}: secret_key must be a non-empty string", path=str(path))
        if not isinstance(read_only, bool):
            raise InvalidArgument(f"{where}: read_only must be true or false", path=str(path))
        if access in keys:
            raise InvalidArgument(f"{where}: access_key {access!r} appears twice", path=str(path))
        keys[access] = KeyPair(access, secret, read_only)
    return keys


class Credentials:
    """The key pairs in force; :meth:`reload` swaps them atomically, or keeps the old set
    (and raises) when the file is refused."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._keys = load_keys(path)

    def get(self, access_key: str) -> KeyPair | None:
        return self._keys.get(access_key)

    def __len__(self) -> int:
        return len(self._keys)

    def reload(self) -> int:
        """Re-read the file; how many key pairs are now in force."""
        keys = load_keys(self.path)
        with self._lock:
            self._keys = keys
        return len(keys)
