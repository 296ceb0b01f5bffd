"""Turn what the user named (files, directories, globs) into input files, and open them.

Opening and decompressing is in `streams` (its names are re-exported here for readers).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO, NamedTuple

from borderwatch.sources.expansion import STDIN, Expansion, InputFile, SkippedInput, expand
from borderwatch.sources.streams import (
    DOCUMENT_LIMIT_VARIABLE,
    GZIP_MAGIC,
    RECORD_LIMIT_VARIABLE,
    ZSTD_MAGIC,
    CorruptInputError,
    LongLine,
    compression_of,
    document_limit,
    iter_lines,
    open_input,
    open_regular,
    read_all,
    read_bounded,
    record_limit,
    split_lines,
    too_long,
)

__all__ = [
    "COPY_NOTE",
    "DOCUMENT_LIMIT_VARIABLE",
    "GZIP_MAGIC",
    "HEAD_SIZE",
    "RECORD_LIMIT_VARIABLE",
    "STDIN",
    "ZSTD_MAGIC",
    "ContentCopy",
    "CorruptInputError",
    "Expansion",
    "InputFile",
    "LongLine",
    "SkippedInput",
    "compression_of",
    "content_copies",
    "copy_note",
    "document_limit",
    "expand_all",
    "expand_inputs",
    "head_bytes",
    "iter_lines",
    "open_input",
    "open_regular",
    "read_all",
    "read_bounded",
    "record_limit",
    "sha256_of",
    "split_lines",
    "spool_stdin",
    "too_long",
    "unpacked_sha256_of",
]

HEAD_SIZE = 64 * 1024
# A gzip member has a 10-byte header and an 8-byte trailer at least.
_GZIP_MINIMUM = 18


def expand_inputs(
    specs: Sequence[str | Path], *, exclude: Sequence[str] = (), out: Path | None = None
) -> list[InputFile]:
    """Every file named by `specs`, in a stable order, each once (see expand_all)."""
    return expand_all(specs, exclude=exclude, out=out).files


def expand_all(
    specs: Sequence[str | Path], *, exclude: Sequence[str] = (), out: Path | None = None
) -> Expansion:
    """Every file named by `specs` and every entry skipped on purpose (expansion.expand);
    "-" is standard input, spooled to a file. Limits set in the environment are checked
    here, so a bad one is refused before anything is read."""
    record_limit()
    document_limit()
    return expand(specs, exclude=exclude, out=out, stdin=spool_stdin)


# The note of an input skipped because an earlier input has the same bytes.
COPY_NOTE = "skipped: same content as"


def sha256_of(path: Path) -> str:
    """SHA-256 of a file's bytes (read in chunks), hex."""
    digest = hashlib.sha256()
    with open_regular(path) as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


class ContentCopy(NamedTuple):
    """An input whose content an earlier input already holds."""

    first: int  # index of that earlier input
    sha256: str  # of the bytes, or of the decompressed content when `decompressed`
    decompressed: bool = False


def content_copies(files: Sequence[InputFile]) -> dict[int, ContentCopy]:
    """Inputs whose content an earlier input holds: {copy index: ContentCopy}.

    The same logs named twice (a copied folder, overlapping exports, a folder of logs
    beside the same logs unpacked) must not count twice. Files of equal size are
    compared by SHA-256 of their bytes; a gzip file and a plain file whose sizes match
    (the gzip trailer records the unpacked size) by SHA-256 of what they hold. In the
    usual case, where sizes differ, this costs a stat per file and a read of four bytes
    per gzip file. Empty files hold nothing and are left alone; unreadable or damaged
    ones are left to their reader to report.
    """
    sizes: list[int | None] = []
    for item in files:
        try:
            size = item.path.stat().st_size
        except OSError:
            size = None
        sizes.append(size or None)
    copies = {
        index: ContentCopy(first, digest)
        for index, (first, digest) in _equal_groups(
            _grouped(sizes), lambda index: _digest_or_none(sha256_of, files[index].path)
        ).items()
    }
    unpacked = [
        None if index in copies or size is None else _unpacked_size(files[index].path, size)
        for index, size in enumerate(sizes)
    ]
    # Only groups that mix gzip and plain files are unpacked: equal plain files were
    # found above, and gzip files with no plain file of their unpacked size are left to
    # the comparison of bytes (so a re-compressed copy with no plain one is missed).
    packed = [u is not None and u[1] for u in unpacked]
    mixed = [
        group
        for group in _grouped([None if u is None else u[0] for u in unpacked])
        if len({packed[index] for index in group}) > 1
    ]
    found = _equal_groups(
        mixed, lambda index: _digest_or_none(unpacked_sha256_of, files[index].path)
    )
    copies.update(
        {
            index: ContentCopy(first, digest, decompressed=True)
            for index, (first, digest) in found.items()
        }
    )
    return copies


def unpacked_sha256_of(path: Path) -> str:
    """SHA-256 of a file's decompressed content (of its bytes when not compressed), hex.

    Raises CorruptInputError when the compressed data is damaged.
    """
    digest = hashlib.sha256()
    with open_input(path) as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _grouped(keys: Sequence[int | None]) -> list[list[int]]:
    """Indexes sharing a key (None: no key), in index order; groups of two or more."""
    by_key: dict[int, list[int]] = {}
    for index, key in enumerate(keys):
        if key is not None:
            by_key.setdefault(key, []).append(index)
    return [group for group in by_key.values() if len(group) > 1]


def _equal_groups(
    groups: Sequence[Sequence[int]], digest_of: Callable[[int], str | None]
) -> dict[int, tuple[int, str]]:
    """{index: (first index with the same digest, digest)} within each group."""
    copies: dict[int, tuple[int, str]] = {}
    for group in groups:
        first_of: dict[str, int] = {}
        for index in group:
            digest = digest_of(index)
            if digest is None:
                continue
            first = first_of.setdefault(digest, index)
            if first != index:
                copies[index] = (first, digest)
    return copies


def _digest_or_none(digest: Callable[[Path], str], path: Path) -> str | None:
    try:
        return digest(path)
    except (OSError, CorruptInputError):
        return None


def _unpacked_size(path: Path, size: int) -> tuple[int, bool] | None:
    """(content size modulo 2**32, compressed) of a gzip or plain file; None otherwise.

    A gzip file ends with the size of its content modulo 2**32 (of its last member
    only, so a file of several members rarely matches: missed, never wrong, since
    matches are confirmed by hashing the content). zstd files are not compared.
    """
    try:
        with open_regular(path) as handle:
            kind = compression_of(handle.read(4))
            if kind is None:
                return size & 0xFFFFFFFF, False
            if kind != "gzip" or size < _GZIP_MINIMUM:
                return None
            handle.seek(-4, os.SEEK_END)
            unpacked = int.from_bytes(handle.read(4), "little")
    except OSError:
        return None
    return (unpacked, True) if unpacked else None


def copy_note(first: str, sha256: str, read_at: str = "", *, decompressed: bool = False) -> str:
    """The note of an input skipped as a copy of `first` (read by an earlier scan at
    `read_at`, if given; `decompressed`: the two hold the same content, one compressed)."""
    earlier = f", read in an earlier scan ({read_at})" if read_at else ""
    what = "decompressed content sha256" if decompressed else "sha256"
    return f"{COPY_NOTE} {first} ({what} {sha256[:16]}...){earlier}: its records are counted once"


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
