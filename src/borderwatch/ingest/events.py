"""Read every event input through its source into the engine, accounting for each record.

What reaches the engine is the access digest (`ingest.digest`): successful accesses to
protected stores, aggregated where every signal is equal. Large inputs are read by a
pool of worker processes, a run of consecutive files per task; each worker digests what
it reads and hands back the digest with each file's accounting and quarantine, in input
order, so the result is the same as a serial read. Small inputs, and sources that are
not built in (a worker could not re-create them by name), are read serially here.
"""

from __future__ import annotations

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

from borderwatch.ingest.coverage import COVERAGE_SCHEMA, coverage_rows, merge_coverage
from borderwatch.ingest.coverage import EVENT_COLUMNS as COVERAGE_COLUMNS
from borderwatch.ingest.coverage import TABLE as COVERAGE_TABLE
from borderwatch.ingest.digest import (
    DIGEST_SCHEMA,
    EVENT_COLUMNS,
    ProtectedKeys,
    access_rows,
    aggregate,
)
from borderwatch.ingest.expansion import InputFile, SkippedInput, expand_inputs
from borderwatch.ingest.repeats import SAMPLE_SCHEMA, sample_of
from borderwatch.ingest.repeats import TABLE as SAMPLE_TABLE
from borderwatch.model.events import EVENT_SCHEMA, QuarantinedRecord
from borderwatch.model.scan import InputSummary
from borderwatch.registry import Kind
from borderwatch.runtime.leftovers import end_with_parent, make_temp_dir
from borderwatch.sources.base import ReadsMany, Source, SourceBatch
from borderwatch.sources.inputs import head_bytes

if TYPE_CHECKING:
    from borderwatch.runtime.tablestore import TableStore

# progress(files_done, files_total, events_so_far, current_display_name)
ProgressCallback = Callable[[int, int, int, str], None]

# Inputs smaller than this (bytes on disk) and fewer files than this are read serially:
# starting workers costs more than it saves.
PARALLEL_MIN_BYTES = 16 << 20
PARALLEL_MIN_FILES = 256
# Digest rows gathered before they are merged (in a worker) or appended (here): merging
# and DuckDB both pay a fixed cost per call.
APPEND_ROWS = 262_144
# Events gathered before they are digested (many delivered files hold a few hundred).
DIGEST_EVENTS = 65_536
# From this input size (bytes on disk) on, DuckDB works within MEMORY_LIMIT and spills
# the rest to a temporary directory, so peak memory stops growing with the input.
BOUNDED_MIN_BYTES = 64 << 20
MEMORY_LIMIT = "512MB"
# One worker task: consecutive files up to this many bytes on disk or this many files
# (many small delivered files share a task; a large file is a task of its own).
TASK_BYTES = 4 << 20
TASK_FILES = 64
# Tasks in flight per worker: bounds the digests waiting for the main process.
_AHEAD_PER_WORKER = 3
# A worker hands over a merged digest of this many rows or more, written to a spill file
# the main process reads back a batch at a time: a task that is one large file (JSON
# lines) then holds no more digest in memory than a small one, however many groups the
# file's events make. Handing over smaller digests means less merging in the workers.
WORKER_HAND_OVER = 32_768

TABLE = "access_parts"
# The event columns a digester keeps until it digests them (access digest and coverage).
_KEPT_COLUMNS = tuple(dict.fromkeys((*EVENT_COLUMNS, *COVERAGE_COLUMNS)))


