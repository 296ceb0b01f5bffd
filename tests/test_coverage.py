"""Coverage: what a scan saw, the coverage rules, and the three verdicts."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
from click.testing import CliRunner

from borderwatch.cli import main
from borderwatch.evaluate.duckdb_engine import DuckDBEngine
from borderwatch.ingest.coverage import COVERAGE_SCHEMA, coverage_rows, merge_coverage
from borderwatch.ingest.digest import ProtectedKeys
from borderwatch.ingest.events import load_events
from borderwatch.model.events import EVENT_SCHEMA
from borderwatch.model.findings import Finding, Severity, Status
from borderwatch.model.scan import ScanResult
from borderwatch.registry import load_plugins
from borderwatch.runtime.options import ScanOptions
from browser import chromium, watched_page
from policykit import us_data_policy

CASES = Path(__file__).parent / "cases"
GAPS = CASES / "coverage-gaps"
REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
PANTHER_CLOUDTRAIL = REAL / "panther-analysis" / "rule-test-logs" / "AWS.CloudTrail.jsonl"

POLICY = us_data_policy("coverage")


def _run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


def _outputs(out: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    summary = json.loads((out / "summary.json").read_text())
    findings = json.loads((out / "findings.json").read_text())
    return summary, findings


def _gap_case_args(out: Path, *extra: str) -> list[str]:
    return [
        "scan",
        "--policy",
        str(GAPS / "policy.yaml"),
        "--inventory",
        str(GAPS / "inventory.csv"),
        "--identities",
        str(GAPS / "identities.csv"),
        "--events",
        str(GAPS / "events"),
        "--out",
        str(out),
        *extra,
    ]


def test_a_missing_day_and_an_unobserved_bucket_make_an_incomplete_verdict(
    tmp_path: Path,
) -> None:
    code, output = _run(_gap_case_args(tmp_path / "out", "--quiet"))
    summary, findings = _outputs(tmp_path / "out")
    assert code == 1  # store-unobserved is high: at --fail-on high
    assert summary["verdict"] == "incomplete"
    assert output.strip().splitlines()[-1].startswith("INCOMPLETE: 1 open finding(s)")
    (gap,) = [f for f in findings if f["rule"] == "coverage.log-gap"]
    assert gap["severity"] == "medium"
    assert gap["evidence"]["region"] == "us-west-2"
    assert gap["evidence"]["missing_days"] == ["2026-04-03"]
    assert gap["evidence"]["days_with_events"] == 4
    assert gap["evidence"]["median_daily_events"] == 8
    assert "2026-04-03" in gap["message"]
    (unseen,) = [f for f in findings if f["rule"] == "coverage.store-unobserved"]
    assert unseen["resource"] == "gap-archive" and unseen["severity"] == "high"
    assert unseen["data_classes"] == ["us_user_data"]
    assert len(findings) == 2
    coverage = summary["coverage"]
    assert coverage["complete"] is False and coverage["open_findings"] == 2
    assert coverage["window"] == {"first_day": "2026-04-01", "last_day": "2026-04-05"}
    west = next(log for log in coverage["logs"] if log["region"] == "us-west-2")
    assert "2026-04-03" not in west["days"] and len(west["days"]) == 4
    stores = {s["store_id"]: s for s in coverage["stores"]}
    assert stores["gap-archive"]["sources"] == []
    assert stores["gap-media"]["sources"] == [{"source": "cloudtrail", "days": 5, "events": 40}]
    assert "gap-metrics" not in stores  # not protected


def test_the_report_shows_the_incomplete_verdict_and_the_coverage(tmp_path: Path) -> None:
    out = tmp_path / "out"
    _run(_gap_case_args(out, "--quiet"))
    with chromium() as browser, watched_page(browser) as page:
        page.open(out / "report.html")
        banner = page.page.inner_text("header")
        assert "INCOMPLETE" in banner and "2 open coverage findings" in banner
        section = page.page.inner_text("#coverage")
        assert "2026-04-01 to 2026-04-05" in section
        assert "gap-archive" in section and "not seen" in section
        # One square per day; the one gap is us-west-2's 2026-04-03.
        gaps = page.page.locator("#coverage .d-gap[title]")
        assert gaps.count() == 1
        assert gaps.first.get_attribute("title") == "2026-04-03: no events"
        assert page.page.locator("#coverage .d-seen[title]").count() == 9


def test_a_scan_of_nothing_is_not_a_pass(tmp_path: Path) -> None:
    """`scan --policy P` with no inventory and no events used to print a green PASS."""
    (tmp_path / "policy.yaml").write_text(POLICY)
    code, output = _run(
        ["scan", "--policy", str(tmp_path / "policy.yaml"), "--out", str(tmp_path / "out")]
    )
    summary, findings = _outputs(tmp_path / "out")
    assert code == 1 and summary["verdict"] == "incomplete"
    assert "INCOMPLETE" in output and "PASS" not in output
    (nothing,) = findings
    assert nothing["rule"] == "coverage.nothing-judged" and nothing["severity"] == "high"
    assert "no store holds protected data" in nothing["message"]


def test_real_logs_that_never_name_the_inventory_are_not_a_pass(tmp_path: Path) -> None:
    """476 real CloudTrail events, none naming the one protected bucket."""
    (tmp_path / "policy.yaml").write_text(POLICY)
    (tmp_path / "stores.csv").write_text(
        "store_id,provider,region,service,data_classes\n"
        "nobody-reads-this,aws,us-east-1,s3,us_user_data\n"
    )
    code, _ = _run(
        [
            "scan",
            "--policy",
            str(tmp_path / "policy.yaml"),
            "--inventory",
            str(tmp_path / "stores.csv"),
            "--events",
            str(PANTHER_CLOUDTRAIL),
            "--out",
            str(tmp_path / "out"),
            "--quiet",
        ]
    )
    summary, findings = _outputs(tmp_path / "out")
    assert code == 1 and summary["verdict"] != "pass"
    assert summary["events_total"] > 400 and summary["protected_accesses"] == 0
    (nothing,) = [f for f in findings if f["rule"] == "coverage.nothing-judged"]
    assert f"none of the {summary['events_total']:,} events read" in nothing["message"]
    assert nothing["evidence"]["events_naming_protected_stores"] == 0


def test_days_without_events_of_a_sparse_log_are_not_gaps(tmp_path: Path) -> None:
    """Seven events on the median day make a day without any a gap; fewer do not (a
    sparse export, e.g. a honeypot bucket's events, has empty days by nature)."""
    policy = (GAPS / "policy.yaml").read_text()
    (tmp_path / "policy.yaml").write_text(policy + "coverage:\n  log_gap_min_daily_events: 9\n")
    args = _gap_case_args(tmp_path / "out", "--quiet")
    args[2] = str(tmp_path / "policy.yaml")
    _run(args)
    summary, findings = _outputs(tmp_path / "out")
    assert [f["rule"] for f in findings] == ["coverage.store-unobserved"]
    # The day is still missing from the coverage the report shows.
    west = next(log for log in summary["coverage"]["logs"] if log["region"] == "us-west-2")
    assert "2026-04-03" not in west["days"]


def test_the_policy_sets_the_severity_of_coverage_findings(tmp_path: Path) -> None:
    policy = (GAPS / "policy.yaml").read_text()
    policy += "coverage:\n  log_gap: critical\n  store_unobserved: low\n"
    (tmp_path / "policy.yaml").write_text(policy)
    args = _gap_case_args(tmp_path / "out", "--quiet")
    args[2] = str(tmp_path / "policy.yaml")
    code, _ = _run(args)
    summary, findings = _outputs(tmp_path / "out")
    severity = {f["rule"]: f["severity"] for f in findings}
    assert severity == {"coverage.log-gap": "critical", "coverage.store-unobserved": "low"}
    assert code == 1 and summary["verdict"] == "incomplete"
    # Below --fail-on the coverage findings do not fail the exit code; still no PASS.
    code, _ = _run([*_gap_case_args(tmp_path / "lenient", "--quiet"), "--fail-on", "critical"])
    summary, _ = _outputs(tmp_path / "lenient")
    assert code == 0 and summary["verdict"] == "incomplete"


def test_a_wrong_coverage_severity_in_the_policy_is_an_input_error(tmp_path: Path) -> None:
    (tmp_path / "policy.yaml").write_text(POLICY + "coverage:\n  log_gap: severe\n")
    code, output = _run(["validate", str(tmp_path / "policy.yaml")])
    assert code == 2 and "policy.yaml:11:12" in output and "'medium'" in output


def _finding(rule: str, severity: Severity, status: Status = Status.OPEN) -> Finding:
    return Finding(id=rule, rule=rule, severity=severity, status=status, title="", message="")


def _result(*findings: Finding) -> ScanResult:
    return ScanResult(
        policy_name="p",
        policy_version="1",
        policy_sha256="",
        started_at="",
        finished_at="",
        fail_on=Severity.HIGH,
        findings=findings,
        inputs=(),
        residency=(),
        access_by_country=(),
    )


def test_three_verdicts() -> None:
    gap = _finding("coverage.log-gap", Severity.MEDIUM)
    unseen = _finding("coverage.store-unobserved", Severity.HIGH)
    breach = _finding("access.prohibited-jurisdiction", Severity.CRITICAL)
    minor = _finding("residency.store-changed", Severity.LOW)
    assert _result().verdict == "pass"
    assert _result(minor).verdict == "pass"  # below --fail-on, coverage complete
    assert _result(gap).verdict == "incomplete"  # any open coverage finding
    assert _result(gap, unseen, minor).verdict == "incomplete"
    assert _result(gap, breach).verdict == "fail"
    # A coverage finding muted by an approved exception (a known outage) is accounted for.
    assert _result(_finding("coverage.log-gap", Severity.MEDIUM, Status.MUTED)).verdict == "pass"


def _events(rows: list[tuple[str, str | None, str, list[str], str | None]]) -> pa.Table:
    """(region, account, day, resources, error) per event, the rest filled in."""
    columns: dict[str, list[Any]] = {name: [] for name in EVENT_SCHEMA.names}
    for number, (region, account, day, resources, error) in enumerate(rows, 1):
        row = {name: None for name in EVENT_SCHEMA.names}
        row.update(
            event_id=f"e{number}",
            event_time=dt.datetime.fromisoformat(f"{day}T10:00:00+00:00"),
            source_format="cloudtrail",
            input_path="x.json",
            input_record=number,
            provider="aws",
            account=account,
            region=region,
            resources=resources,
            error_code=error,
        )
        for name in columns:
            columns[name].append(row[name])
    return pa.table(columns, schema=EVENT_SCHEMA)


def test_coverage_rows_count_every_event_and_every_protected_store_named() -> None:
    keys = ProtectedKeys.from_pairs(
        [("media", "media"), ("arn:aws:s3:::media", "media"), ("vault", "vault")]
    )
    events = _events(
        [
            ("us-east-1", "1", "2026-04-01", ["media", "arn:aws:s3:::media"], None),
            ("us-east-1", "1", "2026-04-01", ["other"], None),
            ("us-east-1", "1", "2026-04-02", ["vault"], "AccessDenied"),  # refused: seen
            ("eu-west-1", None, "2026-04-02", [], None),
        ]
    )
    rows = coverage_rows(events, keys)
    assert rows.schema == COVERAGE_SCHEMA
    got = sorted(
        (r["region"], r["account"], str(r["day"]), r["store_id"] or "", r["events"])
        for r in rows.to_pylist()
    )
    assert got == [
        ("eu-west-1", None, "2026-04-02", "", 1),
        ("us-east-1", "1", "2026-04-01", "", 2),
        ("us-east-1", "1", "2026-04-01", "media", 1),  # named twice, counted once
        ("us-east-1", "1", "2026-04-02", "", 1),
        ("us-east-1", "1", "2026-04-02", "vault", 1),
    ]
    # Pieces merge into the counts of all events at once.
    halves = [coverage_rows(events.slice(0, 2), keys), coverage_rows(events.slice(2), keys)]
    merged = merge_coverage(halves)
    assert sorted(map(str, merged.to_pylist())) == sorted(map(str, rows.to_pylist()))


def _trail(records: list[dict[str, Any]]) -> str:
    return json.dumps({"Records": records})


def _record(number: int, day: str, region: str, bucket: str) -> dict[str, Any]:
    return {
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "arn": "arn:aws:iam::1:user/u", "accountId": "1"},
        "eventTime": f"{day}T10:00:00Z",
        "eventID": f"ev-{number}",
        "awsRegion": region,
        "recipientAccountId": "1",
        "eventSource": "s3.amazonaws.com",
        "eventName": "GetObject",
        "sourceIPAddress": "12.34.1.1",
        "requestParameters": {"bucketName": bucket, "key": "k"},
    }


