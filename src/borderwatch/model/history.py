"""Findings over time: what a run found compared with the runs before it (a history).

The pipeline fills these from the history folder (evidence/history.py); reporters read
them from ScanResult.history and never open the history themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from borderwatch.model.findings import Severity

# An exception that expires within this many days of a run is reported as expiring.
EXPIRY_WARNING_DAYS = 30


class HistoryStatus(StrEnum):
    """Where a finding stands against the earlier runs of one history."""

    NEW = "new"  # in no earlier run
    OPEN = "open"  # in this run and the previous one
    RESOLVED = "resolved"  # in the previous run, not in this one
    REOPENED = "reopened"  # in an earlier run, not in the previous one, back now


class ExceptionState(StrEnum):
    ACTIVE = "active"
    EXPIRING = "expiring"  # active, and expires within EXPIRY_WARNING_DAYS
    LAPSED = "lapsed"  # expired before the run's day


@dataclass(frozen=True)
class TrackedFinding:
    """One finding's place in the history: its status and when it was first and last seen.

    `state` is the finding's own status in this run (open, muted), or "absent" for a
    resolved one. Days are the runs' as-of days (ISO dates).
    """

    id: str
    rule: str
    severity: Severity
    title: str
    resource: str | None
    principal: str | None
    country: str | None
    status: HistoryStatus
    state: str
    first_run: int
    last_run: int
    first_day: str
    last_day: str
    age_days: int
    exception: str | None = None  # the exception muting it in this run

    def as_dict(self) -> dict[str, Any]:
        row = dict(vars(self))
        row["severity"] = self.severity.value
        row["status"] = self.status.value
        return row


@dataclass(frozen=True)
class ExceptionWatch:
    """One policy exception on a run's day: its state, and what it muted (ledger)."""

    id: str
    approver: str
    ticket: str
    expires: str  # ISO date, the last day it applies
    days_left: int  # negative once lapsed
    state: ExceptionState
    muted_now: tuple[str, ...]  # finding ids it mutes in this run
    muted_ever: tuple[str, ...]  # finding ids it muted in any run of the history

    def as_dict(self) -> dict[str, Any]:
        row = dict(vars(self))
        row["state"] = self.state.value
        row["muted_now"] = list(self.muted_now)
        row["muted_ever"] = list(self.muted_ever)
        return row


@dataclass(frozen=True)
class RunChanges:
    """What changed since the previous run of the history (None: this is the first)."""

    history: str  # the history folder, as given
    run: int  # this run's number in the history, from 1
    run_id: str
    as_of: str  # ISO date the run judged on
    previous_run: int | None
    previous_as_of: str | None
    # Every finding of this run, and those of the previous run that are gone (resolved).
    findings: tuple[TrackedFinding, ...] = ()
    exceptions: tuple[ExceptionWatch, ...] = ()
    # Findings muted in the previous run that are open now because their exception lapsed.
    unmuted: tuple[str, ...] = ()
    # Something the reader must know about the history itself (e.g. a new history that
    # starts beside a ledger with earlier records).
    notice: str | None = None

    def counts(self) -> dict[str, int]:
        """How many findings have each history status (every status present, 0 or more)."""
        counts = {status.value: 0 for status in HistoryStatus}
        for item in self.findings:
            counts[item.status.value] += 1
        return counts

    def changed(self) -> list[TrackedFinding]:
        """The findings whose status is not a plain `open`: new, resolved, reopened."""
        return [f for f in self.findings if f.status is not HistoryStatus.OPEN]

    def expiring(self) -> list[ExceptionWatch]:
        return [e for e in self.exceptions if e.state is ExceptionState.EXPIRING]

    def as_dict(self) -> dict[str, Any]:
        return {
            "run": self.run,
            "run_id": self.run_id,
            "as_of": self.as_of,
            "previous_run": self.previous_run,
            "previous_as_of": self.previous_as_of,
            "counts": self.counts(),
            "findings": [f.as_dict() for f in self.findings],
            "exceptions": [e.as_dict() for e in self.exceptions],
            "unmuted_by_lapse": list(self.unmuted),
            "notice": self.notice,
        }
