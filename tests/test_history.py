"""The history store (evidence/history.py): statuses across runs, exceptions' states and
ledger, and refusing a history that cannot be trusted (never a silent fresh start)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from borderwatch import api
from borderwatch.cli import main
from borderwatch.errors import InputError, UsageError
from borderwatch.evidence.history import compare_run, record_run
from borderwatch.evidence.history_store import HISTORY_FILE, LEDGER_FILE
from borderwatch.model.findings import AppliedException, Finding, Severity, Status, finding_id
from borderwatch.model.history import ExceptionState, HistoryStatus
from borderwatch.model.policy import PolicyException
from borderwatch.model.scan import ScanResult

DAY = dt.date(2026, 3, 1)


def _finding(name: str, status: Status = Status.OPEN, exception: str | None = None) -> Finding:
    return Finding(
        id=finding_id("access.prohibited-jurisdiction", name),
        rule="access.prohibited-jurisdiction",
        severity=Severity.CRITICAL,
        status=status,
        title="Access from a prohibited jurisdiction",
        message=f"{name} read it",
        resource=name,
        principal=f"arn:aws:iam::1:user/{name}",
        country="CN",
        first_seen="2026-02-27T10:00:00Z",
        exception=None
        if exception is None
        else AppliedException(exception, "the board", "T-1", "2026-04-01", "why"),
    )


def _exception(expires: dt.date, name: str = "b") -> PolicyException:
    return PolicyException(
        id="EXC-1",
        rule="access.prohibited-jurisdiction",
        store=name,
        approver="the board",
        ticket="T-1",
        expires=expires,
    )


def _run(
    folder: Path,
    findings: list[Finding],
    day: dt.date,
    exceptions: tuple[PolicyException, ...] = (),
) -> ScanResult:
    """One run as the pipeline and api do it: compare, then record."""
    result = ScanResult(
        policy_name="p",
        policy_version="1",
        policy_sha256="0" * 64,
        started_at=f"{day}T00:00:00Z",
        finished_at=f"{day}T00:01:00Z",
        fail_on=Severity.HIGH,
        findings=tuple(findings),
        inputs=(),
        residency=(),
        access_by_country=(),
    )
    changes = compare_run(folder, findings, exceptions, day)
    result = dataclasses.replace(result, history=changes)
    record_run(folder, result)
    return result


def _statuses(result: ScanResult) -> dict[str | None, str]:
    assert result.history is not None
    return {f.resource: f.status.value for f in result.history.findings}


def test_statuses_new_open_resolved_reopened_with_first_run_and_age(tmp_path: Path) -> None:
    history = tmp_path / "history"
    a, b, c = _finding("a"), _finding("b"), _finding("c")
    first = _run(history, [a, b], DAY)
    assert first.history is not None and first.history.previous_run is None
    assert _statuses(first) == {"a": "new", "b": "new"}

    second = _run(history, [a, c], DAY + dt.timedelta(days=7))
    assert _statuses(second) == {"a": "open", "c": "new", "b": "resolved"}
    assert second.history is not None
    assert second.history.counts() == {"new": 1, "open": 1, "resolved": 1, "reopened": 0}
    by_resource = {f.resource: f for f in second.history.findings}
    assert (by_resource["a"].first_run, by_resource["a"].age_days) == (1, 7)
    assert by_resource["b"].state == "absent" and by_resource["b"].last_run == 1

    third = _run(history, [a, b, c], DAY + dt.timedelta(days=14))
    assert _statuses(third) == {"a": "open", "b": "reopened", "c": "open"}
    assert third.history is not None
    reopened = next(f for f in third.history.findings if f.resource == "b")
    assert (reopened.first_run, reopened.first_day, reopened.age_days) == (1, "2026-03-01", 14)
    assert [f.status for f in third.history.changed()] == [HistoryStatus.REOPENED]


def test_a_muted_finding_is_present_and_its_lapse_is_named(tmp_path: Path) -> None:
    history = tmp_path / "history"
    expires = DAY + dt.timedelta(days=10)
    muted = _finding("b", Status.MUTED, exception="EXC-1")
    first = _run(history, [muted], DAY, (_exception(expires),))
    assert first.history is not None
    (watch,) = first.history.exceptions
    assert (watch.state, watch.days_left, watch.muted_now) == (
        ExceptionState.EXPIRING,
        10,
        (muted.id,),
    )
    lapsed_finding = dataclasses.replace(
        _finding("b"), evidence={"expired_exceptions": ["EXC-1 (expired 2026-03-11)"]}
    )
    second = _run(history, [lapsed_finding], DAY + dt.timedelta(days=14), (_exception(expires),))
    assert second.history is not None
    assert _statuses(second) == {"b": "open"}  # present both times: not resolved, not new
    assert second.history.unmuted == (muted.id,)
    (watch,) = second.history.exceptions
    assert watch.state is ExceptionState.LAPSED and watch.days_left == -4
    assert watch.muted_now == () and watch.muted_ever == (muted.id,)  # the ledger remembers


@pytest.mark.parametrize(
    ("days_left", "state"),
    [
        (31, ExceptionState.ACTIVE),
        (30, ExceptionState.EXPIRING),
        (0, ExceptionState.EXPIRING),  # active through its expiry day
        (-1, ExceptionState.LAPSED),
    ],
)
def test_exception_states_around_the_30_day_warning(
    tmp_path: Path, days_left: int, state: ExceptionState
) -> None:
    result = _run(
        tmp_path / "h", [_finding("x")], DAY, (_exception(DAY + dt.timedelta(days=days_left)),)
    )
    assert result.history is not None
    assert result.history.exceptions[0].state is state


def test_a_run_recorded_meanwhile_refuses_the_stale_one(tmp_path: Path) -> None:
    history = tmp_path / "history"
    _run(history, [_finding("a")], DAY)
    stale = compare_run(history, [_finding("a")], (), DAY + dt.timedelta(days=1))
    _run(history, [_finding("a")], DAY + dt.timedelta(days=2))
    result = ScanResult(
        policy_name="p",
        policy_version="1",
        policy_sha256="0",
        started_at="",
        finished_at="",
        fail_on=Severity.HIGH,
        findings=(),
        inputs=(),
        residency=(),
        access_by_country=(),
        history=stale,
    )
    with pytest.raises(InputError, match="run 2 was recorded while this scan ran"):
        record_run(history, result)
    connection = duckdb.connect(str(history / HISTORY_FILE), read_only=True)
    assert connection.execute("SELECT count(*) FROM runs").fetchone() == (2,)
    connection.close()


def test_a_damaged_history_is_refused_and_left_as_it_is(tmp_path: Path) -> None:
    history = tmp_path / "history"
    history.mkdir()
    damaged = history / HISTORY_FILE
    damaged.write_bytes(b"not a database\x00" * 300)
    before = damaged.read_bytes()
    with pytest.raises(InputError) as caught:
        api.check_history(history)
    assert str(damaged) in str(caught.value) and "not a readable borderwatch history" in str(
        caught.value
    )
    assert damaged.read_bytes() == before
    with pytest.raises(InputError):
        compare_run(history, [], (), DAY)


def test_a_history_of_another_format_is_refused(tmp_path: Path) -> None:
    history = tmp_path / "history"
    _run(history, [_finding("a")], DAY)
    connection = duckdb.connect(str(history / HISTORY_FILE))
    connection.execute("UPDATE meta SET value = '99' WHERE key = 'format'")
    connection.close()
    with pytest.raises(InputError, match=r"history format '99'.*reads format 1 only"):
        api.check_history(history)


def test_a_duckdb_file_that_is_not_a_history_is_refused(tmp_path: Path) -> None:
    history = tmp_path / "history"
    history.mkdir()
    connection = duckdb.connect(str(history / HISTORY_FILE))
    connection.execute("CREATE TABLE something (x INTEGER)")
    connection.close()
    with pytest.raises(InputError, match="no readable 'meta' table"):
        api.check_history(history)


def test_a_history_started_beside_a_ledger_says_so(tmp_path: Path) -> None:
    history = tmp_path / "history"
    history.mkdir()
    (history / LEDGER_FILE).write_text('{"hash": "00", "signature": "AA=="}\n')
    first = _run(history, [_finding("a")], DAY)
    assert first.history is not None and first.history.notice is not None
    assert "holds records from earlier runs: this run starts a new history" in (
        first.history.notice
    )
    from borderwatch.report.terminal import history_lines

    assert any(line.plain.startswith("NOTE: ") for line in history_lines(first))
    second = _run(history, [_finding("a")], DAY + dt.timedelta(days=1))
    assert second.history is not None and second.history.notice is None


def test_a_history_that_is_a_file_is_a_usage_error(tmp_path: Path) -> None:
    path = tmp_path / "history"
    path.write_text("x")
    with pytest.raises(UsageError, match="is a file"):
        api.check_history(path)


def test_scan_refuses_a_damaged_history_before_reading_inputs(tmp_path: Path) -> None:
    history = tmp_path / "history"
    history.mkdir()
    (history / HISTORY_FILE).write_bytes(b"garbage" * 100)
    result = CliRunner().invoke(
        main,
        [
            "scan",
            "--policy",
            "us-protected-data",
            "--events",
            str(tmp_path / "no-such-logs"),
            "--out",
            str(tmp_path / "out"),
            "--history",
            str(history),
            "--quiet",
        ],
    )
    assert result.exit_code == 2, result.output
    assert "not a readable borderwatch history" in result.output
    assert not (tmp_path / "out").exists()


def test_summary_json_carries_the_history_only_with_one(tmp_path: Path) -> None:
    from borderwatch.report.jsonfiles import SummaryJsonReporter

    with_history = _run(tmp_path / "h", [_finding("a")], DAY)
    summary = json.loads(SummaryJsonReporter().render(with_history))
    assert summary["history"]["run"] == 1
    assert summary["history"]["counts"]["new"] == 1
    without = dataclasses.replace(with_history, history=None)
    assert "history" not in json.loads(SummaryJsonReporter().render(without))


def test_scan_history_with_incremental_through_the_cli(tmp_path: Path) -> None:
    case = Path(__file__).parent / "cases" / "access-jurisdiction"
    history = tmp_path / "history"
    args = [
        "scan",
        "--policy",
        str(case / "policy.yaml"),
        "--inventory",
        str(case / "inventory.csv"),
        "--identities",
        str(case / "identities.csv"),
        "--events",
        str(case / "events"),
        "--out",
        str(tmp_path / "out"),
        "--incremental",
        "--history",
        str(history),
        "--as-of",
        "2026-03-01",
    ]
    first = CliRunner().invoke(main, args)
    assert first.exit_code == 1, first.output
    assert "History: run 1 (2026-03-01), the first of this history" in first.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    total = summary["findings_total"]
    assert summary["history"]["counts"]["new"] == total > 0

    args[-1] = "2026-03-08"
    second = CliRunner().invoke(main, args)  # nothing new to read: the same findings
    assert second.exit_code == 1, second.output
    assert (
        f"History: run 2 (2026-03-08) against run 1 (2026-03-01): 0 new, {total} open, "
        "0 resolved, 0 reopened"
    ) in second.output
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert {f["age_days"] for f in summary["history"]["findings"]} == {7}


def test_a_history_in_use_by_another_process_is_named_so(tmp_path: Path) -> None:
    import subprocess
    import sys

    history = tmp_path / "history"
    _run(history, [_finding("a")], DAY)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "print('held', flush=True); time.sleep(30)",
            str(history / HISTORY_FILE),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(InputError, match="in use by another process"):
            api.check_history(history)
    finally:
        holder.kill()
        holder.wait()


def test_board_critical_findings_say_how_they_stand_at_the_end(tmp_path: Path) -> None:
    from borderwatch.evidence.history_board import board_report

    history = tmp_path / "history"
    _run(history, [_finding("a"), _finding("b")], DAY)
    _run(history, [_finding("b")], DAY + dt.timedelta(days=7))
    _run(history, [_finding("b")], DAY + dt.timedelta(days=14))
    report = board_report(history)
    now = {d.finding.resource: (d.finding.status.value, d.finding.state) for d in report.critical}
    assert now == {"a": ("resolved", "absent"), "b": ("open", "open")}
    (first,) = [d for d in report.critical if d.finding.resource == "a"]
    # First event 2026-02-27, reported by run 1 on 2026-03-01.
    assert (first.reported_run, first.reported_day, first.days) == (1, "2026-03-01", 2)
    assert [(r.new, r.resolved, r.reopened) for r in report.runs] == [
        (0, 0, 0),
        (0, 1, 0),
        (0, 0, 0),
    ]
