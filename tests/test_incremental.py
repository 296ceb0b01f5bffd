"""Incremental scans: day by day equals one full rescan, and only new files are read."""

from __future__ import annotations

import errno
import gzip
import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from borderwatch.cli import main
from borderwatch.sources.cloudtrail import CloudTrailSource
from policykit import us_data_policy

POLICY = us_data_policy("incremental")
INVENTORY = "store_id,provider,region,service,data_classes,records,copy_of\n"
INVENTORY += "user-media,aws,us-east-1,s3,us_user_data,10,\n"


def trail(day: str, callers: list[tuple[str, str]]) -> str:
    records = [
        {
            "eventVersion": "1.08",
            "userIdentity": {"type": "IAMUser", "arn": f"arn:aws:iam::1:user/{user}"},
            "eventTime": f"2026-03-{day}T10:{i:02d}:00Z",
            "eventID": f"{day}-{i}",
            "eventSource": "s3.amazonaws.com",
            "eventName": "GetObject",
            "sourceIPAddress": ip,
            "requestParameters": {"bucketName": "user-media", "key": "k"},
        }
        for i, (user, ip) in enumerate(callers)
    ]
    return json.dumps({"Records": records})


def _company(tmp_path: Path) -> None:
    """The policy and inventory every scan here reads (one protected bucket)."""
    (tmp_path / "policy.yaml").write_text(POLICY)
    (tmp_path / "stores.csv").write_text(INVENTORY)


def scan(tmp_path: Path, out: str, *extra: str) -> tuple[int, dict, list[dict]]:
    args = ["scan", "--policy", str(tmp_path / "policy.yaml")]
    args += ["--inventory", str(tmp_path / "stores.csv"), "--events", str(tmp_path / "logs")]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / out), "--quiet", *extra])
    summary = json.loads((tmp_path / out / "summary.json").read_text())
    findings = json.loads((tmp_path / out / "findings.json").read_text())
    return result.exit_code, summary, findings


