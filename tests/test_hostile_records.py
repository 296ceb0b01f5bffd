"""One hostile record never stops a scan: it is quarantined with its reason and position.

Every registered reader is fed records built from one it accepts (see hostilekit): times
outside the representable range (years 1 to 9999 in UTC), JSON nested 100,000 deep, bad
encodings, a 1 MiB value, and every field of the wrong type. Each test holds the
accounting (records read = accepted + quarantined) and that the good records around the
hostile one are all accepted.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from borderwatch.cli import main
from borderwatch.sources.cloudtrail import CloudTrailSource
from borderwatch.sources.generic import GenericSource
from borderwatch.sources.mapping import parse_mapping
from borderwatch.sources.record import RecordError, parse_time
from hostilekit import (
    HOSTILE_EPOCHS,
    HOSTILE_TIMES,
    WRITTEN_SEEDS,
    is_epoch_time,
    is_iso_time,
    read_lines,
    readers,
    replace_leaves,
    seed,
    seed_lines,
)
from readerkit import read_with

READERS = sorted(readers())
CASES = Path(__file__).parent / "cases"
DEPTH = 100_000


def _around(name: str, tmp: Path, hostile: bytes) -> tuple[list[bytes], int]:
    """The reader's good records with `hostile` as line 2; the number of good records."""
    good = seed_lines(name, tmp)
    return [good[0], hostile, *good[1:]], len(good)


def _only_line_2_quarantined(got: Any, good: int) -> Any:
    assert got.read == good + 1
    assert len(got.rows) == good, [q.reason for q in got.quarantined]
    assert [q.position for q in got.quarantined] == ["line 2"]
    return got.quarantined[0]


@pytest.mark.parametrize("value", HOSTILE_TIMES)
@pytest.mark.parametrize("name", READERS)
def test_a_time_outside_the_range_quarantines_its_record(
    name: str, value: str, tmp_path: Path
) -> None:
    record, replaced = replace_leaves(seed(name, tmp_path), is_iso_time, value)
    if not replaced:
        pytest.skip(f"{name}'s seed writes its time as a number (see the epoch test)")
    lines, good = _around(name, tmp_path, json.dumps(record).encode())
    got = read_lines(readers()[name], tmp_path / "times.jsonl", lines)
    quarantined = _only_line_2_quarantined(got, good)
    assert value[:10] in quarantined.reason, quarantined.reason


@pytest.mark.parametrize("value", HOSTILE_EPOCHS, ids=["1e300", "-1e300", "y10000", "y0", "huge"])
@pytest.mark.parametrize("name", READERS)
def test_an_epoch_time_outside_the_range_quarantines_its_record(
    name: str, value: Any, tmp_path: Path
) -> None:
    record = seed(name, tmp_path)
    record, replaced = replace_leaves(record, is_epoch_time, value)
    if not replaced:
        record, replaced = replace_leaves(record, is_iso_time, value)
    lines, good = _around(name, tmp_path, json.dumps(record).encode())
    got = read_lines(readers()[name], tmp_path / "epochs.jsonl", lines)
    _only_line_2_quarantined(got, good)


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("0001-01-01T00:00:00+01:00", "'0001-01-01T00:00:00+01:00'"),
        ("9999-12-31T23:59:59-01:00", "'9999-12-31T23:59:59-01:00'"),
        (
            "0000-01-01T00:00:00Z" + "\x1b]0;PASS\x07" * 9,
            r"'0000-01-01T00:00:00Z\x1b]0;PASS\x07\x1b]0;PASS\x07\x1b]'...",
        ),
    ],
)
def test_the_reason_names_the_field_and_the_value_cut_and_escaped(value: str, shown: str) -> None:
    with pytest.raises(RecordError) as raised:
        parse_time(value, "eventTime")
    assert str(raised.value).startswith(f"eventTime {shown} ")
    assert "\x1b" not in str(raised.value)


def test_the_edges_of_the_range_are_accepted() -> None:
    assert parse_time("0001-01-01T00:00:00Z", "t").year == 1
    assert parse_time("0001-01-01T01:00:00+01:00", "t").year == 1
    assert parse_time("9999-12-31T23:59:59Z", "t").year == 9999
    assert parse_time("9999-12-31T22:59:59-01:00", "t").year == 9999


def _cloudtrail(event_id: str, time: str) -> dict[str, Any]:
    """A record the CloudTrail fast path takes (eventID, Z time, caller)."""
    return {
        "eventVersion": "1.08",
        "eventID": event_id,
        "eventTime": time,
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "81.2.69.142",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/alice"},
        "requestParameters": {"bucketName": "user-media"},
    }


