"""The OCSF API Activity reader: Security Lake Parquet and JSON lines.

No real OCSF sample is in the shared data, so the fixture below is written here from the
OCSF 1.1 API Activity class (6003) as Amazon Security Lake maps CloudTrail into it
(metadata.uid = eventID, api.operation = eventName, src_endpoint.ip = sourceIPAddress...),
and written to Parquet with pyarrow.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from borderwatch.sources.base import SourceBatch
from borderwatch.sources.cloudtrail import CloudTrailSource
from borderwatch.sources.inputs import head_bytes
from borderwatch.sources.ocsf import OcsfSource

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
LOGS = REAL / "panther-analysis" / "rule-test-logs"
SOURCE = OcsfSource()
OTHERS = [
    REAL / "aws-cloudtrail-processing-library/src/test/resources/resources/SerializerTestFile.json",
    LOGS / "Amazon.EKS.Audit.jsonl",
    LOGS / "GitHub.Audit.jsonl",
    LOGS / "GSuite.ActivityEvent.jsonl",
    LOGS / "AWS.S3ServerAccess.jsonl",
    LOGS / "scenario_AWS.S3ServerAccess.jsonl",
    LOGS / "AWS.CloudTrail.jsonl",
    REAL / "otrf-security-datasets" / "AWS_S3_HoneyBucketLogs.csv",
]


def record(n: int, **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "class_uid": 6003,
        "class_name": "API Activity",
        "category_uid": 6,
        "activity_id": 2,
        "severity_id": 1,
        "status_id": 1,
        "time": 1767225600000 + n * 1000,
        "metadata": {
            "uid": f"0b8a2c1e-0000-4000-8000-{n:012d}",
            "version": "1.1.0",
            "product": {"name": "CloudTrail", "vendor_name": "AWS", "version": "1.09"},
        },
        "api": {
            "operation": "GetObject",
            "service": {"name": "s3.amazonaws.com"},
            "request": {"uid": f"REQ{n}"},
            "response": {"error": None, "message": None},
        },
        "actor": {
            "user": {
                "type": "AssumedRole",
                "uid": "AROAEXAMPLE:alice",
                "name": "alice",
                "credential_uid": "ASIAEXAMPLE",
                "account": {"uid": "123456789012"},
            },
            "session": {"issuer": "arn:aws:iam::123456789012:role/Analyst"},
        },
        "src_endpoint": {
            "ip": "81.2.69.142",
            "location": {"country": "GB", "city": "London"},
        },
        "http_request": {"user_agent": "aws-sdk-java/2.25"},
        "cloud": {"provider": "AWS", "region": "eu-west-1", "account": {"uid": "123456789012"}},
        "resources": [{"uid": "arn:aws:s3:::eu-data/reports/q1.csv", "type": "AWS::S3::Object"}],
    }
    base.update(changes)
    return base


RECORDS = [
    record(1),
    record(2, activity_id=1, api={"operation": "PutObject", "service": {"name": "s3.amazonaws.com"},
                                  "response": {"error": "AccessDenied", "message": "denied"}}),
    record(3, time=None),
    record(4, class_uid=3002),
]  # fmt: skip


def read_all(path: Path) -> tuple[int, list[dict[str, Any]], list[Any]]:
    batches: list[SourceBatch] = list(SOURCE.read(path, batch_size=2))
    for batch in batches:
        assert batch.records_read == batch.events.num_rows + len(batch.quarantined)
    rows = [row for b in batches for row in b.events.to_pylist()]
    return sum(b.records_read for b in batches), rows, [q for b in batches for q in b.quarantined]


def write_parquet(path: Path, records: list[dict[str, Any]]) -> None:
    pq.write_table(pa.Table.from_pylist(records), path, row_group_size=2)


def check(rows: list[dict[str, Any]], quarantined: list[Any]) -> None:
    assert len(rows) == 2
    first, denied = rows
    assert first["event_id"] == "0b8a2c1e-0000-4000-8000-000000000001"
    assert first["event_time"].isoformat() == "2026-01-01T00:00:01+00:00"
    assert (first["provider"], first["region"], first["account"]) == (
        "aws",
        "eu-west-1",
        "123456789012",
    )
    assert (first["service"], first["action"]) == ("s3.amazonaws.com", "GetObject")
    assert first["principal"] == "AROAEXAMPLE:alice"
    assert "arn:aws:iam::123456789012:role/Analyst" in first["principal_aliases"]
    assert (first["caller"], first["claimed_country"]) == ("81.2.69.142", "GB")
    assert first["resources"] == [
        "arn:aws:s3:::eu-data/reports/q1.csv",
        "arn:aws:s3:::eu-data",
        "eu-data",
    ]
    assert first["read_only"] is True and first["error_code"] is None
    assert denied["error_code"] == "AccessDenied" and denied["read_only"] is False
    reasons = {q.position: q.reason for q in quarantined}
    assert "time missing" in reasons["row 3" if "row 3" in reasons else "line 3"]
    assert any("3002" in r for r in reasons.values())


def test_security_lake_parquet(tmp_path: Path) -> None:
    path = tmp_path / "part-0000.zstd.parquet"
    write_parquet(path, RECORDS)
    assert SOURCE.sniff(path, head_bytes(path))
    read, rows, quarantined = read_all(path)
    assert read == 4
    check(rows, quarantined)


def test_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "ocsf.json.gz"
    path.write_bytes(gzip.compress("\n".join(json.dumps(r) for r in RECORDS).encode()))
    assert SOURCE.sniff(path, head_bytes(path))
    read, rows, quarantined = read_all(path)
    assert read == 4
    check(rows, quarantined)


def test_bad_time_row_is_quarantined_with_its_row_number(tmp_path: Path) -> None:
    path = tmp_path / "bad.parquet"
    write_parquet(path, [RECORDS[0], RECORDS[1], {**RECORDS[0], "time": 10**18}])
    read, rows, quarantined = read_all(path)
    assert (read, len(rows)) == (3, 2)
    (bad,) = quarantined
    assert bad.position == "row 3" and "not a valid epoch time" in bad.reason


def test_corrupt_parquet_is_quarantined_whole(tmp_path: Path) -> None:
    good = tmp_path / "good.parquet"
    write_parquet(good, RECORDS)
    data = good.read_bytes()
    cut = tmp_path / "cut.parquet"
    cut.write_bytes(data[: len(data) // 2])
    read, rows, quarantined = read_all(cut)
    assert (read, rows) == (1, [])
    assert quarantined[0].position == "whole file"
    assert "unreadable Parquet file" in quarantined[0].reason


def test_sniff_claims_only_ocsf(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    write_parquet(path, RECORDS)
    assert not CloudTrailSource().sniff(path, head_bytes(path))
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"a": [1]}), other)
    assert not SOURCE.sniff(other, head_bytes(other))
    for sample in OTHERS:
        assert not SOURCE.sniff(sample, head_bytes(sample)), sample.name


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_corruption_never_raises_and_accounts(tmp_path: Path, data: st.DataObject) -> None:
    path = tmp_path / "fuzz.parquet"
    write_parquet(path, RECORDS * 3)
    original = path.read_bytes()
    edits = data.draw(
        st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)), max_size=8)
    )
    corrupted = bytearray(original)
    for offset, value in edits:
        corrupted[offset] = value
    path.write_bytes(bytes(corrupted[: data.draw(st.integers(1, len(corrupted)))]))
    read, rows, quarantined = read_all(path)
    assert read == len(rows) + len(quarantined)
    jsonl = tmp_path / "fuzz.jsonl"
    text = bytearray("\n".join(json.dumps(r) for r in RECORDS).encode())
    for offset, value in edits:
        text[offset % len(text)] = value
    jsonl.write_bytes(bytes(text))
    read, rows, quarantined = read_all(jsonl)
    assert read == len(rows) + len(quarantined)
