"""What readers use to open an input and look at its head.

Opening and decompressing is in `streams` (its names are re-exported here for readers);
finding the input files is ingest's work (`borderwatch.ingest.expansion`).
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

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
    line_block,
    open_input,
    open_regular,
    read_all,
    read_bounded,
    record_limit,
    split_lines,
    too_long,
)

__all__ = [
    "DOCUMENT_LIMIT_VARIABLE",
    "GZIP_MAGIC",
    "HEAD_SIZE",
    "RECORD_LIMIT_VARIABLE",
    "ZSTD_MAGIC",
    "CorruptInputError",
    "LongLine",
    "compression_of",
    "document_limit",
    "head_bytes",
    "iter_lines",
    "line_block",
    "open_input",
    "open_regular",
    "read_all",
    "read_bounded",
    "record_limit",
    "split_lines",
    "too_long",
]

HEAD_SIZE = 64 * 1024


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
