"""Read event inputs through their sources, account for each, and digest what they hold.

Used alike by the main process (a serial read, `read_serial`) and by the worker
processes (ingest/workers.py): whoever reads a run of files hands its accepted events to
a `Digester`, and gets back one (summary, quarantine) per input, in input order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from borderwatch.ingest.coverage import EVENT_COLUMNS as COVERAGE_COLUMNS
from borderwatch.ingest.coverage import coverage_rows, merge_coverage
from borderwatch.ingest.digest import EVENT_COLUMNS, ProtectedKeys, access_rows, aggregate
from borderwatch.ingest.expansion import InputFile
from borderwatch.ingest.repeats import sample_of
from borderwatch.model.events import EVENT_SCHEMA, QuarantinedRecord
from borderwatch.model.scan import InputSummary
from borderwatch.registry import Kind
from borderwatch.runtime.options import ScanOptions
from borderwatch.sources.base import ReadsMany, Source, SourceBatch
from borderwatch.sources.inputs import head_bytes

# The event columns a digester keeps until it digests them (access digest and coverage).
_KEPT_COLUMNS = tuple(dict.fromkeys((*EVENT_COLUMNS, *COVERAGE_COLUMNS)))

# The reason of an input that holds no log records: skipped with a note, not quarantined.
NOT_READ = "skipped: "


def pick_source(sources: Kind[Source], path: Path, forced: str | None) -> Source | None:
    """The source named by `forced`, else the first whose sniff accepts the file's head."""
    if forced:
        return sources.get(forced)
    head = head_bytes(path)
    for source in sources:
        if source.sniff(path, head):
            return source
    return None


@dataclass
class FileRead:
    """One input read: its summary, quarantine, digests of its accesses, sampled ids.

    A worker digests a whole task at once; its digests and samples travel with the
    task's last file, and so does the spill file of the digests it handed over while
    reading (`spilled`, an Arrow IPC stream that the main process reads and deletes).
    """

    summary: InputSummary
    quarantined: list[QuarantinedRecord]
    digests: list[pa.Table] = field(default_factory=list)
    samples: list[pa.Table] = field(default_factory=list)
    spilled: str | None = None
    spilled_samples: str | None = None  # with exact=True every id is sampled: many
    # Event counts per source, place and day (ingest/coverage.py): a few rows per task.
    coverage: list[pa.Table] = field(default_factory=list)
    # On the way from a worker: digests, samples and coverage as Arrow IPC streams.
    packed: tuple[list[bytes], list[bytes], list[bytes]] | None = None


class Digester:
    """Turns event batches into digest rows, merging them whenever enough have gathered;
    keeps the sample of their event ids (ingest/repeats.py) on the side.

    The sizes come from the scan's options: events are digested `digest_events` at a
    time, digest rows merged every `append_rows`, and a merged digest of at least
    `hand_over_rows` is handed over (not merged again).
    """

    def __init__(
        self,
        keys: ProtectedKeys,
        options: ScanOptions,
        *,
        threads: bool,
        hand_over_rows: int,
        spill: Callable[[pa.Table], None] | None = None,
        exact: bool = False,
        spill_samples: Callable[[pa.Table], None] | None = None,
    ) -> None:
        """`spill`, if given, takes every merged digest handed over (else kept in `done`).

        `exact`: hand over one row per access, unmerged, and sample every event id;
        `spill_samples`, if given, takes the sampled ids whenever `append_rows` gathered.
        """
        self.spill_samples = spill_samples
        self.sampled = 0
        self.keys = keys
        self.threads = threads
        self.exact = exact
        self.digest_events = options.digest_events
        self.merge_rows = options.append_rows
        self.hand_over_rows = hand_over_rows
        self.spill = spill
        self.events: list[pa.Table] = []
        self.event_rows = 0
        self.pending: list[pa.Table] = []
        self.rows = 0
        self.done: list[pa.Table] = []
        self.samples: list[pa.Table] = []
        self.coverage: list[pa.Table] = []

    def add(self, events: pa.Table) -> None:
        sample = sample_of(events, every=self.exact)
        if sample.num_rows:
            self.samples.append(sample)
            self.sampled += sample.num_rows
            if self.spill_samples is not None and self.sampled >= self.merge_rows:
                for table in self.take_samples():
                    self.spill_samples(table)
        self.events.append(events.select(list(_KEPT_COLUMNS)))
        self.event_rows += events.num_rows
        if self.event_rows >= self.digest_events:
            self._digest()

    def _digest(self) -> None:
        if not self.events:
            return
        events = pa.concat_tables(self.events)
        # Which protected stores each event names: found once, for the digest and coverage.
        touched = self.keys.touched(events.column("resources").combine_chunks())
        rows = access_rows(events, self.keys, touched)
        # Coverage rows are few (places x days): merged at once, they stay small.
        counts = coverage_rows(events, self.keys, touched)
        self.coverage = [merge_coverage([*self.coverage, counts])]
        self.events, self.event_rows = [], 0
        if rows.num_rows and self.exact:
            self._hand_over(rows)
        elif rows.num_rows:
            self.pending.append(rows)
            self.rows += rows.num_rows
        if self.rows >= self.merge_rows:
            merged = self._merge()
            # Little to gain by merging this again: hand it over, start afresh.
            if merged.num_rows >= self.hand_over_rows:
                self._hand_over(merged)
            else:
                self.pending, self.rows = [merged], merged.num_rows

    def _hand_over(self, table: pa.Table) -> None:
        if self.spill is not None:
            self.spill(table)
        else:
            self.done.append(table)

    def _merge(self) -> pa.Table:
        merged = aggregate(pa.concat_tables(self.pending), threads=self.threads)
        self.pending, self.rows = [], 0
        return merged

    def take_done(self) -> list[pa.Table]:
        """The digests merged so far (more may be pending)."""
        done, self.done = self.done, []
        return done

    def take_samples(self) -> list[pa.Table]:
        """The sampled event ids so far (one table, or none)."""
        samples, self.samples, self.sampled = self.samples, [], 0
        return [pa.concat_tables(samples)] if samples else []

    def take_coverage(self) -> list[pa.Table]:
        """The coverage counts of the events digested so far (one table, or none)."""
        coverage, self.coverage = self.coverage, []
        return coverage

    def finish(self) -> list[pa.Table]:
        """Every digest so far; the digester is empty afterwards."""
        self._digest()
        if self.pending:
            self.done.append(self._merge())
        done, self.done = self.done, []
        return done


