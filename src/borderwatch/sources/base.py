"""What every access-log reader implements, and the batch it yields."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import pyarrow as pa

from borderwatch.model.events import QuarantinedRecord


@dataclass
class SourceBatch:
    """Part of one input: accepted events (EVENT_SCHEMA) and quarantined records.

    For every batch, records_read == events.num_rows + len(quarantined).
    """

    input_path: str
    events: pa.Table
    quarantined: list[QuarantinedRecord] = field(default_factory=list)
    records_read: int = 0
    # Set when the whole input was deliberately not read (e.g. a CloudTrail digest file).
    skipped_reason: str = ""


class Source(Protocol):
    """A reader of one log format. It never raises on bad records: it quarantines them."""

    name: str
    description: str

    def sniff(self, path: Path, head: bytes) -> bool:
        """True if `head` (the first decompressed bytes of `path`) looks like this format."""
        ...

    def read(self, path: Path, batch_size: int = 50_000) -> Iterator[SourceBatch]:
        """Yield batches of canonical events; unreadable records go to quarantine."""
        ...


@runtime_checkable
class ReadsMany(Protocol):
    """A source that can also read a run of its inputs at once (optional).

    read_many yields (index into `paths`, batch) in input order, with exactly the rows,
    quarantine and accounting per input that read() of each would give; it exists so
    that many small files can share the per-batch work.
    """

    def read_many(self, paths: Sequence[Path]) -> Iterator[tuple[int, SourceBatch]]:
        """(index into `paths`, batch) for every input, in order."""
        ...
