"""Enumerations shared by every layer."""

from __future__ import annotations

from enum import Enum, StrEnum

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


QUARANTINED = "quarantined-"


class IntentKind(StrEnum):
    """The UFS step an intent records (:mod:`siltfs.master.intents`), as stored in the
    metastore: a quarantined intent -- one the UFS refuses for good -- keeps its step
    with the prefix ``quarantined-``."""

    DELETE = "delete"
    RENAME = "rename"
    PLACED = "placed"  # a synchronous overwrite's move: re-read the path from the UFS
    QUARANTINED_DELETE = "quarantined-delete"
    QUARANTINED_RENAME = "quarantined-rename"
    QUARANTINED_PLACED = "quarantined-placed"

    @property
    def quarantined(self) -> bool:
        return self.value.startswith(QUARANTINED)

    def quarantine(self) -> IntentKind:
        """This step set aside (the same kind if it already is)."""
        return self if self.quarantined else IntentKind(QUARANTINED + self.value)

    @property
    def step(self) -> IntentKind:
        """The UFS step, quarantined or not (``quarantined-rename`` -> ``rename``)."""
        return IntentKind(self.value.removeprefix(QUARANTINED))