Read = tuple[InputSummary, list[QuarantinedRecord]]


def read_files(
    sources: Kind[Source],
    items: Sequence[InputFile],
    forced_format: str | None,
    sink: Callable[[pa.Table], None],
) -> Iterator[Read]:
    """Read inputs in order, handing accepted events to `sink`; one (summary, quarantine)
    per input, each as soon as it is done.

    Consecutive inputs of a source that reads several files at once (`read_many`, e.g.
    CloudTrail's pooled delivery files) go to it together.
    """
    index = 0
    while index < len(items):
        source, reason = _source_for(sources, items[index], forced_format)
        if source is None:
            yield _unrecognised(items[index], reason)
            index += 1
            continue
        run = [items[index]]
        if isinstance(source, ReadsMany):
            while index + len(run) < len(items):
                following = items[index + len(run)]
                if _source_for(sources, following, forced_format)[0] is not source:
                    break
                run.append(following)
        if len(run) > 1 and isinstance(source, ReadsMany):
            batches = source.read_many([item.path for item in run])
        else:
            batches = ((0, batch) for batch in source.read(run[0].path))
        yield from _account(run, source.name, batches, sink)
        index += len(run)


def _source_for(
    sources: Kind[Source], item: InputFile, forced: str | None
) -> tuple[Source | None, str]:
    try:
        source = pick_source(sources, item.path, forced)
        if source is not None:
            return source, ""
        if item.path.stat().st_size == 0:
            return None, f"{NOT_READ}an empty file"
        if not head_bytes(item.path):
            # Compressed data damaged from its start: a log may be lost, so it counts.
            return None, "damaged compressed data: nothing in it can be read"
    except OSError as exc:
        return None, f"cannot read file: {exc.strerror or exc}"
    return None, f"{NOT_READ}not a log of any format borderwatch reads (try --input-format)"


def _unrecognised(item: InputFile, reason: str) -> Read:
    if reason.startswith(NOT_READ):
        return InputSummary(item.display, "events", "unrecognised", 0, 0, 0, reason), []
    quarantined = [QuarantinedRecord(item.display, "whole file", reason)]
    return InputSummary(item.display, "events", "unrecognised", 1, 0, 1, reason), quarantined


def _account(
    run: list[InputFile],
    source_name: str,
    batches: Iterator[tuple[int, SourceBatch]],
    sink: Callable[[pa.Table], None],
) -> Iterator[Read]:
    """Per-input accounting of (input index, batch) pairs that come in input order."""
    current = 0
    read = accepted = 0
    note = ""
    quarantined: list[QuarantinedRecord] = []

    def done(item: InputFile) -> Read:
        summary = InputSummary(
            item.display, "events", source_name, read, accepted, len(quarantined), note
        )
        return summary, quarantined

    for index, batch in batches:
        while current < index:
            yield done(run[current])
            current += 1
            read = accepted = 0
            note = ""
            quarantined = []
        if batch.skipped_reason:
            note = f"skipped: {batch.skipped_reason}"
        if batch.events.num_rows:
            sink(batch.events.select(EVENT_SCHEMA.names))
        quarantined.extend(batch.quarantined)
        read += batch.records_read
        accepted += batch.events.num_rows
    while current < len(run):
        yield done(run[current])
        current += 1
        read = accepted = 0
        note = ""
        quarantined = []


def read_serial(
    sources: Kind[Source],
    files: list[InputFile],
    forced: str | None,
    keys: ProtectedKeys,
    exact: bool,
    options: ScanOptions,
) -> Iterator[FileRead]:
    """Every file read here, in order; one digester for all (many files are tiny)."""
    digester = Digester(
        keys, options, threads=True, hand_over_rows=options.serial_hand_over_rows, exact=exact
    )
    reads = read_files(sources, files, forced, digester.add)
    for number, (summary, quarantined) in enumerate(reads, 1):
        last = number == len(files)
        done = digester.finish() if last else digester.take_done()
        coverage = digester.take_coverage() if last else []
        yield FileRead(summary, quarantined, done, digester.take_samples(), coverage=coverage)


def input_size(item: InputFile) -> int:
    """Bytes on disk of one input (0 if it cannot be read)."""
    try:
        return item.path.stat().st_size
    except OSError:
        return 0


def total_bytes(files: Sequence[InputFile]) -> int:
    """Bytes on disk of all inputs (unreadable ones count as 0)."""
    return sum(input_size(item) for item in files)
