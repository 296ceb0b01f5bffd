"""The Azure Activity Log and Entra ID readers on Panther's real samples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from borderwatch.sources.azure_activity import AzureActivitySource
from borderwatch.sources.azure_activity import normalise as activity_normalise
from borderwatch.sources.cloudtrail import CloudTrailSource
from borderwatch.sources.entra import EntraSource
from borderwatch.sources.inputs import head_bytes
from borderwatch.sources.record import RecordError
from readerkit import (
    CORRUPTION,
    OTHER_SAMPLES,
    PANTHER,
    Read,
    by_record,
    check_corruption,
    check_sniff_isolation,
    json_lines,
    read_with,
)

SOURCE: Any = AzureActivitySource()
_STORAGE = "/subscriptions/s1/resourceGroups/g/providers/Microsoft.Storage/storageAccounts"
OWN_SAMPLES = [
    Path(__file__).resolve().parents[2]
    / "shared/data/real/panther-analysis/rule-test-logs/Azure.MonitorActivity.jsonl"
]
GOOD = [
    {
        "time": "2026-03-01T10:00:00Z",
        "resourceId": f"{_STORAGE}/acct{i}",
        "operationName": "Microsoft.Storage/storageAccounts/listKeys/action",
        "category": "Administrative",
        "resultType": "Success",
        "callerIpAddress": "81.2.69.142",
        "identity": {"claims": {"name": f"u{i}@example.com"}},
    }
    for i in range(12)
]


def wrap(records: list[dict[str, Any]]) -> Any:
    return {"records": records}


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


def test_activity_fixtures_account_for_every_line() -> None:
    path = PANTHER / "Azure.MonitorActivity.jsonl"
    records = json_lines(path)
    with_time = [r for r in records if r.get("time") or r.get("p_event_time")]
    got = read(path)
    assert got.read == len(records) == 249
    assert len(got.rows) == len(with_time) == 216
    assert all("time" in q.reason for q in got.quarantined)


def test_activity_known_records() -> None:
    got = read(PANTHER / "Azure.MonitorActivity.jsonl")
    elevate = by_record(got, 157)  # REST-style {value, localizedValue} operationName
    assert elevate["action"] == "Microsoft.Authorization/elevateAccess/action"
    assert elevate["principal"] == "attacker@example.com"
    assert elevate["caller"] == "203.0.113.42"
    blob = by_record(got, 200)  # Storage resource log
    assert blob["caller"] == "1.1.1.1:57484"  # ip:port kept as logged
    assert "mystorageaccount" in blob["resources"]  # matches an inventory store id
    assert blob["read_only"] is True
    assert blob["error_code"] == "BlobUsesCustomerSpecifiedEncryption"
    assert blob["account"] == "12345678-1234-1234-1234-123456789abc"
    failed = [r for r in got.rows if r["error_code"]]
    assert len(failed) == 10


def test_activity_rest_shape(tmp_path: Path) -> None:
    path = tmp_path / "rest.json"
    record = {
        "eventDataId": "e1",
        "eventTimestamp": "2026-01-01T00:00:00Z",
        "caller": "alice@example.com",
        "operationName": {"value": "Microsoft.Storage/storageAccounts/read"},
        "status": {"value": "Failed"},
        "subStatus": {"value": "Forbidden"},
        "httpRequest": {"clientIpAddress": "81.2.69.142"},
        "resourceId": f"{_STORAGE}/a",
    }
    path.write_text(json.dumps({"value": [record, {"operationName": "x"}]}))
    got = read(path)
    (row,) = got.rows
    assert row["caller"] == "81.2.69.142" and row["principal"] == "alice@example.com"
    assert row["error_code"] == "Forbidden" and row["read_only"] is True
    assert row["account"] == "s1" and "a" in row["resources"]
    assert len(got.quarantined) == 1


def test_activity_wrong_types_are_rejected() -> None:
    base = {"time": "2026-01-01T00:00:00Z", "operationName": "a/read"}
    with pytest.raises(RecordError, match=r"(?i)callerIpAddress"):
        activity_normalise({**base, "callerIpAddress": ["1.2.3.4"]})
    with pytest.raises(RecordError, match="identity"):
        activity_normalise({**base, "identity": ["x"]})


def test_entra_sign_ins_and_audits() -> None:
    entra = EntraSource()
    path = PANTHER / "Azure.Audit.jsonl"
    records = json_lines(path)
    batches = list(entra.read(path))
    rows = [r for b in batches for r in b.events.to_pylist()]
    assert sum(b.records_read for b in batches) == len(records) == 48 == len(rows)
    row = {r["input_record"]: r for r in rows}
    assert row[1]["caller"] == "12.12.12.12" and row[1]["claimed_country"] == "US"
    assert row[1]["claimed_location"] == "Springfield, Oregon, US"
    assert row[1]["principal"] == "very-normal-service-principal"
    assert row[10]["error_code"] == "50053" and row[10]["claimed_country"] == "RU"
    assert row[30]["claimed_country"] == "CN"  # "China": a country name
    assert row[31]["claimed_country"] == "US"  # "United States"
    assert row[22]["error_code"] == "failed"  # directory audit with result "failed"
    assert row[2]["principal"] == "denethor@lotr.com"
    assert "admin-compromised-001" in row[2]["principal_aliases"]
    assert row[44]["error_code"] == "50126"


def test_entra_reads_the_m365_management_api_records() -> None:
    entra = EntraSource()
    path = PANTHER / "Microsoft365.Audit.AzureActiveDirectory.jsonl"
    assert entra.sniff(path, head_bytes(path)) and not SOURCE.sniff(path, head_bytes(path))
    rows = [r for b in entra.read(path) for r in b.events.to_pylist()]
    assert len(rows) == 4
    assert rows[0]["caller"] == "1.2.3.4" and rows[0]["error_code"] == "InvalidUserNameOrPassword"
    assert rows[1]["error_code"] is None


def test_entra_sniff_is_exclusive() -> None:
    entra = EntraSource()
    for name, path in OTHER_SAMPLES.items():
        if name != "entra":
            assert not entra.sniff(path, head_bytes(path)), name
    own = PANTHER / "Azure.Audit.jsonl"
    assert not CloudTrailSource().sniff(own, head_bytes(own))


def test_entra_graph_value_list_and_bad_record(tmp_path: Path) -> None:
    sign_in = {
        "id": "s1",
        "createdDateTime": "2026-01-01T00:00:00Z",
        "userPrincipalName": "a@example.com",
        "ipAddress": "2a02:cf40::1",
        "location": {"city": "Oslo", "countryOrRegion": "NO"},
        "status": {"errorCode": 0},
    }
    path = tmp_path / "signins.json"
    path.write_text(json.dumps({"value": [sign_in, {"userPrincipalName": "b"}, 7]}))
    batches = list(EntraSource().read(path))
    rows = [r for b in batches for r in b.events.to_pylist()]
    assert [r["claimed_country"] for r in rows] == ["NO"]
    assert rows[0]["caller"] == "2a02:cf40::1" and rows[0]["error_code"] is None
    assert sum(len(b.quarantined) for b in batches) == 2
