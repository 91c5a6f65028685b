"""The ``silt fs`` group: Alluxio-style file system commands.

The commands live in ``namespace.py``, ``posix.py``, ``contents.py``, ``transfer.py``,
``caching.py`` and ``mounts.py``;
this module only names them (Alluxio's aliases included).
"""

from __future__ import annotations

import click

from siltfs.cli import caching, contents, mounts, namespace, posix, transfer


@click.group("fs")
def fs() -> None:
    """Namespace, data, cache and mount commands.  Paths are absolute (/a/b)."""


_COMMANDS: list[tuple[str, click.Command]] = [
    ("ls", namespace.ls),
    ("mkdir", namespace.mkdir),
    ("touch", namespace.touch),
    ("mv", namespace.mv),
    ("rm", namespace.rm),
    ("stat", namespace.stat),
    ("du", namespace.du),
    ("count", contents.count),
    ("checksum", contents.checksum),
    ("cp", contents.cp),
    ("chmod", posix.chmod),
    ("chown", posix.chown),
    ("ln", posix.ln),
    ("readlink", posix.readlink),
    ("truncate", posix.truncate),
    ("xattr", posix.xattr),
    ("put", transfer.put),
    ("copyFromLocal", transfer.put),
    ("get", transfer.get),
    ("copyToLocal", transfer.get),
    ("cat", transfer.cat),
    ("head", transfer.head),
    ("tail", transfer.tail),
    ("persist", caching.persist),
    ("wait-persisted", caching.wait_persisted),
    ("free", caching.free),
    ("load", caching.load),
    ("pin", caching.pin),
    ("unpin", caching.unpin),
    ("setTtl", caching.set_ttl),
    ("unsetTtl", caching.unset_ttl),
    ("mount", mounts.mount),
    ("unmount", mounts.unmount),
    ("mounts", mounts.mounts),
    ("check-consistency", mounts.check_consistency),
]

for _name, _command in _COMMANDS:
    fs.add_command(_command, _name)
