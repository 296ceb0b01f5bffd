"""report.html: an index of findings, evidence folded, thousands separators, and the
quarantine counted by reason with a link to quarantine.jsonl (in Chromium)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from borderwatch.model.events import QuarantinedRecord
from borderwatch.model.findings import Finding, Severity, Status, finding_id
from borderwatch.model.scan import InputSummary
from borderwatch.report.html import QUARANTINE_REASONS_SHOWN, thousands
from browser import WatchedPage, chromium, watched_page
from test_report_html import realistic_result, write


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def browser_page(browser: Any) -> Iterator[WatchedPage]:
    with watched_page(browser) as page:
        yield page


def test_the_index_lists_every_finding_drawn_and_links_to_it(
    browser_page: WatchedPage, tmp_path: Path
) -> None:
    result = realistic_result()
    path = write(tmp_path, result)
    browser_page.open(path)
    page = browser_page.page
    rows = page.locator("table.findings-index tbody tr")
    drawn = page.locator("article.finding")
    assert rows.count() == drawn.count() == len(result.findings)
    # Same order as the entries below: open (most severe first), then muted.
    index_ids = rows.locator("th a").all_inner_texts()
    entry_ids = [
        drawn.nth(n).locator(".facts dd.mono").first.inner_text() for n in range(drawn.count())
    ]
    assert index_ids == entry_ids
    # Each link leads to its own entry; the evidence there is folded until opened.
    link = rows.nth(1).locator("th a")
    target = link.get_attribute("href")
    assert target == "#open-2"
    link.click()
    entry = page.locator(target)
    assert entry.locator(".facts dd.mono").first.inner_text() == index_ids[1]
    assert page.evaluate("location.hash") == "#open-2"
    assert page.locator("details.evidence[open]").count() == 0
    assert browser_page.extra_requests(path) == []


def test_counts_have_thousands_separators(browser_page: WatchedPage, tmp_path: Path) -> None:
    base = realistic_result()
    finding = Finding(
        id=finding_id("access.x", "big"),
        rule="access.x",
        severity=Severity.HIGH,
        status=Status.OPEN,
        title="t",
        message="m",
        resource="big",
        count=1234567,
    )
    inputs = (InputSummary("logs/huge.json", "events", "cloudtrail", 12500000, 12499998, 2),)
    result = replace(
        base,
        findings=(finding,),
        inputs=inputs,
        events_total=12499998,
        protected_accesses=1234567,
    )
    path = write(tmp_path, result)
    browser_page.open(path)
    page = browser_page.page
    summary = page.inner_text("#summary")
    assert "12,499,998" in summary and "1,234,567" in summary
    assert page.locator("table.findings-index tbody td.num").inner_text() == "1,234,567"
    assert "✓ 12,500,000 = 12,499,998 + 2" in page.inner_text("table.inputs")
    assert thousands(12500000) == "12,500,000" and thousands(999) == "999"
    assert thousands(True) == "true" and thousands("1000") == "1000"


def test_quarantine_is_counted_by_reason_and_links_to_the_file(
    browser_page: WatchedPage, tmp_path: Path
) -> None:
    """30,000 quarantined records of 60 reasons: the page has one row per reason (the 50
    most frequent), never a row per record, and links to quarantine.jsonl for all."""
    records = []
    for reason in range(60):
        for n in range(reason * 10 + 10):  # reason r has 10 r + 10 records
            records.append(
                QuarantinedRecord(
                    f"logs/part-{n % 7}.json", f"line {n + 1}", f"reason {reason:02d}", "{bad"
                )
            )
    total = len(records)
    result = replace(realistic_result(), quarantined=tuple(records))
    path = write(tmp_path, result)
    size = path.stat().st_size
    browser_page.open(path)
    page = browser_page.page
    rows = page.locator("table.quarantine tbody tr")
    assert rows.count() == QUARANTINE_REASONS_SHOWN
    first = rows.first.inner_text().split("\t")
    assert first[:3] == ["reason 59", "600", "7"]  # most frequent first
    assert first[3].startswith("logs/part-0.json") and "line 1" in first[3]
    section = page.inner_text("#quarantine")
    assert f"Quarantine ({total:,})" in section
    assert "Showing the 50 most frequent of 60 reasons" in section
    link = page.locator("#quarantine a").first
    assert link.get_attribute("href") == "quarantine.jsonl"
    assert link.inner_text() == "quarantine.jsonl"
    # The page stays small: it does not grow with the records.
    assert size < 200_000, size


def test_screenshot_of_the_index(browser_page: WatchedPage, tmp_path: Path) -> None:
    path = write(tmp_path, realistic_result())
    browser_page.open(path)
    shot = tmp_path / "index.png"
    browser_page.page.locator("#index").screenshot(path=str(shot))
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG") and len(data) > 5_000
    if os.environ.get("BORDERWATCH_SCREENSHOT"):
        Path(os.environ["BORDERWATCH_SCREENSHOT"]).with_suffix(".index.png").write_bytes(data)
    assert browser_page.page.locator("table.findings-index").is_visible()
