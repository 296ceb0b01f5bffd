"""Apply policy exceptions: a matching, unexpired exception mutes a finding, never drops it.

An expired exception that would have matched leaves the finding open and says so in the
evidence, so a reviewer sees that a waiver lapsed rather than a new problem.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import replace
from fnmatch import fnmatchcase

from borderwatch.model.findings import AppliedException, Finding, Status
from borderwatch.model.policy import PolicyException


def exception_matches(exception: PolicyException, finding: Finding) -> bool:
    """True if every matcher the exception gives fits the finding.

    `store` and `principal` accept shell-style patterns (`arn:aws:iam::*:role/oncall-*`);
    the others compare exactly.
    """
    if exception.rule is not None and exception.rule != finding.rule:
        return False
    if exception.data_class is not None and exception.data_class not in finding.data_classes:
        return False
    if exception.store is not None and not _glob(exception.store, finding.resource):
        return False
    if exception.principal is not None and not _glob(exception.principal, finding.principal):
        return False
    if exception.person is not None and exception.person != finding.person:
        return False
    return exception.country is None or exception.country == finding.country


def apply_exceptions(
    findings: Iterable[Finding], exceptions: Sequence[PolicyException], as_of: dt.date
) -> list[Finding]:
    """Mute findings covered by an active exception; note lapsed ones in the evidence."""
    result = []
    for finding in findings:
        matching = [e for e in exceptions if exception_matches(e, finding)]
        active = [e for e in matching if e.is_active(as_of)]
        if active:
            chosen = min(active, key=lambda e: (e.expires, e.id))
            finding = replace(
                finding,
                status=Status.MUTED,
                exception=AppliedException(
                    id=chosen.id,
                    approver=chosen.approver,
                    ticket=chosen.ticket,
                    expires=chosen.expires.isoformat(),
                    reason=chosen.reason,
                ),
            )
        elif matching:
            lapsed = [f"{e.id} (expired {e.expires.isoformat()})" for e in matching]
            finding = replace(finding, evidence={**finding.evidence, "expired_exceptions": lapsed})
        result.append(finding)
    return result


def _glob(pattern: str, value: str | None) -> bool:
    return value is not None and fnmatchcase(value, pattern)
