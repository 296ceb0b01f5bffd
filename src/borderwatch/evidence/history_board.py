"""The board report's values, read from a history folder (`borderwatch board`).

Every figure of a run is the one its scan recorded (evidence/history_figures.py, the
numbers of its summary.json); statuses are replayed over every run of the history, so a
period that starts after the first run still calls a finding reopened or open rightly.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from borderwatch.errors import InputError, UsageError
from borderwatch.evidence.history_store import LEDGER_FILE, history_file, open_history
from borderwatch.evidence.ledger import last_record
from borderwatch.model.board import (
    BoardReport,
    CountryFigure,
    CriticalDelay,
    LedgerHead,
    RunFigures,
)
from borderwatch.model.findings import Severity
from borderwatch.model.history import (
    ExceptionState,
    ExceptionWatch,
    HistoryStatus,
    TrackedFinding,
)
from borderwatch.model.scan import COVERAGE_FAMILY

__all__ = ["RunRows", "board_report", "ledger_head", "replay"]

_COLUMNS = ("rule", "severity", "state", "title", "resource", "principal", "country")


@dataclass(frozen=True)
class RunRows:
    """One recorded run: its number, day, and its findings' rows by id."""

    run: int
    day: dt.date
    findings: dict[str, dict[str, Any]]


def board_report(
    folder: Path, period_from: dt.date | None = None, period_to: dt.date | None = None
) -> BoardReport:
    """The board report of the runs whose as-of day lies in [period_from, period_to]."""
    if period_from and period_to and period_from > period_to:
        raise UsageError(f"--from {period_from} is after --to {period_to}: give the earlier first")
    connection = open_history(folder, write=False)
    if connection is None:
        raise InputError(
            f"{history_file(folder)}: no history here; record runs with "
            f"`borderwatch scan --history {folder}` first"
        )
    try:
        runs = _runs(connection)
        rows = _run_rows(connection, runs)
        exceptions = connection.execute(
            "SELECT run, id, approver, ticket, expires, state, muted FROM run_exceptions "
            "ORDER BY run, expires, id"
        ).fetchall()
    finally:
        connection.close()
    replayed = replay(rows)
    chosen = [
        index
        for index, run in enumerate(runs)
        if (period_from is None or run["as_of"] >= period_from)
        and (period_to is None or run["as_of"] <= period_to)
    ]
    figures = tuple(_figures(runs[i], replayed[i]) for i in chosen)
    report = BoardReport(
        history=str(folder),
        period_from=period_from.isoformat() if period_from else None,
        period_to=period_to.isoformat() if period_to else None,
        runs=figures,
        ledger=ledger_head(folder / LEDGER_FILE),
    )
    if not chosen:
        return report
    last = chosen[-1]
    tracked = replayed[last]
    present = [f for f in tracked if f.status is not HistoryStatus.RESOLVED]
    return BoardReport(
        history=report.history,
        period_from=report.period_from,
        period_to=report.period_to,
        runs=figures,
        open_findings=tuple(
            sorted(
                (f for f in present if f.state == "open"),
                key=lambda f: (-f.severity.rank, f.first_day, f.rule, f.id),
            )
        ),
        coverage_gaps=tuple(
            f for f in present if f.state == "open" and f.rule.startswith(COVERAGE_FAMILY)
        ),
        exceptions=tuple(_exceptions(exceptions, runs[last]["run"], runs[last]["as_of"])),
        critical=tuple(_critical(rows[: last + 1], replayed[: last + 1], runs, chosen)),
        ledger=report.ledger,
    )


def replay(runs: Sequence[RunRows]) -> list[list[TrackedFinding]]:
    """Each run's findings with their history status (and those resolved in it), as the
    scans that recorded them saw them."""
    seen: dict[str, tuple[int, dt.date]] = {}
    previous: dict[str, dict[str, Any]] = {}
    last_seen: dict[str, tuple[int, dt.date]] = {}
    out: list[list[TrackedFinding]] = []
    for current in runs:
        tracked: list[TrackedFinding] = []
        for finding_id, row in current.findings.items():
            if finding_id not in seen:
                status = HistoryStatus.NEW
                seen[finding_id] = (current.run, current.day)
            elif finding_id in previous:
                status = HistoryStatus.OPEN
            else:
                status = HistoryStatus.REOPENED
            first_run, first_day = seen[finding_id]
            last_seen[finding_id] = (current.run, current.day)
            tracked.append(_tracked(finding_id, row, status, first_run, first_day, current))
        for finding_id, row in previous.items():
            if finding_id in current.findings:
                continue
            first_run, first_day = seen[finding_id]
            item = _tracked(finding_id, row, HistoryStatus.RESOLVED, first_run, first_day, current)
            run, day = last_seen[finding_id]
            tracked.append(
                TrackedFinding(
                    **{
                        **vars(item),
                        "state": "absent",
                        "last_run": run,
                        "last_day": day.isoformat(),
                    }
                )
            )
        out.append(tracked)
        previous = current.findings
    return out


def ledger_head(path: Path) -> LedgerHead:
    """The last record of the signed ledger: its `hash` and `signature` (not verified here:
    `borderwatch verify` does that), read by the ledger's own reader from its end."""
    if not path.exists():
        return LedgerHead(present=False)
    last = last_record(path)
    if last.record is None or last.problem is not None:
        return LedgerHead(present=True, records=last.number, problem=last.problem)
    hash_, signature = last.record.get("hash"), last.record.get("signature")
    # An unsigned record is a state of its own (a ledger kept without --sign-key), not a
    # damaged one; a record without a hash cannot be a head at all.
    return LedgerHead(
        present=True,
        hash=str(hash_) if hash_ else None,
        signature=str(signature) if signature else None,
        records=last.number,
        problem=None if hash_ else f"{path}: the last record has no hash",
    )


