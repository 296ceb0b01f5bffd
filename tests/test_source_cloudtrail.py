"""The CloudTrail reader on real published samples, on damage, and on random corruption."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from borderwatch.ingest.expansion import expand_inputs
from borderwatch.model.events import QuarantinedRecord
from borderwatch.sources.base import SourceBatch
from borderwatch.sources.cloudtrail import CloudTrailSource
from borderwatch.sources.cloudtrail_record import normalise, resource_keys
from borderwatch.sources.inputs import head_bytes
from borderwatch.sources.record import RecordError

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
AWS_LIB = REAL / "aws-cloudtrail-processing-library" / "src" / "test" / "resources" / "resources"
SOURCE = CloudTrailSource()


@dataclass
class Read:
    read: int
    rows: list[dict[str, Any]]
    quarantined: list[QuarantinedRecord]
    skipped: str


def read(path: Path) -> tuple[list[SourceBatch], Read]:
    batches = list(SOURCE.read(path, batch_size=7))
    rows = [row for b in batches for row in b.events.to_pylist()]
    quarantined = [q for b in batches for q in b.quarantined]
    for batch in batches:
        assert batch.records_read == batch.events.num_rows + len(batch.quarantined)
    skipped = next((b.skipped_reason for b in batches if b.skipped_reason), "")
    return batches, Read(sum(b.records_read for b in batches), rows, quarantined, skipped)


def test_records_file_plain_and_gzipped_give_the_same_events() -> None:
    _, plain = read(AWS_LIB / "SerializerTestFileCompact.json")
    _, gz = read(AWS_LIB / "SerializerTestFileCompact.json.gz")
    assert plain.read == 6 and not plain.quarantined
    assert [r["event_id"] for r in plain.rows] == [r["event_id"] for r in gz.rows]


@pytest.mark.parametrize(
    ("name", "accepted", "quarantined", "reason"),
    [
        ("SerializerTestFileBadJsonFormat.json", 0, 1, "invalid JSON"),
        ("SerializerAllFieldsNull.json", 1, 1, "no eventName and no eventSource"),
        ("SerializerTestFileMissField.json", 3, 1, "not an ISO 8601 time"),
        ("SerializerTestFileBadFieldName.json", 1, 1, "no eventName"),
    ],
)
def test_broken_library_files_are_quarantined_with_reasons(
    name: str, accepted: int, quarantined: int, reason: str
) -> None:
    _, got = read(AWS_LIB / name)
    assert len(got.rows) == accepted
    assert len(got.quarantined) == quarantined
    assert all(reason in q.reason for q in got.quarantined)


def test_vendor_file_with_missing_comma_keeps_the_records_before_the_damage() -> None:
    _, got = read(REAL / "zmallen-cloudtrail2sightings" / "aws.execution.ec2-user-data.json")
    # Records 1 and 3 are read; record 2 (lines 112-200, after the missing comma) is
    # quarantined, and reading goes on at the next record opening at a line start.
    assert [row["input_record"] for row in got.rows] == [1, 3]
    (damage,) = got.quarantined
    assert "lines 112-200" in damage.position and "expected ','" in damage.reason


def test_vendor_reshaped_caller_comes_from_network_client_ip() -> None:
    _, got = read(
        REAL / "zmallen-cloudtrail2sightings" / "aws.defense-evasion.cloudtrail-delete.json"
    )
    (row,) = got.rows
    assert row["caller"] == "62.167.105.104"
    assert (
        row["principal"]
        == "arn:aws:sts::677301038893:assumed-role/account-admin/christophe.tafanidereeper"
    )
    assert "arn:aws:iam::677301038893:role/account-admin" in row["principal_aliases"]
    assert "christophe.tafanidereeper" in row["principal_aliases"]


def test_logstash_json_lines_use_at_timestamp() -> None:
    path = REAL / "otrf-security-datasets" / "ec2_proxy_s3_exfiltration_2020-09-14011940.json"
    _, got = read(path)
    rows = got.rows
    assert len(rows) == 103 and not got.quarantined
    assert rows[0]["event_id"] == "fd4f1042-c7f6-4107-a6ee-d841d92596e7"
    assert rows[0]["event_time"].isoformat() == "2020-09-14T00:44:23+00:00"
    assert rows[0]["caller"] == "1.2.3.4"


def test_eventbridge_envelope_is_unwrapped() -> None:
    _, got = read(REAL / "cloud-custodian" / "tests" / "data" / "cwe" / "event-cloud-trail-s3.json")
    (row,) = got.rows
    assert row["event_id"] == "80486b96-9f31-441e-b4e2-b85a4e520a07"
    assert row["action"] == "CreateBucket"
    assert "cwe-test" in row["resources"]


def test_panther_fixtures_account_for_every_line() -> None:
    path = REAL / "panther-analysis" / "rule-test-logs" / "AWS.CloudTrail.jsonl"
    lines = [line for line in path.read_bytes().splitlines() if line.strip()]
    _, got = read(path)
    assert got.read == len(lines) == 476
    callers = {r["caller"] for r in got.rows}
    assert "AWS Internal" in callers  # non-IP values are kept as logged, for the classifier


def test_digest_and_notification_files_are_skipped_with_a_note(tmp_path: Path) -> None:
    digest = tmp_path / "123_CloudTrail-Digest_us-east-1_x.json.gz"
    digest.write_bytes(
        gzip.compress(
            json.dumps(
                {"awsAccountId": "1", "digestStartTime": "a", "digestEndTime": "b", "logFiles": []}
            ).encode()
        )
    )
    assert SOURCE.sniff(digest, head_bytes(digest))
    _, got = read(digest)
    assert "digest" in str(got.skipped) and got.read == 0
    _, note = read(AWS_LIB / "SQSMessageBody")
    assert "notification" in str(note.skipped)


def test_truncated_gzip_keeps_complete_lines_and_reports_the_damage(tmp_path: Path) -> None:
    lines = [
        json.dumps({"eventID": f"e{i}", "eventTime": "2026-01-01T00:00:00Z", "eventName": "Get"})
        for i in range(2000)
    ]
    data = gzip.compress("\n".join(lines).encode())
    path = tmp_path / "cut.json.gz"
    path.write_bytes(data[: len(data) // 2])
    _, got = read(path)
    rows, quarantined = got.rows, got.quarantined
    assert 0 < len(rows) < 2000
    assert any("truncated" in q.reason for q in quarantined)


def test_wrong_types_are_rejected_not_coerced() -> None:
    base = {"eventTime": "2026-01-01T00:00:00Z", "eventName": "GetObject"}
    with pytest.raises(RecordError, match="userIdentity"):
        normalise({**base, "userIdentity": "root"})
    with pytest.raises(RecordError, match="sourceIPAddress"):
        normalise({**base, "sourceIPAddress": {"ip": "1.2.3.4"}})
    with pytest.raises(RecordError, match="eventTime"):
        normalise({**base, "eventTime": 1700000000})
    assert normalise({**base, "recipientAccountId": 123456789012})["account"] == "123456789012"


def test_record_without_event_id_gets_a_stable_content_id() -> None:
    record = {"eventTime": "2026-01-01T00:00:00Z", "eventName": "GetObject", "b": 1, "a": 2}
    reordered = {"a": 2, "b": 1, "eventName": "GetObject", "eventTime": "2026-01-01T00:00:00Z"}
    assert normalise(record)["event_id"] == normalise(reordered)["event_id"]
    assert normalise(record)["event_id"].startswith("sha256:")


def test_resource_keys_give_the_names_an_inventory_uses() -> None:
    assert resource_keys("arn:aws:s3:::media/a/b.mp4") == [
        "arn:aws:s3:::media/a/b.mp4",
        "arn:aws:s3:::media",
        "media",
    ]
    assert resource_keys("arn:aws:dynamodb:us-east-1:1:table/users") == [
        "arn:aws:dynamodb:us-east-1:1:table/users",
        "users",
    ]
    assert resource_keys("arn:aws:rds:us-east-1:1:cluster:accounts")[-1] == "accounts"
    assert resource_keys("plain-bucket") == ["plain-bucket"]


def test_expand_inputs_walks_directories_in_order_and_rejects_typos(tmp_path: Path) -> None:
    (tmp_path / "b" / "2026").mkdir(parents=True)
    (tmp_path / "a").mkdir()
    for rel in ("b/2026/2.json", "a/1.json", "a/.hidden.json", "b/x.json.md5"):
        (tmp_path / rel).write_text("{}")
    found = [f.path.relative_to(tmp_path).as_posix() for f in expand_inputs([tmp_path])]
    assert found == ["a/1.json", "b/2026/2.json"]
    globbed = expand_inputs([str(tmp_path / "**" / "*.json")])
    assert [f.path.name for f in globbed] == ["1.json", "2.json"]
    from borderwatch.errors import UsageError

    with pytest.raises(UsageError, match="not found"):
        expand_inputs([tmp_path / "nope"])


_GOOD = [
    {
        "eventID": f"id-{i}",
        "eventTime": "2026-03-01T10:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "sourceIPAddress": "81.2.69.142",
        "userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::1:user/u{i}"},
    }
    for i in range(12)
]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    form=st.sampled_from(["lines", "records", "records-gz", "lines-gz"]),
    edits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=10_000), st.binary(min_size=0, max_size=4)),
        max_size=6,
    ),
    cut=st.one_of(st.none(), st.integers(min_value=1, max_value=10_000)),
)
def test_random_corruption_never_crashes_and_accounting_holds(
    tmp_path: Path, form: str, edits: list[tuple[int, bytes]], cut: int | None
) -> None:
    if form.startswith("lines"):
        data = bytearray("\n".join(json.dumps(r) for r in _GOOD).encode())
    else:
        data = bytearray(json.dumps({"Records": _GOOD}, indent=1).encode())
    for offset, replacement in edits:
        at = offset % max(len(data), 1)
        data[at : at + len(replacement)] = replacement
    if form.endswith("gz"):
        data = bytearray(gzip.compress(bytes(data)))
    if cut is not None:
        data = data[: max(1, cut % len(data))]
    path = tmp_path / f"corrupt-{form}.json"
    path.write_bytes(bytes(data))
    _, got = read(path)
    accepted = len(got.rows)
    assert got.read == accepted + len(got.quarantined)
    # Edits can split or merge nothing into extra records: every accepted one was there.
    assert accepted <= len(_GOOD)
