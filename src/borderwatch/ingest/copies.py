"""Inputs that hold the same content as another: read once, counted once."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

from borderwatch.ingest.expansion import InputFile
from borderwatch.sources.streams import CorruptInputError, compression_of, open_input, open_regular

# A gzip member has a 10-byte header and an 8-byte trailer at least.
_GZIP_MINIMUM = 18


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
