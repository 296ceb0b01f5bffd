"""Seeds and helpers for the hostile-record tests: every registered reader, one good record.

Imported by tests/test_hostile_records.py and tests/test_reader_properties.py as
`from hostilekit import ...` (tests/ is on sys.path, as for readerkit). Readers come from
the registry, so a reader registered later is covered without editing the tests; its
seed is the first record of its real sample that it accepts (OCI and OCSF have no real
sample in ../shared/data/real/: theirs are written from the vendors' documented schema).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from borderwatch.registry import load_plugins
from readerkit import CLOUDTRAIL, PANTHER, Read, read_with

# Real samples (JSON lines, or a CloudTrail Records file) of each registered reader.
REAL_SAMPLES: dict[str, Path] = {
    "cloudtrail": PANTHER / "AWS.CloudTrail.jsonl",
    "gcp-audit": PANTHER / "GCP.AuditLog.jsonl",
    "azure-activity": PANTHER / "Azure.MonitorActivity.jsonl",
    "entra": PANTHER / "Azure.Audit.jsonl",
    "okta": PANTHER / "Okta.SystemLog.jsonl",
    "k8s-audit": PANTHER / "Amazon.EKS.Audit.jsonl",
    "github-audit": PANTHER / "GitHub.Audit.jsonl",
    "gworkspace": PANTHER / "GSuite.ActivityEvent.jsonl",
    "s3-access": PANTHER / "AWS.S3ServerAccess.jsonl",
}
CLOUDTRAIL_CONTAINER = CLOUDTRAIL

# Written from the documented schemas, as in test_source_oci.py and test_source_ocsf.py.
WRITTEN_SEEDS: dict[str, dict[str, Any]] = {
    "oci-audit": {
        "eventType": "com.oraclecloud.objectstorage.getobject",
        "cloudEventsVersion": "0.1",
        "eventTypeVersion": "2.0",
        "source": "ObjectStorage",
        "eventId": "ev-1",
        "eventTime": "2026-03-01T10:00:00.123Z",
        "contentType": "application/json",
        "data": {
            "eventName": "GetObject",
            "compartmentId": "ocid1.compartment.oc1..aaaa",
            "resourceName": "payroll",
            "resourceId": "ocid1.bucket.oc1.eu-frankfurt-1.aaaa",
            "identity": {
                "principalName": "user1@example.com",
                "principalId": "ocid1.user.oc1..u1",
                "tenantId": "ocid1.tenancy.oc1..tttt",
                "ipAddress": "81.2.69.142",
                "userAgent": "oci-cli/3.40.0",
            },
            "request": {"id": "req-1", "path": "/n/ns/b/payroll/o/jan.csv", "action": "GET"},
            "response": {"status": "200", "responseTime": "2026-03-01T10:00:00.200Z"},
            "additionalDetails": {"bucketName": "payroll", "namespace": "ns"},
        },
    },
    "ocsf": {
        "class_uid": 6003,
        "category_uid": 6,
        "activity_id": 2,
        "time": "2026-03-01T10:00:00Z",
        "metadata": {"uid": "0b8a2c1e-0000-4000-8000-000000000001", "version": "1.1.0"},
        "api": {"operation": "GetObject", "service": {"name": "s3.amazonaws.com"}},
        "actor": {"user": {"uid": "AROAEXAMPLE:alice", "account": {"uid": "123456789012"}}},
        "src_endpoint": {"ip": "81.2.69.142"},
        "cloud": {"provider": "AWS", "region": "eu-west-1"},
        "resources": [{"uid": "arn:aws:s3:::eu-data/q1.csv", "type": "AWS::S3::Object"}],
    },
}

# The representable range (sources.record.in_utc) and what lies just outside it.
HOSTILE_TIMES = [
    "0001-01-01T00:00:00+01:00",  # before year 1 once in UTC
    "9999-12-31T23:59:59-01:00",  # after year 9999 once in UTC
    "0000-01-01T00:00:00Z",  # year 0: Arrow holds it, Python and the rules do not
    "10000-01-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-01-01T24:00:00Z",
]
HOSTILE_EPOCHS: list[Any] = [1e300, -1e300, 253402300800000, -62135596801000, 10**30]

_ISO_LIKE = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:")
# A number this big in a field named like a time is an epoch time (seconds or ms).
_EPOCH_FLOOR = 1e9


@functools.cache
def readers() -> dict[str, Any]:
    """Every registered source, by name (the same registry a scan uses)."""
    registry = load_plugins()
    return {name: registry.sources.get(name) for name in registry.sources.names()}


def seed(name: str, tmp: Path) -> dict[str, Any]:
    """A record reader `name` accepts: the first accepted one of its real sample."""
    if name in WRITTEN_SEEDS:
        return json.loads(json.dumps(WRITTEN_SEEDS[name]))
    return json.loads(_accepted_lines(name, tmp)[0])


def seed_lines(name: str, tmp: Path) -> list[bytes]:
    """Up to five accepted records of reader `name`, as JSON lines."""
    if name in WRITTEN_SEEDS:
        return [json.dumps(WRITTEN_SEEDS[name]).encode()]
    return _accepted_lines(name, tmp)


def _accepted_lines(name: str, tmp: Path) -> list[bytes]:
    sample = REAL_SAMPLES[name]
    lines = sample.read_bytes().splitlines()
    got = read_with(readers()[name], sample)
    taken = sorted({row["input_record"] for row in got.rows})[:5]
    assert taken, f"{name}: its real sample {sample.name} has no record it accepts"
    return [lines[number - 1] for number in taken]


def read_lines(source: Any, path: Path, lines: list[bytes]) -> Read:
    """Write JSON lines and read them back, checking every batch's accounting."""
    path.write_bytes(b"\n".join(lines) + b"\n")
    got = read_with(source, path)
    assert got.read == len(got.rows) + len(got.quarantined)
    return got


def replace_leaves(
    value: Any, pick: Callable[[str, Any], bool], new: Any, key: str = ""
) -> tuple[Any, int]:
    """A copy of `value` with every leaf `pick(key, leaf)` accepts set to `new`; the count."""
    if isinstance(value, dict):
        count = 0
        result: dict[str, Any] = {}
        for k, v in value.items():
            result[k], n = replace_leaves(v, pick, new, k)
            count += n
        return result, count
    if isinstance(value, list):
        items = [replace_leaves(v, pick, new, key) for v in value]
        return [v for v, _ in items], sum(n for _, n in items)
    return (new, 1) if pick(key, value) else (value, 0)


def is_iso_time(_: str, value: Any) -> bool:
    return isinstance(value, str) and bool(_ISO_LIKE.match(value))


def is_epoch_time(key: str, value: Any) -> bool:
    named = any(word in key.lower() for word in ("time", "created", "published", "_at"))
    return (
        named
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        and abs(value) > _EPOCH_FLOOR
    )
