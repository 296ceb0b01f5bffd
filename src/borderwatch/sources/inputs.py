"""Turn what the user named (files, directories, globs) into input files, and open them.

Compression is recognised by content (magic bytes), not by file name, because log
shippers are careless with extensions. A damaged compressed stream is never fatal: the
bytes that could be decompressed are used and the damage is reported by the reader.
"""

from __future__ import annotations

import atexit
import glob
import gzip
import hashlib
import io
import os
import sys
import tempfile
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

import zstandard

from borderwatch.errors import UsageError

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
HEAD_SIZE = 64 * 1024

# Files that live beside logs in delivered layouts and are never log records.
_IGNORED_NAMES = frozenset({".DS_Store", "Thumbs.db", "_SUCCESS"})
_IGNORED_SUFFIXES = (".md5", ".sha256", ".crc", ".tmp", ".partial")


@dataclass(frozen=True)
class InputFile:
    """One file to read: its real path, and the name shown to people for it."""

    path: Path
    display: str


class CorruptInputError(Exception):
    """Compressed data ended early or is damaged; `offset` is the decompressed byte count."""

    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset


def expand_inputs(specs: Sequence[str | Path]) -> list[InputFile]:
    """Every file named by `specs`, in a stable order, each once.

    A spec is a file, a directory (read recursively, hidden entries skipped, as the
    date-partitioned layouts providers deliver), a glob pattern, or "-" for standard
    input. A spec that matches nothing is a usage error: a typo must never look like a
    clean scan.
    """
    seen: set[object] = set()
    files: list[InputFile] = []
    for spec in specs:
        if str(spec) == STDIN:
            files.append(InputFile(spool_stdin(), "<stdin>"))
            continue
        matched = _expand_one(str(spec))
        if not matched:
            raise UsageError(f"input not found: {spec} (no file, directory or glob match)")
        for path in matched:
            key = _identity(path)
            if key not in seen:
                seen.add(key)
                files.append(InputFile(path, str(path)))
    return files


STDIN = "-"
# The note of an input skipped because an earlier input has the same bytes.
COPY_NOTE = "skipped: same content as"


