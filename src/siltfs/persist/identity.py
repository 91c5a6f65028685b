"""Process identity: who holds a lease, a latch or a staging object.

One value type, :class:`ProcessId` (host, pid, nonce), with the two stored spellings of
it (neither may change: existing homes must keep working):

- the **owner** form ``<hostname>:<pid>:<nonce>`` -- the ``lease_owner`` of a running job
  and the owner of a commit latch (metastore rows);
- the **token** form ``<host tag>h<pid>p<nonce>`` -- the token of a synchronous write, in
  the name of its staging object (``<host tag>`` is :data:`HOST_TAG`, a hash of the host
  name, so that a UFS listing does not show host names).

Either form parses back to a :class:`ProcessId`, and :meth:`ProcessId.is_dead` tells a
process of this host that is gone (its lease, latch or staging object may be taken over
at once) from everything else (another host, a live process, this process).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import socket
from dataclasses import dataclass


def host_tag(hostname: str) -> str:
    """The short hash of *hostname* that the token form carries."""
    return hashlib.sha1(hostname.encode()).hexdigest()[:6]


HOST_TAG = host_tag(socket.gethostname())


@dataclass(frozen=True)
class ProcessId:
    host_tag: str  # always known
    pid: int
    nonce: str
    hostname: str | None = None  # known for this process and for the owner form

    @classmethod
    def current(cls) -> ProcessId:
        """This process, with a fresh nonce (one per runner, latch holder or write)."""
        name = socket.gethostname()
        return cls(host_tag(name), os.getpid(), secrets.token_hex(4), name)

    # the owner form: <hostname>:<pid>:<nonce> ---------------------------------
    def owner(self) -> str:
        if self.hostname is None:
            raise ValueError("a process id parsed from a token has no host name")
        return f"{self.hostname}:{self.pid}:{self.nonce}"

    @classmethod
    def parse_owner(cls, owner: str | None) -> ProcessId | None:
        """The process an owner string names, or None if it is not one."""
        if not owner:
            return None
        parts = owner.split(":")
        if len(parts) != 3 or not parts[0] or not parts[1].isdigit():
            return None
        return cls(host_tag(parts[0]), int(parts[1]), parts[2], parts[0])

    # the token form: <host tag>h<pid>p<nonce> ---------------------------------
    def token(self) -> str:
        return f"{self.host_tag}h{self.pid}p{self.nonce}"

    @classmethod
    def parse_token(cls, token: str) -> ProcessId | None:
        """The process a write token names, or None if it is not a write token."""
        tag, sep, rest = token.partition("h")
        pid, sep2, nonce = rest.partition("p")
        if not sep or not sep2 or not tag or not pid.isdigit():
            return None
        return cls(tag, int(pid), nonce)

    # liveness -------------------------------------------------------------------
    def on_this_host(self) -> bool:
        if self.hostname is not None:
            return self.hostname == socket.gethostname()
        return self.host_tag == HOST_TAG

    def is_dead(self) -> bool:
        """True if this names a process of this host (not this one) that no longer exists."""
        if not self.on_this_host() or self.pid == os.getpid():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False


def owner_is_dead(owner: str | None) -> bool:
    """True if the owner string *owner* names a process of this host that is gone."""
    pid = ProcessId.parse_owner(owner)
    return pid is not None and pid.is_dead()


def writer_is_dead(token: str) -> bool:
    """True if a synchronous write's token names a process of this host that is gone."""
    pid = ProcessId.parse_token(token)
    return pid is not None and pid.is_dead()
