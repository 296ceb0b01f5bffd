"""Writes that a kill or a power cut leaves whole: the old file or the new one.

The evidence ledger (evidence/ledger.py) and the output folder (report/outfolder.py)
both replace small files whose half-written state would be a lie (a ledger mark, a
repaired ledger, the unfinished-scan note), and both rename entries whose renaming must
survive a power cut. These are the two steps they share.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["sync_folder", "write_replacing"]


def write_replacing(target: Path, data: bytes) -> None:
    """Replace `target` with `data` in one rename, made durable: a kill leaves the old
    file or the new one, never a part of either."""
    temp = target.with_name(f".{target.name}.{os.getpid()}.new")
    with open(temp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temp, target)
    sync_folder(target.parent)


def sync_folder(folder: Path) -> None:
    """Make a new, removed or renamed entry of `folder` durable (a power cut keeps it)."""
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
