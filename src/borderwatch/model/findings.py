"""Findings: immutable verdicts with stable ids, and everything needed to explain them."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """Ordered severities; comparisons follow the order listed."""

    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_ORDER.index(self)

    def at_least(self, other: Severity) -> bool:
        return self.rank >= other.rank


_SEVERITY_ORDER = list(Severity)

# The evidence key under which a finding about a principal that only looks like another
# (evidence/lookalike.py) carries the reasons; reporters show it without importing evidence/.
LOOKALIKE_KEY = "principal_lookalike"


class Status(StrEnum):
    OPEN = "open"
    MUTED = "muted"  # an active policy exception covers it; kept and shown, never dropped
    RESOLVED = "resolved"


def finding_id(rule: str, *subject: str | None) -> str:
    """A stable id: the same rule about the same subject has the same id in every run.

    The subject is the tuple (resource, principal, country, ...) that identifies the
    problem, never counts or timestamps, which change from run to run.
    """
    key = "\x1f".join([rule, *("" if part is None else part for part in subject)])
    return "BW-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16].upper()


@dataclass(frozen=True)
class AppliedException:
    """The policy exception that muted a finding, copied into every output."""

    id: str
    approver: str
    ticket: str
    expires: str
    reason: str


@dataclass(frozen=True)
class Finding:
    """One problem: which rule, about what, how often, and the evidence behind it."""

    id: str
    rule: str
    severity: Severity
    status: Status
    title: str
    message: str
    resource: str | None = None
    principal: str | None = None
    person: str | None = None
    country: str | None = None
    data_classes: tuple[str, ...] = ()
    count: int = 1
    first_seen: str | None = None
    last_seen: str | None = None
    # Rule-specific facts: sample event ids, the basis of a location, a copy path.
    evidence: dict[str, Any] = field(default_factory=dict)
    exception: AppliedException | None = None
    # Policy clause, data versions and rule references behind the decision.
    provenance: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The JSON form written to findings.json (key order is part of the format)."""
        return {
            "id": self.id,
            "rule": self.rule,
            "severity": self.severity.value,
            "status": self.status.value,
            "title": self.title,
            "message": self.message,
            "resource": self.resource,
            "principal": self.principal,
            "person": self.person,
            "country": self.country,
            "data_classes": list(self.data_classes),
            "count": self.count,
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "evidence": self.evidence,
            "exception": None if self.exception is None else vars(self.exception).copy(),
            "provenance": self.provenance,
        }
