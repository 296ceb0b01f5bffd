"""report.html: hostile log values stay text, the page tells the truth, output is stable.

Most checks open the rendered file in a real headless Chromium (tests/browser.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import Markup

from borderwatch.model.events import QuarantinedRecord
from borderwatch.model.findings import AppliedException, Finding, Severity, Status, finding_id
from borderwatch.model.scan import CountryAccess, InputSummary, ResidencyRow, ScanResult
from borderwatch.registry import load_plugins
from borderwatch.report.html import (
    FINDINGS_SHOWN,
    HtmlReporter,
    _visible,
    text,
)
from browser import WatchedPage, chromium, watched_page

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

# Each of these would run script, load something or mislead the reader if not escaped.
HOSTILE = [
    "<script>window.__pwned=1</script>",
    '"><img src=x onerror="window.__pwned=1">',
    "<svg onload=window.__pwned=1>",
    "javascript:window.__pwned=1",
    "</style><script>window.__pwned=1</script>",
    "{{7*7}}",
    "</textarea></title><iframe srcdoc='<script>parent.__pwned=1</script>'></iframe>",
    '<a href="javascript:window.__pwned=1">click</a>',
    "<body onload=alert(1)><details open ontoggle=alert(2)>",
    "<!-- ]]> --><style>*{display:none}</style>",
    "<meta http-equiv=refresh content='0;url=https://evil.example/'>",
    "<link rel=stylesheet href=https://evil.example/x.css>",
]
RTL = "invoice\u202efdp.exe"  # right-to-left override: reads as "invoiceexe.pdf"
LONG = "arn:aws:s3:::" + "A" * 3000  # one unbreakable word
CONTROL = "bell\x07escape\x1b[31mred\x08back\x7fdel\u200bzwsp"


class _Evil:
    """An object that claims to be safe HTML; the report must not believe it."""

    def __html__(self) -> str:
        return "<script>window.__pwned=1</script>"

    def __str__(self) -> str:
        return "<img src=x onerror=alert(1)>"


# --- building results -----------------------------------------------------------------


def _finding(
    rule: str,
    severity: Severity,
    subject: str,
    *,
    status: Status = Status.OPEN,
    **extra: Any,
) -> Finding:
    return Finding(
        id=finding_id(rule, subject),
        rule=rule,
        severity=severity,
        status=status,
        title=extra.pop("title", f"{rule} on {subject}"),
        message=extra.pop("message", f"{subject} broke {rule}"),
        **extra,
    )


def realistic_result() -> ScanResult:
    exception = AppliedException(
        id="EX-2024-007",
        approver="dpo@example.com",
        ticket="GRC-1182",
        expires="2025-06-30",
        reason="Support vendor contract with SCCs, reviewed by legal",
    )
    findings = (
        _finding(
            "access-prohibited-country",
            Severity.CRITICAL,
            "customers-eu",
            title="Protected data accessed from a prohibited country",
            message="arn:aws:iam::111122223333:user/ops read customers-eu from RU 12 times",
            resource="arn:aws:s3:::customers-eu",
            principal="arn:aws:iam::111122223333:user/ops",
            person="Olga Petrova",
            country="RU",
            data_classes=("personal", "financial"),
            count=12,
            first_seen="2024-05-01T08:00:00Z",
            last_seen="2024-05-03T17:45:10Z",
            evidence={
                "sample_event_ids": ["e-1", "e-2", "e-3"],
                "caller": {"ip": "203.0.113.9", "basis": "iptocc", "asn": 64500},
                "read_only": True,
            },
        ),
        _finding(
            "residency-outside",
            Severity.HIGH,
            "backup-us",
            title="Protected data stored outside approved locations",
            message="backup-us holds personal data in US (us-east-1)",
            resource="arn:aws:s3:::backup-us",
            data_classes=("personal",),
            evidence={"copy_path": ["customers-eu", "analytics-eu", "backup-us"]},
        ),
        _finding(
            "access-unknown-country",
            Severity.MEDIUM,
            "customers-eu/unknown",
            resource="arn:aws:s3:::customers-eu",
            principal="arn:aws:iam::111122223333:role/etl",
            count=4,
        ),
        _finding("inventory-unlabelled", Severity.LOW, "scratch", resource="scratch"),
        _finding(
            "access-outside-approved",
            Severity.HIGH,
            "support-in",
            status=Status.MUTED,
            title="Support vendor reads customer data from India",
            message="vendor-support read customers-eu from IN 30 times",
            resource="arn:aws:s3:::customers-eu",
            principal="arn:aws:iam::444455556666:role/vendor-support",
            country="IN",
            count=30,
            exception=exception,
        ),
    )
    residency = (
        ResidencyRow(
            "customers-eu", "aws", "eu-central-1", "s3", "region", ("DE",),
            ("personal", "financial"), True, 120_000, None, ("customers-eu",), "approved",
        ),
        ResidencyRow(
            "analytics-eu", "aws", "eu-west-1", "s3", "region", ("IE",),
            ("personal", "financial"), True, 80_000, "customers-eu",
            ("customers-eu", "analytics-eu"), "approved",
        ),
        ResidencyRow(
            "backup-us", "aws", "us-east-1", "s3", "region", ("US",),
            ("personal", "financial"), True, None, "analytics-eu",
            ("customers-eu", "analytics-eu", "backup-us"), "outside",
        ),
        ResidencyRow(
            "cdn-logs", "gcp", "global", "storage", "global", (), (), False, 10, None,
            ("cdn-logs",), "not-protected",
        ),
        ResidencyRow(
            "ops-share", "onprem", "site-3", "nfs", "unknown", (), ("personal",), True, 5,
            None, ("ops-share",), "unknown",
        ),
    )  # fmt: skip
    access = (
        CountryAccess("DE", 900, 14, False),
        CountryAccess("IN", 30, 1, False),
        CountryAccess(None, 4, 1, False),
        CountryAccess("RU", 12, 1, True),
    )
    quarantined = tuple(
        QuarantinedRecord(
            "logs/2024/05/01/trail.json.gz",
            f"record {n} of Records",
            "eventTime is not a timestamp",
            excerpt='{"eventTime": "yesterday", "eventID": "x' + str(n) + '"}',
            source_format="cloudtrail",
        )
        for n in range(1, 4)
    )
    inputs = (
        InputSummary("logs/2024/05/01/trail.json.gz", "events", "cloudtrail", 950, 947, 3),
        InputSummary("inventory.yaml", "inventory", "yaml", 5, 5, 0),
        InputSummary(
            "logs/2024/05/01/digest.json.gz", "events", "cloudtrail", 0, 0, 0,
            note="skipped: CloudTrail digest file",
        ),
    )  # fmt: skip
    return ScanResult(
        policy_name="eu-customer-data",
        policy_version="2024.05",
        policy_sha256="9f2c" * 16,
        started_at="2024-05-04T02:00:00Z",
        finished_at="2024-05-04T02:03:17Z",
        fail_on=Severity.HIGH,
        findings=findings,
        inputs=inputs,
        residency=residency,
        access_by_country=access,
        quarantined=quarantined,
        data_versions={"iptocc": "2024-05-01", "locations": "borderwatch-locations 12"},
        events_total=950,
        protected_accesses=946,
    )


def hostile_result() -> ScanResult:
    """Every value that can come from a log, inventory or policy file is an attack."""
    h = HOSTILE
    all_h = " ".join(h)
    evidence: dict[Any, Any] = {
        h[0]: h[1],
        "nested": {h[2]: [h[3], {h[4]: h[5]}], "list": list(h)},
        "markup": Markup(h[0]),  # a str subclass that would skip escaping
        "evil_object": _Evil(),
        "rtl": RTL,
        "control": CONTROL,
        42: {h[6]},
        "deep": [[[[[[[[[[h[0]]]]]]]]]]],
    }
    findings = (
        Finding(
            id=h[0], rule=h[1], severity=Severity.HIGH, status=Status.OPEN,
            title=h[2], message=all_h, resource=h[3], principal=h[4], person=h[7],
            country=h[0], data_classes=(h[1], RTL), first_seen=h[8], last_seen=h[9],
            evidence=evidence,
        ),
        Finding(
            id="BW-MUTED", rule="r", severity=Severity.CRITICAL, status=Status.MUTED,
            title=CONTROL, message=h[10], principal=h[11], resource=LONG,
            exception=AppliedException(h[0], h[1], h[2], h[3], h[4]),
        ),
    )  # fmt: skip
    residency = (
        ResidencyRow(
            h[0], h[1], h[2], h[3], h[4], (h[0], RTL), (h[1],), True, 1, h[2],
            (h[0], h[1], h[2]), h[3],
        ),
    )  # fmt: skip
    access = (
        CountryAccess(h[0], 5, 1, True),
        CountryAccess(h[1], 3, 1, False),
        CountryAccess(RTL, 2, 1, False),
        CountryAccess(None, 1, 1, False),
    )
    quarantined = tuple(
        QuarantinedRecord(p, p, p, excerpt=p, source_format=p) for p in [*h, RTL, CONTROL]
    )
    inputs = (
        InputSummary(h[0], h[1], h[2], 3, 2, 1, note=h[4]),
        InputSummary(LONG, "events", "cloudtrail", 0, 0, 0, note=LONG),
    )
    return ScanResult(
        policy_name=h[0], policy_version=h[1], policy_sha256=h[2], started_at=h[3],
        finished_at=h[4], fail_on=Severity.HIGH, findings=findings, inputs=inputs,
        residency=residency, access_by_country=access, quarantined=quarantined,
        data_versions={h[0]: h[1], h[5]: RTL}, events_total=11, protected_accesses=11,
    )  # fmt: skip


def render(result: ScanResult) -> bytes:
    return HtmlReporter().render(result)


def write(tmp_path: Path, result: ScanResult, name: str = "report.html") -> Path:
    path = tmp_path / name
    path.write_bytes(render(result))
    return path


# --- browser fixtures -----------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def browser_page(browser: Any) -> Iterator[WatchedPage]:
    with watched_page(browser) as page:
        yield page


def _no_script_state(watched: WatchedPage, path: Path) -> None:
    page = watched.page
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.evaluate("typeof parent.__pwned") == "undefined"
    assert watched.dialogs == []
    assert page.locator("script").count() == 0
    on_attrs = page.evaluate(
        """() => [...document.querySelectorAll('*')].flatMap(
            el => [...el.attributes].filter(a => a.name.toLowerCase().startsWith('on'))
                .map(a => el.tagName + ' ' + a.name))"""
    )
    assert on_attrs == []
    for tag in ("iframe", "img", "link", "object", "embed", "form", "base", "a[href^=javascript]"):
        assert page.locator(tag).count() == 0, tag
    assert page.locator("meta[http-equiv=refresh]").count() == 0
    assert watched.extra_requests(path) == []


# --- static checks --------------------------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "main", "footer", "section",
    "nav", "article", "h2", "h3", "h4", "p", "a", "strong", "em", "span", "br", "dl", "dt",
    "dd", "ul", "ol", "li", "table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td",
    "div", "details", "summary", "code", "svg", "g", "desc", "text", "rect",
}  # fmt: skip


def _static_checks(data: bytes) -> _Tags:
    page = data.decode("utf-8")
    assert "<script" not in page.lower()
    assert CSP in page
    parser = _Tags()
    parser.feed(page)
    parser.close()
    for tag, attrs in parser.tags:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attrs:
            assert not name.startswith("on"), (tag, name)
            if name in {"href", "src", "xlink:href", "action"}:
                # In-page anchors, and the one fixed link to the quarantine file beside it.
                assert (value or "").startswith("#") or (tag, name, value) == (
                    "a",
                    "href",
                    "quarantine.jsonl",
                ), (tag, name, value)
    return parser


def test_reporter_is_registered() -> None:
    reporter = load_plugins().reporters.get("html")
    assert isinstance(reporter, HtmlReporter)
    assert (reporter.name, reporter.filename) == ("html", "report.html")


def test_hostile_values_are_inert_in_the_bytes() -> None:
    data = render(hostile_result())
    parser = _static_checks(data)
    shown = "".join(parser.text)
    page = data.decode()
    for payload in HOSTILE:
        assert payload in shown, payload  # shown as text, after entity decoding
    assert "{{7*7}}" in page and "49" not in shown.replace("{{7*7}}", "")
    # Invisible and control characters are made visible, never passed through.
    assert "\u202e" not in page and "invoice[U+202E]fdp.exe" in shown
    for ch in "\x07\x1b\x08\x7f\u200b":
        assert ch not in page
    assert "bell[U+0007]escape[U+001B][31mred[U+0008]back[U+007F]del[U+200B]zwsp" in shown
    # Objects claiming to be safe HTML are shown by their text, escaped.
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_hostile_values_are_inert_in_the_browser(browser_page: WatchedPage, tmp_path: Path) -> None:
    path = write(tmp_path, hostile_result())
    browser_page.open(path)
    page = browser_page.page
    _no_script_state(browser_page, path)
    body = page.inner_text("body")
    for payload in HOSTILE:
        assert payload in body, payload
    assert page.get_by_text("<script>window.__pwned=1</script>").count() > 0
    assert page.get_by_text("<script>window.__pwned=1</script>").first.is_visible()
    assert page.get_by_text("<svg onload=window.__pwned=1>").first.is_visible()
    assert "invoice[U+202E]fdp.exe" in body
    # The style-closing payload did not end our stylesheet: the banner is still styled.
    banner_bg = page.eval_on_selector(
        "header.verdict", "el => getComputedStyle(el).backgroundColor"
    )
    assert banner_bg not in ("rgba(0, 0, 0, 0)", "transparent")
    # The hostile country is a bar label and a table row, as text.
    labels = page.locator("svg.chart g.bar text.label").all_text_contents()
    assert any("<script>" in label for label in labels)
    assert browser_page.console_errors == []
    # A 3,000-character word wraps instead of widening the page.
    assert LONG in body.replace("\n", "")
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=()), max_size=40))
def test_text_shows_the_same_characters_with_or_without_its_shortcut(value: str) -> None:
    """text() skips its per-character pass for printable strings; results must agree."""
    assert text(value) == "".join(_visible(ch) for ch in value)


def test_text_never_returns_markup() -> None:
    assert type(text(Markup("<b>x</b>"))) is str
    assert text(None) == ""
    assert text(True) == "true"
    assert text(b"\xff<a>") == "\ufffd<a>"
    assert text("x" * 5000).endswith("… [1000 more characters]")
    assert text("a\ud800b") == "a[U+D800]b"  # a lone surrogate cannot break encoding

    class Broken:
        def __str__(self) -> str:
            raise RuntimeError("no")

    assert text(Broken()) == "<unprintable Broken>"


def test_odd_evidence_renders() -> None:
    loop: list[Any] = []
    loop.append(loop)
    finding = _finding(
        "r", Severity.LOW, "x",
        evidence={"loop": loop, "big": list(range(1000)), "nan": float("nan"), None: b"\x00"},
    )  # fmt: skip
    data = render(replace(realistic_result(), findings=(finding,)))
    page = data.decode()
    assert "800 more items not shown" in page
    assert "\x00" not in page and "[U+0000]" in page


# --- what the page says ---------------------------------------------------------------


def test_verdict_banner_fail_and_pass(browser_page: WatchedPage, tmp_path: Path) -> None:
    failing = realistic_result()
    assert failing.verdict == "fail"
    path = write(tmp_path, failing, "fail.html")
    browser_page.open(path)
    page = browser_page.page
    assert page.inner_text(".verdict-word") == "FAIL"
    assert "2 open findings at or above high" in page.inner_text("header.verdict")
    counts = dict(
        zip(
            page.locator(".severity-counts thead th").all_inner_texts(),
            page.locator(".severity-counts tbody td").all_inner_texts(),
            strict=True,
        )
    )
    assert counts == {"critical": "1", "high": "1", "medium": "1", "low": "1", "info": "0"}
    summary = page.inner_text("#summary")
    assert "eu-customer-data" in summary and "2024.05" in summary and "9f2c" * 16 in summary
    assert "2024-05-04T02:00:00Z" in summary and "2024-05-04T02:03:17Z" in summary
    assert re.search(r"Muted findings\s+1 ", summary)
    assert re.search(r"Events read\s+950", summary)
    assert re.search(r"Accesses to protected data\s+946", summary)

    # Only low and medium open, high muted: the scan passes.
    passing = replace(
        failing,
        findings=tuple(f for f in failing.findings if f.severity.rank < Severity.HIGH.rank)
        + tuple(f for f in failing.findings if f.status is Status.MUTED),
    )
    assert passing.verdict == "pass"
    path = write(tmp_path, passing, "pass.html")
    browser_page.open(path)
    assert browser_page.page.inner_text(".verdict-word") == "PASS"
    assert "FAIL" not in browser_page.page.inner_text("header.verdict")


def test_chart_bars_and_table(browser_page: WatchedPage, tmp_path: Path) -> None:
    result = realistic_result()
    path = write(tmp_path, result)
    browser_page.open(path)
    page = browser_page.page
    _no_script_state(browser_page, path)
    bars = page.locator("svg.chart g.bar")
    assert bars.count() == len(result.access_by_country)
    labels = page.locator("svg.chart g.bar text.label").all_text_contents()
    assert labels == ["DE", "IN", "⚠ RU", "unknown"]  # largest first
    unknown = page.locator("svg.chart g.bar.unknown")
    assert unknown.count() == 1 and unknown.locator("text.label").text_content() == "unknown"
    prohibited = page.locator("svg.chart g.bar.prohibited")
    assert prohibited.count() == 1
    assert "⚠ PROHIBITED" in (prohibited.locator("text.value").text_content() or "")
    assert prohibited.locator("text.label").text_content() == "⚠ RU"
    # Colour as well as text: the prohibited bar is red, the others are not.
    fills = page.eval_on_selector_all(
        "svg.chart g.bar rect", "els => els.map(e => getComputedStyle(e).fill)"
    )
    assert fills[2] == "rgb(179, 38, 30)" and fills.count("rgb(179, 38, 30)") == 1
    widths = [float(w) for w in page.eval_on_selector_all(
        "svg.chart g.bar rect", "els => els.map(e => e.getAttribute('width'))"
    )]  # fmt: skip
    assert widths[0] == 440.0 and widths == sorted(widths, reverse=True)
    assert widths[1] == pytest.approx(440 * 30 / 900, abs=0.1)
    # The table alternative holds the same numbers.
    rows = page.locator("table.access-table tbody tr")
    table = {
        rows.nth(i).locator("th").inner_text(): [
            rows.nth(i).locator("td").nth(j).inner_text() for j in range(3)
        ]
        for i in range(rows.count())
    }
    assert table == {
        "DE": ["900", "14", "allowed"],
        "IN": ["30", "1", "allowed"],
        "RU": ["12", "1", "⚠ PROHIBITED"],
        "unknown (not established)": ["4", "1", "? cannot be judged (see access.unknown-location)"],
    }
    assert page.inner_text("table.access-table tfoot").split("\t")[:2] == ["Total", "946"]


def test_findings_residency_and_inputs(browser_page: WatchedPage, tmp_path: Path) -> None:
    result = realistic_result()
    path = write(tmp_path, result)
    browser_page.open(path)
    page = browser_page.page
    body = page.inner_text("body")
    for finding in result.findings:
        assert finding.id in body
    open_ids = page.locator("#open article .facts dd.mono").all_inner_texts()[::2]
    assert [f for f in open_ids] == [
        finding_id("access-prohibited-country", "customers-eu"),
        finding_id("residency-outside", "backup-us"),
        finding_id("access-unknown-country", "customers-eu/unknown"),
        finding_id("inventory-unlabelled", "scratch"),
    ]  # severity descending
    muted = page.inner_text("#muted")
    assert finding_id("access-outside-approved", "support-in") in muted
    for value in ("EX-2024-007", "dpo@example.com", "GRC-1182", "2025-06-30", "SCCs"):
        assert value in muted
    assert "EX-2024-007" not in page.inner_text("#open")
    first = page.locator("#open article").first
    assert not first.locator("details.evidence > dl").is_visible()  # collapsed by default
    first.locator("details.evidence summary").click()
    evidence = first.inner_text()
    assert "203.0.113.9" in evidence and "sample_event_ids" in evidence and "e-3" in evidence
    # Copy path in order, with arrows between.
    backup = page.locator("table.residency tbody tr", has_text="backup-us")
    assert backup.locator(".copy-path .hop").all_inner_texts() == [
        "customers-eu", "analytics-eu", "backup-us",
    ]  # fmt: skip
    assert "customers-eu → analytics-eu → backup-us" in backup.inner_text()
    assert "✗ outside" in backup.inner_text()
    verdict_colour = backup.locator(".verdict-cell").evaluate("e => getComputedStyle(e).color")
    assert verdict_colour == "rgb(179, 38, 30)"
    # Inputs: every row balances, totals add up.
    inputs = page.inner_text("table.inputs")
    assert "✓ 950 = 947 + 3" in inputs and "MISMATCH" not in inputs
    assert "✓ 955 = 952 + 3" in page.inner_text("table.inputs tfoot")
    assert "skipped: CloudTrail digest file" in inputs
    # Quarantine and footer.
    # The three records share a reason: one row, counted, the first as example.
    assert page.locator("table.quarantine tbody tr").count() == 1
    row = page.locator("table.quarantine tbody tr").inner_text().split("\t")
    assert row[:3] == ["eventTime is not a timestamp\ncloudtrail", "3", "1"]
    assert "record 1 of Records" in row[3]
    footer = page.inner_text("footer")
    assert "iptocc" in footer and "borderwatch-locations 12" in footer
    assert re.search(r"Generated by borderwatch \d", footer)


def test_input_mismatch_is_flagged() -> None:
    result = realistic_result()
    broken = (InputSummary("bad.json", "events", "cloudtrail", 10, 7, 2), *result.inputs)
    page = render(replace(result, inputs=broken)).decode()
    assert "✗ MISMATCH: 10 ≠ 7 + 2" in page
    assert "✗ MISMATCH: 965 ≠ 959 + 5" in page
    assert "1 input do not balance" in page


def test_print_layout_and_screenshot(browser_page: WatchedPage, tmp_path: Path) -> None:
    path = write(tmp_path, realistic_result())
    browser_page.open(path)
    page = browser_page.page
    shot = tmp_path / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 10_000
    if os.environ.get("BORDERWATCH_SCREENSHOT"):
        Path(os.environ["BORDERWATCH_SCREENSHOT"]).write_bytes(data)
    page.emulate_media(media="print")
    assert not page.locator("nav").is_visible()
    assert page.locator("header.verdict").is_visible()
    pdf = page.pdf()
    assert pdf.startswith(b"%PDF")


# --- stability and size ---------------------------------------------------------------


def test_rendering_is_deterministic() -> None:
    result = realistic_result()
    assert render(result) == render(result)
    assert render(result) == render(realistic_result())
    assert render(hostile_result()) == render(hostile_result())


def test_set_evidence_is_stable_across_hash_seeds() -> None:
    code = (
        "import sys\n"
        "from borderwatch.model.findings import Finding, Severity, Status\n"
        "from test_report_html import realistic_result, render\n"
        "from dataclasses import replace\n"
        "f = Finding('BW-1', 'r', Severity.LOW, Status.OPEN, 't', 'm',\n"
        "            evidence={'regions': {'eu-west-1', 'us-east-1', 'ap-south-1', 'x', 'y'}})\n"
        "sys.stdout.buffer.write(render(replace(realistic_result(), findings=(f,))))\n"
    )
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=Path(__file__).parent, env=env, capture_output=True, check=True,
        )  # fmt: skip
        outputs.add(done.stdout)
    assert len(outputs) == 1


def test_large_result(browser_page: WatchedPage, tmp_path: Path) -> None:
    base = realistic_result()
    severities = list(Severity)
    findings = tuple(
        _finding(
            f"rule-{n % 7}",
            severities[n % len(severities)],
            f"store-{n}",
            status=Status.MUTED if n % 10 == 0 else Status.OPEN,
            resource=f"arn:aws:s3:::store-{n}",
            principal=f"arn:aws:iam::111122223333:user/u{n % 97}",
            evidence={"sample_event_ids": [f"e-{n}-{k}" for k in range(5)]},
        )
        for n in range(5_000)
    )
    quarantined = tuple(
        QuarantinedRecord(f"logs/part-{n // 1000}.json", f"line {n}", "not JSON", "{oops")
        for n in range(10_000)
    )
    big = replace(base, findings=findings, quarantined=quarantined)
    started = time.perf_counter()
    data = render(big)
    elapsed = time.perf_counter() - started
    assert elapsed < 30, elapsed
    page_text = data.decode()
    # The page draws the first FINDINGS_SHOWN of each section and says where the rest are.
    assert page_text.count('<article class="finding') == 2 * FINDINGS_SHOWN
    assert (
        f"Showing the first {FINDINGS_SHOWN} of 4,500 open findings, most severe first; "
        f"{4500 - FINDINGS_SHOWN:,} more are in"
    ) in page_text
    assert "Quarantine (10,000)" in page_text
    assert "Open findings (4,500)" in page_text and "Muted findings (500)" in page_text
    path = tmp_path / "big.html"
    path.write_bytes(data)
    browser_page.page.set_default_timeout(60_000)
    browser_page.open(path)
    # 10,000 records of one reason are one row, not 10,000.
    (row,) = browser_page.page.locator("table.quarantine tbody tr").all_inner_texts()
    assert row.split("\t")[:3] == ["not JSON", "10,000", "10"]
    assert browser_page.page.locator("article.finding").count() == 2 * FINDINGS_SHOWN


def test_missing_chromium_fails_unless_skipping_is_asked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import browser as browser_module

    monkeypatch.setattr(browser_module, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.delenv("BORDERWATCH_SKIP_BROWSER", raising=False)
    with pytest.raises(pytest.fail.Exception):
        browser_module.require_chromium()
    monkeypatch.setenv("BORDERWATCH_SKIP_BROWSER", "1")
    with pytest.raises(pytest.skip.Exception):
        browser_module.require_chromium()


def test_many_inputs_list_those_needing_attention_first(
    browser_page: WatchedPage, tmp_path: Path
) -> None:
    plain = [
        InputSummary(f"logs/part-{n:04d}.json.gz", "events", "cloudtrail", 10, 10, 0)
        for n in range(120)
    ]
    inputs = (
        *plain,
        InputSummary("logs/bad.json.gz", "events", "cloudtrail", 10, 8, 2),
        InputSummary("logs/digest.json.gz", "events", "cloudtrail", 0, 0, 0, note="skipped"),
    )
    path = write(tmp_path, replace(realistic_result(), inputs=inputs))
    browser_page.open(path)
    page = browser_page.page
    attention = page.locator("table.inputs.attention tbody tr")
    assert attention.locator("th").all_inner_texts() == ["logs/bad.json.gz", "logs/digest.json.gz"]
    assert "✓ 1,210 = 1,208 + 2" in page.inner_text("table.inputs.attention tfoot")
    assert not page.locator("table.inputs.all").is_visible()  # folded away, still in the page
    assert page.locator("table.inputs.all tbody tr").count() == 122
