"""Read event inputs inside Spark tasks (`scan --engine spark`), with the workers' code.

The expanded files are split into tasks exactly as for worker processes
(`workers.tasks_of`); the tasks become a DataFrame, and `mapInArrow` runs the same
reading and digesting (`workers.digest_task`: the sources, `reading.read_files`, the
`Digester`, the protected keys) on the executors. Each task sends back rows of two
sorts: one per file (its summary and quarantine, pickled) and the task's coverage
counts, which are few and go to the driver; and its digest rows and sampled event ids,
as columns, which stay on the cluster. The results are computed once, in parallel, and
kept on the executors' disks (`persist(DISK_ONLY)`), so neither the driver nor the heap
ever holds them all.

The driver then takes the per-file rows a partition at a time (`toLocalIterator`), in
input order, as the same `FileRead`s a worker pool gives, and ingest/events.py accounts
for them with the same loop; the digests and samples reach the engine as DataFrames
(`SparkRead.hand_over`): a Spark engine adopts them where they are, and merges them in
its own SQL as DuckDB merges the workers' digests; any other engine is given them as
Arrow.

A task whose reading raises (a reader's bug) sends the exception back instead of its
results; the driver raises it once it reaches that task, after the files before it, as
the worker pool does. The scan stops with it: nothing is lost silently.

pyspark is imported only here, and only when a Spark read runs: the core install works
without it.
"""

from __future__ import annotations

import itertools
import pickle
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from borderwatch.ingest.digest import DIGEST_SCHEMA, ProtectedKeys
from borderwatch.ingest.expansion import InputFile
from borderwatch.ingest.reading import FileRead, total_bytes
from borderwatch.ingest.repeats import SAMPLE_SCHEMA
from borderwatch.ingest.workers import digest_task, pack_tables, tasks_of, unpack_tables
from borderwatch.registry import Kind
from borderwatch.runtime.options import ScanOptions
from borderwatch.runtime.tablestore import FrameStore, TableStore
from borderwatch.sources.base import Source
from borderwatch.sources.streams import reading_within

# kind: one file's (summary, quarantine) | the task's coverage counts | the exception the
# task raised: these go to the driver, pickled or packed in `payload`. A digest row | a
# sampled event id: these stay on the cluster, in `digest` or `sample`.
_READ, _COVERAGE, _FAILED, _DIGEST, _SAMPLE = "read", "coverage", "failed", "digest", "sample"
_TO_DRIVER = (_READ, _COVERAGE, _FAILED)
_DIGEST_TYPE = pa.struct(list(DIGEST_SCHEMA))
_SAMPLE_TYPE = pa.struct(list(SAMPLE_SCHEMA))
# What a task sends back, in order within the task.
ROW_SCHEMA = pa.schema(
    [
        ("task", pa.int64()),
        ("kind", pa.string()),
        ("payload", pa.binary()),
        ("digest", _DIGEST_TYPE),
        ("sample", _SAMPLE_TYPE),
    ]
)
# Partitions per executor core the per-file rows are gathered into: the driver takes
# them a partition (one small job) at a time.
_PARTITIONS_PER_CORE = 4
# Rows per Arrow batch a task hands Spark: a batch is converted whole on the JVM side.
_BATCH_ROWS = 65_536


class ReadTaskFailed(RuntimeError):
    """A Spark task's reading raised an exception that could not be sent back as it is;
    its message holds the task's files and the executor's traceback."""


@dataclass(frozen=True)
class TaskSetup:
    """What every task of one scan shares, sent to the executors once (a broadcast)."""

    sources: Kind[Source]
    forced: str | None
    keys: ProtectedKeys
    exact: bool
    options: ScanOptions


def can_read_on_spark(sources: Kind[Source], files: Sequence[InputFile]) -> bool:
    """Whether these inputs can be read inside Spark tasks: not standard input (only the
    driver has it), and sources that can be sent to the executors (pickled; a plug-in
    source must also be importable there, docs/spark.md)."""
    if not files or any(item.display == "<stdin>" for item in files):
        return False
    from pyspark import cloudpickle

    try:
        cloudpickle.dumps(sources)
    except Exception:  # a source holding something that cannot travel: read here
        return False
    return True


