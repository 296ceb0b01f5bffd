"""Open an input and read its decompressed content: every member, frame and line of it.

Compression is recognised by content (magic bytes), not by file name, because log
shippers are careless with extensions. A damaged compressed stream is never fatal: the
bytes that could be decompressed are used and the damage is reported by the reader.
Nothing read is held beyond a limit: lines longer than the record limit are read past,
documents larger than the document limit are not held whole.
"""

from __future__ import annotations

import errno
import io
import os
import re
import stat
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, BinaryIO, cast

import zstandard
from isal import isal_zlib

from borderwatch.runtime.options import (
    DOCUMENT_LIMIT,
    DOCUMENT_LIMIT_VARIABLE,
    RECORD_LIMIT,
    RECORD_LIMIT_VARIABLE,
    ReadLimits,
    limit_from_environment,
)

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"

# isal's stubs do not say its error is an exception class; it is (IsalError).
_INFLATE_ERROR = cast(type[Exception], isal_zlib.error)

# The longest record (a JSON line, a CSV row) and the largest document (a file that is
# one JSON object or array) a reader holds are the scan's ReadLimits (runtime/options.py;
# the environment can raise the defaults). A line beyond the limit is read past and
# quarantined, never held.
# The limits do not travel as an argument: read(path) is the Source protocol that
# plug-in readers implement. Ingest sets them around its reading (`reading_within`) and
# in each worker process (`read_within`), for that context only; unset (a reader used
# on its own), the environment's limits apply.
_LIMITS: ContextVar[ReadLimits | None] = ContextVar("borderwatch_read_limits", default=None)


@contextmanager
def reading_within(limits: ReadLimits) -> Iterator[None]:
    """Readers called inside the block work within `limits`."""
    token = _LIMITS.set(limits)
    try:
        yield
    finally:
        _LIMITS.reset(token)


def read_within(limits: ReadLimits) -> None:
    """Readers of this context (a worker process's) work within `limits` from now on."""
    _LIMITS.set(limits)


def record_limit() -> int:
    """The record limit in bytes: the scan's, else $BORDERWATCH_MAX_RECORD_BYTES, else
    RECORD_LIMIT."""
    limits = _LIMITS.get()
    if limits is not None:
        return limits.record_bytes
    return limit_from_environment(RECORD_LIMIT_VARIABLE, RECORD_LIMIT)


def document_limit() -> int:
    """The whole-document limit in bytes: the scan's, else $BORDERWATCH_MAX_DOCUMENT_BYTES,
    else DOCUMENT_LIMIT."""
    limits = _LIMITS.get()
    if limits is not None:
        return limits.document_bytes
    return limit_from_environment(DOCUMENT_LIMIT_VARIABLE, DOCUMENT_LIMIT)


def line_block() -> int:
    """The bytes of plain JSON lines read at a time (then split into lines)."""
    limits = _LIMITS.get()
    return (limits or _DEFAULT_LIMITS).line_block_bytes


_DEFAULT_LIMITS = ReadLimits()


class CorruptInputError(Exception):
    """Compressed data ended early or is damaged; `offset` is the decompressed byte count."""

    def __init__(self, reason: str, offset: int, *, trailing_at: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset
        # Set for bytes after the last complete member: their offset in the file.
        self.trailing_at = trailing_at


def compression_of(head: bytes) -> str | None:
    """'gzip', 'zstd' or None, from the first bytes of a file."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return None


def open_regular(path: Path) -> BinaryIO:
    """`path` opened for binary reading, if it is a regular file; OSError otherwise.

    Expansion lists only regular files, but a file can be swapped for a FIFO or a device
    link before it is read: opened without blocking and checked on the open descriptor,
    such a file is refused instead of blocking or never ending.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EINVAL, "not a regular file (a FIFO, socket or device)")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def open_input(path: Path) -> BinaryIO:
    """A binary stream of the decompressed content of `path`, every member or frame of it.

    Reading from it raises CorruptInputError when the compressed data is damaged, cut
    short or followed by bytes that are not compressed data; every byte decompressed
    before that point is returned first.
    """
    raw = open_regular(path)
    kind = compression_of(raw.read(4))
    raw.seek(0)
    if kind is None:
        return raw
    return cast(BinaryIO, _Guarded(_Members(raw, kind), raw))


def read_all(path: Path) -> tuple[bytes, CorruptInputError | None]:
    """The whole decompressed content, and the damage that stopped reading, if any."""
    whole = read_bounded(path, None)
    assert whole is not None
    return whole


