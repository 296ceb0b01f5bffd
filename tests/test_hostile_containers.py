"""Files that hide records in their container: several documents, members or frames,
trailing garbage, huge or broken first lines, words that mimic a skipped kind of file.

Every case is one the issue "Nothing lost, nothing hidden" saw lose records silently;
each file here is read with all its intact records, and its damage is quarantined with
its position (read = accepted + quarantined).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Any

import pytest
import zstandard

from borderwatch.sources.cloudtrail import CloudTrailSource
from borderwatch.sources.inputs import head_bytes, iter_lines, read_all
from borderwatch.sources.okta import OktaSource
from readerkit import REAL, read_with

SOURCE = CloudTrailSource()
AWS_LIB = REAL / "aws-cloudtrail-processing-library" / "src/test/resources/resources"


def record(number: int, **fields: Any) -> dict[str, Any]:
    """A CloudTrail S3 data event from a caller in China (CN), as the issue's 49 were."""
    return {
        "eventVersion": "1.08",
        "eventID": f"event-{number}",
        "eventTime": "2026-01-01T00:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "1.2.4.8",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/a", "accountId": "1"},
        "requestParameters": {"bucketName": "customer-data", "key": f"k{number}"},
        **fields,
    }


def container(first: int, stop: int) -> bytes:
    return json.dumps({"Records": [record(i) for i in range(first, stop)]}).encode()


def lines(records: list[dict[str, Any]]) -> bytes:
    return b"\n".join(json.dumps(r).encode() for r in records) + b"\n"


def read(path: Path, data: bytes) -> Any:
    path.write_bytes(data)
    got = read_with(SOURCE, path)
    assert got.read == len(got.rows) + len(got.quarantined)
    return got


def ids(got: Any) -> list[str]:
    return sorted(row["event_id"] for row in got.rows)


def expected(count: int) -> list[str]:
    return sorted(f"event-{i}" for i in range(count))


# -- item 1: nothing is skipped for words a caller writes ---------------------------------


MIMICS = {
    # A User-Agent and an object key a caller chose, in every record.
    "notification-words": dict(
        userAgent="Notification",
        requestParameters={"bucketName": "customer-data", "key": "s3ObjectKey"},
    ),
    # Request tags named like the fields of a digest file.
    "digest-words": dict(
        requestParameters={
            "bucketName": "customer-data",
            "Tagging": {"digestStartTime": "2026", "digestEndTime": "2026"},
        }
    ),
}


@pytest.mark.parametrize("mimic", sorted(MIMICS))
@pytest.mark.parametrize("shape", ["lines", "eventbridge-lines", "container", "lines-gz"])
def test_records_that_mimic_skipped_files_are_read(tmp_path: Path, mimic: str, shape: str) -> None:
    records = [record(i, **MIMICS[mimic]) for i in range(49)]
    if shape == "eventbridge-lines":
        data = lines([{"detail-type": "AWS API Call via CloudTrail", "detail": r} for r in records])
    elif shape == "container":
        data = json.dumps({"Records": records}).encode()
    else:
        data = lines(records)
    if shape.endswith("-gz"):
        data = gzip.compress(data)
    path = tmp_path / "CloudTrail-Digest_look-alike.json"
    got = read(path, data)
    assert ids(got) == expected(49) and not got.quarantined
    assert SOURCE.sniff(path, head_bytes(path))


def test_real_notification_and_a_real_shaped_digest_are_still_skipped(tmp_path: Path) -> None:
    digest = {
        "awsAccountId": "111122223333",
        "digestStartTime": "2026-01-01T00:00:00Z",
        "digestEndTime": "2026-01-01T01:00:00Z",
        "digestS3Bucket": "trail-bucket",
        "digestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/x.json.gz",
        "logFiles": [{"s3Bucket": "trail-bucket", "s3Object": "AWSLogs/x.json.gz"}],
    }
    name = "111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20260101T010000Z.json.gz"
    path = tmp_path / name
    path.write_bytes(gzip.compress(json.dumps(digest).encode()))
    batches = list(SOURCE.read(path))
    assert "digest file named as such" in batches[0].skipped_reason
    assert sum(b.records_read for b in batches) == 0
    (notification,) = SOURCE.read(AWS_LIB / "SQSMessageBody")
    assert "delivery notification" in notification.skipped_reason
    # Several notifications one per line (an SQS export) are skipped as well.
    envelope = json.loads((AWS_LIB / "SQSMessageBody").read_text())
    many = tmp_path / "notifications.jsonl"
    many.write_text("\n".join(json.dumps(envelope) for _ in range(3)))
    (batch,) = SOURCE.read(many)
    assert "notifications" in batch.skipped_reason


