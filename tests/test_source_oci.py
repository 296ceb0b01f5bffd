"""The OCI Audit reader on fixtures written from Oracle's documented schema (no real sample)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from borderwatch.sources.cloudtrail import CloudTrailSource
from borderwatch.sources.inputs import head_bytes
from borderwatch.sources.oci_audit import OciAuditSource, normalise
from borderwatch.sources.record import RecordError
from readerkit import (
    CORRUPTION,
    Read,
    check_corruption,
    check_sniff_isolation,
    read_with,
)

SOURCE = OciAuditSource()


def _event(i: int, status: str = "200", action: str = "GET") -> dict[str, Any]:
    """An Audit v2 event as Oracle documents it (CloudEvents 0.1 envelope)."""
    return {
        "eventType": "com.oraclecloud.objectstorage.getobject",
        "cloudEventsVersion": "0.1",
        "eventTypeVersion": "2.0",
        "source": "ObjectStorage",
        "eventId": f"ev-{i}",
        "eventTime": "2026-03-01T10:00:00.123Z",
        "contentType": "application/json",
        "data": {
            "eventGroupingId": None,
            "eventName": "GetObject",
            "compartmentId": "ocid1.compartment.oc1..aaaa",
            "compartmentName": "finance",
            "resourceName": "payroll",
            "resourceId": "ocid1.bucket.oc1.eu-frankfurt-1.aaaa",
            "availabilityDomain": "AD1",
            "identity": {
                "principalName": f"user{i}@example.com",
                "principalId": f"ocid1.user.oc1..u{i}",
                "authType": "natv",
                "callerName": None,
                "callerId": None,
                "tenantId": "ocid1.tenancy.oc1..tttt",
                "ipAddress": "81.2.69.142",
                "credentials": "ST$...",
                "userAgent": "oci-cli/3.40.0",
                "consoleSessionId": None,
            },
            "request": {
                "id": f"req-{i}",
                "path": "/n/ns/b/payroll/o/jan.csv",
                "action": action,
                "parameters": {},
                "headers": {"Host": ["objectstorage.eu-frankfurt-1.oraclecloud.com"]},
            },
            "response": {"status": status, "responseTime": "2026-03-01T10:00:00.200Z"},
            "additionalDetails": {"bucketName": "payroll", "namespace": "ns"},
        },
    }


GOOD = [_event(i) for i in range(12)]
OWN_SAMPLES: list[Path] = []


def wrap(records: list[dict[str, Any]]) -> Any:
    return {"data": records}  # oci audit event list


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


def test_own_fixture_is_sniffed_and_not_claimed_by_cloudtrail(tmp_path: Path) -> None:
    path = tmp_path / "audit.json"
    path.write_text("\n".join(json.dumps(e) for e in GOOD))
    assert SOURCE.sniff(path, head_bytes(path))
    assert not CloudTrailSource().sniff(path, head_bytes(path))


def test_json_lines_with_a_failed_request_and_a_bad_record(tmp_path: Path) -> None:
    lines = [_event(1), _event(2, status="404"), {"eventType": "x", "data": {"identity": 5}}]
    lines.append({**_event(3), "eventTime": None})
    path = tmp_path / "audit.jsonl"
    path.write_text("\n".join(json.dumps(e) for e in lines) + "\nnot json\n")
    got = read(path)
    assert got.read == 5 and len(got.rows) == 2 and len(got.quarantined) == 3
    ok, failed = got.rows
    assert ok["caller"] == "81.2.69.142" and ok["principal"] == "user1@example.com"
    assert ok["account"] == "ocid1.tenancy.oc1..tttt" and ok["region"] == "eu-frankfurt-1"
    assert "payroll" in ok["resources"] and ok["read_only"] is True
    assert ok["error_code"] is None and failed["error_code"] == "404"
    reasons = " | ".join(q.reason for q in got.quarantined)
    assert "data.identity" in reasons and "eventTime" in reasons and "invalid JSON" in reasons


def test_cli_kebab_case_list(tmp_path: Path) -> None:
    event = {
        "event-type": "com.oraclecloud.ComputeApi.TerminateInstance",
        "event-id": "k1",
        "event-time": "2026-03-01T10:00:00Z",
        "source": "ComputeApi",
        "data": {
            "compartment-id": "ocid1.compartment.oc1..c",
            "resource-name": "web-1",
            "identity": {"ip-address": "2a02:cf40::1", "principal-name": "ops"},
            "request": {"action": "DELETE"},
            "response": {"status": "204"},
        },
    }
    path = tmp_path / "cli.json"
    path.write_text(json.dumps({"data": [event]}, indent=2))
    assert SOURCE.sniff(path, head_bytes(path))
    (row,) = read(path).rows
    assert row["caller"] == "2a02:cf40::1" and row["principal"] == "ops"
    assert row["read_only"] is False and row["resources"] == ["web-1"]
    assert row["action"] == "com.oraclecloud.ComputeApi.TerminateInstance"


def test_wrong_types_are_rejected() -> None:
    with pytest.raises(RecordError, match="ipAddress"):
        normalise({**_event(1), "data": {"identity": {"ipAddress": ["1.2.3.4"]}}})
    with pytest.raises(RecordError, match=r"response\.status"):
        normalise({**_event(1), "data": {"response": {"status": "oops"}}})