@pytest.mark.parametrize("form", ["lines", "container"])
def test_year_0_does_not_pass_the_cloudtrail_fast_path(form: str, tmp_path: Path) -> None:
    records = [
        _cloudtrail("a", "2026-01-01T00:00:00Z"),
        _cloudtrail("b", "0000-01-01T00:00:00Z"),
        _cloudtrail("c", "2026-01-01T00:00:01Z"),
    ]
    path = tmp_path / "trail.json"
    if form == "lines":
        path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    else:
        path.write_text(json.dumps({"Records": records}))
    got = read_with(CloudTrailSource(), path)
    assert got.read == 3
    assert [r["event_id"] for r in got.rows] == ["a", "c"]
    assert "'0000-01-01T00:00:00Z' is not an ISO 8601 time" in got.quarantined[0].reason


def test_year_0_does_not_pass_the_pool_of_small_records_files(tmp_path: Path) -> None:
    """read_many turns many small Records files into columns together (the S3 delivery)."""
    paths = []
    for n, time in enumerate(["2026-01-01T00:00:00Z", "0000-01-01T00:00:00Z"]):
        path = tmp_path / f"{n}.json"
        path.write_text(json.dumps({"Records": [_cloudtrail(f"a{n}", time)]}))
        paths.append(path)
    batches = list(CloudTrailSource().read_many(paths))
    assert [b.records_read for _, b in batches] == [1, 1]
    assert [r for _, b in batches for r in b.events.column("event_id").to_pylist()] == ["a0"]
    (_, second) = batches[1]
    assert second.quarantined[0].position == "record 1 of Records"