def test_a_digest_shaped_document_with_records_beside_it_is_read(tmp_path: Path) -> None:
    digest = {"awsAccountId": "1", "digestStartTime": "a", "digestEndTime": "b", "logFiles": []}
    data = json.dumps(digest).encode() + b"\n" + lines([record(0), record(1)])
    got = read(tmp_path / "mixed.json", data)
    assert ids(got) == expected(2)
    (digest_line,) = got.quarantined  # the digest object is not an event: accounted for
    assert digest_line.position == "line 1"


# -- item 2: every document, member and frame --------------------------------------------


def _gzip_members() -> bytes:
    return gzip.compress(container(0, 3)) + gzip.compress(container(3, 6))


def _zstd_frames() -> bytes:
    return zstandard.compress(container(0, 3)) + zstandard.compress(container(3, 6))


def _zstd_lines_frames() -> bytes:
    return zstandard.compress(lines([record(i) for i in range(3)])) + zstandard.compress(
        lines([record(i) for i in range(3, 6)])
    )


SEVERAL = {
    "gzip-members": _gzip_members,
    "gzip-lines-members": lambda: (
        gzip.compress(lines([record(i) for i in range(3)]))
        + gzip.compress(lines([record(i) for i in range(3, 6)]))
    ),
    "zstd-frames": _zstd_frames,
    "zstd-lines-frames": _zstd_lines_frames,
    "documents-back-to-back": lambda: container(0, 3) + container(3, 6),
    "documents-one-per-line": lambda: container(0, 3) + b"\n" + container(3, 6) + b"\n",
    "three-documents-one-per-line": lambda: b"\n".join(
        [container(0, 2), container(2, 4), container(4, 6)]
    ),
    "pretty-documents": lambda: (
        json.dumps({"Records": [record(i) for i in range(3)]}, indent=2).encode()
        + b"\n"
        + json.dumps({"Records": [record(i) for i in range(3, 6)]}, indent=2).encode()
    ),
    "arrays-back-to-back": lambda: (
        json.dumps([record(i) for i in range(3)]).encode()
        + json.dumps([record(i) for i in range(3, 6)]).encode()
    ),
    "container-with-a-key-after-the-list": lambda: (
        json.dumps({"Records": [record(i) for i in range(3)], "x": {"y": 1}}).encode()
        + container(3, 6)
    ),
}


@pytest.mark.parametrize("case", sorted(SEVERAL))
def test_every_document_member_and_frame_is_read(tmp_path: Path, case: str) -> None:
    got = read(tmp_path / f"{case}.json", SEVERAL[case]())
    assert ids(got) == expected(6)
    assert not got.quarantined


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
@pytest.mark.parametrize("layout", ["container", "lines"])
def test_trailing_garbage_after_compressed_data_is_one_entry_with_its_offset(
    tmp_path: Path, codec: str, layout: str
) -> None:
    content = container(0, 6) if layout == "container" else lines([record(i) for i in range(6)])
    compressed = gzip.compress(content) if codec == "gzip" else zstandard.compress(content)
    got = read(tmp_path / "trailing.gz", compressed + b"GARBAGE appended by someone")
    assert ids(got) == expected(6)
    (garbage,) = got.quarantined
    assert "trailing garbage" in garbage.reason
    assert f"from byte {len(compressed)} of the file" in garbage.reason
    assert "27 bytes" in garbage.reason


def test_zero_padding_after_gzip_is_not_damage(tmp_path: Path) -> None:
    got = read(tmp_path / "padded.gz", gzip.compress(container(0, 6)) + bytes(4096))
    assert ids(got) == expected(6) and not got.quarantined


def test_trailing_garbage_after_json_documents_is_one_entry(tmp_path: Path) -> None:
    data = container(0, 3) + b"\n" + container(3, 6) + b"\nnot json at all\nstill not\n"
    got = read(tmp_path / "garbage.json", data)
    assert ids(got) == expected(6)
    (garbage,) = got.quarantined
    assert garbage.position.startswith("lines 3-4")
    assert "trailing data after the intact documents" in garbage.reason


