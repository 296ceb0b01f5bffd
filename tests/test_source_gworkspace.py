"""The Google Workspace activity reader on Panther's samples, the API shape, damage."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from borderwatch.sources.base import SourceBatch
from borderwatch.sources.cloudtrail import CloudTrailSource
from borderwatch.sources.gworkspace import GWorkspaceSource
from borderwatch.sources.inputs import head_bytes

REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
LOGS = REAL / "panther-analysis" / "rule-test-logs"
SAMPLE = LOGS / "GSuite.ActivityEvent.jsonl"
SOURCE = GWorkspaceSource()
OTHERS = [
    REAL / "aws-cloudtrail-processing-library/src/test/resources/resources/SerializerTestFile.json",
    LOGS / "Amazon.EKS.Audit.jsonl",
    LOGS / "GitHub.Audit.jsonl",
    LOGS / "AWS.S3ServerAccess.jsonl",
    LOGS / "scenario_AWS.S3ServerAccess.jsonl",
    LOGS / "AWS.CloudTrail.jsonl",
    LOGS / "GCP.AuditLog.jsonl",
    REAL / "otrf-security-datasets" / "AWS_S3_HoneyBucketLogs.csv",
]


def read_all(path: Path) -> tuple[int, list[dict[str, Any]], list[Any]]:
    batches: list[SourceBatch] = list(SOURCE.read(path, batch_size=11))
    for batch in batches:
        assert batch.records_read == batch.events.num_rows + len(batch.quarantined)
    rows = [row for b in batches for row in b.events.to_pylist()]
    return sum(b.records_read for b in batches), rows, [q for b in batches for q in b.quarantined]


def test_panther_samples_account_for_every_line() -> None:
    records = [json.loads(line) for line in SAMPLE.read_text().splitlines() if line.strip()]
    timed = [r for r in records if isinstance(r.get("id"), dict) and r["id"].get("time")]
    read, rows, quarantined = read_all(SAMPLE)
    assert read == len(records) == 165
    assert len(rows) == len(timed) == 94
    assert len(quarantined) == 71


def test_known_record_fields() -> None:
    _, rows, _ = read_all(SAMPLE)
    first = rows[0]
    assert first["event_id"] == "2020-09-07T15:50:49.617Z/1111111111111111111"
    assert first["event_time"].isoformat() == "2020-09-07T15:50:49.617000+00:00"
    assert (first["service"], first["action"]) == ("drive", "change_user_access")
    assert first["principal"] == "example@acme.com"
    assert first["account"] == "C010qxghg"
    assert first["resources"] == ["1111111111111111111", "1 Document Title Primary"]
    created = [r for r in rows if r["action"] == "CREATE_ROLE" and r["caller"] == "12.12.12.12"]
    assert created and created[0]["principal_type"] == "USER"


def test_api_page_with_events_list(tmp_path: Path) -> None:
    page = {
        "kind": "admin#reports#activities",
        "items": [
            {
                "kind": "admin#reports#activity",
                "id": {"time": "2026-01-05T10:00:00.000Z", "uniqueQualifier": "-42",
                       "applicationName": "drive", "customerId": "C0"},
                "actor": {"email": "ana@example.eu", "profileId": "7"},
                "ipAddress": "2a02:cf40::1",
                "networkInfo": {"regionCode": "NO", "subdivisionCode": "NO-03"},
                "events": [
                    {"type": "access", "name": "download",
                     "parameters": [{"name": "doc_id", "value": "DOC1"},
                                    {"name": "primary_event", "boolValue": True}]},
                ],
            },
            {"id": {"time": "yesterday"}, "events": []},
        ],
    }  # fmt: skip
    path = tmp_path / "page.json"
    path.write_text(json.dumps(page))
    assert SOURCE.sniff(path, head_bytes(path))
    read, rows, quarantined = read_all(path)
    assert read == 2 and len(rows) == 1
    (row,) = rows
    assert (row["caller"], row["claimed_country"], row["read_only"]) == ("2a02:cf40::1", "NO", True)
    assert row["resources"] == ["DOC1"] and row["principal_aliases"] == ["7"]
    assert "not an ISO 8601" in quarantined[0].reason


def test_sniff_claims_only_workspace() -> None:
    assert SOURCE.sniff(SAMPLE, head_bytes(SAMPLE))
    assert not CloudTrailSource().sniff(SAMPLE, head_bytes(SAMPLE))
    for other in OTHERS:
        assert not SOURCE.sniff(other, head_bytes(other)), other.name


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_corruption_never_raises_and_accounts(tmp_path: Path, data: st.DataObject) -> None:
    original = SAMPLE.read_bytes()[:8000]
    edits = data.draw(
        st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)), max_size=8)
    )
    corrupted = bytearray(original)
    for offset, value in edits:
        corrupted[offset] = value
    blob = bytes(corrupted[: data.draw(st.integers(1, len(corrupted)))])
    if data.draw(st.booleans()):
        whole = gzip.compress(blob)
        blob = whole[: data.draw(st.integers(1, len(whole)))]
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(blob)
    read, rows, quarantined = read_all(path)
    assert read == len(rows) + len(quarantined)