def _tracked(
    finding_id: str,
    row: dict[str, Any],
    status: HistoryStatus,
    first_run: int,
    first_day: dt.date,
    current: RunRows,
) -> TrackedFinding:
    return TrackedFinding(
        id=finding_id,
        rule=row["rule"],
        severity=Severity(row["severity"]),
        title=row["title"] or "",
        resource=row["resource"],
        principal=row["principal"],
        country=row["country"],
        status=status,
        state=row["state"],
        first_run=first_run,
        last_run=current.run,
        first_day=first_day.isoformat(),
        last_day=current.day.isoformat(),
        age_days=max((current.day - first_day).days, 0),
        exception=row.get("exception"),
    )


def _runs(connection: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    names = ("run", "run_id", "as_of", "finished_at", "verdict", "figures")
    return [
        dict(zip(names, row, strict=True))
        for row in connection.execute(
            f"SELECT {', '.join(names)} FROM runs ORDER BY run"
        ).fetchall()
    ]


def _run_rows(connection: duckdb.DuckDBPyConnection, runs: list[dict[str, Any]]) -> list[RunRows]:
    by_run: dict[int, dict[str, dict[str, Any]]] = {run["run"]: {} for run in runs}
    for row in connection.execute(
        f"SELECT run, id, {', '.join(_COLUMNS)}, first_seen, exception FROM run_findings "
        "ORDER BY run, id"
    ).fetchall():
        by_run[row[0]][row[1]] = dict(
            zip((*_COLUMNS, "first_seen", "exception"), row[2:], strict=True)
        )
    return [RunRows(run["run"], run["as_of"], by_run[run["run"]]) for run in runs]


def _figures(run: dict[str, Any], tracked: list[TrackedFinding]) -> RunFigures:
    figures = json.loads(run["figures"])
    counts = {status: 0 for status in HistoryStatus}
    for item in tracked:
        counts[item.status] += 1
    return RunFigures(
        run=run["run"],
        run_id=run["run_id"],
        as_of=run["as_of"].isoformat(),
        finished_at=run["finished_at"] or "",
        verdict=run["verdict"],
        failing_findings=int(figures["failing_findings"]),
        open_by_severity={k: int(v) for k, v in figures["open_findings_by_severity"].items()},
        access_by_country=tuple(
            CountryFigure(
                c["country"], int(c["events"]), int(c["principals"]), bool(c["prohibited"])
            )
            for c in figures["access_by_country"]
        ),
        stores_by_verdict={k: int(v) for k, v in figures["stores_by_verdict"].items()},
        records_by_verdict={k: int(v) for k, v in figures["records_by_verdict"].items()},
        coverage_gaps=int(figures["coverage_open_findings"]),
        # The first run has nothing to compare with: its findings are not "new" news.
        new=counts[HistoryStatus.NEW] if run["run"] > 1 else 0,
        resolved=counts[HistoryStatus.RESOLVED],
        reopened=counts[HistoryStatus.REOPENED],
    )


def _exceptions(rows: list[tuple[Any, ...]], last_run: int, day: dt.date) -> list[ExceptionWatch]:
    ever: dict[str, set[str]] = {}
    for run, exception_id, *_, muted in rows:
        if run <= last_run:
            ever.setdefault(exception_id, set()).update(json.loads(muted))
    return [
        ExceptionWatch(
            id=exception_id,
            approver=approver or "",
            ticket=ticket or "",
            expires=expires.isoformat(),
            days_left=(expires - day).days,
            state=ExceptionState(state),
            muted_now=tuple(json.loads(muted)),
            muted_ever=tuple(sorted(ever.get(exception_id, set()))),
        )
        for run, exception_id, approver, ticket, expires, state, muted in rows
        if run == last_run
    ]


def _critical(
    rows: Sequence[RunRows],
    replayed: Sequence[list[TrackedFinding]],
    runs: list[dict[str, Any]],
    chosen: list[int],
) -> list[CriticalDelay]:
    """Every critical finding present in a run of the period: its earliest event and the
    first run that reported it."""
    in_period = {
        f.id
        for index in chosen
        if index < len(replayed)
        for f in replayed[index]
        if f.severity is Severity.CRITICAL and f.status is not HistoryStatus.RESOLVED
    }
    delays: dict[str, CriticalDelay] = {}
    first_event: dict[str, str] = {}
    for index, run_rows in enumerate(rows):
        for finding_id, row in run_rows.findings.items():
            if finding_id not in in_period:
                continue
            if row.get("first_seen") and (
                finding_id not in first_event or row["first_seen"] < first_event[finding_id]
            ):
                first_event[finding_id] = row["first_seen"]
            if finding_id not in delays:
                item = next(f for f in replayed[index] if f.id == finding_id)
                delays[finding_id] = CriticalDelay(
                    finding=item,
                    first_event=None,
                    reported_run=run_rows.run,
                    reported_day=runs[index]["as_of"].isoformat(),
                    days=None,
                )
    now = {f.id: f for f in replayed[chosen[-1]]} if chosen else {}
    result = []
    for finding_id, delay in delays.items():
        # The finding as it stands at the end of the period (resolved: gone since).
        finding = now.get(finding_id) or dataclasses.replace(
            delay.finding, status=HistoryStatus.RESOLVED, state="absent"
        )
        event = first_event.get(finding_id)
        days = None
        if event:
            try:
                event_day = dt.date.fromisoformat(event[:10])
                days = (dt.date.fromisoformat(delay.reported_day) - event_day).days
            except ValueError:
                days = None
        result.append(CriticalDelay(finding, event, delay.reported_run, delay.reported_day, days))
    return sorted(result, key=lambda d: (d.reported_day, d.finding.id))