@dataclass
class EventLoad:
    """What loading the event inputs produced, besides the `access_parts` table."""

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
    engine: TableStore,
    sources: Kind[Source],
    paths: Sequence[str | Path],
    *,
    keys: ProtectedKeys,
    forced_format: str | None = None,
    progress: ProgressCallback | None = None,
    workers: int | None = None,
    files: Sequence[InputFile] | None = None,
    append: bool = False,
    exact: bool = False,
    reached: Callable[[str], None] | None = None,
) -> EventLoad:
    """Create table `access_parts` and fill it from every input; never stop on a bad file.

    Table `event_id_sample` (ingest/repeats.py) gets the sampled event ids, to find
    events read more than once; table `coverage_parts` (ingest/coverage.py) the event
    counts per source, place and day.

    `keys`: the names of protected stores, which decide what is an access. `workers`:
    processes to read with; None decides from the input size and the CPUs, 1 reads
    serially. `files` (already expanded inputs) replaces `paths`; with `append` the
    existing table is kept and added to (incremental scans). With `exact`, nothing is
    merged: `access_parts` gets one row per access (its event id in `min_event_id`) and
    the sample every event id, so repeated events can be counted once (ingest/repeats.py).
    `reached` is told the steps of runtime/steps.py (tests stop the scan there).
    """
    if files is None:
        files = expand_inputs(list(paths)) if paths else []
    files = list(files)
    if total_bytes(files) >= BOUNDED_MIN_BYTES:
        engine.bound_memory(MEMORY_LIMIT)
    if not append:
        engine.create_table(TABLE, DIGEST_SCHEMA.empty_table())
        engine.create_table(SAMPLE_TABLE, SAMPLE_SCHEMA.empty_table())
        engine.create_table(COVERAGE_TABLE, COVERAGE_SCHEMA.empty_table())
    load = EventLoad()
    appender = _Appender(engine, TABLE)
    sampler = _Appender(engine, SAMPLE_TABLE)
    counter = _Appender(engine, COVERAGE_TABLE)
    count = _worker_count(workers, sources, files, forced_format)
    results = (
        _read_parallel(files, forced_format, count, keys, exact)
        if count > 1
        else _read_serial(sources, files, forced_format, keys, exact)
    )
    announced = False  # whether `reached` was told that digests went in
    for done, (item, result) in enumerate(zip(files, results, strict=True)):
        if progress:
            progress(done, len(files), load.events_total, item.display)
        for table in result.digests:
            appender.add(table)
        if result.spilled:
            for table in _read_spill(result.spilled):
                appender.add(table)
        if reached is not None and not announced and (result.digests or result.spilled):
            appender.flush()
            announced = True
            reached("digests-appended")
        for table in result.samples:
            sampler.add(table)
        if result.spilled_samples:
            for table in _read_spill(result.spilled_samples):
                sampler.add(table)
        for table in result.coverage:
            counter.add(table)
        load.quarantined.extend(result.quarantined)
        load.inputs.append(result.summary)
        load.events_total += result.summary.accepted
    appender.flush()
    sampler.flush()
    counter.flush()
    if progress:
        progress(len(files), len(files), load.events_total, "")
    return load


@dataclass
class _FileRead:
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


class _Digester:
    """Turns event batches into digest rows, merging them whenever enough have gathered;
    keeps the sample of their event ids (ingest/repeats.py) on the side."""

    def __init__(
        self,
        keys: ProtectedKeys,
        *,
        threads: bool,
        hand_over_rows: int = APPEND_ROWS // 2,
        spill: Callable[[pa.Table], None] | None = None,
        exact: bool = False,
        spill_samples: Callable[[pa.Table], None] | None = None,
    ) -> None:
        """`spill`, if given, takes every merged digest handed over (else kept in `done`).

        `exact`: hand over one row per access, unmerged, and sample every event id;
        `spill_samples`, if given, takes the sampled ids whenever APPEND_ROWS gathered.
        """
        self.spill_samples = spill_samples
        self.sampled = 0
        self.keys = keys
        self.threads = threads
        self.exact = exact
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
            if self.spill_samples is not None and self.sampled >= APPEND_ROWS:
                for table in self.take_samples():
                    self.spill_samples(table)
        self.events.append(events.select(list(_KEPT_COLUMNS)))
        self.event_rows += events.num_rows
        if self.event_rows >= DIGEST_EVENTS:
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
        if self.rows >= APPEND_ROWS:
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