def test_salvage_goes_past_the_first_closing_bracket(tmp_path: Path) -> None:
    # A first document that breaks part-way, then an intact one: the records before the
    # damage and every record of the second document count.
    broken = container(0, 3)[:-3] + b", {broken"
    got = read(tmp_path / "salvage.json", broken + b"\n" + container(3, 6))
    assert ids(got) == expected(6)[:2] + expected(6)[3:]
    (damage,) = got.quarantined
    assert "of Records (document at line 1)" in damage.reason


def test_damage_in_a_gzip_member_keeps_what_came_before(tmp_path: Path) -> None:
    first = gzip.compress(lines([record(i) for i in range(3)]))
    second = bytearray(gzip.compress(lines([record(i) for i in range(3, 6)])))
    second[20:30] = b"\xff" * 10  # damaged deflate data in the second member
    got = read(tmp_path / "damaged.gz", first + bytes(second))
    assert set(expected(3)) <= set(ids(got))
    assert any("damaged compressed data" in q.reason for q in got.quarantined)


# -- item 3: whole files never become one record -----------------------------------------


@pytest.mark.parametrize("size", [70_000, 300_000, 1_100_000])
@pytest.mark.parametrize("gz", [False, True])
def test_json_lines_with_a_large_first_record(tmp_path: Path, size: int, gz: bool) -> None:
    big = record(0, requestParameters={"bucketName": "customer-data", "pad": "x" * size})
    data = lines([big, *(record(i) for i in range(1, 6))])
    got = read(tmp_path / "big-first.json", gzip.compress(data) if gz else data)
    assert ids(got) == expected(6) and not got.quarantined


def test_json_lines_with_a_broken_first_line(tmp_path: Path) -> None:
    data = b'{"eventID": "x", broken\n' + lines([record(i) for i in range(6)])
    got = read(tmp_path / "broken-first.json", data)
    assert ids(got) == expected(6)
    (broken,) = got.quarantined
    assert broken.position.startswith("line 1 ")


def test_json_lines_with_broken_lines_inside_quarantines_each(tmp_path: Path) -> None:
    rows = [json.dumps(record(i)).encode() for i in range(6)]
    rows[2] = rows[2][:-5]
    rows[4] = b"{{{"
    data = b"{ not json\n" + b"\n".join(rows)
    got = read(tmp_path / "broken-lines.json", data)
    assert ids(got) == sorted(f"event-{i}" for i in (0, 1, 3, 5))
    assert len(got.quarantined) == 3


def test_eventbridge_events_one_per_line_with_a_large_first_event(tmp_path: Path) -> None:
    events = [{"detail-type": "AWS API Call via CloudTrail", "detail": record(i)} for i in range(6)]
    events[0]["detail"]["requestParameters"]["pad"] = "y" * 200_000
    got = read(tmp_path / "eventbridge.json", lines(events))
    assert ids(got) == expected(6)


def test_other_json_readers_read_every_document_too(tmp_path: Path) -> None:
    events = [
        json.loads(line)
        for line in (REAL / "panther-analysis/rule-test-logs/Okta.SystemLog.jsonl")
        .read_text()
        .splitlines()[:4]
    ]
    path = tmp_path / "okta.json"
    path.write_bytes(json.dumps(events[:2]).encode() + b"\n" + json.dumps(events[2:]).encode())
    got = read_with(OktaSource(), path)
    assert len(got.rows) == 4 and not got.quarantined


# -- item 4: records beyond the limit are streamed past ----------------------------------


def test_split_lines_never_holds_a_line_past_the_limit() -> None:
    from borderwatch.sources.inputs import LongLine, split_lines

    blocks = [b'{"a": 1}\n{"long": "', b"x" * 50, b"x" * 50, b'"}\n{"b": 2}\r\n', b"tail"]
    got = [line for block in split_lines(iter(blocks), 64) for line in block]
    assert got[0] == b'{"a": 1}' and got[2] == b'{"b": 2}\r' and got[3] == b"tail"
    assert isinstance(got[1], LongLine) and got[1].length == 112
    assert got[1].startswith(b'{"long": "xx')


def test_over_long_lines_are_quarantined_each_with_their_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BORDERWATCH_MAX_RECORD_BYTES", str(1 << 20))
    huge = record(1, requestParameters={"bucketName": "customer-data", "pad": "z" * (2 << 20)})
    data = lines([record(0), huge, record(2)])
    for name, blob in (("plain.json", data), ("packed.json.gz", gzip.compress(data))):
        got = read(tmp_path / name, blob)
        assert ids(got) == ["event-0", "event-2"]
        (long_line,) = got.quarantined
        assert long_line.position == "line 2"
        assert "longer than the record limit of 1,048,576 bytes" in long_line.reason
        assert "BORDERWATCH_MAX_RECORD_BYTES" in long_line.reason


