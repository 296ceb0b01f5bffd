"""Findings over time: each run of `scan --history DIR` against the runs before it.

Two steps, so that a run is recorded only once its outputs are written: `compare_run`
reads the history and says what changed (the pipeline puts that in ScanResult.history,
for the reporters), `record_run` appends the run (api.scan calls it after the outputs
are in). A finding is identified by its stable id (evidence/findings.py): the same
problem has the same id in every run.

Statuses: `new` (in no earlier run), `open` (in the previous run too), `reopened` (in an
earlier run, not in the previous one), `resolved` (in the previous run, not in this one).
A muted finding is still present: muting marks, it never hides.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from borderwatch.errors import InputError
from borderwatch.evidence.history_figures import run_figures
from borderwatch.evidence.history_store import (
    open_history,
    started_beside_ledger,
    with_transaction,
)
from borderwatch.model.findings import Finding, Severity, Status
from borderwatch.model.history import (
    EXPIRY_WARNING_DAYS,
    ExceptionState,
    ExceptionWatch,
    HistoryStatus,
    RunChanges,
    TrackedFinding,
)
from borderwatch.model.policy import PolicyException
from borderwatch.model.scan import ScanResult

__all__ = ["Seen", "compare_run", "exception_watch", "record_run", "track"]


@dataclass(frozen=True)
class Seen:
    """A finding id across the earlier runs: first and last run (and their days)."""

    first_run: int
    last_run: int
    first_day: dt.date


@dataclass(frozen=True)
class _Prior:
    """What the history holds before this run."""

    last_run: int | None
    last_day: dt.date | None
    seen: dict[str, Seen]
    previous: dict[str, dict[str, str | None]]  # the previous run's findings by id
    muted_ever: dict[str, set[str]]  # exception id -> finding ids it ever muted


def compare_run(
    folder: Path,
    findings: Sequence[Finding],
    exceptions: Sequence[PolicyException],
    as_of: dt.date,
) -> RunChanges:
    """What this run's findings are against the history in `folder` (not written yet)."""
    connection = open_history(folder, write=False)
    notice = started_beside_ledger(folder) if connection is None else None
    try:
        prior = (
            _read_prior(connection) if connection is not None else _Prior(None, None, {}, {}, {})
        )
    finally:
        if connection is not None:
            connection.close()
    run = (prior.last_run or 0) + 1
    return RunChanges(
        history=str(folder),
        run=run,
        run_id=uuid.uuid4().hex,
        as_of=as_of.isoformat(),
        previous_run=prior.last_run,
        previous_as_of=prior.last_day.isoformat() if prior.last_day else None,
        findings=tuple(track(findings, prior.seen, prior.previous, run, as_of)),
        exceptions=tuple(exception_watch(exceptions, findings, as_of, prior.muted_ever)),
        unmuted=tuple(
            sorted(
                f.id
                for f in findings
                if f.status is Status.OPEN
                and (prior.previous.get(f.id) or {}).get("state") == Status.MUTED.value
                and "expired_exceptions" in f.evidence
            )
        ),
        notice=notice,
    )


def track(
    findings: Iterable[Finding],
    seen: dict[str, Seen],
    previous: dict[str, dict[str, str | None]],
    run: int,
    as_of: dt.date,
) -> list[TrackedFinding]:
    """Each present finding with its status, then those of the previous run now gone."""
    tracked: list[TrackedFinding] = []
    present: set[str] = set()
    for finding in findings:
        if finding.status not in (Status.OPEN, Status.MUTED):
            continue
        present.add(finding.id)
        before = seen.get(finding.id)
        if before is None:
            status, first_run, first_day = HistoryStatus.NEW, run, as_of
        else:
            status = HistoryStatus.OPEN if finding.id in previous else HistoryStatus.REOPENED
            first_run, first_day = before.first_run, before.first_day
        tracked.append(
            TrackedFinding(
                id=finding.id,
                rule=finding.rule,
                severity=finding.severity,
                title=finding.title,
                resource=finding.resource,
                principal=finding.principal,
                country=finding.country,
                status=status,
                state=finding.status.value,
                first_run=first_run,
                last_run=run,
                first_day=first_day.isoformat(),
                last_day=as_of.isoformat(),
                age_days=max((as_of - first_day).days, 0),
                exception=finding.exception.id if finding.exception else None,
            )
        )
    for finding_id, row in sorted(previous.items()):
        if finding_id in present:
            continue
        before = seen[finding_id]
        tracked.append(
            TrackedFinding(
                id=finding_id,
                rule=str(row["rule"]),
                severity=Severity(str(row["severity"])),
                title=str(row["title"] or ""),
                resource=row["resource"],
                principal=row["principal"],
                country=row["country"],
                status=HistoryStatus.RESOLVED,
                state="absent",
                first_run=before.first_run,
                last_run=before.last_run,
                first_day=before.first_day.isoformat(),
                last_day=str(row["day"]),
                age_days=max((as_of - before.first_day).days, 0),
            )
        )
    return tracked


