"""The Okta System Log reader on Panther's real samples."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from borderwatch.sources.okta import OktaSource, normalise
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
