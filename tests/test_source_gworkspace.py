"""The Google Workspace activity reader on Panther's samples, the API shape, damage."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from borderwatch.sources.gworkspace import GWorkspaceSource
from borderwatch.sources.inputs import head_bytes
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

SAMPLE = PANTHER / "GSuite.ActivityEvent.jsonl"
SOURCE = GWorkspaceSource()


def read_all(path: Path) -> Read:
    return read_with(SOURCE, path, batch_size=11)


def test_panther_samples_account_for_every_line() -> None:
    records = json_lines(SAMPLE)
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
    check_sniff_isolation(SOURCE, [SAMPLE], ALL_SAMPLES)


@fuzz_settings()
@given(data=st.data())
def test_random_corruption_never_raises_and_accounts(tmp_path: Path, data: st.DataObject) -> None:
    original = SAMPLE.read_bytes()[:8000]
    check_byte_damage(SOURCE, data, original, tmp_path / "fuzz.jsonl", batch_size=11)
