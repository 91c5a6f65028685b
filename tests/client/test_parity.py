"""Both clients are one contract: :class:`siltfs.client.base.FileSystem`.

- the same public methods on each client class, every one of them declared on
  FileSystem (a method added to one client only, or to both but not to the base, fails);
- every method of FileSystem a client overrides -- the abstract primitives above all --
  has the signature FileSystem declares (names, kinds, defaults, annotations);
- neither client leaves an abstract method unimplemented;
- public attributes that are not methods (properties) exist only where listed below.

``violations`` is the check; the last tests feed it small classes that break each rule,
so the check itself is known to fail when it should.
"""

from __future__ import annotations

import inspect
from typing import Any

import pytest

from siltfs.client.base import FileSystem
from siltfs.client.embedded import EmbeddedFileSystem
from siltfs.client.remote import RemoteFileSystem

CLIENTS = (EmbeddedFileSystem, RemoteFileSystem)

# Properties that belong to one transport (not methods, not part of the contract).
TRANSPORT_PROPERTIES: dict[type, set[str]] = {
    EmbeddedFileSystem: {"master"},  # the master in this process (servers, tests)
    RemoteFileSystem: {"url"},  # the master in use
}


def public_methods(cls: type) -> set[str]:
    return {
        name
        for name, value in inspect.getmembers(cls)
        if not name.startswith("_") and inspect.isfunction(value)
    }


def public_properties(cls: type) -> set[str]:
    return {
        name
        for name, value in inspect.getmembers(cls)
        if not name.startswith("_") and isinstance(value, property)
    }


def overridden(base: type, cls: type) -> set[str]:
    """Names of methods *base* declares (public or primitive) that *cls* redefines."""
    names = {n for n, v in inspect.getmembers(base) if inspect.isfunction(v)}
    return {
        n for n in names if inspect.getattr_static(cls, n) is not inspect.getattr_static(base, n)
    }


def violations(
    base: type, clients: tuple[type, ...], properties: dict[type, set[str]]
) -> list[str]:
    found: list[str] = []
    declared = public_methods(base)
    every = set().union(*(public_methods(c) for c in clients))
    for cls in clients:
        mine = public_methods(cls)
        found += [
            f"{cls.__name__}.{n} is missing (another client has it)" for n in sorted(every - mine)
        ]
        found += [
            f"{cls.__name__}.{n} is not declared on {base.__name__}"
            for n in sorted(mine - declared)
        ]
        extra = public_properties(cls) - public_properties(base) - properties.get(cls, set())
        found += [f"{cls.__name__}.{n} is an unlisted public property" for n in sorted(extra)]
        if inspect.isabstract(cls):
            missing = sorted(cls.__abstractmethods__)  # type: ignore[attr-defined]
            found.append(f"{cls.__name__} does not implement {', '.join(missing)}")
        for name in sorted(overridden(base, cls)):
            want, got = (
                inspect.signature(getattr(base, name)),
                inspect.signature(getattr(cls, name)),
            )
            if want != got:
                found.append(f"{cls.__name__}.{name}{got} is not {base.__name__}.{name}{want}")
    return found


def test_the_clients_keep_the_contract() -> None:
    assert violations(FileSystem, CLIENTS, TRANSPORT_PROPERTIES) == []


def test_the_contract_has_primitives_and_derived_methods() -> None:
    abstract = FileSystem.__abstractmethods__
    # the primitives, checked arguments in (a sample: each client implements all of them)
    assert {"_mkdir", "_stat", "_open_reader", "_open_writer", "_wait_persisted"} <= abstract
    assert {"posix_op", "mounts", "close"} <= abstract
    # written once on the base, never by a client
    for derived in (
        "read_bytes",
        "cat",
        "get",
        "put",
        "write_bytes",
        "wait_persisted",
        "open",
        "chmod",
        "truncate",
        "__enter__",
        "__exit__",
    ):
        assert derived not in abstract
        for cls in CLIENTS:
            assert derived not in vars(cls), f"{cls.__name__} writes its own {derived}"


def test_each_abstract_primitive_has_the_signature_of_the_base() -> None:
    for name in sorted(FileSystem.__abstractmethods__):
        want = inspect.signature(getattr(FileSystem, name))
        for cls in CLIENTS:
            assert inspect.signature(getattr(cls, name)) == want, f"{cls.__name__}.{name}"


# the check fails when it should -------------------------------------------------------


class _Complete(EmbeddedFileSystem):
    """A client that changes nothing (the other classes below break one rule each)."""


def _broken(**members: Any) -> type:
    return type("Broken", (_Complete,), members)


def _extra(self: Any) -> None: ...


def _stat_renamed(self: Any, path: str, sync_interval_ms: int | None) -> Any: ...


def _ls_shorter(self: Any, p: str, recursive: bool) -> Any: ...


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ({"extra": _extra}, "Broken.extra is not declared on FileSystem"),
        ({"_stat": _stat_renamed}, "Broken._stat(self: 'Any', path"),
        ({"_ls": _ls_shorter}, "Broken._ls(self: 'Any', p: 'str', recursive: 'bool')"),
        ({"_mkdir": FileSystem._mkdir}, "Broken does not implement _mkdir"),
        ({"host": property(lambda self: "h")}, "Broken.host is an unlisted public property"),
    ],
)
def test_violations_are_found(members: dict[str, Any], expected: str) -> None:
    broken = _broken(**members)
    found = violations(FileSystem, (broken, RemoteFileSystem), {broken: {"master"}})
    assert any(expected in line for line in found), found


def test_a_method_one_client_lacks_is_found() -> None:
    found = violations(FileSystem, (_broken(extra=_extra), RemoteFileSystem), TRANSPORT_PROPERTIES)
    assert "RemoteFileSystem.extra is missing (another client has it)" in found
