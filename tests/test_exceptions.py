"""Exceptions mute (never drop) matching findings while active, and lapse on expiry."""

from __future__ import annotations

import datetime as dt

from borderwatch.evidence.exceptions import apply_exceptions, exception_matches
from borderwatch.model.findings import Finding, Severity, Status
from borderwatch.model.policy import PolicyException


def _finding(**kw: object) -> Finding:
    base: dict[str, object] = dict(
        id="BW-1",
        rule="access.prohibited-jurisdiction",
        severity=Severity.CRITICAL,
        status=Status.OPEN,
        title="t",
        message="m",
        resource="media",
        principal="arn:aws:iam::1:role/oncall-7",
        person="mei",
        country="CN",
        data_classes=("us_user_data",),
    )
    base.update(kw)
    return Finding(**base)  # type: ignore[arg-type]


def _exception(**kw: object) -> PolicyException:
    base: dict[str, object] = dict(
        id="E1", approver="a", ticket="T-1", expires=dt.date(2026, 6, 30), person="mei"
    )
    base.update(kw)
    return PolicyException(**base)  # type: ignore[arg-type]


def test_every_given_matcher_must_match() -> None:
    f = _finding()
    assert exception_matches(_exception(), f)
    assert exception_matches(_exception(country="CN", data_class="us_user_data"), f)
    assert not exception_matches(_exception(country="RU"), f)
    assert not exception_matches(_exception(rule="access.unknown-location"), f)
    assert not exception_matches(_exception(data_class="other"), f)
    assert exception_matches(_exception(person=None, principal="arn:aws:iam::*:role/oncall-*"), f)
    assert not exception_matches(_exception(person=None, store="legacy-*"), f)


def test_active_mutes_expired_lapses_and_nothing_is_dropped() -> None:
    findings = [_finding(id="A"), _finding(id="B", person="oleg", country="RU")]
    exceptions = [_exception(), _exception(id="E2", person="oleg", expires=dt.date(2026, 5, 1))]
    out = apply_exceptions(findings, exceptions, dt.date(2026, 6, 30))
    assert [f.id for f in out] == ["A", "B"]
    assert out[0].status is Status.MUTED and out[0].exception is not None
    assert out[0].exception.id == "E1" and out[0].exception.expires == "2026-06-30"
    assert out[1].status is Status.OPEN and out[1].exception is None
    assert out[1].evidence["expired_exceptions"] == ["E2 (expired 2026-05-01)"]
    # The day after expiry, the first one lapses too.
    later = apply_exceptions(findings, exceptions, dt.date(2026, 7, 1))
    assert later[0].status is Status.OPEN
