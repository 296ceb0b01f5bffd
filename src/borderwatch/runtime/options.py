"""The tuning of one scan: batch sizes, spill and parallel thresholds, workers, memory.

A `ScanOptions` is made once, by `api.scan` (or a caller of the stages), and handed
down: the pipeline picks the engine by its name, ingest sizes its batches, tasks and
worker pool with it (the worker processes get it through their initializer), and the
readers take their byte limits from it. Nothing here changes what a scan finds; the
defaults are the figures the benchmarks in bench/ were measured with.

The record and document limits default to the environment variables documented in
docs/sources.md, read (and checked) when the options are made, so a bad value is
refused before any input is read.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields

from borderwatch.errors import UsageError

# The longest record (a JSON line, a CSV row) a reader holds, and the largest document
# (a file that is one JSON object or array) held whole. CloudTrail records reach 256 KB
# and Kubernetes audit records with request bodies a few MB; a line beyond the limit is
# read past and quarantined, never held.
RECORD_LIMIT = 4 << 20
RECORD_LIMIT_VARIABLE = "BORDERWATCH_MAX_RECORD_BYTES"
DOCUMENT_LIMIT = 256 << 20
DOCUMENT_LIMIT_VARIABLE = "BORDERWATCH_MAX_DOCUMENT_BYTES"
# Below this a limit would quarantine ordinary CloudTrail and Kubernetes records.
LIMIT_FLOOR = 1 << 20

# DuckDB's memory sizes: a number and a unit (decimal or binary), or a share of the RAM.
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B)\s*$", re.IGNORECASE)
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")
_UNIT = {"kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNIT |= {"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}
# DuckDB cannot run the rules' views in less.
_MEMORY_FLOOR = 16 * 10**6
# The options that are texts; every other one is a whole number.
_TEXTS = ("engine", "memory_limit")


def limit_from_environment(variable: str, default: int) -> int:
    """A byte limit from environment variable `variable`, else `default`.

    A value that is not a whole number of at least LIMIT_FLOOR bytes is a UsageError
    naming the variable and the value.
    """
    value = os.environ.get(variable, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < LIMIT_FLOOR:
        raise UsageError(f"{variable}={value!r}: give a number of bytes, at least {LIMIT_FLOOR}")
    return int(value)


def _record_limit_default() -> int:
    return limit_from_environment(RECORD_LIMIT_VARIABLE, RECORD_LIMIT)


def _document_limit_default() -> int:
    return limit_from_environment(DOCUMENT_LIMIT_VARIABLE, DOCUMENT_LIMIT)


@dataclass(frozen=True)
class ReadLimits:
    """What a reader may hold at once (sources/streams.py applies them)."""

    record_bytes: int = RECORD_LIMIT
    document_bytes: int = DOCUMENT_LIMIT
    # Plain JSON lines are read in blocks of this size and split into lines.
    line_block_bytes: int = 8 << 20


@dataclass(frozen=True)
class ScanOptions:
    """How one scan runs (never what it finds). Every number is a positive whole number.

    Made with no arguments it holds the defaults, and the record and document limits of
    the environment ($BORDERWATCH_MAX_RECORD_BYTES, $BORDERWATCH_MAX_DOCUMENT_BYTES).
    A value out of range is a UsageError that names the option and says what to give.
    """

    # The engine that holds the tables and runs the rules: a name in the registry's
    # engines (`registry.engines`).
    engine: str = "duckdb"
    # Processes that read the event inputs; None decides from the input size and the
    # CPUs, 1 reads serially.
    workers: int | None = None
    # With `workers` None, inputs smaller than this (bytes on disk) and fewer files than
    # this are read serially: starting workers costs more than it saves.
    parallel_min_bytes: int = 16 << 20
    parallel_min_files: int = 256
    # One worker task: consecutive files up to this many bytes on disk or this many
    # files (many small delivered files share a task; a large file is a task of its own).
    task_bytes: int = 4 << 20
    task_files: int = 64
    # Tasks in flight per worker: bounds the digests waiting for the main process.
    tasks_ahead_per_worker: int = 3
    # Events gathered before they are digested (many delivered files hold a few hundred).
    digest_events: int = 65_536
    # Digest rows (and sampled event ids) gathered before they are merged (in a worker)
    # or appended to the engine (here): merging and the engine pay a fixed cost per call.
    append_rows: int = 262_144
    # A worker hands over a merged digest of this many rows or more, through a spill
    # file the main process reads back a batch at a time: a task that is one large file
    # then holds no more digest in memory than a small one.
    worker_hand_over_rows: int = 32_768
    # From this input size (bytes on disk) on, the engine works within `memory_limit`
    # and spills the rest to a temporary folder, so peak memory stops growing with the
    # input. `memory_limit` is a size as DuckDB writes it ("512MB", "2GiB") or a share
    # of the machine's memory ("50%").
    bounded_min_bytes: int = 64 << 20
    memory_limit: str = "512MB"
    # The readers' limits (ReadLimits); the two byte limits come from the environment.
    record_limit_bytes: int = field(default_factory=_record_limit_default)
    document_limit_bytes: int = field(default_factory=_document_limit_default)
    line_block_bytes: int = ReadLimits.line_block_bytes

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name in ("engine", "memory_limit") or (
                item.name == "workers" and value is None
            ):
                continue
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"option {item.name}={value!r}: give a whole number, 1 or more")
        for name in ("record_limit_bytes", "document_limit_bytes"):
            if getattr(self, name) < LIMIT_FLOOR:
                raise UsageError(
                    f"option {name}={getattr(self, name)!r}: give a number of bytes, "
                    f"at least {LIMIT_FLOOR}"
                )
        if not isinstance(self.engine, str) or not self.engine.strip():
            raise UsageError(f"option engine={self.engine!r}: give the name of an engine")
        memory_bytes(self.memory_limit)  # refuses a malformed limit now, not at 64 MB read

    @classmethod
    def from_settings(cls, settings: Sequence[str]) -> ScanOptions:
        """Options from `NAME=VALUE` texts (as given to `borderwatch scan --tune`), the
        rest defaults; an unknown name or a value that is not a number where one is
        needed is a UsageError that says which and what to give."""
        known = {item.name: item for item in fields(cls)}
        values: dict[str, object] = {}
        for setting in settings:
            name, sep, value = (part.strip() for part in setting.partition("="))
            name = name.replace("-", "_")
            if not sep or name not in known:
                raise UsageError(
                    f"--tune {setting!r}: write NAME=VALUE with NAME one of "
                    f"{', '.join(known)} (docs/options.md)"
                )
            if name in _TEXTS:
                values[name] = value
            elif name == "workers" and value.lower() == "auto":
                values[name] = None
            else:
                try:
                    values[name] = int(value)
                except ValueError:
                    raise UsageError(
                        f"--tune {setting!r}: {name} takes a whole number, 1 or more"
                    ) from None
        return cls(**values)  # type: ignore[arg-type]

    @property
    def read_limits(self) -> ReadLimits:
        """The limits the readers work within."""
        return ReadLimits(self.record_limit_bytes, self.document_limit_bytes, self.line_block_bytes)

    @property
    def serial_hand_over_rows(self) -> int:
        """Reading serially, merged digests of this many rows are set aside unmerged:
        merging them again would gain little."""
        return max(1, self.append_rows // 2)


def memory_bytes(limit: str) -> int | None:
    """The bytes of a memory limit such as "512MB" or "2GiB" (None for a share such as
    "50%"); a UsageError says what is wrong with any other text."""
    if not isinstance(limit, str):
        raise UsageError(f"option memory_limit={limit!r}: give a size such as '512MB'")
    share = _PERCENT.match(limit)
    if share:
        if not 0 < float(share.group(1)) <= 100:
            raise UsageError(f"option memory_limit={limit!r}: give a share from 1% to 100%")
        return None
    size = _MEMORY.match(limit)
    if not size:
        raise UsageError(
            f"option memory_limit={limit!r}: give a size with its unit, such as '512MB', "
            "'2GiB' (KB, MB, GB, TB, KiB, MiB, GiB, TiB) or a share such as '50%'"
        )
    number = int(float(size.group(1)) * _UNIT[size.group(2).lower()])
    if number < _MEMORY_FLOOR:
        raise UsageError(f"option memory_limit={limit!r}: give at least 16MB")
    return number