def read_bounded(path: Path, limit: int | None) -> tuple[bytes, CorruptInputError | None] | None:
    """As read_all, or None as soon as the content passes `limit` bytes (None: no limit)."""
    chunks: list[bytes] = []
    size = 0
    try:
        with open_input(path) as stream:
            while chunk := stream.read(1 << 20):
                size += len(chunk)
                if limit is not None and size > limit:
                    return None
                chunks.append(chunk)
    except CorruptInputError as exc:
        damage = CorruptInputError(exc.reason, size, trailing_at=exc.trailing_at)
        return b"".join(chunks), damage
    return b"".join(chunks), None


# Compressed bytes fed to a decompressor at a time. zstd's ratio has no useful bound (a
# frame of repeated bytes inflates thousands of times), so it is fed in small pieces;
# gzip is fed more at once and bounded by max_length instead.
_FEED = {"gzip": 1 << 16, "zstd": 1 << 12}
# Decompressed bytes produced before they are handed on.
_OUTPUT_STEP = 1 << 20
# zstd skippable frames (0x184D2A50..5F, little-endian) may sit between frames.
_ZSTD_SKIPPABLE = re.compile(rb"[\x50-\x5f]\x2a\x4d\x18", re.DOTALL)


class _Members:
    """Decompresses every gzip member or zstd frame of a file in turn, to the end.

    `cat a.gz b.gz` and concatenated zstd frames are valid files whose later members
    hold records as much as the first. Damage is never raised while decompressed bytes
    are waiting: they are handed on first, so records before the damage are read.
    What follows the last complete member and is not another member (bytes appended by
    a careless or hostile writer) is reported as trailing garbage at its offset in the
    file; zero padding (tape blocks, some uploaders) is tolerated as gzip does.
    """

    def __init__(self, raw: BinaryIO, kind: str) -> None:
        self._raw = raw
        self._kind = kind
        self._magic = GZIP_MAGIC if kind == "gzip" else ZSTD_MAGIC
        self._inflater: Any = None  # None between members
        self._input = b""  # compressed bytes read and not yet decompressed
        self._read_total = 0  # compressed bytes read from the file so far
        self._output = bytearray()
        self._delivered = 0
        self._error: CorruptInputError | None = None
        self._done = False

    def read(self, size: int) -> bytes:
        while len(self._output) < size and self._error is None and not self._done:
            try:
                self._step(size)
            except (zlib.error, zstandard.ZstdError, _INFLATE_ERROR) as exc:
                self._fail(f"damaged compressed data: {exc}")
        if not self._output and self._error is not None:
            raise self._error
        data = bytes(self._output[:size])
        del self._output[:size]
        self._delivered += len(data)
        return data

    def _fail(self, reason: str) -> None:
        self._error = CorruptInputError(reason, self._delivered + len(self._output))

    def _more(self) -> bool:
        chunk = self._raw.read(_FEED[self._kind])
        self._read_total += len(chunk)
        self._input += chunk
        return bool(chunk)

    def _step(self, size: int) -> None:
        if self._inflater is None:
            self._start_member()
            return
        if not self._input and not self._more():
            self._fail("compressed stream ends early (truncated)")
            return
        data, self._input = self._input, b""
        if self._kind == "gzip":
            room = max(size - len(self._output), _OUTPUT_STEP)
            self._output += self._inflater.decompress(data, room)
            self._input = self._inflater.unconsumed_tail
        else:
            self._output += self._inflater.decompress(data)
        if self._inflater.eof:
            self._input = self._inflater.unused_data + self._input
            self._inflater = None

    def _start_member(self) -> None:
        """Start the next member, or end: cleanly, on zero padding or on garbage."""
        while len(self._input) < len(self._magic) and self._more():
            pass
        if not self._input:
            self._done = True
            return
        head = self._input[: len(self._magic)]
        if head == self._magic or (self._kind == "zstd" and _ZSTD_SKIPPABLE.match(head)):
            self._inflater = _new_inflater(self._kind)
            return
        at = self._read_total - len(self._input)
        if self._only_zeros():
            self._done = True
            return
        size = _size_of(self._raw)
        extent = f"{size - at} bytes" if size is not None else "bytes"
        self._error = CorruptInputError(
            f"trailing garbage: {extent} from byte {at} of the file follow the last "
            f"complete {self._kind} {'member' if self._kind == 'gzip' else 'frame'} "
            "and are not compressed data; the records before them are read",
            self._delivered + len(self._output),
            trailing_at=at,
        )

    def _only_zeros(self) -> bool:
        while True:
            if self._input.strip(b"\x00"):
                return False
            self._input = b""
            if not self._more():
                return True

    def close(self) -> None:
        self._raw.close()