def sha256_of(path: Path) -> str:
    """SHA-256 of a file's bytes (read in chunks), hex."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def content_copies(files: Sequence[InputFile]) -> dict[int, tuple[int, str]]:
    """Inputs whose bytes equal an earlier input's: {copy index: (first index, sha256)}.

    The same logs named twice (a copied folder, overlapping exports) must not count
    twice. Only files of equal size are hashed, so in the usual case, where sizes
    differ, this costs one stat per file. Empty files hold nothing and are left alone;
    unreadable ones are left to their reader to report.
    """
    by_size: dict[int, list[int]] = {}
    for index, item in enumerate(files):
        try:
            size = item.path.stat().st_size
        except OSError:
            continue
        if size:
            by_size.setdefault(size, []).append(index)
    copies: dict[int, tuple[int, str]] = {}
    for indexes in by_size.values():
        if len(indexes) < 2:
            continue
        first_of: dict[str, int] = {}
        for index in indexes:
            try:
                digest = sha256_of(files[index].path)
            except OSError:
                continue
            first = first_of.setdefault(digest, index)
            if first != index:
                copies[index] = (first, digest)
    return copies


def copy_note(first: str, sha256: str, read_at: str = "") -> str:
    """The note of an input skipped as a copy of `first` (read by an earlier scan at
    `read_at`, if given)."""
    earlier = f", read in an earlier scan ({read_at})" if read_at else ""
    return f"{COPY_NOTE} {first} (sha256 {sha256[:16]}...){earlier}: its records are counted once"


def _identity(path: Path) -> object:
    """What makes two names one file: device and inode (one stat, where resolving the
    path costs a call per directory level); the resolved path if it cannot be read."""
    try:
        stat = path.stat()
    except OSError:
        return path.resolve()
    return (stat.st_dev, stat.st_ino)


def spool_stdin() -> Path:
    """Copy standard input to a temporary file so it is read like any other input.

    Readers need to look at a file's head before choosing how to read it, and a pipe
    cannot be rewound; the spool file is removed when the process exits.
    """
    with tempfile.NamedTemporaryFile(prefix="borderwatch-stdin-", delete=False) as spool:
        while chunk := sys.stdin.buffer.read(1 << 20):
            spool.write(chunk)
    path = Path(spool.name)
    atexit.register(path.unlink, missing_ok=True)
    return path


def _expand_one(spec: str) -> list[Path]:
    path = Path(spec)
    if path.is_file():
        return [path]
    if path.is_dir():
        return _walk(path)
    if glob.has_magic(spec):
        found: list[Path] = []
        for match in sorted(glob.glob(spec, recursive=True)):
            candidate = Path(match)
            found.extend(_walk(candidate) if candidate.is_dir() else [candidate])
        return [p for p in found if p.is_file()]
    return []


def _walk(root: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        # Sorted in place so the walk order, and therefore record order, is stable.
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if _is_log_candidate(name):
                found.append(Path(dirpath) / name)
    return found


def _is_log_candidate(name: str) -> bool:
    return not (name.startswith(".") or name in _IGNORED_NAMES or name.endswith(_IGNORED_SUFFIXES))


def compression_of(head: bytes) -> str | None:
    """'gzip', 'zstd' or None, from the first bytes of a file."""
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return None


def open_input(path: Path) -> BinaryIO:
    """A binary stream of the decompressed content of `path`.

    Reading from it raises CorruptInputError when the compressed data is damaged.
    """
    raw = path.open("rb")
    kind = compression_of(raw.read(4))
    raw.seek(0)
    if kind == "gzip":
        return cast(BinaryIO, _Guarded(gzip.GzipFile(fileobj=raw, mode="rb"), raw))
    if kind == "zstd":
        return cast(BinaryIO, _Guarded(_ZstdFrames(raw), raw))
    return raw


def head_bytes(path: Path, size: int = HEAD_SIZE) -> bytes:
    """Up to `size` decompressed bytes from the start of `path` (less if it is damaged).

    The last few answers are kept: choosing a reader and the reader itself both look at
    the head, for a run of files at a time. An answer is reused only while the file's
    size and modification time are unchanged.
    """
    stat = path.stat()
    key = (str(path), size, stat.st_size, stat.st_mtime_ns)
    head = _HEADS.get(key)
    if head is not None:
        return head
    try:
        with open_input(path) as stream:
            head = _read_some(stream, size)
    except CorruptInputError:
        head = b""
    if len(_HEADS) >= _HEADS_KEPT:
        del _HEADS[next(iter(_HEADS))]  # the oldest
    _HEADS[key] = head
    return head


# Heads kept (at most HEAD_SIZE each): more than the files of one worker task.
_HEADS_KEPT = 128
_HEADS: dict[tuple[str, int, int, int], bytes] = {}


def _read_some(stream: BinaryIO, size: int) -> bytes:
    chunks: list[bytes] = []
    remaining = size
    try:
        while remaining > 0:
            chunk = stream.read(remaining)
            if not chunk:
                break
            chunks.append(chunk)
            remaining -= len(chunk)
    except CorruptInputError:
        pass
    return b"".join(chunks)


def read_all(path: Path) -> tuple[bytes, CorruptInputError | None]:
    """The whole decompressed content, and the damage that stopped reading, if any."""
    buffer = io.BytesIO()
    try:
        with open_input(path) as stream:
            while chunk := stream.read(1 << 20):
                buffer.write(chunk)
    except CorruptInputError as exc:
        return buffer.getvalue(), CorruptInputError(exc.reason, buffer.tell())
    return buffer.getvalue(), None


class _ZstdFrames:
    """Decompresses concatenated zstd frames and notices a frame cut short.

    zstandard's own stream reader returns a clean end of stream for a truncated frame,
    which would lose records silently; this checks that the last frame was complete.
    """

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self._frame = zstandard.ZstdDecompressor().decompressobj()
        self._pending = b""
        self._started = False

    def read(self, size: int) -> bytes:
        while len(self._pending) < size:
            chunk = self._raw.read(1 << 16)
            if not chunk:
                if self._started and not self._frame.eof:
                    raise EOFError("zstd frame ends early")
                break
            self._feed(chunk)
        data, self._pending = self._pending[:size], self._pending[size:]
        return data

    def _feed(self, chunk: bytes) -> None:
        while chunk:
            self._started = True
            self._pending += self._frame.decompress(chunk)
            if not self._frame.eof:
                return
            # A new frame may follow in the same chunk.
            chunk = self._frame.unused_data
            self._frame = zstandard.ZstdDecompressor().decompressobj()
            self._started = False

    def close(self) -> None:
        self._raw.close()


class _Guarded(io.RawIOBase):
    """Wraps a decompressing stream so every kind of damage surfaces as CorruptInputError."""

    def __init__(self, inner: Any, raw: BinaryIO) -> None:
        super().__init__()
        self._inner = inner
        self._raw = raw
        self._offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        try:
            data = self._inner.read(len(buffer))
        except EOFError as exc:
            raise CorruptInputError(
                "compressed stream ends early (truncated)", self._offset
            ) from exc
        except (gzip.BadGzipFile, zlib.error, zstandard.ZstdError, OSError) as exc:
            raise CorruptInputError(f"damaged compressed data: {exc}", self._offset) from exc
        buffer[: len(data)] = data
        self._offset += len(data)
        return len(data)

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            self._raw.close()
            super().close()


def iter_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, line bytes without newline); raises CorruptInputError."""
    with open_input(path) as stream:
        buffered = io.BufferedReader(stream) if isinstance(stream, _Guarded) else stream
        for number, line in enumerate(buffered, start=1):
            yield number, line.rstrip(b"\r\n")
