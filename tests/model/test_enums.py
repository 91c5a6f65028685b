from __future__ import annotations

import pytest

from siltfs.errors import InvalidArgument
from siltfs.model.enums import JobState, PersistenceState, ReadType, TtlAction, WriteType

ALL = [WriteType, ReadType, PersistenceState, JobState, TtlAction]


@pytest.mark.parametrize("enum", ALL)
def test_parse_accepts_members_and_names(enum: type[WriteType]) -> None:
    for member in enum:
        assert enum.parse(member) is member
        assert enum.parse(member.value) is member
        assert enum.parse(member.value.lower()) is member
        assert enum.parse(" " + member.value.lower().replace("_", "-") + " ") is member
        assert str(member) == member.value


@pytest.mark.parametrize("enum", ALL)
@pytest.mark.parametrize("bad", ["", "nope", None, 1, b"CACHE"])
def test_parse_rejects_unknown(enum: type[WriteType], bad: object) -> None:
    with pytest.raises(InvalidArgument) as info:
        enum.parse(bad)
    assert enum.__name__ in str(info.value)


def test_parse_does_not_cross_enums() -> None:
    with pytest.raises(InvalidArgument):
        ReadType.parse(WriteType.THROUGH)
    with pytest.raises(InvalidArgument):
        WriteType.parse("CACHE")


def test_write_type_properties() -> None:
    assert {w for w in WriteType if w.caches} == {
        WriteType.MUST_CACHE,
        WriteType.CACHE_THROUGH,
        WriteType.ASYNC_THROUGH,
    }
    assert {w for w in WriteType if w.persists_sync} == {
        WriteType.CACHE_THROUGH,
        WriteType.THROUGH,
    }
