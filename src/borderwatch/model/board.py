"""A board report: the runs of one history over a period, as values a renderer reads.

Built by evidence/history_board.py from the history folder; rendered by report/board.py,
which never opens the history itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from borderwatch.model.history import ExceptionWatch, TrackedFinding


@dataclass(frozen=True)
class CountryFigure:
    """Accesses to protected data from one caller country in one run (None: unknown)."""

    country: str | None
    events: int
    principals: int
    prohibited: bool


@dataclass(frozen=True)
class RunFigures:
    """One run's figures, exactly as its summary.json gives them."""

    run: int
    run_id: str
    as_of: str  # ISO date the run judged on
    finished_at: str
    verdict: str
    failing_findings: int
    open_by_severity: dict[str, int]
    access_by_country: tuple[CountryFigure, ...]
    # Protected stores per residency verdict (approved, outside, unknown) and the records
    # they hold where counted.
    stores_by_verdict: dict[str, int]
    records_by_verdict: dict[str, int]
    coverage_gaps: int
    new: int = 0
    resolved: int = 0
    reopened: int = 0


@dataclass(frozen=True)
class CriticalDelay:
    """A critical finding: its first event (detection) and the first run that reported it."""

    finding: TrackedFinding
    first_event: str | None  # ISO time of the earliest event behind it
    reported_run: int
    reported_day: str  # the as-of day of that run
    days: int | None  # reported_day - first_event day; None when no event time is known


@dataclass(frozen=True)
class LedgerHead:
    """The last record of the history's signed ledger (DIR/ledger.jsonl), or why none."""

    present: bool
    hash: str | None = None
    signature: str | None = None
    records: int = 0
    problem: str | None = None  # the file exists but its last line could not be read


@dataclass(frozen=True)
class BoardReport:
    """Everything the board report shows; figures come from the runs in the period."""

    history: str
    period_from: str | None  # as asked (ISO dates), None: from the first run
    period_to: str | None
    runs: tuple[RunFigures, ...]
    # As of the last run of the period.
    open_findings: tuple[TrackedFinding, ...] = ()
    coverage_gaps: tuple[TrackedFinding, ...] = ()
    exceptions: tuple[ExceptionWatch, ...] = ()
    critical: tuple[CriticalDelay, ...] = ()
    ledger: LedgerHead = field(default_factory=lambda: LedgerHead(present=False))

    @property
    def last(self) -> RunFigures | None:
        return self.runs[-1] if self.runs else None

    def verdict_line(self) -> str:
        """One line for the period: the last run's verdict and what moved since the first."""
        if not self.runs:
            return "No runs in this period: nothing can be said about it (not a pass)."
        first, last = self.runs[0], self.runs[-1]
        opened = sum(r.new + r.reopened for r in self.runs[1:])
        closed = sum(r.resolved for r in self.runs[1:])
        open_now = sum(last.open_by_severity.values())
        span = f"{first.as_of} to {last.as_of}" if first is not last else last.as_of
        return (
            f"{last.verdict.upper()} at the end of the period ({span}, {len(self.runs)} "
            f"run(s)): {open_now} open finding(s), {last.failing_findings} failing; "
            f"{opened} new or reopened and {closed} resolved since the first run"
            + (f"; coverage incomplete ({last.coverage_gaps} gap(s))" if last.coverage_gaps else "")
            + "."
        )