def _coverage_tree(root: Path, files: int = 24) -> Path:
    rng = random.Random(11)
    number = 0
    for index in range(files):
        records = []
        for _ in range(40):
            number += 1
            day = f"2026-04-{rng.randrange(1, 10):02d}"
            region = rng.choice(["us-east-1", "us-west-2", "eu-west-1"])
            records.append(_record(number, day, region, rng.choice(["media", "vault", "x"])))
        folder = root / f"part{index % 4}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{index:02d}.json").write_text(_trail(records))
    return root


def _merged_coverage(root: Path, options: ScanOptions) -> list[tuple[Any, ...]]:
    engine = DuckDBEngine()
    keys = ProtectedKeys.from_pairs([("media", "media"), ("vault", "vault")])
    try:
        load_events(engine, load_plugins().sources, [root], keys=keys, options=options)
        return engine.connection.execute(
            "SELECT source_format, provider, account, region, day, store_id, sum(events) "
            "FROM coverage_parts GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    finally:
        engine.close()


def test_workers_gather_the_same_coverage_as_a_serial_read(tmp_path: Path) -> None:
    root = _coverage_tree(tmp_path / "logs")
    # Several tasks, each with its own counts.
    serial = _merged_coverage(root, ScanOptions(workers=1, task_files=3))
    parallel = _merged_coverage(root, ScanOptions(workers=2, task_files=3))
    assert serial == parallel
    totals = sum(row[6] for row in serial if row[5] is None)
    assert totals == 24 * 40
    assert {row[5] for row in serial} == {None, "media", "vault"}


def _scan_logs(tmp_path: Path, out: str, *extra: str) -> tuple[int, dict, list[dict]]:
    args = ["scan", "--policy", str(tmp_path / "policy.yaml")]
    args += ["--inventory", str(tmp_path / "stores.csv"), "--events", str(tmp_path / "logs")]
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / out), "--quiet", *extra])
    summary, findings = _outputs(tmp_path / out)
    return result.exit_code, summary, findings


