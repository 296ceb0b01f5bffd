"""Four weekly scans of the demo company into one history (demo/weeks.py), and the board
report built from it: statuses as planted, figures equal to each run's summary.json,
the page checked in Chromium and the PDF by its text and its pages as images."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pypdf
import pypdfium2
import pytest
from click.testing import CliRunner

from borderwatch import api
from borderwatch.cli import main
from borderwatch.demo import company as co
from borderwatch.demo.weeks import CHEN_JIE, HISTORY_FOLDER, KEY_FOLDER, WeekRun, run_weeks
from browser import chromium, watched_page

NOW = dt.datetime(2026, 3, 29, 12, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def weeks(tmp_path_factory: pytest.TempPathFactory) -> list[WeekRun]:
    return run_weeks(tmp_path_factory.mktemp("weeks"), events=3000, now=NOW)


@pytest.fixture(scope="module")
def board(weeks: list[WeekRun]) -> api.BoardOutput:
    root = weeks[0].out.parent
    return api.board(root / HISTORY_FOLDER, root / "board" / "board.html")


def _status(run: WeekRun, principal: str) -> tuple[str, str]:
    """(history status, the finding's own state) of the prohibited-jurisdiction finding
    about `principal` in that week."""
    assert run.result.history is not None
    (item,) = [
        f
        for f in run.result.history.findings
        if f.rule == "access.prohibited-jurisdiction" and f.principal == principal
    ]
    return item.status.value, item.state


def _summary(run: WeekRun) -> dict[str, Any]:
    return json.loads((run.out / "summary.json").read_text(encoding="utf-8"))


def test_four_weeks_give_the_planted_statuses(weeks: list[WeekRun]) -> None:
    assert [w.result.history.run for w in weeks if w.result.history] == [1, 2, 3, 4]
    wang, chen, li = co.WANG_LEI.arn, CHEN_JIE.arn, co.LI_NA.arn
    # One finding resolved (week 2), one new (week 2), one reopened (week 3).
    assert [_status(w, wang) for w in weeks] == [
        ("new", "open"),
        ("resolved", "absent"),
        ("reopened", "open"),
        ("open", "open"),
    ]
    assert [_status(w, chen) for w in weeks[1:]] == [
        ("new", "open"),
        ("open", "open"),
        ("open", "open"),
    ]
    # One exception lapsing: expiring in weeks 1 and 2 (muting li.na), lapsed from week 3,
    # when her finding, present all along, is open.
    assert [_status(w, li) for w in weeks] == [
        ("new", "muted"),
        ("open", "muted"),
        ("open", "open"),
        ("open", "open"),
    ]
    states = [
        [(e.id, e.state.value) for e in (w.result.history.exceptions if w.result.history else ())]
        for w in weeks
    ]
    assert states == [
        [(co.EXCEPTION_ID, "expiring")],
        [(co.EXCEPTION_ID, "expiring")],
        [(co.EXCEPTION_ID, "lapsed")],
        [(co.EXCEPTION_ID, "lapsed")],
    ]
    third = weeks[2].result.history
    assert third is not None and len(third.unmuted) == 1
    assert third.exceptions[0].muted_ever == third.unmuted  # the exceptions' ledger
    # Nothing else changes: every other finding is open in weeks 2 to 4.
    for week in weeks[1:]:
        assert week.result.history is not None
        others = [
            f.status.value for f in week.result.history.findings if f.principal not in (wang, chen)
        ]
        assert set(others) == {"open"}


def test_each_week_says_what_changed_in_summary_report_and_terminal(weeks: list[WeekRun]) -> None:
    summary = _summary(weeks[1])
    assert summary["history"]["counts"] == {"new": 1, "open": 8, "resolved": 1, "reopened": 0}
    assert summary["history"]["previous_as_of"] == weeks[0].as_of.isoformat()
    page = (weeks[2].out / "report.html").read_text(encoding="utf-8")
    assert 'id="history"' in page and "Since the previous run" in page
    assert "reopened" in page and "Exception lapsed" in page
    from borderwatch.report.terminal import history_lines

    lines = [line.plain for line in history_lines(weeks[2].result)]
    assert lines[0].startswith("History: run 3 (2026-03-22) against run 2 (2026-03-15)")
    assert any(line.strip().startswith("REOPENED") and "wang.lei" in line for line in lines)
    assert any("EXCEPTION LAPSED" in line for line in lines)
    warning = [line.plain for line in history_lines(weeks[0].result) if "WARNING" in line.plain]
    assert warning == [
        f"WARNING: exception {co.EXCEPTION_ID} expires on 2026-03-18 (in 10 day(s)); it mutes "
        "1 finding(s)"
    ]


def test_board_figures_match_each_runs_summary_json(
    weeks: list[WeekRun], board: api.BoardOutput
) -> None:
    report = board.report
    assert [r.as_of for r in report.runs] == [w.as_of.isoformat() for w in weeks]
    for run, week in zip(report.runs, weeks, strict=True):
        summary = _summary(week)
        assert run.verdict == summary["verdict"]
        assert run.failing_findings == summary["failing_findings"]
        assert run.open_by_severity == summary["open_findings_by_severity"]
        assert run.coverage_gaps == summary["coverage"]["open_findings"]
        assert [
            (c.country, c.events, c.principals, c.prohibited) for c in run.access_by_country
        ] == [
            (c["country"], c["events"], c["principals"], c["prohibited"])
            for c in summary["access_by_country"]
        ]
        with (week.out / "residency.csv").open(encoding="utf-8") as handle:
            rows = [row for row in csv.DictReader(handle) if row["protected"] == "true"]
        records: Counter[str] = Counter()
        for row in rows:
            records[row["verdict"]] += int(row["records"] or 0)
        assert run.records_by_verdict == {v: records.get(v, 0) for v in run.records_by_verdict}
        assert run.stores_by_verdict == {
            v: sum(1 for row in rows if row["verdict"] == v) for v in run.stores_by_verdict
        }
    assert [(r.new, r.resolved, r.reopened) for r in report.runs] == [
        (0, 0, 0),
        (1, 1, 0),
        (0, 0, 1),
        (0, 0, 0),
    ]
    # The migration planted: records outside approved locations fall every week.
    outside = [r.records_by_verdict["outside"] for r in report.runs]
    assert outside == sorted(outside, reverse=True) and outside[0] > outside[-1]
    assert [e.state.value for e in report.exceptions] == ["lapsed"]
    assert {d.finding.principal for d in report.critical} >= {co.WANG_LEI.arn, CHEN_JIE.arn}
    chen = next(d for d in report.critical if d.finding.principal == CHEN_JIE.arn)
    assert (chen.reported_run, chen.reported_day) == (2, weeks[1].as_of.isoformat())
    assert chen.days is not None and 0 <= chen.days <= 7
    # The demo weeks sign the ledger beside the history: the board shows its real head,
    # and that head verifies against the demo's public key.
    root = weeks[0].out.parent
    lines = (root / HISTORY_FOLDER / "ledger.jsonl").read_text(encoding="utf-8").splitlines()
    last = json.loads(lines[-1])
    assert (report.ledger.hash, report.ledger.signature, report.ledger.records) == (
        last["hash"],
        last["signature"],
        4,
    )
    assert report.ledger.problem is None and report.ledger.signature
    verified = api.verify_ledger(
        root / HISTORY_FOLDER, root / KEY_FOLDER / "ledger.pem.pub", head=report.ledger.hash
    )
    assert verified.status == "verified" and verified.records == 4 and verified.breaks == []


def test_board_page_in_chromium(
    weeks: list[WeekRun], board: api.BoardOutput, tmp_path: Path
) -> None:
    with chromium() as browser, watched_page(browser) as watched:
        watched.open(board.html)
        page = watched.page
        assert watched.extra_requests(board.html) == []
        assert watched.console_errors == [] and watched.dialogs == []
        verdict = page.inner_text("#verdict-line")
        assert verdict == board.report.verdict_line()
        assert verdict.startswith(
            "FAIL at the end of the period (2026-03-08 to 2026-03-29, 4 run(s))"
        )
        rows = page.eval_on_selector_all(
            "table.runs tbody tr",
            "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText))",
        )
        for row, week in zip(rows, weeks, strict=True):
            summary = _summary(week)
            assert row[1] == week.as_of.isoformat()
            assert row[2] == summary["verdict"]
            assert int(row[3]) == summary["failing_findings"]
            by_severity = summary["open_findings_by_severity"]
            assert [int(n) for n in row[4:9]] == [
                by_severity.get(s, 0) for s in ("critical", "high", "medium", "low", "info")
            ]
        assert page.locator("svg.map path").count() > 150
        # China, a prohibited country with accesses, in red; the US in blue.
        shaded = page.eval_on_selector_all(
            "svg.map path[class*='-']",
            "paths => paths.map(p => [p.getAttribute('class'), p.textContent])",
        )
        assert any(css.startswith("land bad-") and "(CN)" in title for css, title in shaded)
        assert any(css.startswith("land ok-") and "(US)" in title for css, title in shaded)
        assert page.locator("svg.map circle.dot").count() >= 2  # HK and SG: too small to draw
        assert "logarithmic scale" in page.inner_text("#access")
        assert page.inner_text("#ledger-hash") == board.report.ledger.hash
        assert page.inner_text("#ledger-signature") == board.report.ledger.signature
        shot = tmp_path / "board.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 50_000


def test_board_pdf_text_and_pages(
    weeks: list[WeekRun], board: api.BoardOutput, tmp_path: Path
) -> None:
    assert board.pdf == board.html.with_suffix(".pdf")
    reader = pypdf.PdfReader(str(board.pdf))
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    text = text.replace("\ufb01", "fi")  # the font's "fi" ligature
    assert " ".join(board.report.verdict_line().split()) in text
    for run, week in zip(board.report.runs, weeks, strict=True):
        summary = _summary(week)
        by_severity = summary["open_findings_by_severity"]
        cells = [
            str(run.run),
            week.as_of.isoformat(),
            summary["verdict"],
            str(summary["failing_findings"]),
            *(str(by_severity.get(s, 0)) for s in ("critical", "high", "medium", "low", "info")),
        ]
        assert " ".join(cells) in text
    assert board.report.ledger.hash and board.report.ledger.hash[:32] in text.replace(" ", "")
    assert co.EXCEPTION_ID in text and "lapsed" in text
    document = pypdfium2.PdfDocument(str(board.pdf))
    assert len(document) == len(reader.pages) >= 2
    first = document[0].render(scale=1).to_pil().convert("RGB")
    first.save(tmp_path / "page-1.png")  # as a reader would look at it
    assert (tmp_path / "page-1.png").read_bytes().startswith(b"\x89PNG")
    colours = Counter({colour: n for n, colour in first.getcolors(maxcolors=1 << 24) or []})
    white = colours[(255, 255, 255)] / (first.width * first.height)
    assert white < 0.97  # drawn, not blank
    # The FAIL band's background and the critical bars' colour are on the first page.
    assert colours[(0xFD, 0xEC, 0xEA)] > 1000
    assert colours[(0x7D, 0x12, 0x12)] > 1000


def test_a_period_keeps_statuses_replayed_from_the_whole_history(weeks: list[WeekRun]) -> None:
    root = weeks[0].out.parent
    written = api.board(
        root / HISTORY_FOLDER,
        root / "period" / "board.html",
        period_from=weeks[2].as_of,
        period_to=weeks[2].as_of,
        pdf=False,
    )
    (run,) = written.report.runs
    assert (run.run, run.reopened) == (3, 1)
    assert written.pdf is None and not written.html.with_suffix(".pdf").exists()


def test_the_ledger_head_is_shown_or_its_absence_said(weeks: list[WeekRun], tmp_path: Path) -> None:
    from borderwatch.evidence.history_board import ledger_head

    ledger = tmp_path / "ledger.jsonl"
    assert not ledger_head(ledger).present
    ledger.write_text(
        json.dumps({"record": 1, "hash": "aa" * 32, "signature": "Zmlyc3Q="})
        + "\n"
        + json.dumps(
            {"record": 2, "hash": "bb" * 32, "signature": "bGFzdA==", "previous": "aa" * 32}
        )
        + "\n"
    )
    head = ledger_head(ledger)
    assert (head.hash, head.signature, head.records, head.problem) == (
        "bb" * 32,
        "bGFzdA==",
        2,
        None,
    )
    ledger.write_text(json.dumps({"record": 1, "hash": "cc" * 32}) + "\n")  # no --sign-key
    unsigned = ledger_head(ledger)
    assert (unsigned.hash, unsigned.signature, unsigned.problem) == ("cc" * 32, None, None)
    ledger.write_text('{"record": 1, "hash": "aa"}\n{broken\n')
    assert "ledger.jsonl (the record at byte 28): not a JSON record" in (
        ledger_head(ledger).problem or ""
    )
    # A torn end (a scan killed while appending) is no head: the board says so.
    ledger.write_text('{"record": 1, "hash": "aa"}\n{"record": 2, "ha')
    torn = ledger_head(ledger)
    assert torn.hash is None and "torn record: 17 byte(s) from offset 28" in (torn.problem or "")


def test_board_command_without_a_history_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["board", "--history", str(tmp_path / "none"), "--out", str(tmp_path / "b.html")]
    )
    assert result.exit_code == 2
    assert "no history here" in result.output
    assert not (tmp_path / "b.html").exists()


def test_a_period_without_runs_says_so(weeks: list[WeekRun], tmp_path: Path) -> None:
    root = weeks[0].out.parent
    written = api.board(
        root / HISTORY_FOLDER,
        tmp_path / "empty.html",
        period_from=dt.date(2030, 1, 1),
        pdf=False,
    )
    assert written.report.runs == ()
    page = written.html.read_text(encoding="utf-8")
    assert "No runs in this period: nothing can be said about it (not a pass)." in page


def test_demo_weeks_refuses_a_folder_that_holds_a_history(weeks: list[WeekRun]) -> None:
    from borderwatch.errors import UsageError

    with pytest.raises(UsageError, match="already holds a history"):
        run_weeks(weeks[0].out.parent, events=1000, now=NOW)
