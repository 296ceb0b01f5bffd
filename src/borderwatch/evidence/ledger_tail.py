"""Reading the end of an evidence ledger without reading the rest of it.

Appending needs the last record only (its number, its hash, the key that signed it),
and the place the next record goes. Both are found by reading the file backwards from
its end in blocks until the last whole line is in hand, so an append costs the same
whatever the ledger's length (bench/ledger_append.py).

A ledger whose bytes do not end in a newline ends in a **torn record**: the start of
a line whose end never reached the disk (a scan killed while appending it, a power
cut) or a file cut short. `Tail.torn` says how many bytes that is and where they start.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_BLOCK = 1 << 16


@dataclass(frozen=True)
class Tail:
    """The end of a ledger file: its size, where the whole lines end, the last whole line."""

    size: int
    whole_end: int  # offset just past the last newline: where the next record goes
    last_start: int  # offset of the last whole line (== whole_end when there is none)
    last_line: bytes | None  # without its newline; None: no whole line at all

    @property
    def torn(self) -> int:
        """How many bytes follow the last whole line (0: the ledger ends cleanly)."""
        return self.size - self.whole_end


def read_tail(handle: int, block_size: int = _BLOCK) -> Tail:
    """The end of the open ledger file `handle`, read backwards in blocks."""
    size = os.fstat(handle).st_size
    buffer = b""
    position = size
    newlines: list[int] = []  # offsets of the newlines found, from the end backwards
    while position > 0 and len(newlines) < 2:
        start = max(0, position - block_size)
        block = os.pread(handle, position - start, start)
        index = len(block)
        while len(newlines) < 2:
            index = block.rfind(b"\n", 0, index)
            if index < 0:
                break
            newlines.append(start + index)
        buffer = block + buffer
        position = start
    base = position  # buffer holds the file's bytes from `base` to `size`
    if not newlines:
        return Tail(size, 0, 0, None)
    whole_end = newlines[0] + 1
    last_start = newlines[1] + 1 if len(newlines) > 1 else 0
    last = buffer[last_start - base : whole_end - 1 - base]
    return Tail(size, whole_end, last_start, last)


def tail_of(data: bytes) -> Tail:
    """The end of a ledger held in memory (`data`: all its bytes), as `read_tail` reads
    it from a file."""
    whole_end = data.rfind(b"\n") + 1
    if whole_end == 0:
        return Tail(len(data), 0, 0, None)
    last_start = data.rfind(b"\n", 0, whole_end - 1) + 1
    return Tail(len(data), whole_end, last_start, data[last_start : whole_end - 1])


def torn_message(path: Path, tail: Tail) -> str:
    """What a torn end is, where, and what to do about it (for a scan that refuses it)."""
    return (
        f"the ledger {path} ends in a torn record: {tail.torn:,} byte(s) from offset "
        f"{tail.whole_end:,} without an end of line (a scan killed while appending its "
        "record leaves one, and so does a file cut short). Nothing is chained onto it: "
        f"run 'borderwatch verify {path.parent}' to see what holds, then scan again with "
        "--repair-ledger to set the torn bytes aside (kept in the ledger folder, named by "
        "the new record)"
    )


def record_at(path: Path, offset: int) -> dict[str, Any] | None:
    """The whole record that starts at `offset` of the ledger, or None (no such file, no
    whole line there, not a record)."""
    try:
        handle = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        line = b""
        position = offset
        while True:
            block = os.pread(handle, _BLOCK, position)
            if not block:
                return None  # no end of line: torn, or nothing there
            end = block.find(b"\n")
            if end >= 0:
                line += block[:end]
                break
            line += block
            position += len(block)
    finally:
        os.close(handle)
    try:
        value = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None
