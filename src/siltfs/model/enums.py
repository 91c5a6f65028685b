"""Enumerations shared by every layer."""

from __future__ import annotations

from enum import Enum

from siltfs.errors import InvalidArgument


class _Parse(str, Enum):
    @classmethod
    def parse(cls, value: object) -> _Parse:
        if isinstance(value, cls):
            return value
        if isinstance(value, str):
            key = value.strip().upper().replace("-", "_")
            for member in cls:
                if member.value == key:
                    return member
        choices = ", ".join(m.value for m in cls)
        raise InvalidArgument(f"invalid {cls.__name__} {value!r}; choose one of {choices}")

    def __str__(self) -> str:
        return str(self.value)


class WriteType(_Parse):
    MUST_CACHE = "MUST_CACHE"
    CACHE_THROUGH = "CACHE_THROUGH"
    THROUGH = "THROUGH"
    ASYNC_THROUGH = "ASYNC_THROUGH"

    @property
    def caches(self) -> bool:
        return self is not WriteType.THROUGH

    @property
    def persists_sync(self) -> bool:
        return self in (WriteType.CACHE_THROUGH, WriteType.THROUGH)


class ReadType(_Parse):
    NO_CACHE = "NO_CACHE"
    CACHE = "CACHE"
    CACHE_PROMOTE = "CACHE_PROMOTE"


class PersistenceState(_Parse):
    NOT_PERSISTED = "NOT_PERSISTED"
    TO_BE_PERSISTED = "TO_BE_PERSISTED"
    PERSISTED = "PERSISTED"
    LOST = "LOST"


class JobState(_Parse):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    FAILED = "FAILED"
    DONE = "DONE"
    CANCELLED = "CANCELLED"


class TtlAction(_Parse):
    DELETE = "DELETE"
    FREE = "FREE"
