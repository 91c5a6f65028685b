"""The ``aws-chunked`` content encoding: ``<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n``
repeated, a zero-size chunk, then optional trailing headers (``x-amz-checksum-crc32:...``,
``x-amz-trailer-signature:...``) and an empty line.

:class:`ChunkDecoder` is fed the body as it arrives and hands back the decoded bytes; with
an :class:`~siltfs.s3gw.sigv4.Auth` it checks every chunk signature (each chains to the
previous one, the first to the request's seed signature) and the trailer's.
"""

from __future__ import annotations

import hashlib
import hmac

from siltfs.s3gw.errors import S3Error
from siltfs.s3gw.sigv4 import Auth

MAX_LINE = 4096


def _incomplete(message: str) -> S3Error:
    return S3Error("IncompleteBody", message, 400)


def _bad_signature() -> S3Error:
    return S3Error(
        "SignatureDoesNotMatch",
        "The chunk signature we calculated does not match the signature you provided.",
        403,
    )


class ChunkDecoder:
    """Incremental decoder; *auth* given: chunk signatures are required and verified."""

    def __init__(self, auth: Auth | None, signed_trailer: bool = False) -> None:
        self._auth = auth
        self._signed_trailer = signed_trailer
        self._previous = auth.signature if auth else ""
        self._buf = bytearray()
        self._state = "header"  # header | data | crlf | trailer | done
        self._remaining = 0
        self._signature: str | None = None
        self._chunk_hash = hashlib.sha256()
        self.trailers: dict[str, str] = {}
        self._trailer_lines: list[bytes] = []

    @property
    def done(self) -> bool:
        return self._state == "done"

    def feed(self, data: bytes) -> list[bytes]:
        """Decoded bytes found in *data* (in order)."""
        self._buf += data
        out: list[bytes] = []
        while True:
            if self._state == "data":
                if not self._buf:
                    return out
                n = min(self._remaining, len(self._buf))
                piece = bytes(self._buf[:n])
                del self._buf[:n]
                self._chunk_hash.update(piece)
                self._remaining -= n
                out.append(piece)
                if self._remaining == 0:
                    self._state = "crlf"
                continue
            if self._state == "done":
                if self._buf.strip():
                    raise S3Error("InvalidRequest", "bytes after the end of the aws-chunked body")
                self._buf.clear()
                return out
            line = self._line()
            if line is None:
                return out
            if self._state == "crlf":
                if line:
                    raise _incomplete("a chunk is longer than its declared size")
                self._end_chunk()
                self._state = "header"
            elif self._state == "header":
                self._start_chunk(line)
            else:
                self._trailer(line)

    def finish(self) -> None:
        """The body ended: it must have ended exactly after the last chunk (and trailers)."""
        if self._state == "trailer" and not self._buf:
            self._end_trailers()  # the final empty line is optional
        if self._state != "done":
            raise _incomplete("the aws-chunked body ended before its last chunk")

    def _line(self) -> bytes | None:
        end = self._buf.find(b"\r\n")
        if end < 0:
            if len(self._buf) > MAX_LINE:
                raise S3Error("InvalidRequest", "an aws-chunked header line is too long")
            return None
        line = bytes(self._buf[:end])
        del self._buf[: end + 2]
        return line

    def _start_chunk(self, line: bytes) -> None:
        size_text, _, ext = line.partition(b";")
        try:
            size = int(size_text.strip(), 16)
        except ValueError as exc:
            raise S3Error("InvalidRequest", f"bad aws-chunked chunk header {line[:60]!r}") from exc
        self._signature = None
        for item in ext.split(b";") if ext else []:
            name, _, value = item.partition(b"=")
            if name.strip() == b"chunk-signature":
                self._signature = value.strip().decode("ascii", "replace")
        if self._auth is not None and self._signature is None:
            raise S3Error("InvalidRequest", "a signed aws-chunked chunk has no chunk-signature")
        self._chunk_hash = hashlib.sha256()
        if size == 0:
            self._end_chunk()
            self._state = "trailer"
        else:
            self._remaining = size
            self._state = "data"

    def _end_chunk(self) -> None:
        if self._auth is None:
            return
        expected = self._auth.chunk_signature(self._previous, self._chunk_hash.hexdigest())
        if not hmac.compare_digest(expected, (self._signature or "").lower()):
            raise _bad_signature()
        self._previous = expected

    def _trailer(self, line: bytes) -> None:
        if not line:
            self._end_trailers()
            return
        name, sep, value = line.decode("utf-8", "replace").partition(":")
        if not sep:
            raise S3Error("InvalidRequest", f"bad trailing header {line[:60]!r}")
        name = name.strip().lower()
        if name == "x-amz-trailer-signature":
            self.trailers[name] = value.strip()
        else:
            self.trailers[name] = value.strip()
            self._trailer_lines.append(f"{name}:{value.strip()}\n".encode())

    def _end_trailers(self) -> None:
        self._state = "done"
        if self._auth is None or not self._signed_trailer:
            return
        given = self.trailers.pop("x-amz-trailer-signature", "")
        expected = self._auth.trailer_signature(self._previous, b"".join(self._trailer_lines))
        if not hmac.compare_digest(expected, given.lower()):
            raise _bad_signature()
