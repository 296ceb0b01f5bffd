"""The swap plan of a ledgered scan: what its outputs' staging folder promises.

A scan with `--ledger` writes its outputs into a staging folder inside the output
folder (`.borderwatch-new-*`), appends the ledger record that names them, and only then
moves them into place (report/outfolder.py). Just before the record's line is written,
the staging folder gets `ledger-plan.json`: which record (number, hash, and the byte
offset of the ledger where its line starts) and which moves (files moved aside into
`superseded/`, staged files moved in). A scan killed after the record leaves the plan
behind: the next scan into the folder finishes the moves (the record is in the ledger)
or drops the staging folder (it is not), and `borderwatch verify` finds the staged
files where the plan says they wait.

The plan is read back from a folder anyone could write to: it is parsed within a size
limit and every name in it must be a plain file name or a path below `superseded/`.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

STAGING_PREFIX = ".borderwatch-new-"
PLAN_FILE = "ledger-plan.json"
SUPERSEDED_FOLDER = "superseded"
PLAN_FORMAT = "borderwatch-swap/1"
_PLAN_LIMIT = 1 << 20


@dataclass(frozen=True)
class SwapPlan:
    """The moves of one ledgered scan's outputs, and the record that names them."""

    ledger: str  # the ledger folder, relative to the output folder
    offset: int  # where the record's line starts in ledger.jsonl
    record: int
    hash: str
    outputs: tuple[str, ...]  # file names staged, moved into the output folder in order
    superseded: tuple[tuple[str, str], ...]  # (file name, its path under superseded/)

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "format": PLAN_FORMAT,
                "ledger": self.ledger,
                "offset": self.offset,
                "record": self.record,
                "hash": self.hash,
                "outputs": list(self.outputs),
                "superseded": [list(pair) for pair in self.superseded],
            },
            sort_keys=True,
        ).encode()


def read_plan(staging: Path) -> SwapPlan | None:
    """The plan in a staging folder, or None (none there, unreadable, or not a plan a
    scan writes: then the folder is an unfinished scan's like any other)."""
    try:
        handle = os.open(staging / PLAN_FILE, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        data = os.read(handle, _PLAN_LIMIT + 1)
    finally:
        os.close(handle)
    if len(data) > _PLAN_LIMIT:
        return None
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        return None
    return _plan_of(value) if isinstance(value, dict) else None


def plain_name(name: object) -> bool:
    """A file name with no folder part and not hidden (what an output is called)."""
    return (
        isinstance(name, str)
        and bool(name)
        and "\x00" not in name
        and PurePosixPath(name).name == name
        and not name.startswith(".")
    )


def kept_path(path: object) -> bool:
    """`superseded/<folder>/<name>`: where a plan may move a file aside."""
    if not isinstance(path, str) or "\x00" in path:
        return False
    parts = PurePosixPath(path).parts
    return (
        len(parts) == 3
        and parts[0] == SUPERSEDED_FOLDER
        and plain_name(parts[1])
        and plain_name(parts[2])
    )


def _plan_of(value: dict[str, Any]) -> SwapPlan | None:
    outputs = value.get("outputs")
    moved = value.get("superseded")
    offset, record = value.get("offset"), value.get("record")
    if (
        value.get("format") != PLAN_FORMAT
        or not isinstance(value.get("ledger"), str)
        or not isinstance(value.get("hash"), str)
        or not isinstance(offset, int)
        or not isinstance(record, int)
        or not isinstance(outputs, list)
        or not isinstance(moved, list)
        or not all(plain_name(name) for name in outputs)
        or not all(
            isinstance(pair, list) and len(pair) == 2 and plain_name(pair[0]) and kept_path(pair[1])
            for pair in moved
        )
    ):
        return None
    return SwapPlan(
        ledger=value["ledger"],
        offset=offset,
        record=record,
        hash=value["hash"],
        outputs=tuple(outputs),
        superseded=tuple((pair[0], pair[1]) for pair in moved),
    )


def staging_folders(folder: Path) -> list[Path]:
    """The staging folders in an output folder (real folders, not links), by name."""
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    return sorted(
        Path(entry.path)
        for entry in entries
        if entry.name.startswith(STAGING_PREFIX) and entry.is_dir(follow_symlinks=False)
    )
