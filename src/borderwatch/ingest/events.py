"""Read every event input through its source into the engine, accounting for each record.

What reaches the engine is the access digest (`ingest.digest`): successful accesses to
protected stores, aggregated where every signal is equal. Large inputs are read by a
pool of worker processes (ingest/workers.py), or by Spark tasks (ingest/spark_reading.py),
a run of consecutive files per task; each worker digests what it reads and hands back
the digest with each file's accounting and quarantine, in input order, so the result is
the same as a serial read (Spark tasks keep the digest on the cluster and hand it to the
engine at the end). Small inputs,
and sources that are not built in (a worker could not re-create them by name), are read
serially here (ingest/reading.py). How large is large, and every batch size, comes from
the scan's options (runtime/options.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from borderwatch.ingest.coverage import COVERAGE_SCHEMA
from borderwatch.ingest.coverage import TABLE as COVERAGE_TABLE
from borderwatch.ingest.digest import DIGEST_SCHEMA, ProtectedKeys
from borderwatch.ingest.expansion import InputFile, SkippedInput, expand_inputs
from borderwatch.ingest.reading import NOT_READ, FileRead, read_serial, total_bytes
from borderwatch.ingest.repeats import SAMPLE_SCHEMA
from borderwatch.ingest.repeats import TABLE as SAMPLE_TABLE
from borderwatch.ingest.spark_reading import SparkRead, can_read_on_spark, read_on_spark
from borderwatch.ingest.workers import (
    handed_over,
    read_parallel,
    samples_handed_over,
    worker_count,
)
from borderwatch.model.events import QuarantinedRecord
from borderwatch.model.scan import InputSummary
from borderwatch.registry import Kind
from borderwatch.runtime.options import ScanOptions
from borderwatch.sources.base import Source
from borderwatch.sources.streams import reading_within

if TYPE_CHECKING:
    from borderwatch.runtime.tablestore import TableStore

__all__ = [
    "TABLE",
    "EventLoad",
    "ProgressCallback",
    "load_events",
    "skipped_note",
    "skipped_summaries",
]

# progress(files_done, files_total, events_so_far, current_display_name)
ProgressCallback = Callable[[int, int, int, str], None]

TABLE = "access_parts"


@dataclass
class EventLoad:
    """What loading the event inputs produced, besides the `access_parts` table."""

    inputs: list[InputSummary] = field(default_factory=list)
    quarantined: list[QuarantinedRecord] = field(default_factory=list)
    events_total: int = 0


def load_events(
    engine: TableStore,
    sources: Kind[Source],
    paths: Sequence[str | Path],
    *,
    keys: ProtectedKeys,
    options: ScanOptions | None = None,
    forced_format: str | None = None,
    progress: ProgressCallback | None = None,
    files: Sequence[InputFile] | None = None,
    append: bool = False,
    exact: bool = False,
    reached: Callable[[str], None] | None = None,
    spark: Any = None,
) -> EventLoad:
    """Create table `access_parts` and fill it from every input; never stop on a bad file.

    Table `event_id_sample` (ingest/repeats.py) gets the sampled event ids, to find
    events read more than once; table `coverage_parts` (ingest/coverage.py) the event
    counts per source, place and day.

    `keys`: the names of protected stores, which decide what is an access. `options`:
    the scan's tuning (workers, batch and task sizes, memory limit, readers' limits);
    None: the defaults. `files` (already expanded inputs) replaces `paths`; with
    `append` the existing table is kept and added to (incremental scans). With `exact`,
    nothing is merged: `access_parts` gets one row per access (its event id in
    `min_event_id`) and the sample every event id, so repeated events can be counted
    once (ingest/repeats.py). `reached` is told the steps of runtime/steps.py (tests stop
    the scan there). `spark`: a SparkSession whose tasks read the inputs
    (ingest/spark_reading.py), else None.
    """
    options = options or ScanOptions()
    if files is None:
        files = expand_inputs(list(paths)) if paths else []
    files = list(files)
    if total_bytes(files) >= options.bounded_min_bytes:
        engine.bound_memory(options.memory_limit)
    if not append:
        engine.create_table(TABLE, DIGEST_SCHEMA.empty_table())
        engine.create_table(SAMPLE_TABLE, SAMPLE_SCHEMA.empty_table())
        engine.create_table(COVERAGE_TABLE, COVERAGE_SCHEMA.empty_table())
    load = EventLoad()
    appender = _Appender(engine, TABLE, options.append_rows)
    sampler = _Appender(engine, SAMPLE_TABLE, options.append_rows)
    counter = _Appender(engine, COVERAGE_TABLE, options.append_rows)
    count = worker_count(options, sources, files, forced_format)
    results: Iterator[FileRead]
    on_spark: SparkRead | None = None
    if spark is not None and can_read_on_spark(sources, files):
        # Read in the cluster's tasks; each task within the scan's limits. The digests
        # stay there: handed to the engine once every file is accounted for.
        on_spark = read_on_spark(spark, sources, files, forced_format, keys, exact, options)
        results = on_spark.files()
        scope: AbstractContextManager[object] = on_spark
    elif count > 1:
        # The workers read within the scan's limits (given to them as they start).
        results = read_parallel(files, forced_format, count, keys, exact, options)
        scope = nullcontext()
    else:
        # Read here, as the results are taken: within the scan's limits.
        results = read_serial(sources, files, forced_format, keys, exact, options)
        scope = reading_within(options.read_limits)
    announced = False  # whether `reached` was told that digests went in
    with scope:
        for done, (item, result) in enumerate(zip(files, results, strict=True)):
            if progress:
                progress(done, len(files), load.events_total, item.display)
            digested = bool(result.digests or result.spilled)
            for table in handed_over(result):
                appender.add(table)
            if reached is not None and not announced and digested:
                appender.flush()
                announced = True
                reached("digests-appended")
            for table in samples_handed_over(result):
                sampler.add(table)
            for table in result.coverage:
                counter.add(table)
            load.quarantined.extend(result.quarantined)
            load.inputs.append(result.summary)
            load.events_total += result.summary.accepted
        if on_spark is not None:
            on_spark.hand_over(engine, TABLE, SAMPLE_TABLE)
            if reached is not None:
                reached("digests-appended")
    appender.flush()
    sampler.flush()
    counter.flush()
    if progress:
        progress(len(files), len(files), load.events_total, "")
    return load


def skipped_summaries(skipped: Sequence[SkippedInput]) -> list[InputSummary]:
    """The accounting of entries of the event inputs skipped on purpose (special files,
    excluded files, the output folder, folders already read): nothing read from them."""
    return [
        InputSummary(item.display, "events", "skipped", 0, 0, 0, f"{NOT_READ}{item.reason}")
        for item in skipped
    ]


def skipped_note(inputs: Sequence[InputSummary]) -> list[str]:
    """The terminal's note on event inputs not read: skipped entries and files that are
    not logs (digests, notifications and copies have notes of their own)."""
    skipped = [i for i in inputs if i.kind == "events" and i.format in ("skipped", "unrecognised")]
    skipped = [i for i in skipped if i.note.startswith(NOT_READ)]
    if not skipped:
        return []
    shown = "; ".join(f"{i.path}: {i.note.removeprefix(NOT_READ)}" for i in skipped[:_SHOWN])
    more = f"; and {len(skipped) - _SHOWN} more" if len(skipped) > _SHOWN else ""
    return [
        f"{len(skipped)} entr{'y' if len(skipped) == 1 else 'ies'} of the event inputs not "
        f"read ({shown}{more}); summary.json lists each under inputs"
    ]


_SHOWN = 5


class _Appender:
    """Gathers tables (digests, samples) and appends them to table `name` in INSERTs of
    at least `rows` rows (the engine pays a fixed cost per call).

    Digests are not merged here: that would compete with the workers for the cores, and
    DuckDB merges them in one parallel GROUP BY once reading is done (evaluate/views.py).
    """

    def __init__(self, engine: TableStore, name: str, rows: int) -> None:
        self.engine = engine
        self.name = name
        self.batch_rows = rows
        self.pending: list[pa.Table] = []
        self.rows = 0

    def add(self, table: pa.Table) -> None:
        self.pending.append(table)
        self.rows += table.num_rows
        if self.rows >= self.batch_rows:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.engine.append(self.name, pa.concat_tables(self.pending))
        self.pending = []
        self.rows = 0
