"""The GitHub audit log reader on Panther's GitHub samples, the API's array form, damage."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from borderwatch.sources.github_audit import GitHubAuditSource
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

SAMPLE = PANTHER / "GitHub.Audit.jsonl"
SOURCE = GitHubAuditSource()
TIME_FIELDS = ("@timestamp", "at_sign_timestamp", "created_at")


def read_all(path: Path) -> Read:
    return read_with(SOURCE, path, batch_size=9)


def test_panther_github_samples_account_for_every_line() -> None:
    records = json_lines(SAMPLE)
    untimed = [r for r in records if not any(r.get(f) is not None for f in TIME_FIELDS)]
    read, rows, quarantined = read_all(SAMPLE)
    assert read == len(records) == 107
    missing = [q for q in quarantined if "missing" in q.reason]
    assert len(missing) == len(untimed) == 31
    # Four fixtures carry a malformed time ("2024-12-17 00:00:00000000"): refused, not guessed.
    bad = [q for q in quarantined if "not an ISO 8601" in q.reason]
    assert len(bad) == 4 and all("00:00:00000000" in q.reason for q in bad)
    assert len(rows) == 107 - 31 - 4 == 72


def test_known_records_map_their_fields() -> None:
    _, rows, _ = read_all(SAMPLE)
    first = rows[0]
    assert first["action"] == "protected_branch.destroy"
    assert first["event_time"].isoformat() == "2021-05-18T02:31:58.553000+00:00"
    assert (first["principal"], first["account"]) == ("cat", "my-org")
    assert first["resources"] == ["my-org/my-repo"] and first["provider"] == "github"
    with_ip = [r for r in rows if r["caller"] == "12.12.12.12"]
    assert with_ip and with_ip[0]["claimed_country"] == "US"
    assert with_ip[0]["event_id"] == "gAcccccccccccccccccccc"
    assert with_ip[0]["account"] == "example-enterprise"


def test_api_array_export_and_read_only(tmp_path: Path) -> None:
    entries = [
        {"@timestamp": 1767225600000, "action": "git.clone", "actor": "octo",
         "actor_ip": "2001:db8::5", "actor_location": {"country_code": "de"},
         "repo": "acme/secret", "org": "acme", "_document_id": "d1"},
        {"created_at": "2026-01-01T00:00:00Z", "action": "repo.create", "actor": "octo",
         "operation_type": "create", "repo": "acme/new", "org": "acme"},
        {"action": "git.push", "actor": "octo", "created_at": True},
        ["not", "an", "object"],
    ]  # fmt: skip
    path = tmp_path / "export.json"
    path.write_text(json.dumps(entries, indent=2))
    assert SOURCE.sniff(path, head_bytes(path))
    read, rows, quarantined = read_all(path)
    assert read == 4 and len(rows) == 2
    clone, create = rows
    assert (clone["caller"], clone["claimed_country"], clone["read_only"]) == (
        "2001:db8::5",
        "DE",
        True,
    )
    assert create["read_only"] is False and create["event_id"].startswith("sha256:")
    assert [q.position for q in quarantined] == ["item 3", "item 4"]


def test_sniff_claims_only_github() -> None:
    check_sniff_isolation(SOURCE, [SAMPLE], ALL_SAMPLES)


@fuzz_settings()
@given(data=st.data())
def test_random_corruption_never_raises_and_accounts(tmp_path: Path, data: st.DataObject) -> None:
    original = SAMPLE.read_bytes()[:8000]
    check_byte_damage(SOURCE, data, original, tmp_path / "fuzz.jsonl", batch_size=9)
