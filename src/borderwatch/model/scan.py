"""The result of one scan: findings plus the tables a report needs to explain them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from borderwatch.model.events import QuarantinedRecord
from borderwatch.model.findings import Finding, Severity, Status
from borderwatch.model.history import RunChanges
from borderwatch.model.inventory import Change, LegacyProgress


@dataclass(frozen=True)
class InputSummary:
    """Accounting for one input file: records read = accepted + quarantined."""

    path: str
    kind: str  # "events", "inventory", "identities"
    format: str  # the reader that read it, e.g. "cloudtrail"
    records_read: int
    accepted: int
    quarantined: int
    note: str = ""  # e.g. "skipped: CloudTrail digest file"

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True, slots=True)  # slots: one per store, millions of them
class ResidencyRow:
    """Where one store is and whether that is allowed for the data it holds."""

    store_id: str
    provider: str
    region: str
    service: str
    location_kind: str  # region, multi-region, global, site, unknown
    countries: tuple[str, ...]
    data_classes: tuple[str, ...]  # effective: own plus inherited through copy_of
    protected: bool
    records: int | None
    copy_of: str | None
    copy_path: tuple[str, ...]  # from the original store to this one
    verdict: str  # approved, outside, unknown, not-protected
    # Where the store was declared ("inventory.csv:12"): outputs that point at a file
    # and line (SARIF) point access findings about the store here.
    origin: str = ""

    def as_dict(self) -> dict[str, Any]:
        row = {name: getattr(self, name) for name in self.__slots__}
        row["countries"] = list(self.countries)
        row["data_classes"] = list(self.data_classes)
        row["copy_path"] = list(self.copy_path)
        return row


@dataclass(frozen=True)
class CountryAccess:
    """Accesses to protected data from one caller country (None = not established)."""

    country: str | None
    events: int
    principals: int
    prohibited: bool

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass(frozen=True)
class LogCoverage:
    """The days one source's logs of one place (provider, account, region) hold events."""

    source: str  # the reader's format name, e.g. "cloudtrail"
    provider: str | None
    account: str | None
    region: str | None
    days: tuple[str, ...]  # ISO dates with at least one event, ascending
    events: int

    def as_dict(self) -> dict[str, Any]:
        row = dict(vars(self))
        row["days"] = list(self.days)
        return row


@dataclass(frozen=True)
class StoreSource:
    """One source's events naming a protected store: on how many days, how many events."""

    source: str
    days: int
    events: int


@dataclass(frozen=True)
class StoreCoverage:
    """Which sources' events reached one protected store."""

    store_id: str
    provider: str
    region: str
    # Whether any log holds events of the store's provider and region at all.
    place_logged: bool
    sources: tuple[StoreSource, ...]

    def as_dict(self) -> dict[str, Any]:
        row = dict(vars(self))
        row["sources"] = [dict(vars(item)) for item in self.sources]
        return row


@dataclass(frozen=True)
class Coverage:
    """What the logs of the scan window cover (ingest/coverage.py); the coverage rules
    judge it, the report shows it."""

    first_day: str | None = None  # the window, ISO dates (None: no events)
    last_day: str | None = None
    logs: tuple[LogCoverage, ...] = ()
    stores: tuple[StoreCoverage, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "window": {"first_day": self.first_day, "last_day": self.last_day},
            "logs": [item.as_dict() for item in self.logs],
            "stores": [item.as_dict() for item in self.stores],
        }


@dataclass(frozen=True)
class RuleInfo:
    """What a reporter may say about a rule that ran: its public metadata, not its SQL."""

    id: str
    title: str
    severity: Severity
    rationale: str
    references: tuple[str, ...] = ()


# Rules of this family say what the scan could not see, not a problem found in what it saw.
COVERAGE_FAMILY = "coverage."


# Log integrity (CloudTrail digests): a log that failed it was not cleanly seen either, so
# its findings count as coverage gaps too, whatever --fail-on says (docs/evidence.md).
INTEGRITY_FAMILY = "integrity."


def is_coverage(finding: Finding) -> bool:
    """Whether a finding is about coverage (what was not seen, or not seen intact) rather
    than a violation."""
    return finding.rule.startswith((COVERAGE_FAMILY, INTEGRITY_FAMILY))


@dataclass(frozen=True)
class ScanResult:
    """Everything a reporter may render. Reporters never re-run rules or re-read inputs."""

    policy_name: str
    policy_version: str
    policy_sha256: str
    started_at: str
    finished_at: str
    fail_on: Severity
    findings: tuple[Finding, ...]
    inputs: tuple[InputSummary, ...]
    residency: tuple[ResidencyRow, ...]
    access_by_country: tuple[CountryAccess, ...]
    quarantined: tuple[QuarantinedRecord, ...] = ()
    # Versions of the data every decision used: location registry, IP data, etc.
    data_versions: dict[str, str] = field(default_factory=dict)
    events_total: int = 0
    protected_accesses: int = 0
    # Changes since the previous inventory, and migration progress per legacy location.
    changes: tuple[Change, ...] = ()
    legacy: tuple[LegacyProgress, ...] = ()
    # Things a reader of the result must know that are not findings (e.g. an input that
    # changed since an earlier incremental scan read it).
    warnings: tuple[str, ...] = ()
    # What the scan did that a reader may want to know and that is not a problem (e.g.
    # an incremental scan that read every input again because the protected stores
    # changed). Unlike warnings these never fail --strict.
    notes: tuple[str, ...] = ()
    coverage: Coverage = Coverage()
    # The rules that ran, in order (reporters describe rules from these, e.g. SARIF).
    rules: tuple[RuleInfo, ...] = ()
    # The folder the scan ran in (absolute): outputs give input paths relative to it
    # where they lie below it (SARIF's %SRCROOT%), so a report made in a checkout points
    # at the checkout's files.
    scan_root: str = ""
    # What changed since the previous run of the history (scan --history); None without.
    history: RunChanges | None = None

    def failing(self) -> list[Finding]:
        """Open findings at or above the failing severity: these decide the exit code."""
        return [
            f
            for f in self.findings
            if f.status is Status.OPEN and f.severity.at_least(self.fail_on)
        ]

    def coverage_gaps(self) -> list[Finding]:
        """Open coverage findings, whatever their severity: what the scan could not see."""
        return [f for f in self.findings if f.status is Status.OPEN and is_coverage(f)]

    @property
    def verdict(self) -> str:
        """ "fail" when a violation at or above the failing severity is open, else
        "incomplete" when coverage findings are open, else "pass".

        PASS needs complete coverage: a scan that could not see everything says so.
        """
        if any(not is_coverage(f) for f in self.failing()):
            return "fail"
        return "incomplete" if self.coverage_gaps() else "pass"
