"""The Okta System Log reader on Panther's real samples."""

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
from borderwatch.sources.okta import OktaSource, normalise
from borderwatch.sources.record import RecordError

SOURCE = OktaSource()
OWN_SAMPLES = [
    Path(__file__).resolve().parents[2]
    / "shared/data/real/panther-analysis/rule-test-logs/Okta.SystemLog.jsonl",
    Path(__file__).resolve().parents[2]
    / "shared/data/real/panther-analysis/rule-test-logs/scenario_Okta.SystemLog.jsonl",
]
GOOD = [
    {
        "uuid": f"u-{i}",
        "published": "2026-03-01T10:00:00.000Z",
        "eventType": "user.session.start",
        "actor": {"id": f"00u{i}", "alternateId": f"u{i}@example.com", "type": "User"},
        "client": {
            "ipAddress": "81.2.69.142",
            "geographicalContext": {"country": "United Kingdom", "city": "London"},
        },
        "outcome": {"result": "SUCCESS"},
    }
    for i in range(12)
]


def wrap(records: list[dict[str, Any]]) -> Any:
    return records  # /api/v1/logs returns a JSON array


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


def _usable(event: dict[str, Any]) -> bool:
    keys = {k.lower(): v for k, v in event.items()}
    when = keys.get("published") or keys.get("p_event_time")
    return bool(keys.get("eventtype")) and isinstance(when, str) and when[:2] in ("19", "20")


@pytest.mark.parametrize(
    ("name", "total", "accepted"),
    [("Okta.SystemLog.jsonl", 88, 73), ("scenario_Okta.SystemLog.jsonl", 20, 20)],
)
def test_fixtures_account_for_every_line(name: str, total: int, accepted: int) -> None:
    events = json_lines(PANTHER / name)
    got = read(PANTHER / name)
    assert got.read == len(events) == total
    assert len(got.rows) == sum(_usable(e) for e in events) == accepted


def test_scenario_values_and_country_names_become_iso_codes() -> None:
    got = read(PANTHER / "scenario_Okta.SystemLog.jsonl")
    first = by_record(got, 1)
    assert first["event_id"] == "a87a0528-68e2-4500-a82c-de27f161f2f3"
    assert first["caller"] == "194.88.246.242"
    assert first["principal"] == "jack.naglieri@runpanther.io"
    assert "00uu1uuuuIlllaaaa356" in first["principal_aliases"]
    assert first["claimed_country"] == "FR"
    assert first["claimed_location"] == "Coupvray, Ile-de-France, France"
    countries = {r["claimed_country"] for r in got.rows}
    assert {"FR", "US", "AR", "RO", "JP", "IT"} <= countries
    failures = [r for r in got.rows if r["error_code"]]
    assert len(failures) == 11


def test_panther_lines_russia_and_failures() -> None:
    got = read(PANTHER / "Okta.SystemLog.jsonl")
    countries = {r["claimed_country"] for r in got.rows}
    assert {"US", "CA", "IS", "RU"} <= countries
    outcomes = json_lines(PANTHER / "Okta.SystemLog.jsonl")
    assert all(
        (r["error_code"] is not None)
        == (
            str((outcomes[r["input_record"] - 1].get("outcome") or {}).get("result"))
            in ("FAILURE", "DENY")
        )
        for r in got.rows
    )


def test_caller_falls_back_to_ip_chain_and_apps_are_resources() -> None:
    event = {
        "uuid": "x",
        "published": 1767225600000,  # epoch milliseconds, as some exports write it
        "eventType": "user.authentication.sso",
        "actor": {"alternateId": "a@example.com", "displayName": "A"},
        "client": {"ipAddress": None, "geographicalContext": {"country": "Atlantis"}},
        "request": {"ipChain": [{"ip": "2a02:cf40::1"}, {"ip": "10.0.0.1"}]},
        "target": [{"type": "AppInstance", "alternateId": "Salesforce", "id": "0oa1"}],
        "outcome": {"result": "DENY", "reason": "Policy"},
    }
    row = normalise(event)
    assert row["caller"] == "2a02:cf40::1"
    assert row["claimed_country"] is None  # unknown name: no guess
    assert row["resources"] == ["Salesforce", "0oa1"]
    assert row["error_code"] == "Policy"
    assert row["event_time"].isoformat() == "2026-01-01T00:00:00+00:00"


def test_wrong_types_are_rejected() -> None:
    base = {"published": "2026-01-01T00:00:00Z", "eventType": "x"}
    with pytest.raises(RecordError, match="client"):
        normalise({**base, "client": "1.2.3.4"})
    with pytest.raises(RecordError, match="published"):
        normalise({**base, "published": "redacted"})
