"""The fast CloudTrail path and parallel loading change speed, never results.

- the typed fast path gives the same rows, quarantine and accounting as the forgiving
  per-record path, on every real CloudTrail sample, on generated traffic and on
  hypothesis-generated odd records;
- loading in worker processes gives the same access digest, accounting and quarantine
  as loading serially, and that digest equals grouping every event at once.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import random
import tempfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from borderwatch.demo.traffic import generate, to_record
from borderwatch.evaluate.duckdb_engine import DuckDBEngine
from borderwatch.ingest.digest import ProtectedKeys
from borderwatch.ingest.events import EventLoad, load_events
from borderwatch.ingest.expansion import expand_inputs
from borderwatch.registry import load_plugins
from borderwatch.runtime.options import ReadLimits, ScanOptions
from borderwatch.sources.base import SourceBatch
from borderwatch.sources.cloudtrail import CloudTrailSource
from borderwatch.sources.inputs import head_bytes
from borderwatch.sources.streams import reading_within
from digestkit import MERGED, groups_at_once

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
SOURCE = CloudTrailSource()
NOW = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def _collect(batches: list[SourceBatch]) -> tuple[list[dict[str, Any]], list[Any], int, list[str]]:
    for batch in batches:
        assert batch.records_read == batch.events.num_rows + len(batch.quarantined)
    rows = [row for b in batches for row in b.events.to_pylist()]
    quarantined = [q for b in batches for q in b.quarantined]
    skipped = [b.skipped_reason for b in batches if b.skipped_reason]
    return rows, quarantined, sum(b.records_read for b in batches), skipped


def _same_both_ways(path: Path, batch_size: int = 7) -> list[dict[str, Any]]:
    fast = _collect(list(SOURCE.read(path, batch_size)))
    slow = _collect(list(SOURCE.read_forgiving(path, batch_size)))
    assert fast == slow, path
    return fast[0]


def _real_cloudtrail_files() -> list[Path]:
    if not REAL.exists():
        return []
    found = []
    for item in expand_inputs([REAL]):
        try:
            if SOURCE.sniff(item.path, head_bytes(item.path)):
                found.append(item.path)
        except OSError:
            continue
    return found


def test_real_samples_give_identical_rows_on_both_paths() -> None:
    files = _real_cloudtrail_files()
    if not files:
        pytest.skip("real samples not available")
    rows = sum(len(_same_both_ways(path)) for path in files)
    assert len(files) >= 20 and rows >= 500


def _records(count: int, seed: int = 3) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [to_record(access, rng) for access in generate(count, seed, NOW)]


def _write(path: Path, records: list[Any], form: str) -> Path:
    if form.startswith("lines"):
        data = "\n".join(json.dumps(r) for r in records).encode()
    else:
        data = json.dumps({"Records": records}).encode()
    if form.endswith("gz"):
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("form", ["lines", "lines-gz", "records", "records-gz"])
def test_generated_traffic_gives_identical_rows(tmp_path: Path, form: str) -> None:
    records = _records(400)
    records[5] = {k: v for k, v in records[5].items() if k != "eventTime"}
    records[9] = {k: v for k, v in records[9].items() if k != "eventID"}
    records[11]["eventTime"] = "2026-02-30T00:00:00Z"
    records[12]["eventTime"] = "2026-02-01T10:00:00.123Z"
    records[13]["userIdentity"] = "root"
    records[14]["recipientAccountId"] = 111122223333
    records[15] = {"detail-type": "AWS API Call via CloudTrail", "detail": records[15]}
    rows = _same_both_ways(_write(tmp_path / f"t.{form}", records, form), batch_size=64)
    assert len(rows) == 397


_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["", " ", "2026-01-01T00:00:00Z", "arn:aws:s3:::b/k", "AWS Internal"]),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)
_PATHS = [
    ("eventID",),
    ("eventTime",),
    ("eventSource",),
    ("eventName",),
    ("awsRegion",),
    ("sourceIPAddress",),
    ("userAgent",),
    ("errorCode",),
    ("readOnly",),
    ("recipientAccountId",),
    ("userIdentity",),
    ("userIdentity", "arn"),
    ("userIdentity", "type"),
    ("userIdentity", "accountId"),
    ("userIdentity", "principalId"),
    ("userIdentity", "sessionContext"),
    ("resources",),
    ("requestParameters",),
    ("requestParameters", "bucketName"),
    ("detail",),
    ("@timestamp",),
]


def _edit(record: dict[str, Any], path: tuple[str, ...], value: Any, delete: bool) -> None:
    holder: Any = record
    for key in path[:-1]:
        if not isinstance(holder.get(key), dict):
            holder[key] = {}
        holder = holder[key]
    if delete:
        holder.pop(path[-1], None)
    else:
        holder[path[-1]] = value


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    form=st.sampled_from(["lines", "records"]),
    edits=st.lists(
        st.tuples(st.integers(0, 5), st.sampled_from(_PATHS), _VALUES, st.booleans()),
        max_size=6,
    ),
    extra=st.lists(_VALUES, max_size=2),
)
def test_odd_records_give_identical_rows(
    tmp_path: Path,
    form: str,
    edits: list[tuple[int, tuple[str, ...], Any, bool]],
    extra: list[Any],
) -> None:
    records: list[Any] = json.loads(json.dumps(_records(6, seed=11)))
    for index, path, value, delete in edits:
        _edit(records[index], path, value, delete)
    records.extend(extra)
    _same_both_ways(_write(tmp_path / f"odd.{form}", records, form), batch_size=4)


def _tree(root: Path) -> Path:
    records = _records(3000, seed=5)
    for index in range(12):
        chunk = records[index * 250 : (index + 1) * 250]
        folder = root / "AWSLogs" / f"{index % 3}"
        folder.mkdir(parents=True, exist_ok=True)
        if index == 4:
            chunk[3] = {"eventName": "GetObject"}
        _write(folder / f"f{index:02d}.json.gz", chunk, "records-gz" if index % 2 else "lines")
    (root / "AWSLogs" / "broken.json").write_bytes(b'{"Records": [{"eventName": "x"}, {')
    (root / "AWSLogs" / "other.txt").write_bytes(b"not a log at all\n")
    return root


def _load(
    root: Path, keys: ProtectedKeys, options: ScanOptions
) -> tuple[EventLoad, list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    engine = DuckDBEngine()
    try:
        load = load_events(engine, load_plugins().sources, [root], keys=keys, options=options)
        groups = engine.connection.execute(MERGED.format(table="access_parts")).fetchall()
        parts = engine.connection.execute("SELECT * FROM access_parts").fetchall()
        samples = engine.connection.execute(
            "SELECT event_id, input_path FROM event_id_sample ORDER BY ALL"
        ).fetchall()
    finally:
        engine.close()
    return load, groups, parts, samples


def _all_events(root: Path) -> pa.Table:
    tables = [
        batch.events
        for item in expand_inputs([root])
        if SOURCE.sniff(item.path, head_bytes(item.path))
        for batch in SOURCE.read(item.path)
    ]
    return pa.concat_tables(tables)


def _keys_for(events: pa.Table) -> ProtectedKeys:
    """Every other resource name is a protected store's; one name belongs to two stores."""
    names = sorted({k for keys in events.column("resources").to_pylist() for k in keys or []})
    pairs = [(name, f"store-{i // 3}") for i, name in enumerate(names) if i % 2 == 0]
    pairs.append((names[0], "store-shared"))
    return ProtectedKeys.from_pairs(pairs)