class SparkRead:
    """One read of the inputs by Spark tasks, kept on the executors until `close`.

    `files()` gives the per-file results in input order; `hand_over` gives the digests
    and sampled ids to an engine. Close it once both are done (`with` does)."""

    def __init__(self, results: Any, setup: Any, tasks: int, gathered: int) -> None:
        self._results = results
        self._setup = setup
        self._tasks = tasks
        self._gathered = gathered

    def files(self) -> Iterator[FileRead]:
        """Every file's FileRead, in input order (summary, quarantine; the task's
        coverage on its last file); raises a failed task's exception where it stands."""
        from pyspark.sql import functions

        kinds = functions.col("kind").isin(*_TO_DRIVER)
        small = self._results.where(kinds).select("task", "kind", "payload")
        # The per-file rows are few: a few partitions, each one small job to take.
        rows = small.coalesce(self._gathered).toLocalIterator()
        pieces = ((row.task, row.kind, bytes(row.payload)) for row in rows)
        tasks = ((number, list(task)) for number, task in itertools.groupby(pieces, _task_of))
        for task in in_task_order(tasks, self._tasks):
            yield from task_results([(kind, payload) for _, kind, payload in task])

    def hand_over(self, engine: TableStore, digests: str, samples: str) -> None:
        """Append the digest rows to table `digests` and the sampled ids to `samples`:
        as DataFrames to an engine on this Spark session (a `FrameStore`), else as
        Arrow."""
        tables = ((digests, _DIGEST, DIGEST_SCHEMA), (samples, _SAMPLE, SAMPLE_SCHEMA))
        for name, kind, schema in tables:
            frame = self._results.where(self._results.kind == kind).select(f"{kind}.*")
            if isinstance(engine, FrameStore):
                engine.append_frame(name, frame)
            else:
                engine.append(name, frame.toArrow().cast(schema))

    def close(self) -> None:
        """Release what the read keeps on the executors."""
        self._results.unpersist()
        self._setup.unpersist()

    def __enter__(self) -> SparkRead:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def read_on_spark(
    session: Any,
    sources: Kind[Source],
    files: list[InputFile],
    forced: str | None,
    keys: ProtectedKeys,
    exact: bool,
    options: ScanOptions,
) -> SparkRead:
    """Every file read inside Spark tasks of `session`, the results computed and kept on
    the executors before this returns (see SparkRead)."""
    from pyspark import StorageLevel, cloudpickle
    from pyspark.sql.pandas.types import from_arrow_schema

    tasks = tasks_of(files, options)
    context = session.sparkContext
    # Pickled here by cloudpickle (a broadcast pickles with pickle, which cannot send a
    # class by value) and loaded by each task inside its guard, so a plug-in source an
    # executor cannot import fails its task with that error, reported as a task's.
    setup = context.broadcast(cloudpickle.dumps(TaskSetup(sources, forced, keys, exact, options)))
    # A partition per task, the largest first: the scheduler gives the next one to
    # whichever core is free, as the worker pool does, so no core idles at the end behind
    # a run of large files. The driver puts the results back in input order.
    rows = [(number, pickle.dumps(task)) for number, task in enumerate(tasks)]
    rows.sort(key=lambda row: -total_bytes(tasks[row[0]]))
    listed = session.createDataFrame(
        context.parallelize(rows, len(rows)), "task long, files binary"
    )

    def read_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            numbers = batch.column("task").to_pylist()
            blobs = batch.column("files").to_pylist()
            for number, blob in zip(numbers, blobs, strict=True):
                yield from task_rows(number, blob, setup.value)

    results = listed.mapInArrow(read_partition, from_arrow_schema(ROW_SCHEMA))
    # On disk, not in memory: a year of digests does not fit a heap, and it is read
    # twice (the per-file rows, then the digests) but computed once, here.
    results = results.persist(StorageLevel.DISK_ONLY)
    try:
        results.count()
    except BaseException:
        results.unpersist()
        setup.unpersist()
        raise
    gathered = min(len(tasks), max(1, context.defaultParallelism * _PARTITIONS_PER_CORE))
    return SparkRead(results, setup, len(tasks), gathered)


def in_task_order(
    tasks: Iterator[tuple[int, list[tuple[int, str, bytes]]]], count: int
) -> Iterator[list[tuple[int, str, bytes]]]:
    """The rows of tasks 0 .. count-1 in that order, from tasks that arrive in any
    order: those ahead of their turn wait (the per-file rows are small)."""
    waiting: dict[int, list[tuple[int, str, bytes]]] = {}
    following = 0
    for number, rows in tasks:
        waiting[number] = rows
        while following in waiting:
            yield waiting.pop(following)
            following += 1
    if following != count:  # a task missing: a bug here, never a reason to drop files
        raise RuntimeError(f"Spark read results missing for task {following} of {count}")