def test_incremental_scans_give_the_coverage_of_a_full_scan(tmp_path: Path) -> None:
    # One event a day is enough here: the policy lowers the density gaps need.
    (tmp_path / "policy.yaml").write_text(POLICY + "coverage:\n  log_gap_min_daily_events: 1\n")
    (tmp_path / "stores.csv").write_text(
        "store_id,provider,region,service,data_classes\n"
        "media,aws,us-east-1,s3,us_user_data\n"
        "vault,aws,us-east-1,s3,us_user_data\n"
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    days = ["2026-04-01", "2026-04-02", "2026-04-04"]  # 2026-04-03 never delivered
    for number, day in enumerate(days):
        (logs / f"{day}.json").write_text(
            _trail(
                [_record(number, day, "us-east-1", "media")]
                + ([_record(number + 10, day, "us-west-2", "x")] if number != 1 else [])
            )
        )
    (logs / "2026-04-02.json").rename(tmp_path / "later.json")
    _, first, _ = _scan_logs(tmp_path, "daily", "--incremental")
    (tmp_path / "later.json").rename(logs / "2026-04-02.json")
    _, second, incremental = _scan_logs(tmp_path, "daily", "--incremental")
    _, full, complete = _scan_logs(tmp_path, "full")
    assert second["coverage"] == full["coverage"]
    assert second["coverage"] != first["coverage"]

    def gaps(findings: list[dict]) -> list[tuple]:
        return sorted(
            (f["id"], f["resource"], tuple(f["evidence"].get("missing_days", ()))) for f in findings
        )

    assert gaps(incremental) == gaps(complete)
    assert ("aws/1/us-east-1", ("2026-04-03",)) in [g[1:] for g in gaps(complete)]
    assert ("aws/1/us-west-2", ("2026-04-02", "2026-04-03")) in [g[1:] for g in gaps(complete)]
    assert [f["resource"] for f in complete if f["rule"] == "coverage.store-unobserved"] == [
        "vault"
    ]


def test_values_from_the_logs_stay_text_in_the_coverage_section() -> None:
    from borderwatch.model.scan import Coverage, LogCoverage, StoreCoverage, StoreSource
    from borderwatch.report.html import HtmlReporter

    hostile = '<img src=x onerror="alert(1)">'
    coverage = Coverage(
        first_day="2026-04-01",
        last_day="2026-04-02",
        logs=(LogCoverage(hostile, "aws", hostile, "us-east-1\u202e", ("2026-04-01",), 3),),
        stores=(StoreCoverage("s", "aws", "us-east-1", True, (StoreSource(hostile, 1, 3),)),),
    )
    result = _result(_finding("coverage.log-gap", Severity.MEDIUM))
    page = HtmlReporter().render(ScanResult(**{**vars(result), "coverage": coverage})).decode()
    section = page[page.index('<section id="coverage"') : page.index('<section id="access"')]
    assert hostile not in section
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in section
    assert "us-east-1[U+202E]" in section  # a bidi override made visible
    assert section.count('class="day d-seen" title=') == 1  # the legend has no title
    assert section.count('class="day d-gap" title="2026-04-02: no events"') == 1


def test_approved_exceptions_account_for_known_gaps_and_then_the_scan_passes(
    tmp_path: Path,
) -> None:
    exceptions = """exceptions:
  - id: EXC-OUTAGE-1
    rule: coverage.log-gap
    store: aws/111122223333/us-west-2
    approver: ciso@example.com
    ticket: OPS-42
    expires: 2026-12-31
    reason: CloudTrail delivery outage in us-west-2 on 2026-04-03
  - id: EXC-ARCHIVE
    rule: coverage.store-unobserved
    store: gap-archive
    approver: ciso@example.com
    ticket: OPS-43
    expires: 2026-12-31
    reason: cold archive, read through S3 server access logs kept elsewhere
"""
    (tmp_path / "policy.yaml").write_text((GAPS / "policy.yaml").read_text() + exceptions)
    args = _gap_case_args(tmp_path / "out", "--quiet", "--as-of", "2026-06-01")
    args[2] = str(tmp_path / "policy.yaml")
    code, output = _run(args)
    summary, findings = _outputs(tmp_path / "out")
    assert code == 0 and summary["verdict"] == "pass" and "PASS" in output
    assert sorted((f["status"], f["exception"]["id"]) for f in findings) == [
        ("muted", "EXC-ARCHIVE"),
        ("muted", "EXC-OUTAGE-1"),
    ]
    assert summary["coverage"]["complete"] is True


def test_a_stray_timestamp_widens_the_window_but_the_evidence_stays_bounded(
    tmp_path: Path,
) -> None:
    """One event dated years early: every dense place gets a long gap, listed up to 100."""
    (tmp_path / "policy.yaml").write_text(POLICY)
    (tmp_path / "stores.csv").write_text(
        "store_id,provider,region,service,data_classes\nmedia,aws,us-east-1,s3,us_user_data\n"
    )
    logs = tmp_path / "logs"
    logs.mkdir()
    records = [_record(n, f"2026-04-0{1 + n % 3}", "us-east-1", "media") for n in range(30)]
    records.append(_record(99, "2020-01-01", "eu-west-1", "x"))
    (logs / "trail.json").write_text(_trail(records))
    _scan_logs(tmp_path, "out")
    summary, findings = _outputs(tmp_path / "out")
    (gap,) = [f for f in findings if f["rule"] == "coverage.log-gap"]
    assert gap["resource"] == "aws/1/us-east-1"
    window = (dt.date(2026, 4, 3) - dt.date(2020, 1, 1)).days + 1
    assert gap["count"] == window - 3  # every day of the window but the three seen
    assert len(gap["evidence"]["missing_days"]) == 100
    assert gap["evidence"]["missing_days"][0] == "2020-01-01"
    assert summary["coverage"]["window"]["first_day"] == "2020-01-01"


def test_a_window_asked_for_shows_a_trail_that_stopped(tmp_path: Path) -> None:
    """Every log stops on 2026-04-05: the events' own window ends there and sees no gap;
    --to 2026-04-07 shows two days without logs in both regions."""
    code, _ = _run(_gap_case_args(tmp_path / "own", "--quiet"))
    own, _ = _outputs(tmp_path / "own")
    assert own["coverage"]["window"]["last_day"] == "2026-04-05"
    code, _ = _run(
        _gap_case_args(tmp_path / "asked", "--quiet", "--from", "2026-04-02", "--to", "2026-04-07")
    )
    summary, findings = _outputs(tmp_path / "asked")
    assert summary["coverage"]["window"] == {"first_day": "2026-04-02", "last_day": "2026-04-07"}
    gaps = {
        f["evidence"]["region"]: f["evidence"]["missing_days"]
        for f in findings
        if f["rule"] == "coverage.log-gap"
    }
    assert gaps == {
        "us-east-1": ["2026-04-06", "2026-04-07"],
        "us-west-2": ["2026-04-03", "2026-04-06", "2026-04-07"],
    }
    backwards = _gap_case_args(
        tmp_path / "x", "--quiet", "--from", "2026-04-07", "--to", "2026-04-01"
    )
    code, output = _run(backwards)
    assert code == 2 and "--from 2026-04-07 is after --to 2026-04-01" in output