def test_a_scan_with_hostile_times_ends_by_its_findings_not_a_crash(tmp_path: Path) -> None:
    folder = CASES / "clean"
    trail = tmp_path / "trail.jsonl"
    times = [
        "2026-01-01T00:00:00Z",
        "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+01:00",
        "9999-12-31T23:59:59-01:00",
        # the edges themselves are times: accepted, and the rules run over them
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
    ]
    trail.write_text(
        "\n".join(json.dumps(_cloudtrail(f"e{i}", t)) for i, t in enumerate(times)) + "\n"
    )
    out = tmp_path / "o"
    args = ["scan", "--policy", str(folder / "policy.yaml"), "--events", str(trail)]
    result = CliRunner().invoke(main, [*args, "--out", str(out), "--quiet"])
    # No inventory is given, so nothing is judged: the verdict is INCOMPLETE (exit 1), a
    # verdict reached by the rules, not a crash (which would exit 70 with a traceback).
    assert isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 1, result.output
    quarantine = [json.loads(line) for line in (out / "quarantine.jsonl").read_text().splitlines()]
    assert [q["position"] for q in quarantine] == ["line 2", "line 3", "line 4"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["totals"] == {"records_read": 6, "accepted": 3, "quarantined": 3}
    assert summary["verdict"] == "incomplete"
    assert dict(summary["findings_by_rule"]) == {"coverage.nothing-judged": 1}


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("name", READERS)
def test_json_nested_100000_deep_quarantines_only_its_line(name: str, tmp_path: Path) -> None:
    first = seed_lines(name, tmp_path)[0]
    hostile = first[:1] + b'"zz": ' + _deep(DEPTH) + b", " + first[1:]
    lines, good = _around(name, tmp_path, hostile)
    got = read_lines(readers()[name], tmp_path / "deep.jsonl", lines)
    quarantined = _only_line_2_quarantined(got, good)
    assert "depth" in quarantined.reason or "deep" in quarantined.reason


@pytest.mark.parametrize("name", READERS)
def test_a_document_nested_100000_deep_is_quarantined_not_raised(name: str, tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" + json.dumps(seed(name, tmp_path)).encode() + b", " + _deep(DEPTH) + b"]")
    got = read_with(readers()[name], path)
    assert got.read == len(got.rows) + len(got.quarantined) >= 1
    assert got.quarantined


def test_a_deep_record_in_a_broken_container_is_quarantined(tmp_path: Path) -> None:
    """The salvage path (Python's json module) meets the deep record too."""
    good = json.dumps(_cloudtrail("a", "2026-01-01T00:00:00Z")).encode()
    path = tmp_path / "broken.json"
    path.write_bytes(b'{"Records": [' + good + b", " + _deep(DEPTH) + b", {broken")
    got = read_with(CloudTrailSource(), path)
    assert [r["event_id"] for r in got.rows] == ["a"]
    assert "nested too deeply" in got.quarantined[0].reason


def _with_text(name: str, tmp: Path, value: str) -> dict[str, Any]:
    """The seed with its longest text value (not a time) set to `value`."""
    record = seed(name, tmp)
    texts: list[str] = []
    replace_leaves(record, lambda _, v: isinstance(v, str) and texts.append(v) is None, None)
    longest = max((t for t in texts if not is_iso_time("", t)), key=len)
    changed, _ = replace_leaves(record, lambda _, v: v == longest, value)
    return changed


@pytest.mark.parametrize("name", READERS)
def test_bad_encodings_never_stop_the_reader(name: str, tmp_path: Path) -> None:
    first = seed_lines(name, tmp_path)[0]
    lone_surrogate = json.dumps(_with_text(name, tmp_path, "x\ud800y")).encode()
    nul_escape = json.dumps(_with_text(name, tmp_path, "x\x00y")).encode()
    hostile = [
        first.replace(b'"', b'"\xff\xfe', 1),  # not UTF-8
        lone_surrogate,  # json.dumps writes it as the escape \ud800
        nul_escape,  # \u0000 inside a string
        first[:10] + b"\x00" + first[10:],  # a raw NUL byte
        b"\xef\xbb\xbf" + first,  # a byte-order mark mid-file
        first.decode().encode("utf-16"),  # another encoding altogether
    ]
    good = seed_lines(name, tmp_path)
    got = read_lines(readers()[name], tmp_path / "encodings.jsonl", [*good, *hostile])
    assert got.read == len(good) + len(hostile)
    assert {r["input_record"] for r in got.rows} >= set(range(1, len(good) + 1))
    by_line = {q.position: q.reason for q in got.quarantined}
    first_bad = len(good) + 1
    assert f"line {first_bad}" in by_line  # invalid UTF-8
    assert f"line {first_bad + 1}" in by_line  # the lone surrogate
    for q in got.quarantined:
        assert "\x00" not in q.excerpt and "\ud800" not in q.excerpt


def test_a_lone_surrogate_from_the_salvage_path_is_quarantined(tmp_path: Path) -> None:
    """Python's json module (the salvage path) decodes \\ud800; Arrow cannot hold it."""
    good = json.dumps(_cloudtrail("a", "2026-01-01T00:00:00Z"))
    bad = json.dumps(_cloudtrail("b\ud800", "2026-01-01T00:00:00Z"))
    path = tmp_path / "broken.json"
    path.write_text('{"Records": [' + good + ", " + bad + ", {broken")
    got = read_with(CloudTrailSource(), path)
    assert [r["event_id"] for r in got.rows] == ["a"]
    assert got.quarantined[0].position == "record 2 of Records (document at line 1)"
    assert "lone surrogate" in got.quarantined[0].reason
    assert "\\ud800" in got.quarantined[0].reason


@pytest.mark.parametrize("name", READERS)
def test_a_1_mib_value_is_read(name: str, tmp_path: Path) -> None:
    huge = "A" * (1 << 20)
    lines, good = _around(name, tmp_path, json.dumps(_with_text(name, tmp_path, huge)).encode())
    got = read_lines(readers()[name], tmp_path / "huge.jsonl", lines)
    assert got.read == good + 1
    assert len(got.rows) + len(got.quarantined) == good + 1
    assert {r["input_record"] for r in got.rows} == set(range(1, good + 2)), got.quarantined


WRONG = [0, -1, 1e308, 10**30, True, None, "", "x" * 300, [], ["x"], [[]], {}, {"a": 1}]
WRONG += ["\x1b[2J\x1b]0;PASS\x07"]


def _paths(value: Any, prefix: tuple[str, ...] = (), depth: int = 3) -> list[tuple[str, ...]]:
    if not isinstance(value, dict) or depth == 0:
        return []
    found = []
    for key, item in value.items():
        found.append((*prefix, key))
        found.extend(_paths(item, (*prefix, key), depth - 1))
    return found


def _set(record: Any, keys: tuple[str, ...], value: Any) -> Any:
    copy = json.loads(json.dumps(record))
    holder = copy
    for key in keys[:-1]:
        holder = holder[key]
    holder[keys[-1]] = value
    return copy


@pytest.mark.parametrize("name", READERS)
def test_every_field_of_every_wrong_type(name: str, tmp_path: Path) -> None:
    record = seed(name, tmp_path)
    lines = [
        json.dumps(_set(record, keys, value)).encode() for keys in _paths(record) for value in WRONG
    ]
    # and the record itself of every wrong type
    lines += [json.dumps(value).encode() for value in WRONG if value not in (None, "")]
    got = read_lines(readers()[name], tmp_path / "types.jsonl", lines)
    assert got.read == len(lines)
    for q in got.quarantined:
        assert q.reason and q.position.startswith("line ")
        assert "\x1b" not in q.reason and "\x1b" not in q.excerpt


def test_the_generic_reader_quarantines_hostile_cells(tmp_path: Path) -> None:
    """The mapping-driven reader (not in the registry: a mapping file makes it)."""
    mapping = parse_mapping(
        b"name: hostile-csv\ninput: csv\nheader: [id, at, who]\n"
        b'time_format: "%Y-%m-%dT%H:%M:%S%z"\n'
        b"columns:\n  event_id: id\n  event_time: at\n"
        b"  principal: {column: who, parse: json, path: name}\n",
        "hostile.yaml",
    )
    deep = "[" * 40_000 + "]" * 40_000
    rows = [
        ["a", "2026-01-01T00:00:00+0000", '{"name": "alice"}'],
        ["b", "0001-01-01T00:00:00+0100", '{"name": "bob"}'],
        ["c", "9999-12-31T23:59:59-0100", '{"name": "carol"}'],
        ["d", "2026-01-01T00:00:00+0000", deep],
        ["e", "2026-01-01T00:00:00+0000", '{"name": "\\ud800"}'],
        ["f", "2026-01-01T00:00:00+0000", '{"name": "frank"}'],
    ]
    path = tmp_path / "hostile.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["id", "at", "who"], *rows])
    got = read_with(GenericSource(mapping), path)
    assert got.read == 6
    assert [r["event_id"] for r in got.rows] == ["a", "f"]
    reasons = [q.reason for q in got.quarantined]
    assert "'0001-01-01T00:00:00+01:00' is outside the years 1 to 9999" in reasons[0]
    assert "'9999-12-31T23:59:59-01:00' is outside the years 1 to 9999" in reasons[1]
    assert "nested too deeply" in reasons[2]
    assert "lone surrogate" in reasons[3]


@pytest.mark.parametrize("year_micros", [-62_167_219_200_000_000, 253_402_300_800_000_000])
def test_a_parquet_timestamp_python_cannot_hold_quarantines_only_its_row(
    year_micros: int, tmp_path: Path
) -> None:
    """Parquet holds year 0 and year 10000; one such row used to end the file's reading."""
    good = WRITTEN_SEEDS["ocsf"]
    base = {k: v for k, v in good.items() if k != "time"}
    at = pa.array(
        [1_772_359_200_000_000, year_micros, 1_772_359_201_000_000], pa.timestamp("us", "UTC")
    )
    table = pa.Table.from_pylist([base] * 3).append_column("time", at)
    path = tmp_path / "ocsf.parquet"
    pq.write_table(table, path)
    got = read_with(readers()["ocsf"], path)
    assert got.read == 3
    assert [r["input_record"] for r in got.rows] == [1, 3]
    (bad,) = got.quarantined
    assert bad.position == "row 2" and "years 1 to 9999" in bad.reason


def _cases_with_events() -> list[str]:
    return sorted(p.name for p in CASES.iterdir() if (p / "events").is_dir())


@pytest.mark.parametrize("name", _cases_with_events())
def test_every_rule_runs_over_times_at_the_edges(name: str, tmp_path: Path) -> None:
    """Each golden case, plus its first event at year 1, at 9999 and past year 1: the
    verdict is the case's own and only the record past the edge is quarantined."""
    folder = CASES / name
    case = YAML(typ="safe").load(folder / "case.yaml") or {}
    first = min(p for p in (folder / "events").rglob("*") if p.is_file())
    record = json.loads(first.read_text().splitlines()[0])
    record = record["Records"][0] if "Records" in record else record
    edges = tmp_path / "edges.jsonl"
    times = ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+01:00"]
    edges.write_text(
        "".join(
            json.dumps({**record, "eventTime": t, "eventID": f"edge-{i}"}) + "\n"
            for i, t in enumerate(times)
        )
    )
    out = tmp_path / "out"
    args = ["scan", "--policy", str(folder / "policy.yaml"), "--out", str(out), "--quiet"]
    for stem in ("inventory", "identities", "entities", "travel"):
        for path in sorted(folder.glob(f"{stem}.*")):
            args += [f"--{stem}", str(path)]
    args += ["--events", str(folder / "events"), "--events", str(edges)]
    real = str(Path(__file__).resolve().parents[2] / "shared" / "data" / "real")
    args += [str(a).replace("{REAL}", real) for a in case.get("args") or []]
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == case.get("exit_code", 0), result.output
    quarantine = (out / "quarantine.jsonl").read_text().splitlines()
    assert [json.loads(q)["position"] for q in quarantine] == ["line 3"]