def _task_of(piece: tuple[int, str, bytes]) -> int:
    return piece[0]


def task_rows(number: int, blob: bytes, shared: bytes) -> Iterator[pa.RecordBatch]:
    """One task read on an executor: its rows (see ROW_SCHEMA) in batches of at most
    _BATCH_ROWS. `blob` and `shared` are the driver's own pickles: the task's files and
    the scan's TaskSetup."""
    task: list[InputFile] = pickle.loads(blob)
    spilled: list[pa.Table] = []
    spilled_samples: list[pa.Table] = []
    try:
        setup: TaskSetup = pickle.loads(shared)
        with reading_within(setup.options.read_limits):
            results = digest_task(
                setup.sources,
                task,
                setup.forced,
                setup.keys,
                setup.exact,
                setup.options,
                spill=spilled.append,
                spill_samples=spilled_samples.append,
            )
    except Exception as exc:  # a reader's bug: sent back, raised by the driver in order
        yield _row(number, _FAILED, _failure(exc, task))
        return
    last = results[-1]
    for result in results:
        yield _row(number, _READ, pickle.dumps((result.summary, result.quarantined)))
    coverage = pack_tables([pa.concat_tables(last.coverage)]) if last.coverage else [b""]
    yield _row(number, _COVERAGE, coverage[0])
    for table in (*spilled, *last.digests):
        yield from _column_rows(number, _DIGEST, table.cast(DIGEST_SCHEMA))
    for table in (*spilled_samples, *last.samples):
        yield from _column_rows(number, _SAMPLE, table.cast(SAMPLE_SCHEMA))


def task_results(rows: Sequence[tuple[str, bytes]]) -> list[FileRead]:
    """The FileReads of one task from its per-file rows, as a worker's would arrive (the
    coverage with the last file); raises the exception of a failed task."""
    results: list[FileRead] = []
    for kind, payload in rows:
        if kind == _FAILED:
            raise _raised(payload)
        if kind == _READ:
            summary, quarantined = pickle.loads(payload)
            results.append(FileRead(summary, quarantined))
        elif kind == _COVERAGE and payload:
            results[-1].coverage = unpack_tables([payload])
    return results


def _row(number: int, kind: str, payload: bytes) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [
            pa.array([number], pa.int64()),
            pa.array([kind]),
            pa.array([payload], pa.binary()),
            pa.nulls(1, _DIGEST_TYPE),
            pa.nulls(1, _SAMPLE_TYPE),
        ],
        schema=ROW_SCHEMA,
    )


def _column_rows(number: int, kind: str, table: pa.Table) -> Iterator[pa.RecordBatch]:
    """`table`'s rows in the column of `kind` (digest or sample), the other column null."""
    for batch in table.combine_chunks().to_batches(max_chunksize=_BATCH_ROWS):
        rows = batch.num_rows
        values = pa.StructArray.from_arrays(batch.columns, fields=list(batch.schema))
        digest = values if kind == _DIGEST else pa.nulls(rows, _DIGEST_TYPE)
        sample = values if kind == _SAMPLE else pa.nulls(rows, _SAMPLE_TYPE)
        yield pa.RecordBatch.from_arrays(
            [
                pa.repeat(pa.scalar(number, pa.int64()), rows),
                pa.repeat(pa.scalar(kind), rows),
                pa.nulls(rows, pa.binary()),
                digest,
                sample,
            ],
            schema=ROW_SCHEMA,
        )


def _failure(exc: Exception, task: list[InputFile]) -> bytes:
    where = task[0].display if len(task) == 1 else f"{task[0].display} .. {task[-1].display}"
    text = "".join(traceback.format_exception(exc))
    from pyspark import cloudpickle

    try:
        # cloudpickle: an exception class sent to the executor by value goes back so.
        sent = cloudpickle.dumps(exc)
        pickle.loads(sent)  # some exceptions pickle but cannot be rebuilt
    except Exception:
        sent = b""
    return pickle.dumps((sent, f"reading {where} in a Spark task failed:\n{text}"))


def _raised(payload: bytes) -> BaseException:
    sent, text = pickle.loads(payload)
    if not sent:
        return ReadTaskFailed(text)
    exc: BaseException = pickle.loads(sent)
    # As concurrent.futures does for a worker process: the remote traceback as the cause.
    exc.__cause__ = ReadTaskFailed(text)
    return exc
