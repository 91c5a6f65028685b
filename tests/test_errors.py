from __future__ import annotations

import copy
import errno
import pickle

import pytest

from siltfs import errors
from siltfs.errors import SiltError, error_class_for_code

# Every public class with the built-in it must also be, and its errno (None: no errno).
EXPECTED: list[tuple[type[SiltError], type[BaseException], int | None, int]] = [
    (errors.InvalidPath, ValueError, None, 400),
    (errors.InvalidArgument, ValueError, None, 400),
    (errors.WrongType, TypeError, None, 400),
    (errors.FileNotFound, FileNotFoundError, errno.ENOENT, 404),
    (errors.FileExists, FileExistsError, errno.EEXIST, 409),
    (errors.DirectoryNotEmpty, OSError, errno.ENOTEMPTY, 409),
    (errors.IsADirectory, IsADirectoryError, errno.EISDIR, 409),
    (errors.NotADirectory, NotADirectoryError, errno.ENOTDIR, 409),
    (errors.MountError, OSError, errno.EBUSY, 409),
    (errors.PermissionDenied, PermissionError, errno.EACCES, 403),
    (errors.Unauthenticated, PermissionError, errno.EACCES, 401),
    (errors.ResourceExhausted, OSError, errno.ENOSPC, 507),
    (errors.FileLost, OSError, errno.EIO, 410),
    (errors.BlockCorrupted, OSError, errno.EIO, 410),
    (errors.UfsError, OSError, errno.EIO, 502),
    (errors.PersistFailed, OSError, errno.EIO, 500),
    (errors.PersistTimeout, TimeoutError, None, 504),
    (errors.Unavailable, ConnectionError, None, 503),
    (errors.JobNotFound, LookupError, None, 404),
    (errors.HomeLocked, BlockingIOError, errno.EWOULDBLOCK, 423),
    (errors.NotEnoughWorkers, OSError, errno.ENOSPC, 409),
    (errors.NameTooLong, OSError, errno.ENAMETOOLONG, 400),
    (errors.AttributeNotFound, FileNotFoundError, errno.ENODATA, 404),
    (errors.NotSupported, OSError, errno.ENOTSUP, 501),
    (errors.StaleVersion, OSError, errno.ESTALE, 409),
]
CLASSES = [SiltError] + [e[0] for e in EXPECTED]


def test_every_class_is_listed() -> None:
    public = {
        obj
        for obj in vars(errors).values()
        if isinstance(obj, type)
        and issubclass(obj, SiltError)
        and obj.__module__ == errors.__name__
    }
    assert public == set(CLASSES)


def test_codes_are_unique_and_stable() -> None:
    codes = [cls.code for cls in CLASSES]
    assert len(codes) == len(set(codes))
    for cls in CLASSES:
        assert "code" in vars(cls), f"{cls.__name__} inherits its code"
        assert cls.code.isidentifier() and cls.code == cls.code.lower()


@pytest.mark.parametrize(("cls", "builtin", "errno_value", "status"), EXPECTED)
def test_builtin_base_errno_and_status(
    cls: type[SiltError], builtin: type[BaseException], errno_value: int | None, status: int
) -> None:
    exc = cls("went wrong", path="/a/b")
    assert isinstance(exc, SiltError)
    assert isinstance(exc, builtin)
    assert cls.status == status
    assert 400 <= cls.status <= 599
    if errno_value is not None:
        assert isinstance(exc, OSError)
        assert exc.errno == errno_value
        assert exc.filename == "/a/b"
    with pytest.raises(builtin):
        raise exc


@pytest.mark.parametrize("cls", CLASSES)
def test_str_includes_path_and_message(cls: type[SiltError]) -> None:
    exc = cls("something broke", path="/data/x.csv")
    assert "/data/x.csv" in str(exc)
    assert "something broke" in str(exc)
    assert exc.path == "/data/x.csv"
    assert exc.message == "something broke"
    bare = cls("no path here")
    assert str(bare) == "no path here"
    assert bare.path is None


@pytest.mark.parametrize("cls", CLASSES)
def test_to_dict(cls: type[SiltError]) -> None:
    exc = cls("boom", path="/p", job_id=7)
    assert exc.to_dict() == {"code": cls.code, "message": "boom", "path": "/p", "job_id": 7}
    assert exc.details == {"job_id": 7}


@pytest.mark.parametrize("cls", CLASSES)
def test_error_class_for_code_round_trip(cls: type[SiltError]) -> None:
    assert error_class_for_code(cls.code) is cls


def test_error_class_for_unknown_code_is_base() -> None:
    assert error_class_for_code("no_such_code") is SiltError
    assert error_class_for_code("") is SiltError


def test_wrong_type_is_invalid_argument() -> None:
    exc = errors.WrongType("nope")
    assert isinstance(exc, errors.InvalidArgument)
    assert isinstance(exc, TypeError) and isinstance(exc, ValueError)


def test_specific_builtins_do_not_leak() -> None:
    # FileNotFound must not also look like "exists" or "permission" errors.
    exc = errors.FileNotFound("x", path="/a")
    assert not isinstance(exc, FileExistsError | PermissionError)
    assert not isinstance(errors.InvalidPath("x"), OSError)


@pytest.mark.parametrize("cls", CLASSES)
def test_pickle_and_copy_round_trip(cls: type[SiltError]) -> None:
    exc = cls("boom", path="/p", job_id=7)
    for back in (pickle.loads(pickle.dumps(exc)), copy.copy(exc)):
        assert type(back) is cls
        assert (back.message, back.path, back.details) == ("boom", "/p", {"job_id": 7})
        assert str(back) == str(exc)
