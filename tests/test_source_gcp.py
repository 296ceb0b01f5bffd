"""The GCP Cloud Audit Log reader on Panther's and Cloud Custodian's real samples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from borderwatch.sources.gcp_audit import GcpAuditSource, normalise, read_method, resource_keys
from borderwatch.sources.inputs import head_bytes
from borderwatch.sources.record import RecordError
from readerkit import (
    CORRUPTION,
    PANTHER,
    Read,
    by_record,
    check_corruption,
    check_sniff_isolation,
    json_lines,
    read_with,
)

SOURCE = GcpAuditSource()
CUSTODIAN = sorted(
    (
        Path(__file__).resolve().parents[2]
        / "shared/data/real/cloud-custodian/tools/c7n_gcp/tests/data/events"
    ).glob("*.json")
)
OWN_SAMPLES = [
    Path(__file__).resolve().parents[2]
    / "shared/data/real/panther-analysis/rule-test-logs/GCP.AuditLog.jsonl",
    CUSTODIAN[0],
]
GOOD = [
    {
        "insertId": f"id-{i}",
        "timestamp": "2026-03-01T10:00:00Z",
        "logName": "projects/p1/logs/cloudaudit.googleapis.com%2Fdata_access",
        "resource": {"type": "gcs_bucket", "labels": {"bucket_name": "b", "location": "eu"}},
        "protoPayload": {
            "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
            "methodName": "storage.objects.get",
            "resourceName": f"projects/_/buckets/b/objects/o{i}",
            "authenticationInfo": {"principalEmail": f"u{i}@example.com"},
            "requestMetadata": {"callerIp": "81.2.69.142"},
        },
    }
    for i in range(12)
]


def wrap(records: list[dict[str, Any]]) -> Any:
    return records  # gcloud logging read --format=json


def read(path: Path) -> Read:
    return read_with(SOURCE, path)


def test_sniff_claims_none_of_the_other_formats_and_cloudtrail_not_this_one() -> None:
    check_sniff_isolation(SOURCE, OWN_SAMPLES)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(**CORRUPTION)
def test_random_corruption_never_crashes_and_accounting_holds(
    tmp_path: Path, form: str, edits: list[tuple[int, bytes]], cut: int | None
) -> None:
    check_corruption(SOURCE, GOOD, wrap, tmp_path, form, edits, cut)


def _expected_accepted(entries: list[Any]) -> int:
    """Entries an auditor can use: an audit payload, well-typed metadata, and a time."""
    count = 0
    for entry in entries:
        keys = {k.lower(): v for k, v in entry.items()}
        payload = keys.get("protopayload")
        if not isinstance(payload, dict):
            continue
        if isinstance(payload.get("requestMetadata"), str):
            continue
        if any(keys.get(k) for k in ("timestamp", "receivetimestamp", "p_event_time")):
            count += 1
    return count


def test_panther_fixtures_account_for_every_line() -> None:
    path = PANTHER / "GCP.AuditLog.jsonl"
    entries = json_lines(path)
    got = read(path)
    assert got.read == len(entries) == 206
    assert len(got.rows) == _expected_accepted(entries) == 147
    reasons = {q.reason.split(":")[0] for q in got.quarantined}
    assert reasons == {
        "timestamp or receiveTimestamp or p_event_time missing",
        "not a Cloud Audit Log entry",
        "protoPayload.requestMetadata is a string, expected an object",
    }


def test_both_caller_spellings_ipv6_and_non_ip_callers_are_kept_raw() -> None:
    got = read(PANTHER / "GCP.AuditLog.jsonl")
    spelled_upper = by_record(got, 3)  # requestMetadata.callerIP
    assert spelled_upper["caller"] == "111.111.111.111"
    assert spelled_upper["principal"] == "bob@example.com"
    assert by_record(got, 176)["caller"] == "07da:0994:97fb:8db1:c68f:c109:fcdd:d594"
    assert by_record(got, 113)["caller"] == "gce-internal-ip"
    callers = {r["caller"] for r in got.rows}
    assert {"private", "12.12.12.12", "136.24.229.58"} <= callers


def test_bucket_resources_failures_and_reads() -> None:
    got = read(PANTHER / "GCP.AuditLog.jsonl")
    delete = by_record(got, 90)
    assert "test-bucket" in delete["resources"]  # an inventory store id matches
    assert delete["read_only"] is False and delete["error_code"] is None
    assert delete["account"] == "test-project"
    denied = by_record(got, 91)
    assert denied["error_code"] == "PERMISSION_DENIED"
    get = by_record(got, 40)
    assert get["read_only"] is True and get["error_code"] == "PERMISSION_DENIED"
    update = by_record(got, 50)
    assert update["region"] == "us-east1" and "my-bucket" in update["resources"]


def test_custodian_events_all_read_with_callers_and_locations() -> None:
    audit = [p for p in CUSTODIAN if p.name != "network-finding.json"]
    assert len(CUSTODIAN) == 46 and len(audit) == 45
    rows = []
    for path in audit:
        assert SOURCE.sniff(path, head_bytes(path)), path.name
        got = read(path)
        assert got.read == 1 and not got.quarantined, path.name
        rows.extend(got.rows)
    assert all(r["caller"] for r in rows)
    by_file = dict(zip([p.name for p in audit], rows, strict=True))
    assert by_file["autoscaler-insert.json"]["region"] == "us-central1-a"
    assert by_file["kms-keyring-create.json"]["region"] == "us-central1"
    assert by_file["bq-dataset-create.json"]["region"] == "US"  # resourceLocation
    bq = by_file["bq-dataset-create.json"]
    assert bq["caller"] == "65.114.164.50" and bq["principal"] == "kapilt@gmail.com"
    assert bq["event_id"] == "yz0lpmds6hb" and bq["account"] == "custodian-1291"
    assert "test" in by_file["bq-job-create.json"]["resources"]


def test_security_command_center_finding_is_not_an_audit_entry() -> None:
    finding = next(p for p in CUSTODIAN if p.name == "network-finding.json")
    assert not SOURCE.sniff(finding, head_bytes(finding))
    got = read(finding)
    assert not got.rows and "no protoPayload" in got.quarantined[0].reason


def test_bigquery_export_and_entries_container(tmp_path: Path) -> None:
    exported = {
        "insertid": "x1",
        "timestamp": "2026-01-01T00:00:00Z",
        "protopayload_auditlog": {
            "methodName": "google.cloud.bigquery.v2.TableDataService.List",
            "resourceName": "projects/p/datasets/d/tables/t",
            "requestMetadata": {"callerIp": "private"},
        },
    }
    path = tmp_path / "entries.json"
    path.write_text(json.dumps({"entries": [exported, {"timestamp": 3}]}))
    got = read(path)
    (row,) = got.rows
    assert row["caller"] == "private" and row["read_only"] is True
    assert {"d", "t", "d.t"} <= set(row["resources"]) and row["account"] == "p"
    assert len(got.quarantined) == 1


def test_wrong_types_are_rejected_not_coerced() -> None:
    base = {"timestamp": "2026-01-01T00:00:00Z", "protoPayload": {"methodName": "x.get"}}
    with pytest.raises(RecordError, match="callerIp"):
        normalise({**base, "protoPayload": {"requestMetadata": {"callerIp": ["1.2.3.4"]}}})
    with pytest.raises(RecordError, match="protoPayload"):
        normalise({**base, "protoPayload": "text"})
    with pytest.raises(RecordError, match=r"status\.code"):
        normalise({**base, "protoPayload": {"status": {"code": "denied"}}})


def test_resource_keys_and_read_methods() -> None:
    assert resource_keys("projects/_/buckets/B/objects/a/b.txt") == [
        "projects/_/buckets/B/objects/a/b.txt",
        "projects/_/buckets/B",
        "B",
    ]
    assert "B" in resource_keys("//storage.googleapis.com/projects/_/buckets/B")
    assert read_method("storage.objects.get") is True
    assert read_method("storage.objects.delete") is False
    assert read_method("google.cloud.bigquery.v2.JobService.InsertJob") is None
