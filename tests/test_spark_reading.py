"""Reading inside Spark tasks (ingest/spark_reading.py): the same files give the same
accounting, quarantine, digests, samples and coverage as the worker processes and the
serial read, in input order; a scan on Spark of damaged inputs writes the findings.json,
summary.json and quarantine.jsonl DuckDB writes; a reader that raises inside a task stops
the read with its exception, after the files before it, as on one machine; an OCSF
Parquet folder is read by the same source in the tasks.

Real Spark in local mode, on the session tests/test_spark_parity.py starts.
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from borderwatch.cli import main
from borderwatch.evaluate.duckdb_engine import DuckDBEngine
from borderwatch.ingest.coverage import TABLE as COVERAGE_TABLE
from borderwatch.ingest.digest import ProtectedKeys
from borderwatch.ingest.events import TABLE, EventLoad, load_events
from borderwatch.ingest.expansion import InputFile, expand_inputs
from borderwatch.ingest.repeats import TABLE as SAMPLE_TABLE
from borderwatch.ingest.spark_reading import ReadTaskFailed, can_read_on_spark, in_task_order
from borderwatch.registry import Kind, load_plugins
from borderwatch.runtime.options import ScanOptions
from borderwatch.sources.base import SourceBatch
from test_cases import CASES, REAL
from test_source_ocsf import record

pytest.importorskip("pyspark", reason="pyspark is not installed: pip install '.[spark]'")

import test_spark_parity

# The suite's one local[2] session (a session-scoped fixture, shared with the parity tests).
spark = test_spark_parity.spark

SOURCES = load_plugins().sources
CLOUDTRAIL = REAL / "zmallen-cloudtrail2sightings"
# Small tasks, so a handful of files makes several tasks and partitions.
OPTIONS = ScanOptions(workers=2, task_files=2)
KEYS = ProtectedKeys(
    pa.table(
        {
            # The real CloudTrail's buckets, and the golden cases' stores.
            "key": [
                "customer-records",
                "arn:aws:s3:::customer-records",
                "payroll",
                "user-media",
                "arn:aws:s3:::user-media",
                "user-profiles",
            ],
            "store_id": [
                "s3-customers",
                "s3-customers",
                "s3-payroll",
                "user-media",
                "user-media",
                "user-profiles",
            ],
        }
    )
)


def _load(
    files: list[InputFile], session: Any, options: ScanOptions = OPTIONS, exact: bool = False
) -> Any:
    """load_events into a DuckDB engine, read on Spark (`session`) or else on this
    machine (the worker pool with OPTIONS, or serially)."""
    engine = DuckDBEngine()
    load = load_events(
        engine, SOURCES, (), keys=KEYS, files=files, options=options, spark=session, exact=exact
    )
    return engine, load


def _tables(engine: DuckDBEngine) -> dict[str, list[tuple[Any, ...]]]:
    return {
        name: engine.connection.execute(f"SELECT * FROM {name} ORDER BY ALL").fetchall()
        for name in (TABLE, SAMPLE_TABLE, COVERAGE_TABLE)
    }


def _assert_same(spark_read: tuple[Any, EventLoad], here: tuple[Any, EventLoad]) -> None:
    (spark_engine, spark_load), (engine, load) = spark_read, here
    assert spark_load.inputs == load.inputs  # per file, in input order
    assert spark_load.quarantined == load.quarantined
    assert spark_load.events_total == load.events_total
    assert _tables(spark_engine) == _tables(engine)


def _damaged(folder: Path) -> list[InputFile]:
    """Real CloudTrail files beside damaged ones: bad records, a truncated gzip, binary
    junk, an empty file, a record of another shape."""
    folder.mkdir()
    real = sorted(p for p in CLOUDTRAIL.rglob("*") if p.is_file())[:5]
    for number, path in enumerate(real):
        shutil.copyfile(path, folder / f"{number:02}-{path.name}")
    trail = folder / "00-case.jsonl"
    shutil.copyfile(CASES / "access-jurisdiction" / "events" / "trail.jsonl", trail)
    lines = trail.read_text().splitlines()
    bad = [lines[0], "{not json", '{"eventVersion": "1.08", "eventTime": "yesterday"}', *lines[1:]]
    (folder / "10-bad-records.jsonl").write_text("\n".join(bad) + "\n")
    whole = gzip.compress(trail.read_bytes())
    (folder / "11-truncated.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    (folder / "12-junk.bin").write_bytes(bytes(range(256)) * 8)
    (folder / "13-empty.jsonl").write_bytes(b"")
    return expand_inputs([folder])


def test_golden_case_events_read_on_spark_match_the_workers_and_a_serial_read(
    tmp_path: Path, spark: Any
) -> None:
    files = _golden_case_events()
    assert len(files) >= 8 and can_read_on_spark(SOURCES, files)
    on_spark = _load(files, spark)
    _assert_same(on_spark, _load(files, None))
    # The serial read digests all files at once: other rows, the same merged digest.
    serial_engine, serial = _load(files, None, ScanOptions(workers=1))
    assert on_spark[1].inputs == serial.inputs and on_spark[1].quarantined == serial.quarantined
    merged = (
        "SELECT store_id, principal, caller, day, sum(events), min(min_event_id), "
        f"max(max_event_id) FROM {TABLE} GROUP BY ALL ORDER BY ALL"
    )
    assert on_spark[0].connection.execute(merged).fetchall() == (
        serial_engine.connection.execute(merged).fetchall()
    )
    assert on_spark[1].events_total > 0


@pytest.mark.parametrize("exact", [False, True], ids=["merged", "exact"])
def test_a_spark_engine_keeps_the_digests_on_the_cluster_with_the_same_rows(
    spark: Any, exact: bool
) -> None:
    """On a Spark engine the digest rows and sampled ids go from the tasks to its tables
    as DataFrames (never through the driver); they hold what a DuckDB engine gets."""
    from borderwatch.evaluate.spark_engine import SparkEngine

    files = _golden_case_events()
    engine = SparkEngine(session=spark)
    try:
        session = engine.session
        load = load_events(
            engine, SOURCES, (), keys=KEYS, files=files, options=OPTIONS, spark=session, exact=exact
        )
        pool, here = _load(files, None, exact=exact)
        assert load.inputs == here.inputs and load.quarantined == here.quarantined
        for name in (TABLE, SAMPLE_TABLE, COVERAGE_TABLE):
            expected = pool.query(f"SELECT * FROM {name}")
            got = engine.query(f"SELECT * FROM {name}").select(expected.column_names)
            rows = got.cast(expected.schema).to_pylist()
            assert sorted(map(repr, rows)) == sorted(map(repr, expected.to_pylist())), name
            assert rows or (name == SAMPLE_TABLE and not exact), name
        # The table is the cluster's now: Arrow rows cannot replace it unnoticed.
        with pytest.raises(ValueError, match="computed on the cluster"):
            engine.append(TABLE, pa.table({}))
        # A frame of another session would be published where no query of the engine looks.
        with pytest.raises(ValueError, match="another Spark session"):
            engine.append_frame(TABLE, spark.range(1))
    finally:
        engine.close()


def _golden_case_events() -> list[InputFile]:
    return [item for case in sorted(CASES.glob("*/events")) for item in expand_inputs([case])]


def test_damaged_inputs_are_accounted_and_quarantined_alike(tmp_path: Path, spark: Any) -> None:
    files = _damaged(tmp_path / "logs")
    on_spark = _load(files, spark)
    _assert_same(on_spark, _load(files, None))
    load = on_spark[1]
    assert len(load.quarantined) >= 3
    assert {q.input_path for q in load.quarantined} >= {
        item.display for item in files if "bad" in item.display or "truncated" in item.display
    }
    junk = next(summary for summary in load.inputs if summary.path.endswith("junk.bin"))
    assert junk.format == "unrecognised" and junk.note.startswith("skipped: ")
    for summary in load.inputs:
        assert summary.records_read == summary.accepted + summary.quarantined


def test_a_scan_on_spark_writes_duckdbs_findings_summary_and_quarantine(
    tmp_path: Path, spark: Any
) -> None:
    case = CASES / "access-jurisdiction"
    logs = tmp_path / "logs"
    _damaged(logs)
    written = {}
    for engine in ("duckdb", "spark"):
        out = tmp_path / engine
        args = ["scan", "--policy", str(case / "policy.yaml"), "--out", str(out), "--quiet"]
        args += ["--inventory", str(case / "inventory.csv")]
        args += ["--identities", str(case / "identities.csv"), "--events", str(logs)]
        result = CliRunner().invoke(main, [*args, "--engine", engine])
        assert result.exit_code == 1, (engine, result.output[-2000:])
        summary = json.loads((out / "summary.json").read_text())
        del summary["started_at"], summary["finished_at"]
        written[engine] = (
            (out / "findings.json").read_text().replace(str(out), "<OUT>"),
            summary,
            (out / "quarantine.jsonl").read_text(),
        )
    assert written["spark"] == written["duckdb"]
    # The scan's tables are freed when it ends, checkpoints too (unpersist leaves those):
    # a long-lived session must not carry every earlier scan in its heap.
    assert not spark.sparkContext._jsc.sc().getRDDStorageInfo()
    findings, summary, quarantine = written["spark"]
    assert json.loads(findings) and len(quarantine.splitlines()) >= 3
    assert summary["events_total"] > 0


class Boom(Exception):
    """What the broken reader raises."""


class BrokenSource:
    """A reader with a bug: it claims *.boom files and raises reading them."""

    name = "broken"
    description = "raises"

    def sniff(self, path: Path, head: bytes) -> bool:
        return path.suffix == ".boom"

    def read(self, path: Path, batch_size: int = 0) -> Iterator[SourceBatch]:
        raise Boom(f"the broken reader cannot read {path.name}")


def _with_broken() -> Kind[Any]:
    sources: Kind[Any] = Kind("source")
    sources.add("broken", BrokenSource())
    for name, source in SOURCES.items.items():
        sources.add(name, source)
    return sources


def test_a_reader_raising_in_a_task_stops_the_read_as_on_one_machine(
    tmp_path: Path, spark: Any
) -> None:
    from pyspark import cloudpickle

    # Executors import borderwatch; this module they cannot: its classes travel by value.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        folder = tmp_path / "logs"
        folder.mkdir()
        trail = CASES / "access-jurisdiction" / "events" / "trail.jsonl"
        for name in ("a.jsonl", "b.jsonl", "c.boom", "d.jsonl", "e.jsonl"):
            shutil.copyfile(trail, folder / name)
        files = expand_inputs([folder])
        sources = _with_broken()
        seen: dict[str, list[str]] = {}
        raised: dict[str, BaseException] = {}
        for where, session in (("here", None), ("spark", spark)):
            engine = DuckDBEngine()
            done: list[str] = []
            with pytest.raises(Boom) as caught:
                load_events(
                    engine,
                    sources,
                    (),
                    keys=KEYS,
                    files=files,
                    options=OPTIONS,
                    spark=session,
                    progress=lambda _n, _total, _events, name, done=done: done.append(name),
                )
            seen[where], raised[where] = done, caught.value
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert str(raised["spark"]) == str(raised["here"]) == "the broken reader cannot read c.boom"
    # The executor's traceback comes with it, naming the task's files.
    cause = raised["spark"].__cause__
    assert isinstance(cause, ReadTaskFailed)
    assert "c.boom" in str(cause) and "test_spark_reading.py" in str(cause)
    # The files before the failing task were taken, in order; none after it.
    assert seen["spark"] == seen["here"] and len(seen["spark"]) == 2


def test_an_ocsf_parquet_folder_is_read_by_the_same_source_in_tasks(
    tmp_path: Path, spark: Any
) -> None:
    folder = tmp_path / "security-lake" / "region=us-east-1"
    folder.mkdir(parents=True)
    for part in range(3):
        records = [
            record(part * 100 + n, resources=[{"uid": f"arn:aws:s3:::customer-records/{n}"}])
            for n in range(20)
        ]
        records.append(record(part * 100 + 99, class_uid=3002))  # another class: quarantined
        pq.write_table(pa.Table.from_pylist(records), folder / f"part-{part}.parquet")
    files = expand_inputs([tmp_path / "security-lake"])
    on_spark = _load(files, spark)
    _assert_same(on_spark, _load(files, None))
    load = on_spark[1]
    assert [summary.format for summary in load.inputs] == ["ocsf"] * 3
    assert load.events_total == 60 and len(load.quarantined) == 3
    assert on_spark[0].connection.execute(f"SELECT sum(events) FROM {TABLE}").fetchone() == (60,)


def test_tasks_arriving_out_of_order_are_given_back_in_input_order() -> None:
    """Partitions run largest first, so results arrive out of input order; the driver
    puts them back, and a missing task is an error, never a silent gap."""
    rows = {number: [(number, "read", b"%d" % number)] for number in range(5)}
    arrived = [(number, rows[number]) for number in (3, 0, 4, 1, 2)]
    assert list(in_task_order(iter(arrived), 5)) == [rows[number] for number in range(5)]
    with pytest.raises(RuntimeError, match="missing for task 1 of 3"):
        list(in_task_order(iter([(0, rows[0]), (2, rows[2])]), 3))
    # The last task missing, nothing waiting: still an error.
    with pytest.raises(RuntimeError, match="missing for task 2 of 3"):
        list(in_task_order(iter([(0, rows[0]), (1, rows[1])]), 3))