def comparable(findings: list[dict]) -> list[tuple]:
    return sorted(
        (f["id"], f["rule"], f["country"], f["count"], f["first_seen"], f["last_seen"])
        for f in findings
    )


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The file names the CloudTrail reader parses (observed, behaviour unchanged)."""
    seen: list[str] = []
    original, original_many = CloudTrailSource.read, CloudTrailSource.read_many

    def spy(self: CloudTrailSource, path: Path, batch_size: int = 50_000):  # type: ignore[no-untyped-def]
        seen.append(Path(path).name)
        yield from original(self, path, batch_size)

    def spy_many(self: CloudTrailSource, paths: list[Path]):  # type: ignore[no-untyped-def]
        seen.extend(Path(path).name for path in paths)
        # read() of a file read_many cannot pool is the same read: count it once.
        monkeypatch.setattr(CloudTrailSource, "read", original)
        try:
            yield from original_many(self, paths)
        finally:
            monkeypatch.setattr(CloudTrailSource, "read", spy)

    monkeypatch.setattr(CloudTrailSource, "read", spy)
    monkeypatch.setattr(CloudTrailSource, "read_many", spy_many)
    return seen


def test_day_by_day_equals_a_full_rescan_and_reads_only_new_files(
    tmp_path: Path, reads: list[str]
) -> None:
    _company(tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir()
    # mei reaches the data from China on both days: one finding spanning both.
    (logs / "day1.json").write_text(trail("01", [("mei", "36.96.1.1"), ("ana", "12.34.1.1")]))
    code, _, _ = scan(tmp_path, "daily", "--incremental")
    assert code == 1 and reads == ["day1.json"]

    (logs / "day2.json").write_text(trail("02", [("mei", "36.96.1.2"), ("oleg", "77.88.8.8")]))
    reads.clear()
    code, second, daily = scan(tmp_path, "daily", "--incremental")
    assert code == 1
    assert reads == ["day2.json"]  # the first day's file is not parsed again
    notes = {Path(i["path"]).name: i["note"] for i in second["inputs"] if i["kind"] == "events"}
    assert notes["day1.json"].startswith("read in an earlier scan") and notes["day2.json"] == ""
    accepted = sum(i["accepted"] for i in second["inputs"] if i["kind"] == "events")
    assert accepted == second["events_total"] == 4

    _, full_summary, full = scan(tmp_path, "full")
    assert comparable(daily) == comparable(full)
    spanning = [f for f in daily if f["country"] == "CN"]
    assert spanning[0]["count"] == 2
    assert spanning[0]["first_seen"].startswith("2026-03-01")
    assert spanning[0]["last_seen"].startswith("2026-03-02")
    assert full_summary["totals"] == second["totals"]


def test_a_changed_old_file_is_reported_not_recounted(tmp_path: Path, reads: list[str]) -> None:
    _company(tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir()
    day1 = logs / "day1.json"
    day1.write_text(trail("01", [("mei", "36.96.1.1"), ("ana", "12.34.1.1")]))
    scan(tmp_path, "daily", "--incremental")
    day1.write_text(trail("01", [("mei", "36.96.1.1")]))  # truncated: one record lost
    os.utime(day1, ns=(1, 1))
    reads.clear()
    code, summary, _ = scan(tmp_path, "daily", "--incremental")
    assert code == 1 and reads == []
    assert summary["events_total"] == 2  # not re-read, not counted twice
    (warning,) = summary["warnings"]
    assert "day1.json" in warning and "truncated" in warning
    strict, _, _ = scan(tmp_path, "daily", "--incremental", "--strict")
    assert strict == 2
    _, rebuilt, _ = scan(tmp_path, "daily", "--incremental", "--full")
    assert rebuilt["warnings"] == [] and rebuilt["events_total"] == 1


def test_a_touched_unchanged_file_is_hashed_once_not_every_day(
    tmp_path: Path, reads: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from borderwatch.ingest import state

    _company(tmp_path)
    (tmp_path / "logs").mkdir()
    day1 = tmp_path / "logs" / "day1.json"
    day1.write_text(trail("01", [("mei", "36.96.1.1")]))
    scan(tmp_path, "daily", "--incremental")
    hashed: list[str] = []
    original = state.sha256_of

    def counting(path: Path) -> str:
        hashed.append(path.name)
        return original(path)

    monkeypatch.setattr(state, "sha256_of", counting)
    os.utime(day1, ns=(10**18, 10**18))  # touched (e.g. copied again), content the same
    reads.clear()
    _, summary, _ = scan(tmp_path, "daily", "--incremental")
    assert hashed == ["day1.json"] and reads == [] and summary["warnings"] == []
    _, again, _ = scan(tmp_path, "daily", "--incremental")
    assert hashed == ["day1.json"]  # the new time was remembered: not hashed again
    assert again["events_total"] == 1


def test_a_newly_protected_store_makes_every_input_read_again(
    tmp_path: Path, reads: list[str]
) -> None:
    """The state keeps digests of accesses to protected stores only: when the inventory
    protects another store, earlier days must be read again to find its accesses."""
    (tmp_path / "policy.yaml").write_text(POLICY)
    (tmp_path / "stores.csv").write_text(INVENTORY + "user-backup,aws,us-east-1,s3,,10,\n")
    logs = tmp_path / "logs"
    logs.mkdir()
    day1 = trail("01", [("mei", "36.96.1.1")]).replace("user-media", "user-backup")
    (logs / "day1.json").write_text(day1)
    code, first, _ = scan(tmp_path, "daily", "--incremental")
    # No event names a protected store yet: INCOMPLETE (coverage.nothing-judged), no notes.
    assert code == 1 and first["verdict"] == "incomplete" and first["notes"] == []
    (logs / "day2.json").write_text(trail("02", [("ana", "12.34.1.1")]))
    # user-backup now holds protected data: mei's access on day 1 becomes a finding.
    (tmp_path / "stores.csv").write_text(
        INVENTORY + "user-backup,aws,us-east-1,s3,us_user_data,10,\n"
    )
    reads.clear()
    code, second, daily = scan(tmp_path, "daily", "--incremental", "--strict")
    assert code == 1  # findings, not --strict's exit 2: nothing is wrong with the inputs
    assert sorted(reads) == ["day1.json", "day2.json"]
    (note,) = second["notes"]
    assert "read again" in note and second["warnings"] == []
    _, _, full = scan(tmp_path, "full")
    assert comparable(daily) == comparable(full)
    assert [f["country"] for f in daily if f["rule"].startswith("access.")] == ["CN"]
    reads.clear()
    _, third, _ = scan(tmp_path, "daily", "--incremental")
    assert reads == [] and third["notes"] == []


def test_the_same_logs_named_twice_count_once(tmp_path: Path, reads: list[str]) -> None:
    """A copied folder (same bytes, other paths) is read once, and says so."""
    _company(tmp_path)
    logs = tmp_path / "logs"
    (logs / "a").mkdir(parents=True)
    (logs / "b").mkdir()
    day1 = trail("01", [("mei", "36.96.1.1"), ("mei", "36.96.1.1")])
    (logs / "a" / "day1.json").write_text(day1)
    (logs / "b" / "day1-copy.json").write_text(day1)
    # Same size, other bytes: not a copy.
    (logs / "b" / "day1-other.json").write_text(day1.replace("01-1", "01-2"))
    code, summary, findings = scan(tmp_path, "once")
    assert code == 1 and sorted(reads) == ["day1-other.json", "day1.json"]
    assert summary["events_total"] == 4
    notes = {Path(i["path"]).name: i["note"] for i in summary["inputs"] if i["kind"] == "events"}
    assert notes["day1-copy.json"].startswith("skipped: same content as ")
    assert str(logs / "a" / "day1.json") in notes["day1-copy.json"]
    assert notes["day1.json"] == notes["day1-other.json"] == ""
    (note,) = summary["notes"]
    assert note.startswith("1 input has the same content as another input")
    (china,) = [f for f in findings if f["country"] == "CN"]
    assert china["count"] == 4  # two files of two accesses, not three


def test_logs_beside_the_same_logs_compressed_count_once(tmp_path: Path, reads: list[str]) -> None:
    """Delivered .json.gz files and a folder of the same logs unpacked: read once."""
    _company(tmp_path)
    logs = tmp_path / "logs"
    (logs / "delivered").mkdir(parents=True)
    (logs / "unpacked").mkdir()
    day1 = trail("01", [("mei", "36.96.1.1"), ("mei", "36.96.1.1")])
    (logs / "delivered" / "day1.json.gz").write_bytes(gzip.compress(day1.encode()))
    (logs / "unpacked" / "day1.json").write_text(day1)
    code, summary, findings = scan(tmp_path, "once")
    assert code == 1 and reads == ["day1.json.gz"]
    notes = {Path(i["path"]).name: i["note"] for i in summary["inputs"] if i["kind"] == "events"}
    assert notes["day1.json"].startswith(
        f"skipped: same content as {logs / 'delivered' / 'day1.json.gz'} "
        "(decompressed content sha256 "
    )
    (china,) = [f for f in findings if f["country"] == "CN"]
    assert china["count"] == 2


def test_a_file_moved_into_an_archive_is_not_counted_again(
    tmp_path: Path, reads: list[str]
) -> None:
    """Incremental scans know inputs by path and by checksum: a file moved elsewhere
    between two scans keeps counting once (the state still holds what it was read for)."""
    _company(tmp_path)
    logs = tmp_path / "logs"
    logs.mkdir()
    day1 = json.loads(trail("01", [("mei", "36.96.1.1")]))
    day1["Records"].append({"eventName": "GetObject"})  # no time: quarantined
    (logs / "day1.json").write_text(json.dumps(day1))
    scan(tmp_path, "daily", "--incremental")
    (logs / "archive").mkdir()
    (logs / "day1.json").rename(logs / "archive" / "day1.json")
    (logs / "day2.json").write_text(trail("02", [("mei", "36.96.1.2")]))
    reads.clear()
    code, second, daily = scan(tmp_path, "daily", "--incremental")
    assert code == 1 and reads == ["day2.json"]
    moved = {Path(i["path"]).name: i for i in second["inputs"] if i["kind"] == "events"}
    assert moved["day1.json"]["note"].startswith("skipped: same content as ")
    assert "read in an earlier scan" in moved["day1.json"]["note"]
    # It carries the accounting it was read with: the totals match a full rescan.
    assert (moved["day1.json"]["accepted"], moved["day1.json"]["quarantined"]) == (1, 1)
    _, full_summary, full = scan(tmp_path, "full")
    assert second["events_total"] == full_summary["events_total"] == 2
    assert comparable(daily) == comparable(full)
    assert [f["count"] for f in daily if f["country"] == "CN"] == [2]
    assert _quarantined(tmp_path / "daily") == _quarantined(tmp_path / "full") == 1
    reads.clear()
    _, third, again = scan(tmp_path, "daily", "--incremental")
    assert reads == [] and comparable(again) == comparable(full)
    assert third["events_total"] == 2 and _quarantined(tmp_path / "daily") == 1
    notes = {Path(i["path"]).name: i["note"] for i in third["inputs"] if i["kind"] == "events"}
    assert notes["day1.json"].startswith("skipped: same content as ")
    # Put back where it was first read, it is known under both paths: counted once.
    (logs / "archive" / "day1.json").rename(logs / "day1.json")
    (logs / "archive" / "day1.json").write_text(json.dumps(day1))
    reads.clear()
    _, fourth, again = scan(tmp_path, "daily", "--incremental")
    assert reads == [] and comparable(again) == comparable(full)
    assert fourth["events_total"] == 2 and _quarantined(tmp_path / "daily") == 1
    both = [i for i in fourth["inputs"] if Path(i["path"]).name == "day1.json"]
    assert sorted(i["accepted"] for i in both) == [0, 1]
    assert sum(i["quarantined"] for i in both) == 1


def _two_trails(logs: Path) -> None:
    """An account trail and an organisation trail delivering the same three events in
    files of other bytes (other order), as CloudTrail does."""
    records = json.loads(trail("01", [("mei", "36.96.1.1")] * 3))["Records"]
    for record, event_id in zip(records, ["e-a00", "e-b00", "e-c01"], strict=True):
        record["eventID"] = event_id
    (logs / "account").mkdir(parents=True)
    (logs / "account" / "day1.json").write_text(json.dumps({"Records": records}))
    (logs / "org").mkdir()
    (logs / "org" / "day1.json").write_text(json.dumps({"Records": records[::-1]}))


def test_events_delivered_by_two_trails_are_reported(tmp_path: Path) -> None:
    _company(tmp_path)
    _two_trails(tmp_path / "logs")
    code, summary, _ = scan(tmp_path, "once")
    assert code == 1 and summary["events_total"] == 6  # counted as read: twice
    (warning,) = summary["warnings"]
    assert warning.startswith("some events were read more than once: 2 of the 4 events")
    assert "'e-a00' in " in warning and "include some repeats" in warning  # 2: too few
    assert "Two trails delivering the same events" in warning  # CloudTrail's cause
    assert str(tmp_path / "logs" / "org" / "day1.json") in warning
    html = (tmp_path / "once" / "report.html").read_text()
    assert 'class="warnings"' in html and "were read more than once: 2 of the 4" in html
    strict, _, _ = scan(tmp_path, "strict", "--strict")
    assert strict == 2
    (tmp_path / "logs" / "org" / "day1.json").unlink()
    _, alone, _ = scan(tmp_path, "alone")
    assert alone["warnings"] == [] and alone["events_total"] == 3


def test_exact_repeats_count_events_of_two_trails_once(tmp_path: Path) -> None:
    _company(tmp_path)
    _two_trails(tmp_path / "logs")
    code, summary, findings = scan(tmp_path, "exact", "--exact-repeats")
    assert code == 1 and summary["warnings"] == []
    (china,) = [f for f in findings if f["country"] == "CN"]
    assert china["count"] == 3  # three events, each delivered twice
    assert summary["events_total"] == 6  # what the inputs held, as read
    assert any(n.startswith("3 events were read more than once") for n in summary["notes"])
    _, _, doubled = scan(tmp_path, "doubled")
    assert [f["count"] for f in doubled if f["country"] == "CN"] == [6]
    args = ["scan", "--policy", str(tmp_path / "policy.yaml"), "--events"]
    args += [str(tmp_path / "logs"), "--out", str(tmp_path / "daily"), "--incremental"]
    refused = CliRunner().invoke(main, [*args, "--exact-repeats", "--quiet"])
    assert refused.exit_code == 2 and "full scan" in refused.output


def test_repeats_are_found_across_incremental_scans(tmp_path: Path) -> None:
    """The sample of event ids is kept in the scan state with the digest."""
    _company(tmp_path)
    logs = tmp_path / "logs"
    _two_trails(logs)
    org = (logs / "org" / "day1.json").read_bytes()
    (logs / "org" / "day1.json").unlink()
    _, first, _ = scan(tmp_path, "daily", "--incremental")
    assert first["warnings"] == []
    (logs / "org" / "day1.json").write_bytes(org)  # the organisation trail, a day later
    _, second, _ = scan(tmp_path, "daily", "--incremental")
    (warning,) = second["warnings"]
    assert warning.startswith("some events were read more than once: 2 of the 4 events")


def test_a_full_disk_while_reading_exits_2_and_says_where(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that cannot write its spill file stops the scan with a message and a
    hint, not a traceback."""
    from borderwatch.ingest import workers

    _company(tmp_path)
    (tmp_path / "logs").mkdir()
    for day in ("01", "02"):
        (tmp_path / "logs" / f"day{day}.json").write_text(trail(day, [("mei", "36.96.1.1")]))

    def full(self: object, table: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "/tmp/borderwatch-digests-x")

    monkeypatch.setattr(workers.Spill, "write", full)
    args = ["scan", "--policy", str(tmp_path / "policy.yaml"), "--inventory"]
    args += [str(tmp_path / "stores.csv"), "--events", str(tmp_path / "logs")]
    # Two workers, each handing over its digest through a spill file.
    args += ["--tune", "workers=2", "--tune", "append_rows=1", "--tune", "worker_hand_over_rows=1"]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 2, result.output
    assert "No space left on device: /tmp/borderwatch-digests-x" in result.output
    assert "set TMPDIR to a folder with room" in result.output
    assert "Traceback" not in result.output


def test_an_output_folder_that_cannot_be_made_exits_2_and_names_it(tmp_path: Path) -> None:
    _company(tmp_path)
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / "day1.json").write_text(trail("01", [("mei", "36.96.1.1")]))
    (tmp_path / "taken").write_text("a file, not a folder")
    args = ["scan", "--policy", str(tmp_path / "policy.yaml"), "--inventory"]
    args += [str(tmp_path / "stores.csv"), "--events", str(tmp_path / "logs")]
    out = tmp_path / "taken" / "out"
    result = CliRunner().invoke(main, [*args, "--out", str(out), "--quiet"])
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and str(out) in result.output
    assert "TMPDIR" not in result.output


def _quarantined(out: Path) -> int:
    return len((out / "quarantine.jsonl").read_text().splitlines())


def test_incremental_needs_an_output_folder_and_full_needs_incremental(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["scan", "--policy", "us-protected-data", "--full"])
    assert result.exit_code == 2 and "--incremental" in result.output