def exception_watch(
    exceptions: Sequence[PolicyException],
    findings: Sequence[Finding],
    as_of: dt.date,
    muted_ever: dict[str, set[str]],
) -> list[ExceptionWatch]:
    """Each policy exception on `as_of`: active, expiring (within 30 days) or lapsed, and
    the findings it mutes now and has muted in any run (the exceptions' ledger)."""
    watched: list[ExceptionWatch] = []
    for exception in sorted(exceptions, key=lambda e: (e.expires, e.id)):
        now = tuple(
            sorted(f.id for f in findings if f.exception and f.exception.id == exception.id)
        )
        days_left = (exception.expires - as_of).days
        if not exception.is_active(as_of):
            state = ExceptionState.LAPSED
        elif days_left <= EXPIRY_WARNING_DAYS:
            state = ExceptionState.EXPIRING
        else:
            state = ExceptionState.ACTIVE
        watched.append(
            ExceptionWatch(
                id=exception.id,
                approver=exception.approver,
                ticket=exception.ticket,
                expires=exception.expires.isoformat(),
                days_left=days_left,
                state=state,
                muted_now=now,
                muted_ever=tuple(sorted(muted_ever.get(exception.id, set()) | set(now))),
            )
        )
    return watched


def record_run(folder: Path, result: ScanResult) -> None:
    """Append the run described by `result.history` to the history in `folder`.

    Refused (InputError) when another run was recorded since this one compared itself
    with the history: its statuses would be wrong.
    """
    changes = result.history
    if changes is None:
        raise ValueError("record_run needs a result made with a history (ScanResult.history)")
    connection = open_history(folder, write=True)
    assert connection is not None  # write=True always opens or creates
    try:
        with_transaction(connection, lambda c: _append(c, folder, result, changes))
    finally:
        connection.close()


def _append(
    connection: duckdb.DuckDBPyConnection, folder: Path, result: ScanResult, changes: RunChanges
) -> None:
    (last,) = connection.execute("SELECT max(run) FROM runs").fetchone() or (None,)
    if (last or 0) != changes.run - 1:
        raise InputError(
            f"{folder}: run {last} was recorded while this scan ran (it compared itself with "
            f"run {changes.previous_run}); this run is not recorded: scan again"
        )
    connection.execute(
        "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            changes.run,
            changes.run_id,
            changes.as_of,
            result.started_at,
            result.finished_at,
            f"{result.policy_name} {result.policy_version}",
            result.policy_sha256,
            result.verdict,
            json.dumps(run_figures(result), sort_keys=True),
        ],
    )
    present = [f for f in result.findings if f.status in (Status.OPEN, Status.MUTED)]
    # As one Arrow table: row by row inserts took 150 s for 50,000 findings
    # (bench/history_runs.py).
    rows = pa.table(
        {
            "run": pa.array([changes.run] * len(present), pa.int32()),
            "id": [f.id for f in present],
            "rule": [f.rule for f in present],
            "severity": [f.severity.value for f in present],
            "state": [f.status.value for f in present],
            "title": [f.title for f in present],
            "resource": pa.array([f.resource for f in present], pa.string()),
            "principal": pa.array([f.principal for f in present], pa.string()),
            "country": pa.array([f.country for f in present], pa.string()),
            "first_seen": pa.array([f.first_seen for f in present], pa.string()),
            "exception": pa.array(
                [f.exception.id if f.exception else None for f in present], pa.string()
            ),
        }
    )
    connection.register("new_run_findings", rows)
    try:
        connection.execute("INSERT INTO run_findings SELECT * FROM new_run_findings")
    finally:
        connection.unregister("new_run_findings")
    exceptions = [
        [
            changes.run,
            e.id,
            e.approver,
            e.ticket,
            e.expires,
            e.state.value,
            json.dumps(list(e.muted_now)),
        ]
        for e in changes.exceptions
    ]
    if exceptions:
        connection.executemany(
            "INSERT INTO run_exceptions VALUES (?, ?, ?, ?, ?, ?, ?)", exceptions
        )


def _read_prior(connection: duckdb.DuckDBPyConnection) -> _Prior:
    last = connection.execute("SELECT max(run), max_by(as_of, run) FROM runs").fetchone()
    last_run, last_day = (last[0], last[1]) if last else (None, None)
    if last_run is None:
        return _Prior(None, None, {}, {}, {})
    seen = {
        row[0]: Seen(row[1], row[2], row[3])
        for row in connection.execute(
            "SELECT f.id, min(f.run), max(f.run), min(r.as_of) "
            "FROM run_findings f JOIN runs r USING (run) GROUP BY f.id"
        ).fetchall()
    }
    columns = ("rule", "severity", "state", "title", "resource", "principal", "country")
    previous = {
        row[0]: {**dict(zip(columns, row[1:8], strict=True)), "day": str(last_day)}
        for row in connection.execute(
            f"SELECT id, {', '.join(columns)} FROM run_findings WHERE run = ?", [last_run]
        ).fetchall()
    }
    muted_ever: dict[str, set[str]] = {}
    for exception_id, muted in connection.execute(
        "SELECT id, muted FROM run_exceptions"
    ).fetchall():
        muted_ever.setdefault(exception_id, set()).update(json.loads(muted))
    return _Prior(last_run, last_day, seen, previous, muted_ever)
