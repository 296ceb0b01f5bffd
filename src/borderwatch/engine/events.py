"""Read every event input through its source into the engine, accounting for each record.

Large inputs are read by a pool of worker processes, one file per task; each worker
spools its Arrow batches to a temporary file and the main process appends them in input
order, so the `events` table, the accounting and the quarantine are the same as a
serial read. Small inputs, and sources that are not built in (a worker could not
re-create them by name), are read serially in this process.
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa

from borderwatch.model.events import EVENT_SCHEMA, QuarantinedRecord
from borderwatch.model.scan import InputSummary
from borderwatch.registry import Kind
from borderwatch.sources.base import Source
from borderwatch.sources.inputs import InputFile, expand_inputs, head_bytes

if TYPE_CHECKING:
    from borderwatch.engine.duckdb_engine import DuckDBEngine

# progress(files_done, files_total, events_so_far, current_display_name)
ProgressCallback = Callable[[int, int, int, str], None]

# Inputs smaller than this (bytes on disk) are read serially: starting workers costs more.
PARALLEL_MIN_BYTES = 16 << 20
# Rows gathered before one INSERT: DuckDB pays a fixed cost per statement.
APPEND_ROWS = 200_000
# ... or tables: each spooled one is a memory mapping until it is appended.
APPEND_TABLES = 2_048
# From this input size (bytes on disk) on, DuckDB works within MEMORY_LIMIT and spills
# the rest to a temporary directory, so peak memory stops growing with the input.
BOUNDED_MIN_BYTES = 64 << 20
MEMORY_LIMIT = "512MB"
# Files in flight per worker: bounds the spooled batches waiting for the main process.
_AHEAD_PER_WORKER = 4


@dataclass
class EventLoad:
    """What loading the event inputs produced, besides the `events` table."""

    inputs: list[InputSummary] = field(default_factory=list)
    quarantined: list[QuarantinedRecord] = field(default_factory=list)
    events_total: int = 0


def pick_source(sources: Kind[Source], path: Path, forced: str | None) -> Source | None:
    """The source named by `forced`, else the first whose sniff accepts the file's head."""
    if forced:
        return sources.get(forced)
    head = head_bytes(path)
    for source in sources:
        if source.sniff(path, head):
            return source
    return None


def load_events(
    engine: DuckDBEngine,
    sources: Kind[Source],
    paths: Sequence[str | Path],
    *,
    forced_format: str | None = None,
    progress: ProgressCallback | None = None,
    workers: int | None = None,
    files: Sequence[InputFile] | None = None,
    append: bool = False,
) -> EventLoad:
    """Create table `events` and fill it from every input; never stop on a bad file.

    `workers`: processes to read with; None decides from the input size and the CPUs,
    1 reads serially. `files` (already expanded inputs) replaces `paths`; with `append`
    the existing `events` table is kept and added to (incremental scans).
    """
    if files is None:
        files = expand_inputs(list(paths)) if paths else []
    files = list(files)
    if total_bytes(files) >= BOUNDED_MIN_BYTES:
        _bound_memory(engine)
    if not append:
        engine.create_table("events", EVENT_SCHEMA.empty_table())
    load = EventLoad()
    appender = _Appender(engine)
    count = _worker_count(workers, sources, files, forced_format)
    results = (
        _read_parallel(files, forced_format, count)
        if count > 1
        else (_read_serial(sources, item, forced_format) for item in files)
    )
    for done, (item, result) in enumerate(zip(files, results, strict=True)):
        if progress:
            progress(done, len(files), load.events_total, item.display)
        for table in result.tables():
            appender.add(table)
        load.quarantined.extend(result.quarantined)
        load.inputs.append(result.summary)
        load.events_total += result.summary.accepted
    appender.flush()
    if progress:
        progress(len(files), len(files), load.events_total, "")
    return load


@dataclass
class _FileRead:
    """One input read: its summary, quarantine, and its accepted events."""

    summary: InputSummary
    quarantined: list[QuarantinedRecord]
    batches: list[pa.Table] = field(default_factory=list)
    spool: str | None = None

    def tables(self) -> Iterator[pa.Table]:
        yield from self.batches
        if self.spool is None:
            return
        try:
            # Memory-mapped: the batches point into the page cache instead of being
            # copied (the mapping outlives the unlink below until they are appended).
            with pa.ipc.open_stream(pa.memory_map(self.spool)) as reader:
                for batch in reader:
                    yield pa.Table.from_batches([batch])
        finally:
            os.unlink(self.spool)