def _read_files(
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


# The reason of an input that holds no log records: skipped with a note, not quarantined.
NOT_READ = "skipped: "


def _unrecognised(item: InputFile, reason: str) -> Read:
    if reason.startswith(NOT_READ):
        return InputSummary(item.display, "events", "unrecognised", 0, 0, 0, reason), []
    quarantined = [QuarantinedRecord(item.display, "whole file", reason)]
    return InputSummary(item.display, "events", "unrecognised", 1, 0, 1, reason), quarantined


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


def _read_serial(
    sources: Kind[Source],
    files: list[InputFile],
    forced: str | None,
    keys: ProtectedKeys,
    exact: bool,
) -> Iterator[_FileRead]:
    """Every file read here, in order; one digester for all (many files are tiny)."""
    digester = _Digester(keys, threads=True, exact=exact)
    reads = _read_files(sources, files, forced, digester.add)
    for number, (summary, quarantined) in enumerate(reads, 1):
        last = number == len(files)
        done = digester.finish() if last else digester.take_done()
        coverage = digester.take_coverage() if last else []
        yield _FileRead(summary, quarantined, done, digester.take_samples(), coverage=coverage)


class _Appender:
    """Gathers tables (digests, samples) and appends them to table `name` in large INSERTs.

    Digests are not merged here: that would compete with the workers for the cores, and
    DuckDB merges them in one parallel GROUP BY once reading is done (evaluate/views.py).
    """

    def __init__(self, engine: TableStore, name: str) -> None:
        self.engine = engine
        self.name = name
        self.pending: list[pa.Table] = []
        self.rows = 0

    def add(self, table: pa.Table) -> None:
        self.pending.append(table)
        self.rows += table.num_rows
        if self.rows >= APPEND_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.engine.append(self.name, pa.concat_tables(self.pending))
        self.pending = []
        self.rows = 0


# ---------------------------------------------------------------- parallel reading


def _worker_count(
    workers: int | None, sources: Kind[Source], files: list[InputFile], forced: str | None
) -> int:
    if workers is None:
        workers = _cpus()
        small = total_bytes(files) < PARALLEL_MIN_BYTES and len(files) < PARALLEL_MIN_FILES
        if len(files) < 2 or small:
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


def _size(item: InputFile) -> int:
    try:
        return item.path.stat().st_size
    except OSError:
        return 0


def total_bytes(files: Sequence[InputFile]) -> int:
    """Bytes on disk of all inputs (unreadable ones count as 0)."""
    return sum(_size(item) for item in files)


def tasks_of(files: Sequence[InputFile]) -> list[list[InputFile]]:
    """Consecutive files grouped into worker tasks of about TASK_BYTES or TASK_FILES."""
    tasks: list[list[InputFile]] = []
    current: list[InputFile] = []
    size = 0
    for item in files:
        item_size = _size(item)
        if current and (size + item_size > TASK_BYTES or len(current) >= TASK_FILES):
            tasks.append(current)
            current, size = [], 0
        current.append(item)
        size += item_size
    if current:
        tasks.append(current)
    return tasks


def _all_builtin(sources: Kind[Source]) -> bool:
    """True when a worker re-creating the built-in sources gets exactly these."""
    return _signature(sources) == _signature(_builtin_sources())


def _signature(sources: Kind[Source]) -> list[tuple[str, type]]:
    return [(name, type(source)) for name, source in sources.items.items()]


_BUILTIN: Kind[Source] | None = None
# The protected keys of the scan a worker process serves (set once, at its start).
_WORKER_KEYS: ProtectedKeys | None = None
_SPILL_DIR: str | None = None
_EXACT = False


def _builtin_sources() -> Kind[Source]:
    global _BUILTIN
    if _BUILTIN is None:
        from borderwatch.registry import load_plugins

        _BUILTIN = load_plugins().sources
    return _BUILTIN


def _read_parallel(
    files: list[InputFile], forced: str | None, workers: int, keys: ProtectedKeys, exact: bool
) -> Iterator[_FileRead]:
    """Tasks of files read by worker processes; results come back per file, in order."""
    context = multiprocessing.get_context("fork")
    spill_dir = make_temp_dir("digests")
    pool = ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_worker_init,
        initargs=(keys, spill_dir, exact, os.getpid()),
    )
    pending: deque[Future[list[_FileRead]]] = deque()
    try:
        queue = iter(tasks_of(files))
        for task in queue:
            pending.append(pool.submit(_worker_read, task, forced))
            if len(pending) >= workers * _AHEAD_PER_WORKER:
                break
        while pending:
            results = pending.popleft().result()
            following = next(queue, None)
            if following is not None:
                pending.append(pool.submit(_worker_read, following, forced))
            for result in results:
                if result.packed is not None:
                    digests, samples, coverage = result.packed
                    result.digests, result.samples = _unpacked(digests), _unpacked(samples)
                    result.coverage = _unpacked(coverage)
                    result.packed = None
            yield from results
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(spill_dir, ignore_errors=True)


