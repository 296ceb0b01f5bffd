"""Read event inputs in a pool of worker processes, a run of consecutive files per task.

Each worker digests what it reads (ingest/reading.py) and hands back the digest with
each file's accounting and quarantine; results come back per file, in input order, so
the result is the same as a serial read. A worker hands large merged digests over
through spill files (Arrow IPC streams in a temporary folder of the scan's own) that the
main process reads back a batch at a time and deletes.

Everything a worker needs for the whole scan (the protected keys, the spill folder, the
options) reaches it once, through the pool's initializer.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from borderwatch.ingest.digest import ProtectedKeys
from borderwatch.ingest.expansion import InputFile
from borderwatch.ingest.reading import Digester, FileRead, input_size, read_files, total_bytes
from borderwatch.registry import Kind
from borderwatch.runtime.leftovers import end_with_parent, make_temp_dir
from borderwatch.runtime.options import ScanOptions
from borderwatch.sources.base import Source
from borderwatch.sources.streams import read_within


def worker_count(
    options: ScanOptions, sources: Kind[Source], files: list[InputFile], forced: str | None
) -> int:
    """How many processes read `files`: 1 (serially, here) for small inputs, standard
    input and sources that are not built in (a worker could not re-create them by name);
    else `options.workers`, or one per CPU."""
    workers = options.workers
    if workers is None:
        workers = _cpus()
        small = (
            total_bytes(files) < options.parallel_min_bytes
            and len(files) < options.parallel_min_files
        )
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


def tasks_of(files: Sequence[InputFile], options: ScanOptions) -> list[list[InputFile]]:
    """Consecutive files grouped into worker tasks of about `options.task_bytes` bytes or
    `options.task_files` files."""
    tasks: list[list[InputFile]] = []
    current: list[InputFile] = []
    size = 0
    for item in files:
        item_size = input_size(item)
        if current and (
            size + item_size > options.task_bytes or len(current) >= options.task_files
        ):
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


# The built-in sources, made once per process (the main one and each worker).
_BUILTIN: Kind[Source] | None = None


def _builtin_sources() -> Kind[Source]:
    global _BUILTIN
    if _BUILTIN is None:
        from borderwatch.registry import load_plugins

        _BUILTIN = load_plugins().sources
    return _BUILTIN


@dataclass(frozen=True)
class WorkerSetup:
    """What every task of one scan shares, given to each worker once, at its start."""

    keys: ProtectedKeys
    spill_dir: str
    exact: bool
    options: ScanOptions


# The setup of the scan this worker process serves: set by its initializer, once (a
# pool's initializer has nowhere else to leave it for the tasks).
_SETUP: WorkerSetup | None = None


def read_parallel(
    files: list[InputFile],
    forced: str | None,
    workers: int,
    keys: ProtectedKeys,
    exact: bool,
    options: ScanOptions,
) -> Iterator[FileRead]:
    """Tasks of files read by worker processes; results come back per file, in order."""
    context = multiprocessing.get_context("fork")
    spill_dir = make_temp_dir("digests")
    pool = ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=_worker_init,
        initargs=(WorkerSetup(keys, spill_dir, exact, options), os.getpid()),
    )
    pending: deque[Future[list[FileRead]]] = deque()
    try:
        queue = iter(tasks_of(files, options))
        for task in queue:
            pending.append(pool.submit(_worker_read, task, forced))
            if len(pending) >= workers * options.tasks_ahead_per_worker:
                break
        while pending:
            results = pending.popleft().result()
            following = next(queue, None)
            if following is not None:
                pending.append(pool.submit(_worker_read, following, forced))
            for result in results:
                unpack(result)
            yield from results
    finally:
        for future in pending:
            future.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(spill_dir, ignore_errors=True)


def _worker_init(setup: WorkerSetup, parent: int) -> None:
    import gc
    import signal

    end_with_parent(parent)
    # Ctrl-C reaches the whole process group: the main process stops the pool and says
    # so once; workers printing tracebacks of their own would bury that line. SIGTERM
    # ends a worker as usual (not through the handler the main process set).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    global _SETUP
    _SETUP = setup
    read_within(setup.options.read_limits)
    # Workers allocate many short-lived, acyclic objects per batch: collect rarely, and
    # never re-scan the modules imported at start-up.
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


def _worker_read(task: list[InputFile], forced: str | None) -> list[FileRead]:
    setup = _SETUP
    assert setup is not None, "worker started without its setup"
    with Spill(setup.spill_dir) as spill, Spill(setup.spill_dir) as spill_samples:
        results = digest_task(
            _builtin_sources(),
            task,
            forced,
            setup.keys,
            setup.exact,
            setup.options,
            spill=spill.write,
            spill_samples=spill_samples.write,
        )
    last = results[-1]
    last.spilled, last.spilled_samples = spill.path, spill_samples.path
    # Packed for the way back to the main process (`unpack` undoes it there).
    last.packed = (pack_tables(last.digests), pack_tables(last.samples), pack_tables(last.coverage))
    last.digests, last.samples, last.coverage = [], [], []
    return results


def digest_task(
    sources: Kind[Source],
    task: Sequence[InputFile],
    forced: str | None,
    keys: ProtectedKeys,
    exact: bool,
    options: ScanOptions,
    *,
    spill: Callable[[pa.Table], None],
    spill_samples: Callable[[pa.Table], None],
) -> list[FileRead]:
    """One task's files read and digested away from the main process (a worker process,
    a Spark task): one FileRead per file, in order; the task's digests, samples and
    coverage are on its last file, and the digests handed over while reading went to
    `spill` and `spill_samples`."""
    # Every core already runs a task: Arrow's own threads would only contend.
    digester = Digester(
        keys,
        options,
        threads=False,
        hand_over_rows=options.worker_hand_over_rows,
        spill=spill,
        exact=exact,
        spill_samples=spill_samples,
    )
    results = [
        FileRead(summary, quarantined)
        for summary, quarantined in read_files(sources, task, forced, digester.add)
    ]
    last = results[-1]
    last.digests = digester.finish()
    last.samples = digester.take_samples()
    last.coverage = digester.take_coverage()
    return results


def unpack(result: FileRead) -> None:
    """The digests, samples and coverage a worker packed (`_worker_read`) made tables
    again, in place, as the main process takes them."""
    if result.packed is not None:
        digests, samples, coverage = result.packed
        result.digests, result.samples = unpack_tables(digests), unpack_tables(samples)
        result.coverage = unpack_tables(coverage)
        result.packed = None


class Spill:
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

    def __enter__(self) -> Spill:
        return self

    def __exit__(self, *_: object) -> None:
        if self._writer is not None:
            self._writer.close()


def handed_over(result: FileRead) -> Iterator[pa.Table]:
    """The digests one read handed over: those it carries, then its spill file's."""
    yield from result.digests
    if result.spilled:
        yield from read_spill(result.spilled)


def samples_handed_over(result: FileRead) -> Iterator[pa.Table]:
    """The sampled event ids one read handed over: those it carries, then its spill
    file's."""
    yield from result.samples
    if result.spilled_samples:
        yield from read_spill(result.spilled_samples)


def read_spill(path: str) -> Iterator[pa.Table]:
    """The digests of a spill file, a batch at a time; the file is deleted afterwards."""
    try:
        with pa.OSFile(path) as source:
            for batch in pa.ipc.open_stream(source):
                yield pa.Table.from_batches([batch])
    finally:
        Path(path).unlink(missing_ok=True)


def pack_tables(tables: list[pa.Table]) -> list[bytes]:
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


def unpack_tables(items: list[bytes]) -> list[pa.Table]:
    """pack_tables() undone (tables are read without copying the received bytes)."""
    return [pa.ipc.open_stream(pa.py_buffer(item)).read_all() for item in items]
