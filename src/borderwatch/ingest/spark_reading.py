"""Read event inputs inside Spark tasks (`scan --engine spark`), with the workers' code.

The expanded files are split into tasks exactly as for worker processes
(`workers.tasks_of`); the tasks become a DataFrame, and `mapInArrow` runs the same
reading and digesting (`workers.read_task`: the sources, `reading.read_files`, the
`Digester`, the protected keys) on the executors. Each task sends back rows: one per
file (its summary and quarantine) and one per packed table (its digests, sampled ids and
coverage, as Arrow IPC streams). The results are computed on the cluster in parallel and
kept there (`localCheckpoint`); the driver then takes them a partition at a time
(`toLocalIterator`), in input order, as the same `FileRead`s a worker pool gives, so
ingest/events.py merges them with the same code.

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

from borderwatch.ingest.digest import ProtectedKeys
from borderwatch.ingest.expansion import InputFile
from borderwatch.ingest.reading import FileRead
from borderwatch.ingest.workers import pack_tables, read_task, tasks_of, unpack
from borderwatch.registry import Kind
from borderwatch.runtime.options import ScanOptions
from borderwatch.sources.base import Source
from borderwatch.sources.streams import reading_within

# What a task sends back, one row per piece, in order within the task.
ROW_SCHEMA = pa.schema(
    [
        ("task", pa.int64()),
        ("kind", pa.string()),
        ("payload", pa.binary()),
    ]
)
_SPARK_SCHEMA = "task long, kind string, payload binary"
# kind: one file's (summary, quarantine) | the task's packed digests, samples, coverage |
# a digest or sample table handed over while reading | the exception the task raised.
_READ, _PACKED, _SPILLED, _SPILLED_SAMPLES, _FAILED = (
    "read",
    "packed",
    "spilled",
    "spilled-samples",
    "failed",
)
# Partitions per executor core: tasks of unequal sizes even out; the driver takes the
# results a partition (one small job) at a time.
_PARTITIONS_PER_CORE = 4


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


def read_on_spark(
    session: Any,
    sources: Kind[Source],
    files: list[InputFile],
    forced: str | None,
    keys: ProtectedKeys,
    exact: bool,
    options: ScanOptions,
) -> Iterator[FileRead]:
    """Every file read inside Spark tasks of `session`; results come back per file, in
    input order, like `workers.read_parallel`'s."""
    from pyspark import cloudpickle

    tasks = tasks_of(files, options)
    context = session.sparkContext
    # Pickled here by cloudpickle (a broadcast pickles with pickle, which cannot send a
    # class by value) and loaded by each task inside its guard, so a plug-in source an
    # executor cannot import fails its task with that error, reported as a task's.
    setup = context.broadcast(cloudpickle.dumps(TaskSetup(sources, forced, keys, exact, options)))
    partitions = min(len(tasks), max(1, context.defaultParallelism * _PARTITIONS_PER_CORE))
    rows = [(number, pickle.dumps(task)) for number, task in enumerate(tasks)]
    listed = session.createDataFrame(
        context.parallelize(rows, partitions), "task long, files binary"
    )

    def read_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            numbers = batch.column("task").to_pylist()
            blobs = batch.column("files").to_pylist()
            for number, blob in zip(numbers, blobs, strict=True):
                yield from task_rows(number, blob, setup.value)

    results = listed.mapInArrow(read_partition, _SPARK_SCHEMA).localCheckpoint(eager=True)
    try:
        pieces = ((row.task, row.kind, bytes(row.payload)) for row in results.toLocalIterator())
        for _, task in itertools.groupby(pieces, key=lambda piece: piece[0]):
            yield from task_results([(kind, payload) for _, kind, payload in task])
    finally:
        results.unpersist()
        setup.unpersist()


def task_rows(number: int, blob: bytes, shared: bytes) -> Iterator[pa.RecordBatch]:
    """One task read on an executor: its rows (see ROW_SCHEMA), a batch per row so no
    batch grows with the task's digest. `blob` and `shared` are the driver's own
    pickles: the task's files and the scan's TaskSetup."""
    task: list[InputFile] = pickle.loads(blob)
    spilled: list[pa.Table] = []
    spilled_samples: list[pa.Table] = []
    try:
        setup: TaskSetup = pickle.loads(shared)
        with reading_within(setup.options.read_limits):
            results = read_task(
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
    for result in results:
        packed, result.packed = result.packed, None
        yield _row(number, _READ, pickle.dumps((result.summary, result.quarantined)))
        if packed is not None:
            yield _row(number, _PACKED, pickle.dumps(packed))
    for kind, tables in ((_SPILLED, spilled), (_SPILLED_SAMPLES, spilled_samples)):
        for packed_table in pack_tables(tables):
            yield _row(number, kind, packed_table)


def task_results(rows: Sequence[tuple[str, bytes]]) -> list[FileRead]:
    """The FileReads of one task from its rows, as a worker's would arrive (the packed
    tables with the last file, unpacked); raises the exception of a failed task."""
    results: list[FileRead] = []
    spilled: list[bytes] = []
    spilled_samples: list[bytes] = []
    for kind, payload in rows:
        if kind == _FAILED:
            raise _raised(payload)
        if kind == _READ:
            summary, quarantined = pickle.loads(payload)
            results.append(FileRead(summary, quarantined))
        elif kind == _PACKED:
            results[-1].packed = pickle.loads(payload)
        elif kind == _SPILLED:
            spilled.append(payload)
        elif kind == _SPILLED_SAMPLES:
            spilled_samples.append(payload)
    last = results[-1]
    unpack(last)
    # As a worker's spill files are read after the digests it carries (workers.handed_over).
    last.digests.extend(_tables(spilled))
    last.samples.extend(_tables(spilled_samples))
    return results


def _tables(items: list[bytes]) -> list[pa.Table]:
    return [pa.ipc.open_stream(pa.py_buffer(item)).read_all() for item in items]


def _row(number: int, kind: str, payload: bytes) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [pa.array([number], pa.int64()), pa.array([kind]), pa.array([payload], pa.binary())],
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
