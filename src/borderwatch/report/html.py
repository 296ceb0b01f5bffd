"""report.html: one self-contained page a compliance officer or oversight board can read.

Every value in a ScanResult may come from a log and is treated as hostile. This module
turns the result into plain ``str``/``int`` view data (never ``Markup``, never an object
with ``__html__``), and the Jinja2 template escapes all of it. The page carries a
Content-Security-Policy without any script source, and contains no scripts, no event
handlers and no external resources. Output depends only on the result: rendering the
same result twice gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from borderwatch.model.findings import LOOKALIKE_KEY, Finding, Severity, Status
from borderwatch.model.scan import Coverage, ResidencyRow, ScanResult

INPUTS_IN_FULL = 50  # above this many inputs, those needing attention are listed first
# Quarantine is summarised by reason (one row per reason, with a count and the first
# record as example), never listed record by record: a broken log gave thousands of rows.
# Every record stays in quarantine.jsonl, which the section links to.
QUARANTINE_REASONS_SHOWN = 50
QUARANTINE_FILE = "quarantine.jsonl"
# Rows of the long tables drawn in the page. Past these the page says how many more there
# are and where they all are (residency.csv, findings.json, summary.json): a million-row
# inventory drew a 752 MB page no browser opens.
RESIDENCY_SHOWN = 1000
FINDINGS_SHOWN = 500  # per section (open, muted, resolved)
INPUTS_SHOWN = 2000
MAX_TEXT = 4000  # characters of one value shown before it is cut
MAX_DEPTH = 6  # nesting of evidence shown before the rest is summarised
MAX_ITEMS = 200  # entries of one evidence list or mapping shown
LABEL_CHARS = 22  # characters of a country label drawn inside the chart

_KNOWN_VERDICTS = frozenset({"approved", "outside", "unknown", "not-protected"})
_SEVERITIES_DESC = tuple(sorted(Severity, key=lambda s: s.rank, reverse=True))


def _visible(ch: str) -> str:
    """Control, format (bidi overrides, zero-width) and surrogate characters made visible."""
    if ch in "\t\n":
        return ch
    if unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Zl", "Zp"}:
        return f"[U+{ord(ch):04X}]"
    return ch


def text(value: Any, limit: int = MAX_TEXT) -> str:
    """Any value as a plain, printable ``str``: never Markup, never raises."""
    if value is None:
        return ""
    if isinstance(value, bool):
        raw = "true" if value else "false"
    elif isinstance(value, bytes | bytearray):
        raw = bytes(value).decode("utf-8", errors="replace")
    elif isinstance(value, float) and not math.isfinite(value):
        raw = repr(value)
    else:
        try:
            raw = str(value)
        except Exception:  # a hostile or broken __str__ must not break the report
            raw = f"<unprintable {type(value).__name__}>"
    # isprintable() is False for every character _visible would change (and some it
    # keeps), so most values skip the per-character pass. "".join always builds an
    # exact str, even from a str subclass such as Markup.
    printable = type(raw) is str and raw.isprintable()
    cleaned = raw if printable else "".join(_visible(ch) for ch in raw)
    if len(cleaned) > limit:
        cleaned = cleaned[:limit] + f"… [{len(cleaned) - limit} more characters]"
    return cleaned


def _plain(value: str | None) -> str:
    return text(value) if value is not None else ""


@dataclass(frozen=True)
class Node:
    """One evidence value as a tree the template can render without calling our code."""

    kind: str  # "scalar", "map", "list", "empty"
    value: str = ""
    items: tuple[tuple[str, Node], ...] = ()  # map: (key, node); list: ("", node)
    more: int = 0  # entries not shown


def evidence_tree(value: Any, depth: int = 0) -> Node:
    """A nested dict/list/scalar as a bounded tree of plain strings."""
    if value is None:
        return Node("empty", "—")
    if isinstance(value, str | bytes | bytearray | int | float | bool):
        return Node("scalar", text(value))
    if depth >= MAX_DEPTH:
        return Node("scalar", text(value, limit=200))
    if isinstance(value, Mapping):
        try:
            pairs = list(value.items())
        except Exception:
            return Node("scalar", text(value))
        shown = tuple(
            (text(k, limit=200), evidence_tree(v, depth + 1)) for k, v in pairs[:MAX_ITEMS]
        )
        return Node("map", items=shown, more=max(0, len(pairs) - MAX_ITEMS))
    if isinstance(value, set | frozenset):
        # Set order changes between processes; sort by text for a stable page.
        entries = sorted(value, key=lambda v: text(v))
    elif isinstance(value, list | tuple):
        entries = list(value)
    else:
        return Node("scalar", text(value))
    shown = tuple(("", evidence_tree(v, depth + 1)) for v in entries[:MAX_ITEMS])
    if not shown:
        return Node("empty", "(none)")
    return Node("list", items=shown, more=max(0, len(entries) - MAX_ITEMS))


def _finding_view(finding: Finding) -> dict[str, Any]:
    exc = finding.exception
    return {
        "id": text(finding.id),
        "rule": text(finding.rule),
        "severity": finding.severity.value,
        "status": finding.status.value,
        "title": text(finding.title),
        "message": text(finding.message),
        "resource": _plain(finding.resource),
        "principal": _plain(finding.principal),
        "person": _plain(finding.person),
        "country": _plain(finding.country),
        "data_classes": [text(c) for c in finding.data_classes],
        "count": int(finding.count),
        "first_seen": _plain(finding.first_seen),
        "last_seen": _plain(finding.last_seen),
        "evidence": evidence_tree(dict(finding.evidence)) if finding.evidence else None,
        "lookalike": _lookalike(finding),
        "exception": None
        if exc is None
        else {
            "id": text(exc.id),
            "approver": text(exc.approver),
            "ticket": text(exc.ticket),
            "expires": text(exc.expires),
            "reason": text(exc.reason),
        },
    }


def _lookalike(finding: Finding) -> dict[str, Any] | None:
    """The reasons a principal may only look like someone else, from the evidence."""
    mark = finding.evidence.get(LOOKALIKE_KEY) if finding.principal else None
    if not isinstance(mark, Mapping):
        return None
    reasons = mark.get("reasons")
    return {
        "reasons": [text(r) for r in reasons] if isinstance(reasons, list) else [],
        "code_points": text(mark.get("code_points")),
    }


def _residency_first(result: ScanResult) -> list[ResidencyRow]:
    """The stores to draw: those outside or of unknown location first, then protected."""
    rows = result.residency
    if len(rows) <= RESIDENCY_SHOWN:
        return list(rows)
    ranked = sorted(
        range(len(rows)),
        key=lambda n: (
            rows[n].verdict not in ("outside", "unknown"),
            not rows[n].protected,
            n,
        ),
    )
    return [rows[n] for n in ranked[:RESIDENCY_SHOWN]]


def _quarantine_by_reason(result: ScanResult) -> list[dict[str, Any]]:
    """One row per reason: how many records, from how many inputs, the first as example;
    most frequent first (then by reason, for a stable page)."""
    groups: dict[str, dict[str, Any]] = {}
    for q in result.quarantined:
        group = groups.get(q.reason)
        if group is None:
            group = groups[q.reason] = {
                "reason": text(q.reason),
                "records": 0,
                "inputs": set(),
                "formats": set(),
                "input_path": text(q.input_path),
                "position": text(q.position),
                "excerpt": text(q.excerpt, limit=500),
            }
        group["records"] += 1
        group["inputs"].add(q.input_path)
        if q.source_format:
            group["formats"].add(q.source_format)
    rows = sorted(groups.values(), key=lambda g: (-g["records"], g["reason"]))
    for row in rows:
        row["inputs"] = len(row["inputs"])
        row["formats"] = sorted(text(f) for f in row["formats"])
    return rows


def _sorted_findings(findings: tuple[Finding, ...], status: Status) -> list[Finding]:
    chosen = [f for f in findings if f.status is status]
    return sorted(chosen, key=lambda f: (-f.severity.rank, f.rule, f.id))


def _index(*sections: list[Finding]) -> list[dict[str, Any]]:
    """The findings index: one row per finding drawn in the page, linking to its entry
    (anchors by section and position, never by the finding's text)."""
    rows = []
    for status, findings in zip(("open", "muted", "resolved"), sections, strict=True):
        for number, finding in enumerate(findings[:FINDINGS_SHOWN], start=1):
            rows.append(
                {
                    "anchor": f"{status}-{number}",
                    "id": text(finding.id),
                    "severity": finding.severity.value,
                    "status": finding.status.value,
                    "rule": text(finding.rule),
                    "resource": _plain(finding.resource),
                    "principal": _plain(finding.principal),
                    "country": _plain(finding.country),
                    "count": int(finding.count),
                }
            )
    return rows


def _chart(result: ScanResult) -> dict[str, Any]:
    """Bars for accesses by country, largest first; the unknown country is labelled."""
    rows = sorted(
        result.access_by_country,
        key=lambda c: (-c.events, c.country is None, text(c.country)),
    )
    peak = max((c.events for c in rows), default=0)
    bar_max = 440.0
    row_h = 28
    bars = []
    for index, row in enumerate(rows):
        known = row.country is not None
        label = text(row.country) if known else "unknown"
        # Any access gets a visible sliver of a bar; no access gets none.
        width = 0.0 if row.events <= 0 or peak <= 0 else max(2.0, bar_max * row.events / peak)
        short = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
        bars.append(
            {
                "label": label,
                "short": short,
                "known": known,
                "events": int(row.events),
                "principals": int(row.principals),
                "prohibited": bool(row.prohibited),
                "y": 10 + index * row_h,
                "width": f"{width:.1f}",
            }
        )
    return {
        "bars": bars,
        "height": 20 + len(bars) * row_h,
        "label_w": 230,
        "bar_max": int(bar_max),
        "total_events": sum(b["events"] for b in bars),
        "prohibited_events": sum(b["events"] for b in bars if b["prohibited"]),
    }


def _inputs(result: ScanResult) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for item in result.inputs:
        read, accepted, quarantined = (
            int(item.records_read),
            int(item.accepted),
            int(item.quarantined),
        )
        rows.append(
            {
                "path": text(item.path),
                "kind": text(item.kind),
                "format": text(item.format),
                "records_read": read,
                "accepted": accepted,
                "quarantined": quarantined,
                "note": text(item.note),
                "balanced": read == accepted + quarantined,
            }
        )
    read = sum(int(item.records_read) for item in result.inputs)
    accepted = sum(int(item.accepted) for item in result.inputs)
    quarantined = sum(int(item.quarantined) for item in result.inputs)
    totals = {
        "records_read": read,
        "accepted": accepted,
        "quarantined": quarantined,
        "balanced": read == accepted + quarantined,
    }
    attention = [r for r in rows if not r["balanced"] or r["quarantined"] or r["note"]]
    return {
        "rows": rows[:INPUTS_SHOWN],
        "attention": attention[:INPUTS_SHOWN],
        "total": len(rows),
        "attention_total": len(attention),
        "more": max(0, len(rows) - INPUTS_SHOWN),
        "attention_more": max(0, len(attention) - INPUTS_SHOWN),
        "compact": len(rows) > INPUTS_IN_FULL,
        "totals": totals,
        "mismatches": sum(not r["balanced"] for r in rows),
    }


def _version() -> str:
    import borderwatch

    version = getattr(borderwatch, "__version__", None)
    if isinstance(version, str) and version:
        return version
    try:
        from importlib.metadata import version as dist_version

        return dist_version("borderwatch")
    except Exception:
        return "unknown"


def view(result: ScanResult) -> dict[str, Any]:
    """Everything the template shows, as plain data derived only from the result."""
    open_findings = _sorted_findings(result.findings, Status.OPEN)
    muted = _sorted_findings(result.findings, Status.MUTED)
    resolved = _sorted_findings(result.findings, Status.RESOLVED)
    open_by_severity = [
        {"severity": s.value, "count": sum(1 for f in open_findings if f.severity is s)}
        for s in _SEVERITIES_DESC
    ]
    residency = [
        {
            "store_id": text(r.store_id),
            "provider": text(r.provider),
            "region": text(r.region),
            "service": text(r.service),
            "kind": text(r.location_kind),
            "countries": [text(c) for c in r.countries],
            "data_classes": [text(c) for c in r.data_classes],
            "protected": bool(r.protected),
            "records": None if r.records is None else int(r.records),
            "copy_of": _plain(r.copy_of),
            "copy_path": [text(p) for p in r.copy_path],
            "verdict": text(r.verdict),
            "verdict_class": r.verdict if r.verdict in _KNOWN_VERDICTS else "other",
        }
        for r in _residency_first(result)
    ]
    quarantine = _quarantine_by_reason(result)
    verdict = result.verdict if result.verdict in ("fail", "incomplete") else "pass"
    return {
        "verdict": verdict,
        "fail_on": result.fail_on.value,
        "failing": len(result.failing()),
        "coverage_gaps": len(result.coverage_gaps()),
        "coverage": _coverage(result.coverage),
        "policy": {
            "name": text(result.policy_name),
            "version": text(result.policy_version),
            "sha256": text(result.policy_sha256),
        },
        "started_at": text(result.started_at),
        "finished_at": text(result.finished_at),
        "events_total": int(result.events_total),
        "protected_accesses": int(result.protected_accesses),
        "open_by_severity": open_by_severity,
        "open_total": len(open_findings),
        "muted_total": len(muted),
        "resolved_total": len(resolved),
        "open_findings": [_finding_view(f) for f in open_findings[:FINDINGS_SHOWN]],
        "muted_findings": [_finding_view(f) for f in muted[:FINDINGS_SHOWN]],
        "resolved_findings": [_finding_view(f) for f in resolved[:FINDINGS_SHOWN]],
        "findings_shown": FINDINGS_SHOWN,
        "findings_index": _index(open_findings, muted, resolved),
        "residency_total": len(result.residency),
        "residency_more": max(0, len(result.residency) - RESIDENCY_SHOWN),
        "chart": _chart(result),
        "residency": residency,
        "warnings": [text(w) for w in result.warnings],
        "changes": [
            {
                "store_id": text(c.store_id),
                "kind": text(c.kind),
                "before": text(c.before),
                "after": text(c.after),
                "detail": text(c.detail),
            }
            for c in result.changes
        ],
        "legacy": [
            {
                "name": text(progress.name),
                "deadline": progress.deadline.isoformat(),
                "points": [
                    {
                        "day": point.day.isoformat(),
                        "stores": point.stores,
                        "records": point.records,
                        "unknown_counts": point.unknown_counts,
                        "overdue": point.day > progress.deadline
                        and (point.records > 0 or point.unknown_counts > 0),
                    }
                    for point in progress.points
                ],
            }
            for progress in result.legacy
        ],
        "inputs": _inputs(result),
        "quarantine": quarantine[:QUARANTINE_REASONS_SHOWN],
        "quarantine_total": len(result.quarantined),
        "quarantine_reasons": len(quarantine),
        "quarantine_more": max(0, len(quarantine) - QUARANTINE_REASONS_SHOWN),
        "quarantine_file": QUARANTINE_FILE,
        "data_versions": sorted((text(k), text(v)) for k, v in result.data_versions.items()),
        "generator": _version(),
        "history": _history(result),
    }


def _history(result: ScanResult) -> dict[str, Any] | None:
    """The "since the previous run" section (scan --history), or None without a history."""
    changes = result.history
    if changes is None:
        return None
    changed = changes.changed() if changes.previous_run is not None else []
    return {
        "run": changes.run,
        "as_of": text(changes.as_of),
        "previous_run": changes.previous_run,
        "previous_as_of": _plain(changes.previous_as_of),
        "notice": _plain(changes.notice),
        "counts": sorted(changes.counts().items(), key=lambda item: _STATUS_ORDER[item[0]]),
        "changed": [
            {
                "id": text(f.id),
                "status": text(f.status.value),
                "rule": text(f.rule),
                "severity": text(f.severity.value),
                "resource": _plain(f.resource),
                "principal": _plain(f.principal),
                "country": _plain(f.country),
                "first": f"{text(f.first_day)} (run {f.first_run})",
                "age_days": int(f.age_days),
            }
            for f in changed[:FINDINGS_SHOWN]
        ],
        "changed_more": max(0, len(changed) - FINDINGS_SHOWN),
        "unmuted": [text(i) for i in changes.unmuted],
        "exceptions": [
            {
                "id": text(e.id),
                "state": text(e.state.value),
                "expires": text(e.expires),
                "days_left": int(e.days_left),
                "muted_now": len(e.muted_now),
                "muted_ever": len(e.muted_ever),
            }
            for e in changes.exceptions
        ],
    }


_STATUS_ORDER = {"new": 0, "reopened": 1, "resolved": 2, "open": 3}


# Longest window the day strip draws day by day (a year and a bit); longer ones are
# summarised by their gap count only.
STRIP_DAYS = 400


def _coverage(coverage: Coverage) -> dict[str, Any]:
    """The coverage section: protected store x source x days, and a day x place strip."""
    days: list[str] = []
    if coverage.first_day and coverage.last_day:
        first = dt.date.fromisoformat(coverage.first_day)
        last = dt.date.fromisoformat(coverage.last_day)
        days = [(first + dt.timedelta(n)).isoformat() for n in range((last - first).days + 1)]
    drawn = len(days) <= STRIP_DAYS
    places = []
    for log in coverage.logs:
        seen = set(log.days)
        places.append(
            {
                "source": text(log.source),
                "place": " / ".join(
                    text(p) or "-" for p in (log.provider, log.account, log.region)
                ),
                "events": log.events,
                "days_seen": len(seen),
                "gaps": sum(1 for day in days if day not in seen),
                "cells": [{"day": day, "seen": day in seen} for day in days] if drawn else [],
            }
        )
    stores = [
        {
            "store_id": text(store.store_id),
            "place": f"{text(store.provider)} {text(store.region)}",
            "place_logged": store.place_logged,
            "sources": [
                {"source": text(item.source), "days": item.days, "events": item.events}
                for item in store.sources
            ],
        }
        for store in coverage.stores
    ]
    return {
        "first_day": coverage.first_day or "",
        "last_day": coverage.last_day or "",
        "days": len(days),
        "drawn": drawn,
        "places": places,
        "stores": stores,
    }


def thousands(value: Any) -> str:
    """An integer with thousands separators (12,500,000); anything else as text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return text(value)


def _autoescape(name: str | None) -> bool:
    # Our own stylesheet is included raw inside <style>; everything else is escaped.
    return not (name or "").endswith(".css")


@cache
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("borderwatch.report", "templates"),
        autoescape=_autoescape,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["num"] = thousands
    return env


class HtmlReporter:
    """report.html: verdict, access chart, residency, findings, inputs and quarantine."""

    name = "html"
    output = "html"
    filename = "report.html"

    def render(self, result: ScanResult) -> bytes:
        page = environment().get_template("report.html").render(**view(result))
        return page.encode("utf-8")