def _read_file(
    sources: Kind[Source],
    item: InputFile,
    forced_format: str | None,
    sink: Callable[[pa.Table], None],
) -> tuple[InputSummary, list[QuarantinedRecord]]:
    """Read one input through its source, handing accepted events to `sink`."""
    quarantined: list[QuarantinedRecord] = []
    try:
        source = pick_source(sources, item.path, forced_format)
    except OSError as exc:
        source, reason = None, f"cannot read file: {exc.strerror or exc}"
    else:
        reason = "no reader recognises this format (try --format)"
    if source is None:
        quarantined.append(QuarantinedRecord(item.display, "whole file", reason))
        return InputSummary(item.display, "events", "unrecognised", 1, 0, 1, reason), quarantined
    read = accepted = 0
    note = ""
    for batch in source.read(item.path):
        if batch.skipped_reason:
            note = f"skipped: {batch.skipped_reason}"
        if batch.events.num_rows:
            sink(batch.events.select(EVENT_SCHEMA.names))
        quarantined.extend(batch.quarantined)
        read += batch.records_read
        accepted += batch.events.num_rows
    summary = InputSummary(
        item.display, "events", source.name, read, accepted, len(quarantined), note
    )
    return summary, quarantined


def _read_serial(sources: Kind[Source], item: InputFile, forced: str | None) -> _FileRead:
    batches: list[pa.Table] = []
    summary, quarantined = _read_file(sources, item, forced, batches.append)
    return _FileRead(summary, quarantined, batches)


class _Appender:
    """Gathers event tables and appends them to `events` in large INSERTs, in order."""

    def __init__(self, engine: DuckDBEngine) -> None:
        self.engine = engine
        self.pending: list[pa.Table] = []
        self.rows = 0

    def add(self, table: pa.Table) -> None:
        self.pending.append(table)
        self.rows += table.num_rows
        if self.rows >= APPEND_ROWS or len(self.pending) >= APPEND_TABLES:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.engine.append("events", pa.concat_tables(self.pending))
        self.pending = []
        self.rows = 0


def _bound_memory(engine: DuckDBEngine) -> None:
    """Cap DuckDB's memory; what does not fit goes to a temporary directory."""
    spill = tempfile.mkdtemp(prefix="borderwatch-duckdb-")
    atexit.register(shutil.rmtree, spill, ignore_errors=True)
    engine.execute(f"SET temp_directory = '{spill}'")
    engine.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")


# ---------------------------------------------------------------- parallel reading


def _worker_count(
    workers: int | None, sources: Kind[Source], files: list[InputFile], forced: str | None
) -> int:
    if workers is None:
        workers = _cpus()
        if len(files) < 2 or total_bytes(files) < PARALLEL_MIN_BYTES:
            return 1
    workers = min(workers, len(files))
    if workers <= 1 or not _all_builtin(sources) or any(f.display == "<stdin>" for f in files):
        return 1
    return workers


def _cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def total_bytes(files: Sequence[InputFile]) -> int:
    """Bytes on disk of all inputs (unreadable ones count as 0)."""
    total = 0
    for item in files:
        with contextlib.suppress(OSError):
            total += item.path.stat().st_size
    return total


def _all_builtin(sources: Kind[Source]) -> bool:
    """True when a worker re-creating the built-in sources gets exactly these."""
    return _signature(sources) == _signature(_builtin_sources())


def _signature(sources: Kind[Source]) -> list[tuple[str, type]]:
    return [(name, type(source)) for name, source in sources.items.items()]


_BUILTIN: Kind[Source] | None = None


def _builtin_sources() -> Kind[Source]:
    global _BUILTIN
    if _BUILTIN is None:
        from borderwatch.registry import load_plugins

        _BUILTIN = load_plugins().sources
    return _BUILTIN


def _read_parallel(files: list[InputFile], forced: str | None, workers: int) -> Iterator[_FileRead]:
    """Each file read by a worker process; results come back in input order."""
    spool_dir = tempfile.mkdtemp(prefix="borderwatch-spool-")
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init)
    pending: deque[Future[_FileRead]] = deque()
    try:
        queue = iter(enumerate(files))
        for index, item in queue:
            pending.append(pool.submit(_worker_read, item, forced, spool_dir, index))
            if len(pending) >= workers * _AHEAD_PER_WORKER:
                break
        while pending:
            result = pending.popleft().result()
            following = next(queue, None)
            if following is not None:
                index, item = following
                pending.append(pool.submit(_worker_read, item, forced, spool_dir, index))
            yield result
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(spool_dir, ignore_errors=True)


def _worker_init() -> None:
    import gc

    # Workers allocate many short-lived, acyclic objects per batch: collect rarely, and
    # never re-scan the modules imported at start-up.
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def _worker_read(item: InputFile, forced: str | None, spool_dir: str, index: int) -> _FileRead:
    spool = os.path.join(spool_dir, f"{index:08d}.arrows")
    writer: pa.ipc.RecordBatchStreamWriter | None = None

    def sink(table: pa.Table) -> None:
        nonlocal writer
        if writer is None:
            writer = pa.ipc.new_stream(spool, EVENT_SCHEMA)
        writer.write_table(table)

    try:
        summary, quarantined = _read_file(_builtin_sources(), item, forced, sink)
    finally:
        if writer is not None:
            writer.close()
    return _FileRead(summary, quarantined, spool=spool if writer is not None else None)