def _worker_init(keys: ProtectedKeys, spill_dir: str, exact: bool, parent: int) -> None:
    import gc
    import signal

    end_with_parent(parent)
    # Ctrl-C reaches the whole process group: the main process stops the pool and says
    # so once; workers printing tracebacks of their own would bury that line. SIGTERM
    # ends a worker as usual (not through the handler the main process set).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    global _WORKER_KEYS, _SPILL_DIR, _EXACT
    _WORKER_KEYS = keys
    _SPILL_DIR = spill_dir
    _EXACT = exact
    # Workers allocate many short-lived, acyclic objects per batch: collect rarely, and
    # never re-scan the modules imported at start-up.
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def _worker_read(task: list[InputFile], forced: str | None) -> list[_FileRead]:
    assert _WORKER_KEYS is not None, "worker started without protected keys"
    # Both cores already run a worker each: Arrow's own threads would only contend.
    with _Spill(_SPILL_DIR) as spill, _Spill(_SPILL_DIR) as spill_samples:
        digester = _Digester(
            _WORKER_KEYS,
            threads=False,
            hand_over_rows=WORKER_HAND_OVER,
            spill=spill.write,
            exact=_EXACT,
            spill_samples=spill_samples.write,
        )
        results = [
            _FileRead(summary, quarantined)
            for summary, quarantined in _read_files(_builtin_sources(), task, forced, digester.add)
        ]
        digests = _packed(digester.finish())
        results[-1].packed = (
            digests,
            _packed(digester.take_samples()),
            _packed(digester.take_coverage()),
        )
    results[-1].spilled = spill.path
    results[-1].spilled_samples = spill_samples.path
    return results


class _Spill:
    """Digests a worker hands over while reading, appended to one Arrow IPC stream file
    (created on the first write, in `folder`)."""

    def __init__(self, folder: str | None) -> None:
        self.folder = folder
        self.path: str | None = None
        self._writer: pa.ipc.RecordBatchStreamWriter | None = None

    def write(self, table: pa.Table) -> None:
        if self._writer is None:
            handle, self.path = tempfile.mkstemp(suffix=".arrows", dir=self.folder)
            os.close(handle)
            self._writer = pa.ipc.new_stream(self.path, table.schema)
        self._writer.write_table(table)

    def __enter__(self) -> _Spill:
        return self

    def __exit__(self, *_: object) -> None:
        if self._writer is not None:
            self._writer.close()


def _read_spill(path: str) -> Iterator[pa.Table]:
    """The digests of a spill file, a batch at a time; the file is deleted afterwards."""
    try:
        with pa.OSFile(path) as source:
            for batch in pa.ipc.open_stream(source):
                yield pa.Table.from_batches([batch])
    finally:
        Path(path).unlink(missing_ok=True)


def _packed(tables: list[pa.Table]) -> list[bytes]:
    """Tables as Arrow IPC streams, to send to the main process.

    Pickling an Arrow column that is made of slices (as merged digests are) writes every
    slice's whole parent buffer: four times the digest's size on the demo traffic. An IPC
    stream holds just the values.
    """
    packed = []
    for table in tables:
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        packed.append(sink.getvalue().to_pybytes())
    return packed


def _unpacked(items: list[bytes]) -> list[pa.Table]:
    """_packed() undone (tables are read without copying the received bytes)."""
    return [pa.ipc.open_stream(pa.py_buffer(item)).read_all() for item in items]
