"""Each finding's place in the history (scan --history), for the per-finding outputs.

findings.json's readers get the history in summary.json; the formats that other tools
import one finding at a time (findings.csv, OCSF, SARIF, OSCAL, JUnit) carry it on each
finding instead, so a ticket system or a SIEM can tell a new finding from one already
known and close what was resolved:

- `marks(result)`: finding id -> its TrackedFinding (new, open, reopened, resolved);
  empty without a history.
- `with_resolved(result)`: the run's findings, then one finding of status `resolved` for
  each finding of the previous run that is gone, built from what the history kept of it
  (rule, severity, title, resource, principal, country, first and last day). Without a
  history: the run's findings alone.
"""

from __future__ import annotations

from borderwatch.model.findings import Finding, Status
from borderwatch.model.history import HistoryStatus, TrackedFinding
from borderwatch.model.scan import ScanResult

__all__ = ["marks", "resolved_message", "with_resolved"]


def marks(result: ScanResult) -> dict[str, TrackedFinding]:
    """Finding id -> its place in the history; {} when the scan kept none."""
    if result.history is None:
        return {}
    return {tracked.id: tracked for tracked in result.history.findings}


def resolved_message(tracked: TrackedFinding) -> str:
    """What a resolved finding's message says (it has no message of its own any more)."""
    return (
        f"Resolved: found from {tracked.first_day} to {tracked.last_day} "
        f"(runs {tracked.first_run} to {tracked.last_run}), not found in this run."
    )


def with_resolved(result: ScanResult) -> tuple[Finding, ...]:
    """The run's findings, then those of the previous run that are gone, as `resolved`."""
    if result.history is None:
        return result.findings
    present = {finding.id for finding in result.findings}
    gone = [
        Finding(
            id=tracked.id,
            rule=tracked.rule,
            severity=tracked.severity,
            status=Status.RESOLVED,
            title=tracked.title,
            message=resolved_message(tracked),
            resource=tracked.resource,
            principal=tracked.principal,
            country=tracked.country,
            count=0,
            first_seen=tracked.first_day,
            last_seen=tracked.last_day,
        )
        for tracked in result.history.findings
        if tracked.status is HistoryStatus.RESOLVED and tracked.id not in present
    ]
    return (*result.findings, *gone)