def _new_inflater(kind: str) -> Any:
    if kind == "gzip":
        return isal_zlib.decompressobj(wbits=31)
    return zstandard.ZstdDecompressor().decompressobj()


def _size_of(raw: BinaryIO) -> int | None:
    try:
        return os.fstat(raw.fileno()).st_size
    except (OSError, ValueError, io.UnsupportedOperation):
        return None


class _Guarded(io.RawIOBase):
    """The decompressed content as a raw stream; damage surfaces as CorruptInputError.

    Each read is one call to the decompressor, so data that came before damage is
    returned by one read and the damage raised by the next (a buffered reader over this
    would drop the data it had gathered when the error came).
    """

    def __init__(self, inner: _Members, raw: BinaryIO) -> None:
        super().__init__()
        self._inner = inner
        self._raw = raw

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self._inner.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._raw.close()
            super().close()


class LongLine(bytes):
    """A line longer than the record limit: its first bytes, and its whole `length`.

    It is never held whole: the bytes past its head are read and dropped. A reader that
    does not know this type sees a head that is not valid JSON and quarantines it.
    """

    length: int

    def __new__(cls, head: bytes, length: int) -> LongLine:
        line = super().__new__(cls, head)
        line.length = length
        return line


def too_long(line: LongLine, limit: int) -> str:
    """The quarantine reason of an over-long line."""
    return (
        f"line of {line.length:,} bytes is longer than the record limit of {limit:,} "
        f"bytes ({RECORD_LIMIT_VARIABLE}); it was read past, not held"
    )


_LONG_LINE_HEAD = 200


def split_lines(blocks: Iterator[bytes], limit: int) -> Iterator[list[bytes]]:
    """Lines (split on b"\\n" only, without it) of a stream given as blocks, a list per
    block; a line longer than `limit` bytes comes as a LongLine and is never held whole.

    Lines wholly inside a block are split and measured in bulk; only the two ends of a
    block, which continue a line of the previous block or start one of the next, are
    handled one by one.
    """
    partial = _Partial(limit)
    for block in blocks:
        lines = block.split(b"\n")
        if len(lines) == 1:
            partial.extend(block)
            continue
        done = [partial.extend(lines[0]).end()]
        middle = lines[1:-1]
        if middle and max(map(len, middle)) > limit:
            middle = [_bounded(line, limit) for line in middle]
        done += middle
        partial.extend(lines[-1])
        yield done
    if partial.size:
        yield [partial.end()]


class _Partial:
    """The line a block ends in, continued by the next blocks, held only up to the limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.pieces: list[bytes] = []
        self.size = 0
        self.long_head: bytes | None = None  # set once the line passed the limit

    def extend(self, piece: bytes) -> _Partial:
        self.size += len(piece)
        if self.long_head is None:
            self.pieces.append(piece)
            if self.size > self.limit:
                self.long_head = b"".join(self.pieces)[:_LONG_LINE_HEAD]
                self.pieces = []
        return self

    def end(self) -> bytes:
        if self.long_head is not None:
            line: bytes = LongLine(self.long_head, self.size)
        else:
            line = self.pieces[0] if len(self.pieces) == 1 else b"".join(self.pieces)
        self.pieces, self.size, self.long_head = [], 0, None
        return line


def _bounded(line: bytes, limit: int) -> bytes:
    return LongLine(line[:_LONG_LINE_HEAD], len(line)) if len(line) > limit else line


def iter_lines(path: Path, limit: int | None = None) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, line bytes without newline); raises CorruptInputError.

    A line longer than `limit` (default: record_limit()) comes as a LongLine.
    """
    limit = record_limit() if limit is None else limit
    number = 0
    garbage: list[CorruptInputError] = []
    with open_input(path) as stream:
        for lines in split_lines(_blocks_before_garbage(stream, garbage), limit):
            for line in lines:
                number += 1
                if line.endswith(b"\r") and not isinstance(line, LongLine):
                    line = line[:-1]
                yield number, line
    if garbage:
        raise garbage[0]


def _blocks_before_garbage(stream: BinaryIO, garbage: list[CorruptInputError]) -> Iterator[bytes]:
    """Blocks of `stream`; trailing garbage ends them cleanly (the last line before it is
    whole) and is put in `garbage`, while any other damage is raised at once."""
    while True:
        try:
            block = stream.read(_READ_BLOCK)
        except CorruptInputError as exc:
            if exc.trailing_at is None:
                raise
            garbage.append(exc)
            return
        if not block:
            return
        yield block


_READ_BLOCK = 1 << 20
