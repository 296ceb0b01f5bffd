"""board.html: the report a security committee reads for a period (`borderwatch board`).

It renders a BoardReport (model/board.py) and nothing else. One self-contained page:
inline CSS and SVG, no script, no external resource, a Content-Security-Policy that
allows none. Every value from the history (finding ids, resources, principals, country
codes, exception ids and approvers all come from logs and policies) is escaped: by the
template's autoescape for tables, by board_charts.esc inside the SVG.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from borderwatch.model.board import BoardReport, RunFigures
from borderwatch.model.findings import Severity
from borderwatch.report.board_charts import Series, lines, stacked_bars, use_log, world_map
from borderwatch.report.html import text

# Countries drawn as their own line in "accesses by country over time"; the rest are
# summed as "other".
COUNTRY_LINES = 7
FINDINGS_SHOWN = 300
UNKNOWN_COUNTRY = "unknown"
_SEVERITIES = tuple(sorted(Severity, key=lambda s: s.rank, reverse=True))
_VERDICT_CSS = {"pass": "pass", "fail": "fail", "incomplete": "incomplete"}


def _country(code: str | None) -> str:
    return text(code) if code else UNKNOWN_COUNTRY


def _access_series(runs: tuple[RunFigures, ...]) -> tuple[list[Series], dict[str, int]]:
    per_run: list[dict[str, int]] = []
    totals: dict[str, int] = defaultdict(int)
    for run in runs:
        counts: dict[str, int] = defaultdict(int)
        for row in run.access_by_country:
            counts[_country(row.country)] += row.events
            totals[_country(row.country)] += row.events
        per_run.append(counts)
    ranked = sorted(totals, key=lambda c: (-totals[c], c))
    shown, rest = ranked[:COUNTRY_LINES], ranked[COUNTRY_LINES:]
    series = [Series(c, [counts.get(c, 0) for counts in per_run]) for c in shown]
    if rest:
        series.append(
            Series(
                f"other ({len(rest)})",
                [sum(counts.get(c, 0) for c in rest) for counts in per_run],
            )
        )
    return series, dict(totals)


def view(report: BoardReport) -> dict[str, Any]:
    """Everything the template shows, as plain values (and the escaped SVG charts)."""
    runs = report.runs
    labels = [run.as_of for run in runs]
    severity_series = [
        Series(s.value, [run.open_by_severity.get(s.value, 0) for run in runs], f"sev-{s.value}")
        for s in _SEVERITIES
    ]
    # Progress is what is left to move: records of protected data outside the approved
    # locations, or where the location is not known.
    residency_series = [
        Series(verdict, [run.records_by_verdict.get(verdict, 0) for run in runs], f"res-{verdict}")
        for verdict in ("outside", "unknown")
    ]
    access_series, totals = _access_series(runs)
    prohibited = {
        row.country
        for run in runs
        for row in run.access_by_country
        if row.prohibited and row.country
    }
    last = report.last
    return {
        "title": f"Board report: {text(report.history)}",
        "verdict_line": text(report.verdict_line()),
        "verdict_css": _VERDICT_CSS.get(last.verdict, "incomplete") if last else "incomplete",
        "history": text(report.history),
        "period": {
            "from": text(report.period_from or (runs[0].as_of if runs else "")),
            "to": text(report.period_to or (runs[-1].as_of if runs else "")),
        },
        "severities": [s.value for s in _SEVERITIES],
        "runs": [
            {
                "run": run.run,
                "as_of": text(run.as_of),
                "verdict": text(run.verdict),
                "failing": run.failing_findings,
                "by_severity": [run.open_by_severity.get(s.value, 0) for s in _SEVERITIES],
                "open_total": sum(run.open_by_severity.values()),
                "new": run.new,
                "resolved": run.resolved,
                "reopened": run.reopened,
                "coverage_gaps": run.coverage_gaps,
                "stores": [
                    run.stores_by_verdict.get(v, 0) for v in ("approved", "outside", "unknown")
                ],
                "records": [
                    run.records_by_verdict.get(v, 0) for v in ("approved", "outside", "unknown")
                ],
                "accesses": sum(row.events for row in run.access_by_country),
            }
            for run in runs
        ],
        "chart_severity": Markup(
            stacked_bars(labels, severity_series, "Open findings by severity, per run")
        ),
        "chart_residency": Markup(
            stacked_bars(
                labels,
                residency_series,
                "Records of protected data outside approved locations or unknown, per run",
            )
        ),
        "chart_access": Markup(
            lines(labels, access_series, "Accesses to protected data by caller country")
        ),
        "access_log": use_log(access_series),
        "map": Markup(
            world_map(
                {k: v for k, v in totals.items() if k != UNKNOWN_COUNTRY},
                prohibited,
                "Caller countries of accesses to protected data in the period",
            )
        ),
        "country_totals": [
            {"country": c, "events": n, "prohibited": c in prohibited}
            for c, n in sorted(totals.items(), key=lambda item: (-item[1], item[0]))
        ],
        "exceptions": [
            {
                "id": text(e.id),
                "state": text(e.state.value),
                "expires": text(e.expires),
                "days_left": e.days_left,
                "approver": text(e.approver),
                "ticket": text(e.ticket),
                "muted_now": len(e.muted_now),
                "muted_ever": len(e.muted_ever),
            }
            for e in report.exceptions
        ],
        "coverage_gaps": [_finding(f) for f in report.coverage_gaps],
        "critical": [
            {
                **_finding(d.finding),
                "first_event": text(d.first_event or "not known"),
                "reported": f"{text(d.reported_day)} (run {d.reported_run})",
                "days": "not known" if d.days is None else str(d.days),
            }
            for d in report.critical
        ],
        "open_findings": [_finding(f) for f in report.open_findings[:FINDINGS_SHOWN]],
        "open_more": max(0, len(report.open_findings) - FINDINGS_SHOWN),
        "ledger": {
            "present": report.ledger.present,
            "hash": text(report.ledger.hash or ""),
            "signature": text(report.ledger.signature or ""),
            "records": report.ledger.records,
            "problem": text(report.ledger.problem or ""),
        },
    }


def _finding(f: Any) -> dict[str, Any]:
    return {
        "id": text(f.id),
        "rule": text(f.rule),
        "severity": text(f.severity.value),
        "status": text(f.status.value),
        "state": text(f.state),
        "resource": text(f.resource),
        "principal": text(f.principal),
        "country": text(f.country),
        "first": f"{text(f.first_day)} (run {f.first_run})",
        "age_days": f.age_days,
        "exception": text(f.exception),
    }


def environment() -> Environment:
    return Environment(
        loader=PackageLoader("borderwatch.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_board(report: BoardReport) -> bytes:
    """The board report as one HTML page (UTF-8)."""
    env = environment()
    css = env.loader.get_source(env, "board.css")[0] if env.loader else ""
    page = env.get_template("board.html").render(**view(report), css=Markup(css))
    return page.encode("utf-8")
