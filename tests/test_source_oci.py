"""The OCI Audit reader on fixtures written from Oracle's documented schema (no real sample)."""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from borderwatch.model.events import QuarantinedRecord
from borderwatch.sources.cloudtrail import CloudTrailSource
from borderwatch.sources.inputs import head_bytes
from borderwatch.sources.oci_audit import OciAuditSource, normalise
from borderwatch.sources.record import RecordError

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


REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
PANTHER = REAL / "panther-analysis" / "rule-test-logs"
CLOUDTRAIL = (
    REAL
    / "aws-cloudtrail-processing-library"
    / "src/test/resources/resources/SerializerTestFile.json"
)
OTHER_SAMPLES = {
    "cloudtrail": CLOUDTRAIL,
    "gcp-audit": PANTHER / "GCP.AuditLog.jsonl",
    "azure-activity": PANTHER / "Azure.MonitorActivity.jsonl",
    "entra": PANTHER / "Azure.Audit.jsonl",
    "okta": PANTHER / "Okta.SystemLog.jsonl",
}


@dataclass
class Read:
    read: int
    rows: list[dict[str, Any]]
    quarantined: list[QuarantinedRecord]


def read(path: Path) -> Read:
    batches = list(SOURCE.read(path, batch_size=7))
    for batch in batches:
        assert batch.records_read == batch.events.num_rows + len(batch.quarantined)
    rows = [row for b in batches for row in b.events.to_pylist()]
    quarantined = [q for b in batches for q in b.quarantined]
    return Read(sum(b.records_read for b in batches), rows, quarantined)


def json_lines(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def by_record(got: Read, number: int) -> dict[str, Any]:
    return next(r for r in got.rows if r["input_record"] == number)


def corrupt(data: bytes, edits: list[tuple[int, bytes]], cut: int | None, gz: bool) -> bytes:
    buffer = bytearray(data)
    for offset, replacement in edits:
        at = offset % max(len(buffer), 1)
        buffer[at : at + len(replacement)] = replacement
    if gz:
        buffer = bytearray(gzip.compress(bytes(buffer)))
    if cut is not None:
        buffer = buffer[: max(1, cut % len(buffer))]
    return bytes(buffer)


def test_sniff_claims_none_of_the_other_formats_and_cloudtrail_not_this_one() -> None:
    for name, path in OTHER_SAMPLES.items():
        if name != SOURCE.name:
            assert not SOURCE.sniff(path, head_bytes(path)), name
    for path in OWN_SAMPLES:
        assert SOURCE.sniff(path, head_bytes(path)), path
        assert not CloudTrailSource().sniff(path, head_bytes(path)), path


_CORRUPTION = dict(
    form=st.sampled_from(["lines", "array", "lines-gz", "array-gz"]),
    edits=st.lists(
        st.tuples(st.integers(min_value=0, max_value=10_000), st.binary(min_size=0, max_size=4)),
        max_size=6,
    ),
    cut=st.one_of(st.none(), st.integers(min_value=1, max_value=10_000)),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(**_CORRUPTION)
def test_random_corruption_never_crashes_and_accounting_holds(
    tmp_path: Path, form: str, edits: list[tuple[int, bytes]], cut: int | None
) -> None:
    if form.startswith("lines"):
        data = "\n".join(json.dumps(r) for r in GOOD).encode()
    else:
        data = json.dumps(wrap(GOOD), indent=1).encode()
    path = tmp_path / f"corrupt-{form}.json"
    path.write_bytes(corrupt(data, edits, cut, form.endswith("gz")))
    got = read(path)
    assert got.read == len(got.rows) + len(got.quarantined)
    assert len(got.rows) <= len(GOOD)


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
