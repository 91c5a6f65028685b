from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siltfs.errors import InvalidArgument, InvalidPath, SiltError, WrongType
from siltfs.model import paths
from siltfs.model.paths import MAX_NAME_BYTES, MAX_PATH_BYTES


@pytest.mark.parametrize("bad", [b"/a", b"", None, 1, 1.5, ["/a"], object()])
def test_non_str_is_wrong_type(bad: object) -> None:
    with pytest.raises(WrongType) as info:
        paths.validate(bad)
    assert isinstance(info.value, TypeError)
    assert isinstance(info.value, InvalidArgument)
    assert info.value.code == "wrong_type"


@pytest.mark.parametrize("bad", ["", "a", "a/b", "./a", "~/a", " /a"])
def test_relative_or_empty_is_invalid(bad: str) -> None:
    with pytest.raises(InvalidPath):
        paths.validate(bad)


@pytest.mark.parametrize(
    "bad", ["/..", "/.", "/a/..", "/a/./b", "/a/../b", "/../a", "/a/.", "/a/../"]
)
def test_dot_components_are_invalid(bad: str) -> None:
    with pytest.raises(InvalidPath):
        paths.validate(bad)


@pytest.mark.parametrize("bad", ["/a\x00b", "/\x00", "/a/\x00", "\x00/a"])
def test_nul_is_invalid(bad: str) -> None:
    with pytest.raises(InvalidPath) as info:
        paths.validate(bad)
    assert "\x00" not in str(info.value)


@pytest.mark.parametrize("bad", ["//", "//a", "/a//b", "/a//", "/a///"])
def test_empty_component_is_invalid(bad: str) -> None:
    with pytest.raises(InvalidPath):
        paths.validate(bad)


def test_surrogate_is_invalid() -> None:
    with pytest.raises(InvalidPath):
        paths.validate("/a\udc80")


def test_invalid_path_is_value_error_not_type_error() -> None:
    with pytest.raises(InvalidPath) as info:
        paths.validate("relative")
    assert isinstance(info.value, ValueError)
    assert not isinstance(info.value, TypeError)
    assert isinstance(info.value, SiltError)


def test_name_length_is_counted_in_bytes() -> None:
    assert paths.validate("/" + "a" * MAX_NAME_BYTES) == "/" + "a" * MAX_NAME_BYTES
    with pytest.raises(InvalidPath):
        paths.validate("/" + "a" * (MAX_NAME_BYTES + 1))
    # 'é' is two bytes in UTF-8, '€' three: 127 * 2 + 1 = 255, 85 * 3 = 255.
    ok_two = "é" * 127 + "a"
    ok_three = "€" * 85
    assert len(ok_two.encode()) == len(ok_three.encode()) == 255
    assert paths.validate("/d/" + ok_two) == "/d/" + ok_two
    assert paths.validate("/" + ok_three + "/x") == "/" + ok_three + "/x"
    for too_long in ("é" * 128, "€" * 85 + "a", "a" * 253 + "€"):
        assert len(too_long.encode()) == MAX_NAME_BYTES + 1
        with pytest.raises(InvalidPath):
            paths.validate("/" + too_long)


def _path_of_bytes(total: int) -> str:
    """An absolute path of exactly *total* UTF-8 bytes made of valid names."""
    parts: list[str] = []
    remaining = total
    while remaining > 0:
        n = min(remaining - 1, 200)  # one byte for the '/'
        if n == 0:  # avoid an empty last name: make the previous one shorter
            parts[-1] = parts[-1][:-1]
            n = 1
        parts.append("x" * n)
        remaining -= n + 1
    path = "/" + "/".join(parts)
    assert len(path.encode()) == total
    return path


def test_path_length_limit() -> None:
    ok = _path_of_bytes(MAX_PATH_BYTES)
    assert paths.validate(ok) == ok
    with pytest.raises(InvalidPath):
        paths.validate(_path_of_bytes(MAX_PATH_BYTES + 1))


def test_root_and_one_trailing_slash() -> None:
    assert paths.validate("/") == "/"
    assert paths.validate("/a/") == "/a"
    assert paths.validate("/a/b/") == "/a/b"
    assert paths.validate("/a/b") == "/a/b"


def test_nothing_else_is_rewritten() -> None:
    for p in ("/ a", "/a ", "/A/b", "/a\\b", "/a:b", "/ü", "/a\tb", "/%2e%2e"):
        assert paths.validate(p) == p


def test_error_mentions_what() -> None:
    with pytest.raises(InvalidPath, match="destination"):
        paths.validate("x", what="destination")


def test_components() -> None:
    assert paths.components("/") == []
    assert paths.components("/a") == ["a"]
    assert paths.components("/a/b c/d") == ["a", "b c", "d"]


def test_join() -> None:
    assert paths.join("/", "a") == "/a"
    assert paths.join("/a", "b") == "/a/b"
    assert paths.join("/a/b", "c") == "/a/b/c"


def test_split() -> None:
    assert paths.split("/a") == ("/", "a")
    assert paths.split("/a/b") == ("/a", "b")
    assert paths.split("/a/b/c") == ("/a/b", "c")
    with pytest.raises(InvalidPath):
        paths.split("/")


@pytest.mark.parametrize(
    ("ancestor", "path", "expected"),
    [
        ("/", "/", True),
        ("/", "/a/b", True),
        ("/a", "/a", True),
        ("/a", "/a/b", True),
        ("/a", "/a/b/c", True),
        ("/a", "/ab", False),
        ("/a", "/", False),
        ("/a/b", "/a", False),
        ("/a/b", "/a/bc/d", False),
        ("/b", "/a/b", False),
    ],
)
def test_is_ancestor(ancestor: str, path: str, expected: bool) -> None:
    assert paths.is_ancestor(ancestor, path) is expected


def test_relative() -> None:
    assert paths.relative("/a", "/a") == ""
    assert paths.relative("/", "/") == ""
    assert paths.relative("/a", "/") == "a"
    assert paths.relative("/a/b/c", "/") == "a/b/c"
    assert paths.relative("/a/b/c", "/a") == "b/c"
    assert paths.relative("/a/b/c", "/a/b") == "c"


# --- properties ----------------------------------------------------------------------

names = (
    st.text(
        alphabet=st.characters(blacklist_characters="/\x00", blacklist_categories=["Cs"]),
        min_size=1,
        max_size=80,
    )
    .filter(lambda s: s not in (".", ".."))
    .filter(lambda s: len(s.encode()) <= MAX_NAME_BYTES)
)


@given(st.lists(names, max_size=12))
def test_join_validate_components_round_trip(parts: list[str]) -> None:
    path = "/"
    for name in parts:
        path = paths.join(path, name)
    assert paths.validate(path) == path
    assert paths.components(path) == parts
    if parts:
        assert paths.validate(path + "/") == path
        assert paths.split(path) == (paths.validate(_parent(parts)), parts[-1])
        assert paths.is_ancestor("/", path)
        assert paths.relative(path, "/") == "/".join(parts)


def _parent(parts: list[str]) -> str:
    return "/" + "/".join(parts[:-1])


@given(st.lists(names, min_size=1, max_size=6), st.lists(names, max_size=6))
def test_relative_inverts_join(base_parts: list[str], rest: list[str]) -> None:
    base = "/" + "/".join(base_parts)
    path = base
    for name in rest:
        path = paths.join(path, name)
    assert paths.is_ancestor(base, path)
    assert paths.relative(path, base) == "/".join(rest)
    assert paths.is_ancestor(path, base) is (not rest)
