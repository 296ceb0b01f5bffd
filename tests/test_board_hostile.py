"""The board report treats every value from the history as hostile: finding resources,
principals, exception ids and caller countries come from logs and policies."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

from borderwatch import api
from borderwatch.evidence.history import compare_run, record_run
from borderwatch.model.findings import Finding, Severity, Status, finding_id
from borderwatch.model.policy import PolicyException
from borderwatch.model.scan import CountryAccess, ScanResult
from borderwatch.report.board_charts import Series, lines, use_log
from browser import chromium, watched_page

SCRIPT = "<script>alert('resource')</script>"
PRINCIPAL = "\"><img src=x onerror=alert('principal')>"
COUNTRY = "<svg onload=alert('country')>"
EXCEPTION = "EXC-</td><script>alert('exception')</script>"


def _hostile_history(folder: Path) -> None:
    finding = Finding(
        id=finding_id("access.prohibited-jurisdiction", SCRIPT),
        rule="access.prohibited-jurisdiction",
        severity=Severity.CRITICAL,
        status=Status.OPEN,
        title="t",
        message="m",
        resource=SCRIPT,
        principal=PRINCIPAL,
        country="CN",
        first_seen="2026-03-01T00:00:00Z",
    )
    day = dt.date(2026, 3, 8)
    exception = PolicyException(
        id=EXCEPTION, store="other", approver="<b>x</b>", ticket="T", expires=day
    )
    result = ScanResult(
        policy_name="p",
        policy_version="1",
        policy_sha256="0",
        started_at="",
        finished_at="",
        fail_on=Severity.HIGH,
        findings=(finding,),
        inputs=(),
        residency=(),
        access_by_country=(
            CountryAccess(COUNTRY, 5, 1, True),
            CountryAccess("CN", 100_000, 3, True),
        ),
    )
    changes = compare_run(folder, [finding], (exception,), day)
    record_run(folder, dataclasses.replace(result, history=changes))


def test_hostile_values_stay_text_in_the_board_page(tmp_path: Path) -> None:
    history = tmp_path / "history"
    _hostile_history(history)
    (history / "ledger.jsonl").write_text(
        json.dumps({"record": 1, "hash": "<i>h</i>", "signature": "<script>alert('sig')</script>"})
        + "\n"
    )
    written = api.board(history, tmp_path / "board.html", pdf=False)
    raw = written.html.read_text(encoding="utf-8")
    assert "<script>" not in raw and "<svg onload" not in raw and "<img" not in raw
    with chromium() as browser, watched_page(browser) as watched:
        watched.open(written.html)
        assert watched.dialogs == [] and watched.extra_requests(written.html) == []
        body = watched.page.inner_text("body")
        for value in (SCRIPT, PRINCIPAL, COUNTRY, EXCEPTION, "<b>x</b>"):
            assert value in body, value
        assert watched.page.inner_text("#ledger-signature") == "<script>alert('sig')</script>"
        # The hostile country is a line of the chart, its name escaped in the legend.
        legend = watched.page.eval_on_selector_all(
            "#access svg text.legend", "nodes => nodes.map(n => n.textContent)"
        )
        assert COUNTRY in legend


def test_counts_a_hundredfold_apart_get_a_logarithmic_axis() -> None:
    close = [Series("US", [100, 200]), Series("CN", [5, 9])]
    apart = [Series("US", [10_000, 20_000]), Series("CN", [5, 9])]
    assert not use_log(close) and use_log(apart)
    assert "logarithmic scale" in lines(["w1", "w2"], apart, "t")
    assert "linear scale" in lines(["w1", "w2"], close, "t")
