"""The Kubernetes / EKS audit reader on Panther's EKS samples, CloudWatch delivery, damage."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from borderwatch.sources.cloudtrail import CloudTrailSource
from borderwatch.sources.inputs import head_bytes
from borderwatch.sources.k8s_audit import K8sAuditSource
from readerkit import (
    ALL_SAMPLES,
    PANTHER,
    Read,
    check_byte_damage,
    check_sniff_isolation,
    fuzz_settings,
    json_lines,
    read_with,
)

SAMPLE = PANTHER / "Amazon.EKS.Audit.jsonl"
SOURCE = K8sAuditSource()


def read_all(path: Path) -> Read:
    return read_with(SOURCE, path, batch_size=7)


def test_panther_eks_samples_account_for_every_line() -> None:
    records = json_lines(SAMPLE)
    timed = [r for r in records if r.get("stageTimestamp") or r.get("requestReceivedTimestamp")]
    read, rows, quarantined = read_all(SAMPLE)
    assert read == len(records) == 188
    assert len(rows) == len(timed) == 17
    assert len(quarantined) == 171
    assert all("time" in q.reason or "not a Kubernetes" in q.reason for q in quarantined)
    first = rows[0]
    assert first["event_id"] == "abcde12345" and first["input_record"] == 5
    assert first["event_time"].isoformat() == "2022-11-29T00:09:04.380000+00:00"
    assert first["caller"] == "8.8.8.8"
    assert first["principal"] == "system:anonymous"
    assert first["principal_type"] == "Anonymous"
    assert "default/pods/test-pod" in first["resources"]
    assert first["error_code"] is None


def test_eks_iam_identity_becomes_aliases_and_status_an_error() -> None:
    event = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "auditID": "a1",
        "stage": "ResponseComplete",
        "verb": "get",
        "user": {
            "username": "kubernetes-admin",
            "extra": {"arn": ["arn:aws:sts::123412341234:assumed-role/Dev/s"]},
        },
        "sourceIPs": ["2001:db8::1", "10.0.0.1"],
        "objectRef": {"resource": "secrets", "namespace": "prod", "name": "db"},
        "responseStatus": {"code": 403, "reason": "Forbidden"},
        "requestReceivedTimestamp": "2026-01-01T00:00:00.000000Z",
        "stageTimestamp": "2026-01-01T00:00:01.000000Z",
    }
    from borderwatch.sources.k8s_audit import normalise

    row = normalise(event)
    assert row["caller"] == "2001:db8::1"
    assert row["principal_aliases"] == ["arn:aws:sts::123412341234:assumed-role/Dev/s"]
    assert row["error_code"] == "Forbidden" and row["read_only"] is True
    assert row["resources"] == ["prod/secrets/db", "db", "namespace/prod"]
    assert row["event_time"].isoformat() == "2026-01-01T00:00:01+00:00"


def test_cloudwatch_subscription_delivery_is_unwrapped(tmp_path: Path) -> None:
    event = {
        "kind": "Event",
        "apiVersion": "audit.k8s.io/v1",
        "auditID": "cw-1",
        "stage": "ResponseComplete",
        "verb": "list",
        "user": {"username": "alice"},
        "sourceIPs": ["198.51.100.7"],
        "objectRef": {"resource": "pods", "namespace": "default"},
        "responseStatus": {"code": 200},
        "stageTimestamp": "2026-01-02T03:04:05.000000Z",
    }
    delivery = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/eks/prod-eu/cluster",
        "logStream": "kube-apiserver-audit-abc",
        "logEvents": [
            {"id": "1", "timestamp": 1767323045000, "message": json.dumps(event)},
            {"id": "2", "timestamp": 1767323045000, "message": "not json"},
        ],
    }
    path = tmp_path / "cw.gz"
    path.write_bytes(gzip.compress(json.dumps(delivery).encode()))
    assert SOURCE.sniff(path, head_bytes(path))
    assert not CloudTrailSource().sniff(path, head_bytes(path))
    read, rows, quarantined = read_all(path)
    assert read == 2 and len(rows) == 1
    (row,) = rows
    assert (row["provider"], row["account"]) == ("aws", "123456789012")
    assert "eks/prod-eu" in row["resources"] and row["read_only"] is True
    assert "message is not JSON" in quarantined[0].reason


def test_sniff_claims_only_kubernetes_audit() -> None:
    check_sniff_isolation(SOURCE, [SAMPLE], ALL_SAMPLES)


@pytest.mark.parametrize("stage", ["RequestReceived", "ResponseComplete"])
def test_every_stage_is_kept_under_the_same_event_id(stage: str) -> None:
    from borderwatch.sources.k8s_audit import normalise

    row = normalise(
        {"auditID": "x", "stage": stage, "verb": "get", "stageTimestamp": "2026-01-01T00:00:00Z"}
    )
    assert row["event_id"] == "x"


@fuzz_settings()
@given(data=st.data())
def test_random_corruption_never_raises_and_accounts(tmp_path: Path, data: st.DataObject) -> None:
    original = SAMPLE.read_bytes()[:8000]
    check_byte_damage(SOURCE, data, original, tmp_path / "fuzz.jsonl", batch_size=7)