def test_a_line_head_that_is_valid_json_is_not_taken_for_the_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first bytes of an over-long line parse as a whole record; the line does not.
    monkeypatch.setenv("BORDERWATCH_MAX_RECORD_BYTES", str(1 << 20))
    head = json.dumps(record(1)).encode()
    data = lines([record(0)]) + head + b" " * (2 << 20) + b"tail\n" + lines([record(2)])
    got = read(tmp_path / "head.json", data)
    assert ids(got) == ["event-0", "event-2"] and len(got.quarantined) == 1


def test_the_record_limit_must_allow_a_megabyte(monkeypatch: pytest.MonkeyPatch) -> None:
    from borderwatch.errors import UsageError
    from borderwatch.sources.inputs import record_limit

    monkeypatch.setenv("BORDERWATCH_MAX_RECORD_BYTES", "1000")
    with pytest.raises(UsageError, match="at least 1048576"):
        record_limit()


# Peak memory of the child itself: VmHWM is per address space and starts afresh at exec,
# where getrusage's ru_maxrss would carry over the forking test process's own size.
_PEAK_SCRIPT = """
import re, sys
from pathlib import Path
from borderwatch.sources.cloudtrail import CloudTrailSource
read = accepted = quarantined = 0
for batch in CloudTrailSource().read(Path(sys.argv[1])):
    read += batch.records_read
    accepted += batch.events.num_rows
    quarantined += len(batch.quarantined)
status = Path("/proc/self/status").read_text()
peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) * 1024
print(read, accepted, quarantined, peak)
"""


def _gzip_of_one_long_line(path: Path, prefix: bytes, size: int) -> None:
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"x" * (1 << 20)
    with path.open("wb") as out:
        out.write(compressor.compress(lines([record(0)]) + prefix))
        for _ in range(size >> 20):
            out.write(compressor.compress(block))
        out.write(compressor.compress(b'"}\n' + lines([record(1)])))
        out.write(compressor.flush())


def test_a_small_gzip_holding_a_huge_line_is_read_in_bounded_memory(tmp_path: Path) -> None:
    # 512 MiB of one line in half a megabyte of gzip: held whole it would need more than
    # the whole bound below. Peak memory is measured in a child process (not timed).
    path = tmp_path / "bomb.json.gz"
    _gzip_of_one_long_line(path, b'{"eventID": "huge", "pad": "', 512 << 20)
    assert path.stat().st_size < 1 << 20
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run(
        [sys.executable, "-c", _PEAK_SCRIPT, str(path)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    read_count, accepted, quarantined, peak = map(int, done.stdout.split())
    assert (read_count, accepted, quarantined) == (3, 2, 1)
    assert peak < 400 << 20, f"peak RSS {peak >> 20} MiB"


def test_iter_lines_and_read_all_keep_every_member(tmp_path: Path) -> None:
    path = tmp_path / "members.gz"
    path.write_bytes(gzip.compress(b"a\nb\n") + gzip.compress(b"c\r\nd"))
    assert [line for _, line in iter_lines(path)] == [b"a", b"b", b"c", b"d"]
    assert read_all(path) == (b"a\nb\nc\r\nd", None)


def test_gcp_json_lines_with_a_large_broken_first_line_keep_every_entry(tmp_path: Path) -> None:
    from borderwatch.sources.gcp_audit import GcpAuditSource

    entries = [
        json.loads(line)
        for line in (REAL / "panther-analysis/rule-test-logs/GCP.AuditLog.jsonl")
        .read_text()
        .splitlines()
        if line.strip()
    ][:20]
    source = GcpAuditSource()
    plain = tmp_path / "plain.jsonl"
    plain.write_text("\n".join(json.dumps(e) for e in entries))
    clean = read_with(source, plain)
    path = tmp_path / "gcp.jsonl"
    path.write_bytes(b'{"protoPayload": {"pad": "' + b"p" * 100_000 + b"\n" + plain.read_bytes())
    got = read_with(source, path)
    assert len(got.rows) == len(clean.rows) > 0
    broken, *rest = got.quarantined
    assert broken.position.startswith("line 1 ") and len(rest) == len(clean.quarantined)
