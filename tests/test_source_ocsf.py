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
from hypothesis import given
from hypothesis import strategies as st

from borderwatch.sources.inputs import head_bytes
from borderwatch.sources.ocsf import OcsfSource
from readerkit import (
    ALL_SAMPLES,
    Read,
    check_byte_damage,
    check_sniff_isolation,
    fuzz_settings,
    overwrite,
    read_with,
    write_and_read,
)

SOURCE = OcsfSource()


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


def read_all(path: Path) -> Read:
    return read_with(SOURCE, path, batch_size=2)


def write_parquet(path: Path, records: list[dict[str, Any]]) -> None:
    pq.write_table(pa.Table.from_pylist(records), path, row_group_size=2)


def check(path: Path) -> None:
    """`path` holds RECORDS: claimed, read, two rows mapped and two records quarantined."""
    assert SOURCE.sniff(path, head_bytes(path))
    read, rows, quarantined = read_all(path)
    assert read == 4
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
    check(path)


def test_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "ocsf.json.gz"
    path.write_bytes(gzip.compress("\n".join(json.dumps(r) for r in RECORDS).encode()))
    check(path)


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
    check_sniff_isolation(SOURCE, [path], ALL_SAMPLES)
    other = tmp_path / "other.parquet"
    pq.write_table(pa.table({"a": [1]}), other)
    assert not SOURCE.sniff(other, head_bytes(other))


@fuzz_settings(max_examples=30)
@given(data=st.data())
def test_random_corruption_never_raises_and_accounts(tmp_path: Path, data: st.DataObject) -> None:
    """A damaged Parquet file, then the same byte edits to the records as JSON lines."""
    path = tmp_path / "fuzz.parquet"
    write_parquet(path, RECORDS * 3)
    original = path.read_bytes()
    edits = check_byte_damage(SOURCE, data, original, path, batch_size=2, gzip_layer=False)
    text = "\n".join(json.dumps(r) for r in RECORDS).encode()
    write_and_read(SOURCE, tmp_path / "fuzz.jsonl", overwrite(text, edits), batch_size=2)