def test_parallel_loading_equals_serial(tmp_path: Path) -> None:
    from borderwatch.ingest import workers

    options = ScanOptions(task_files=3)  # several tasks, each merged in a worker
    root = _tree(tmp_path / "logs")
    events = _all_events(root)
    keys = _keys_for(events)
    assert len(workers.tasks_of(expand_inputs([root]), options)) >= 4
    serial, serial_groups, _, serial_samples = _load(root, keys, replace(options, workers=1))
    parallel, parallel_groups, parts, samples = _load(root, keys, replace(options, workers=2))
    assert parallel_groups == serial_groups == groups_at_once(events, keys)
    assert len(serial_groups) > 100
    # Workers merged within their tasks: fewer rows than (event, store) accesses, and
    # pieces of one group from different tasks are merged only by the engine.
    accesses = sum(group[7] for group in parallel_groups)
    assert len(parallel_groups) <= len(parts) < accesses
    assert parallel.inputs == serial.inputs
    assert parallel.quarantined == serial.quarantined
    assert parallel.events_total == serial.events_total == events.num_rows
    for summary in serial.inputs:
        assert summary.records_read == summary.accepted + summary.quarantined
    assert any(q.input_path.endswith("broken.json") for q in serial.quarantined)
    # The sample of event ids (ingest/repeats.py) travels back from the workers whole.
    expected = sorted(
        (event_id, path)
        for event_id, path in zip(
            events.column("event_id").to_pylist(),
            events.column("input_path").to_pylist(),
            strict=True,
        )
        if event_id.endswith("00")
    )
    assert samples == serial_samples == expected and len(expected) >= 5


