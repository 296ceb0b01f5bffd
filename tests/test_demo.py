"""The demo end to end: it finds exactly the planted problems and its report shows them."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

from click.testing import CliRunner

from borderwatch.cli import main
from borderwatch.demo import dsp, feed
from borderwatch.demo.company import planted
from borderwatch.demo.run import run_demo
from browser import chromium, watched_page

SNAPSHOTS = Path(__file__).parent / "snapshots"


def test_demo_finds_the_planted_problems_and_the_report_shows_them(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = CliRunner().invoke(main, ["demo", "--out", str(out), "--events", "20000", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "all 12 planted problems found, nothing else" in result.output

    findings = json.loads((out / "findings.json").read_text())
    got = sorted(
        (f["rule"], f["resource"], f["principal"], f["country"], f["status"]) for f in findings
    )
    every = planted() + dsp.planted() + feed.planted()
    want = sorted((p.rule, p.resource, p.principal, p.country, p.status) for p in every)
    assert got == want

    summary = json.loads((out / "summary.json").read_text())
    totals = summary["totals"]
    assert totals["records_read"] == totals["accepted"] + totals["quarantined"]
    # The demo plants one record without eventTime and one feed record without its
    # time: quarantined, not lost, not fatal.
    quarantine = [json.loads(line) for line in (out / "quarantine.jsonl").read_text().splitlines()]
    assert len(quarantine) == 2 and "eventTime" in quarantine[0]["reason"]
    assert quarantine[1]["source_format"] == "clipstream-feed"
    assert "time missing" in quarantine[1]["reason"]

    with chromium() as browser, watched_page(browser) as page:
        page.open(out / "report.html")
        body = page.page.inner_text("body")
        assert "FAIL" in body
        for finding in findings:
            assert finding["id"] in body
            assert finding["resource"] in body
        assert page.requests == [(out / "report.html").resolve().as_uri()]


def test_the_demo_reports_byte_for_byte_what_it_reported_before(tmp_path: Path) -> None:
    """The demo at a fixed hour gives exactly the findings.json in tests/snapshots: moving
    code between rooms must not change one byte of what a scan reports. (The demo's
    traffic follows the clock hour, so the hour is fixed here.) A deliberate change to
    the demo is written with BORDERWATCH_UPDATE_SNAPSHOTS=1, and its diff read before it
    is committed, as for the golden cases."""
    out = tmp_path / "demo"
    run_demo(out, events=20000, now=dt.datetime(2026, 12, 6, 4, 0, tzinfo=dt.UTC))
    got = (out / "findings.json").read_text().replace(str(out), "<OUT>")
    snapshot = SNAPSHOTS / "demo-findings.json"
    if os.environ.get("BORDERWATCH_UPDATE_SNAPSHOTS") == "1":
        snapshot.write_text(got)
    assert got == snapshot.read_text()