def test_digests_handed_over_through_spill_files_equal_serial(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Workers that hand over merged digests while reading (through spill files the
    main process reads back and deletes) give the same groups as a serial read."""
    from borderwatch.ingest import workers

    root = _tree(tmp_path / "logs")
    events = _all_events(root)
    keys = _keys_for(events)
    _, serial_groups, _, serial_samples = _load(root, keys, ScanOptions(workers=1))
    # Merge every 64 access rows and hand every merged digest over, in one task.
    options = ScanOptions(workers=2, append_rows=64, worker_hand_over_rows=1, task_files=100)
    spilled: list[str] = []
    original = workers.read_spill

    def watched(path: str) -> Iterator[pa.Table]:
        spilled.append(path)
        yield from original(path)

    monkeypatch.setattr(workers, "read_spill", watched)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    _, groups, parts, samples = _load(root, keys, options)
    assert groups == serial_groups and samples == serial_samples
    assert spilled and len(parts) >= len(groups)
    assert not any(Path(path).exists() for path in spilled)
    assert not list(tmp_path.glob("borderwatch-digests-*"))  # the spill folder is gone


def test_exact_repeats_count_each_event_once_read_in_parallel_or_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With exact=True every access row reaches the engine unmerged, and count_once
    leaves one per (event, store): files read twice give the groups of reading them once."""
    from borderwatch.ingest import workers as pool
    from borderwatch.ingest.repeats import count_once, find_repeats

    # Workers spill sampled ids as soon as 100 have gathered (every id is sampled here).
    options = ScanOptions(task_files=3, append_rows=100)
    spilled: list[list[str]] = []
    original = pool.read_spill

    def watched(path: str) -> Iterator[pa.Table]:
        for table in original(path):
            spilled.append(table.column_names)
            yield table

    monkeypatch.setattr(pool, "read_spill", watched)
    root = _tree(tmp_path / "logs")
    events = _all_events(root)
    keys = _keys_for(events)
    again = tmp_path / "again"
    again.mkdir()
    for path in sorted(root.rglob("f0*.json.gz"))[:3]:
        (again / path.name).write_bytes(path.read_bytes())
    expected = groups_at_once(events, keys)
    for workers in (1, 2):
        engine = DuckDBEngine()
        try:
            load = load_events(
                engine,
                load_plugins().sources,
                [root, again],
                keys=keys,
                exact=True,
                options=replace(options, workers=workers),
            )
            assert load.events_total > events.num_rows  # the copies were read
            count_once(engine, "access_parts")
            groups = engine.connection.execute(MERGED.format(table="access_parts")).fetchall()
            repeats = find_repeats(engine)
        finally:
            engine.close()
        assert groups == expected
        assert repeats.sampled == load.events_total  # every id kept
        assert repeats.repeated == load.events_total - events.num_rows
    # The parallel read handed both digests and sampled ids over through spill files.
    assert ["event_id", "input_path"] in spilled and len(spilled) > 2


_ODD_ARNS = [
    "arn:aws:s3:::bucket/key",
    "arn:aws:s3:::bucket/a/b:c",
    "arn:aws:s3:::/key-without-bucket",
    "arn:aws:s3:::bucket/",
    "arn:aws:s3:::bucket",
    "arn:aws:s3:::bucket/key ",
    " arn:aws:s3:::bucket/key",
    "arn:aws-cn:s3:::bucket/key",
    "arn:aws:s3:::b:x/key",
    "arn:aws:dynamodb:us-east-1:1:table/T",
]


@pytest.mark.parametrize("arn", _ODD_ARNS)
def test_object_arns_give_the_keys_of_the_forgiving_path(
    tmp_path: Path, arn: str, monkeypatch: pytest.MonkeyPatch
) -> None:

    record = _records(1, seed=2)[0]
    record["resources"] = [{"ARN": arn}, {"ARN": "arn:aws:s3:::bucket"}, {"arn": arn}]
    path = _write(tmp_path / "odd.json", [record, record], "records")
    rows = _same_both_ways(path)
    assert rows and rows[0]["resources"][0] == arn.strip()
    # The comparison above is only worth something if the fast path read these records.
    assert _rows_of_the_fast_path(path, monkeypatch) == 2


def test_one_object_arn_per_record_gives_the_keys_of_the_forgiving_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Records naming one S3 object take keys remembered per bucket and parameters.

    The remembered keys must not carry one record's object ARN into another's: here a
    parameter names object a, so a record for object a lists it once and a record for
    object b (same bucket, same parameters) lists both.
    """

    base = _records(1, seed=3)[0]
    shapes = [
        ({"ARN": "arn:aws:s3:::bkt/a"}, {"resourceArn": "arn:aws:s3:::bkt/a"}),
        ({"ARN": "arn:aws:s3:::bkt/b"}, {"resourceArn": "arn:aws:s3:::bkt/a"}),
        ({"arn": "arn:aws:s3:::bkt/c"}, {"resourceArn": "arn:aws:s3:::bkt/a"}),
        ({"ARN": "arn:aws:s3:::bkt/a"}, {"bucketName": "bkt"}),
        ({"ARN": "arn:aws:s3:::bkt/d"}, {"bucketName": "other", "tableName": "bkt"}),
        ({"ARN": "arn:aws:s3:::bkt/e"}, None),
        ({"ARN": "arn:aws:s3:::bkt/a"}, {"resourceArn": "arn:aws:s3:::bkt/a"}),
    ]
    records = []
    for resource, parameters in shapes:
        record = json.loads(json.dumps(base))
        record["resources"] = [resource]
        record["requestParameters"] = parameters
        records.append(record)
    path = _write(tmp_path / "objects.json", records, "records")
    rows = _same_both_ways(path)
    assert rows[0]["resources"] == ["arn:aws:s3:::bkt/a", "arn:aws:s3:::bkt", "bkt"]
    assert rows[1]["resources"] == [
        "arn:aws:s3:::bkt/b",
        "arn:aws:s3:::bkt",
        "bkt",
        "arn:aws:s3:::bkt/a",
    ]
    assert _rows_of_the_fast_path(path, monkeypatch) == len(shapes)


def _rows_of_the_fast_path(
    path: Path, monkeypatch: pytest.MonkeyPatch, batch_size: int = 50_000
) -> int:
    """Rows read from `path` with the forgiving per-record path forbidden."""
    from borderwatch.sources import cloudtrail_fast

    def refuse(item: Any) -> dict[str, Any]:
        raise AssertionError("the typed fast path should have read this record")

    monkeypatch.setattr(cloudtrail_fast, "normalise", refuse)
    return sum(b.events.num_rows for b in SOURCE.read(path, batch_size))


@pytest.mark.parametrize("arn", _ODD_ARNS)
def test_one_odd_arn_per_record_gives_the_keys_of_the_forgiving_path(
    tmp_path: Path, arn: str
) -> None:
    records = []
    for parameters in ({"bucketName": "bucket"}, None, {"resourceArn": arn}):
        record = _records(1, seed=4)[0]
        record["resources"] = [{"ARN": arn}]
        record["requestParameters"] = parameters
        records.append(record)
    rows = _same_both_ways(_write(tmp_path / "odd.json", records, "records"))
    assert len(rows) == 3 and rows[0]["resources"][0] == arn.strip()


def test_user_registered_sources_are_read_serially(tmp_path: Path) -> None:
    from borderwatch.ingest import workers

    registry = load_plugins()
    files = expand_inputs([_tree(tmp_path / "logs")])
    two = ScanOptions(workers=2)
    assert workers.worker_count(two, registry.sources, files, None) == 2

    class Custom:
        name = "custom"

    registry.sources.add("custom", Custom())
    assert workers.worker_count(two, registry.sources, files, None) == 1


@pytest.mark.parametrize("form", ["lines-gz", "records-gz", "lines"])
def test_clean_records_take_the_fast_path(
    tmp_path: Path, form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path / f"c.{form}", _records(300), form)
    # Plain lines: several blocks, so lines split over a block boundary are covered too.
    with reading_within(ReadLimits(line_block_bytes=4096)):
        assert _rows_of_the_fast_path(path, monkeypatch, batch_size=100) == 300


def _odd_lines_file(path: Path) -> Path:
    """Plain JSON lines with every shape a line-splitting reader could get wrong."""
    good = [json.dumps(r).encode() for r in _records(40, seed=9)]
    broken = dict(_records(1, seed=10)[0])
    del broken["eventTime"]
    lines = [
        good[0],
        b"",
        good[1] + b"\r",
        b"   \t",
        good[2],
        b"not json at all",
        b"[1, 2]",
        b"5",
        good[3][:-1] + b",}",
        json.dumps(broken).encode(),
        b'{"eventName": "GetObject"}',
        b"\xef\xbb\xbf" + good[4],
        good[5] + b"\r",
        good[6].replace(b'"eventID"', b'"eventID": 1, "eventID"'),
        b'{"a": "x\\u00e9\\ud83d\\ude00"}',
        *good[7:],
    ]
    path.write_bytes(b"\n".join(lines))  # no newline after the last line
    return path


@pytest.mark.parametrize("block", [16, 200, 1 << 20])
def test_plain_lines_read_in_blocks_give_identical_rows(tmp_path: Path, block: int) -> None:
    path = _odd_lines_file(tmp_path / "odd.jsonl")
    with reading_within(ReadLimits(line_block_bytes=block)):
        rows = _same_both_ways(path, batch_size=5)
    numbers = [row["input_record"] for row in rows]
    assert numbers == sorted(numbers) and len(numbers) >= 36
    # The line numbers count blank lines, as the line-by-line reader does.
    assert numbers[:3] == [1, 3, 5]


def test_plain_lines_ending_with_newline_and_empty_file(tmp_path: Path) -> None:
    records = [json.dumps(r) for r in _records(5)[:5]]
    ended = tmp_path / "ended.jsonl"
    ended.write_text("\n".join(records) + "\n\n")
    assert [r["input_record"] for r in _same_both_ways(ended)] == [1, 2, 3, 4, 5]
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert _same_both_ways(empty) == []


def test_whole_file_reads_as_read_all(tmp_path: Path) -> None:
    from borderwatch.sources.cloudtrail_fast import _whole_file
    from borderwatch.sources.inputs import read_all

    body = json.dumps({"Records": _records(50)}).encode()
    packed = gzip.compress(body)
    variants = {
        "plain": body,
        "gzip": packed,
        "two-members": packed + gzip.compress(b" "),
        "truncated": packed[: len(packed) // 2],
        "trailing-zeros": packed + b"\0\0\0\0",
        "trailing-garbage": packed + b"garbage",
        "bad-crc": packed[:-8] + b"\0\0\0\0" + packed[-4:],
        "empty": b"",
    }
    for name, data in variants.items():
        path = tmp_path / f"{name}.json.gz"
        path.write_bytes(data)
        fast, fast_damage = _whole_file(path)
        slow, slow_damage = read_all(path)
        assert fast == slow, name
        assert (fast_damage is None) == (slow_damage is None), name
        if fast_damage is not None and slow_damage is not None:
            assert (fast_damage.reason, fast_damage.offset) == (
                slow_damage.reason,
                slow_damage.offset,
            ), name


def test_hostile_line_boundaries_in_compressed_lines_are_kept(tmp_path: Path) -> None:
    """A record split over two lines and two records on one line stay broken.

    Decoding a batch of lines as one JSON array would join the halves with its comma
    into one valid record and count the doubled line as two: the same number of
    records, but not the file's. Both halves and the doubled line must be quarantined.
    """
    good, other = (json.dumps(r) for r in _records(4, seed=4)[:2])
    head, _, tail = good.partition(', "eventTime"')
    lines = [good, head, '"eventTime"' + tail, f"{other},{other}", other]
    path = tmp_path / "hostile.jsonl.gz"
    path.write_bytes(gzip.compress("\n".join(lines).encode()))
    rows = _same_both_ways(path, batch_size=50)
    assert len(rows) == 2
    reasons = [q.position for b in SOURCE.read(path) for q in b.quarantined]
    assert reasons == ["line 2", "line 3", "line 4"]


def test_reading_many_files_at_once_gives_what_reading_each_gives(tmp_path: Path) -> None:
    """CloudTrail's read_many pools small clean Records files; per input, nothing changes."""
    from borderwatch.sources import cloudtrail_fast

    root = tmp_path / "many"
    root.mkdir()
    records = _records(120, seed=21)
    odd_time = json.loads(json.dumps(records[3]))
    odd_time["eventTime"] = "2026-02-30T00:00:00Z"  # refused by the column pass
    bad_identity = json.loads(json.dumps(records[4]))
    bad_identity["userIdentity"] = "root"
    shapes: list[tuple[str, list[Any], str]] = [
        ("a.json.gz", records[0:10], "records-gz"),
        # c is pooled, refused in the column pass and read alone; b after it must still
        # get its own rows of the pooled table.
        ("c.json.gz", [*records[12:15], odd_time], "records-gz"),
        ("b.json.gz", records[10:12], "records-gz"),
        ("d.json", [], "records"),
        ("e.json.gz", [*records[15:20], bad_identity], "records-gz"),
        ("f.jsonl", records[20:30], "lines"),
        ("g.json.gz", records[30:60], "records-gz"),
        ("h.json.gz", [{"eventName": "GetObject"}, *records[60:62]], "records-gz"),
        ("i.json.gz", records[62:120], "records-gz"),
    ]
    paths = [_write(root / name, chunk, form) for name, chunk, form in shapes]
    digest = root / "digest.json"
    digest.write_bytes(b'{"digestStartTime": "x", "digestEndTime": "y", "logFiles": []}')
    paths.insert(4, digest)
    broken = root / "broken.json.gz"
    broken.write_bytes(gzip.compress(b'{"Records": [{"eventName": "x"}, {')[:-6])
    paths.insert(7, broken)

    together: dict[int, list[SourceBatch]] = {}
    for index, batch in SOURCE.read_many(paths):
        together.setdefault(index, []).append(batch)
    for index, path in enumerate(paths):
        alone = list(SOURCE.read(path))
        assert _collect(together.get(index, [])) == _collect(alone), path.name
    # Pooling really happened: fewer column passes than clean delivered files.
    calls: list[int] = []
    original = cloudtrail_fast.FastBatcher._columns

    def counting(self: Any, records: list[Any], *args: Any, **kwargs: Any) -> Any:
        calls.append(len(records))
        return original(self, records, *args, **kwargs)

    cloudtrail_fast.FastBatcher._columns = counting  # type: ignore[method-assign]
    try:
        list(SOURCE.read_many(paths))
    finally:
        cloudtrail_fast.FastBatcher._columns = original  # type: ignore[method-assign]
    # a, c, b and the empty d in one pass (10 + 4 + 2 records), before the digest file.
    assert calls[0] == 16


@pytest.mark.parametrize("flip", [-6, -2, 40])  # CRC, length, a byte of the deflate data
def test_a_damaged_gzip_records_file_reads_as_the_forgiving_path_reads_it(
    tmp_path: Path, flip: int
) -> None:
    path = _write(tmp_path / "d.json.gz", _records(30, seed=8), "records-gz")
    data = bytearray(path.read_bytes())
    data[flip] ^= 0xFF
    path.write_bytes(bytes(data))
    _same_both_ways(path)
    quarantined = [q for b in SOURCE.read(path) for q in b.quarantined]
    assert quarantined  # the damage is reported, never read past silently
