"""The feed audit's tables: the policy's declarations, and the outcome of every
pre-registered exposure test, for the feed rules (rules/feed/*.sql) to read.

The counts a test compares come from SQL on the engine (sql/feed_window_counts.sql over
the count tables ingest/feed.py wrote), so a second engine computes them the same way;
the statistics (G-tests, Benjamini-Hochberg, Jensen-Shannon) need scipy and run here in
Python (feed_stats.py) on those few counts. Their outcome is written back as tables:

- feed_tests: one row per declared test, its declaration, totals, distance, and status
  ("tested", or "no-data" when a window holds no views: a coverage gap, never a pass),
  and the declared days without any view (a tested window with such days is a gap too);
- feed_exposure: one row per tested value: counts, shares, effect, G, p, adjusted p;
- feed_intervention_cap: the policy's cap as an exact fraction (one row, or none);
- feed_approved_interventions: the approved reasons, approver, ticket and expiry.

The intervention rules are plain SQL over the counts and these policy tables.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from importlib.resources import files
from typing import Any

import pyarrow as pa

from borderwatch.evaluate.feed_stats import ExposureResult, exposure_shift
from borderwatch.model.feed import ExposureTest, FeedAudit, FeedTestOutcome
from borderwatch.runtime.tablestore import TableStore

FEED_TESTS_SCHEMA = pa.schema(
    [
        pa.field("test_id", pa.string()),
        pa.field("attribute", pa.string()),
        pa.field("baseline_from", pa.date32()),
        pa.field("baseline_to", pa.date32()),
        pa.field("comparison_from", pa.date32()),
        pa.field("comparison_to", pa.date32()),
        pa.field("min_effect", pa.float64()),
        pa.field("alpha", pa.float64()),
        pa.field("max_distance", pa.float64()),
        pa.field("registered", pa.date32()),
        pa.field("status", pa.string()),
        # The windows without views, when status is "no-data".
        pa.field("empty_windows", pa.list_(pa.string())),
        # Days of the declared windows without any view (ISO dates, the first 100), and
        # how many: a test that ran on fewer days than declared says so.
        pa.field("missing_days", pa.list_(pa.string())),
        pa.field("days_missing", pa.int64()),
        pa.field("baseline_total", pa.int64()),
        pa.field("comparison_total", pa.int64()),
        pa.field("values_tested", pa.int64()),
        pa.field("distance", pa.float64()),
        pa.field("distance_exceeded", pa.bool_()),
    ]
)

FEED_EXPOSURE_SCHEMA = pa.schema(
    [
        pa.field("test_id", pa.string()),
        pa.field("attribute", pa.string()),
        pa.field("value", pa.string()),
        pa.field("baseline_views", pa.int64()),
        pa.field("comparison_views", pa.int64()),
        pa.field("baseline_share", pa.float64()),
        pa.field("comparison_share", pa.float64()),
        pa.field("effect", pa.float64()),
        pa.field("g_statistic", pa.float64()),
        pa.field("p_value", pa.float64()),
        pa.field("p_adjusted", pa.float64()),
        pa.field("shifted", pa.bool_()),
    ]
)

FEED_CAP_SCHEMA = pa.schema(
    [
        pa.field("cap", pa.string()),
        pa.field("cap_numerator", pa.int64()),
        pa.field("cap_denominator", pa.int64()),
    ]
)

FEED_APPROVED_SCHEMA = pa.schema(
    [
        pa.field("reason", pa.string()),
        pa.field("approver", pa.string()),
        pa.field("ticket", pa.string()),
        pa.field("expires", pa.date32()),
    ]
)

_TESTS_COLUMNS = (
    "test_id",
    "attribute",
    "baseline_from",
    "baseline_to",
    "comparison_from",
    "comparison_to",
    "min_effect",
    "alpha",
    "max_distance",
    "registered",
)


def run_feed_audit(engine: TableStore, audit: FeedAudit | None) -> None:
    """Write the feed audit's tables (empty ones when the policy declares no audit).

    Needs the count tables of ingest/feed.py in the engine.
    """
    tests = audit.tests if audit is not None else ()
    declared = [_declared(test) for test in tests]
    # The declarations first: the counts' query joins them to the count tables.
    declarations = pa.schema([FEED_TESTS_SCHEMA.field(name) for name in _TESTS_COLUMNS])
    engine.create_table("feed_tests", pa.Table.from_pylist(declared, declarations))
    counts = _window_counts(engine)
    seen = {row["day"] for row in engine.query("SELECT day FROM feed_days").to_pylist()}
    outcomes: list[dict[str, Any]] = []
    exposure: list[dict[str, Any]] = []
    for test, row in zip(tests, declared, strict=True):
        baseline, comparison = counts[(test.id, "baseline")], counts[(test.id, "comparison")]
        empty = [name for name, c in (("baseline", baseline), ("comparison", comparison)) if not c]
        if empty:
            outcomes.append({**row, "status": "no-data", "empty_windows": empty})
            continue
        missing = [
            str(day)
            for window in (test.baseline, test.comparison)
            for day in _days(window.first, window.last)
            if day not in seen
        ]
        row = {**row, "missing_days": missing[:100], "days_missing": len(missing)}
        result = exposure_shift(
            baseline,
            comparison,
            alpha=test.alpha,
            min_effect=test.min_effect,
            max_distance=test.max_distance,
        )
        outcomes.append({**row, **_tested(result)})
        exposure.extend(_value_rows(test, result))
    engine.create_table("feed_tests", pa.Table.from_pylist(outcomes, FEED_TESTS_SCHEMA))
    engine.create_table("feed_exposure", pa.Table.from_pylist(exposure, FEED_EXPOSURE_SCHEMA))
    intervention = audit.intervention if audit is not None else None
    caps = [] if intervention is None else [_cap_row(intervention.cap)]
    engine.create_table("feed_intervention_cap", pa.Table.from_pylist(caps, FEED_CAP_SCHEMA))
    approved = (
        []
        if intervention is None
        else [
            {"reason": a.reason, "approver": a.approver, "ticket": a.ticket, "expires": a.expires}
            for a in intervention.approved
        ]
    )
    engine.create_table(
        "feed_approved_interventions", pa.Table.from_pylist(approved, FEED_APPROVED_SCHEMA)
    )


def window_counts_sql() -> str:
    """The query giving every declared test's views per window and value."""
    return files("borderwatch.evaluate").joinpath("sql", "feed_window_counts.sql").read_text()


def _window_counts(engine: TableStore) -> defaultdict[tuple[str, str], dict[str | None, int]]:
    counts: defaultdict[tuple[str, str], dict[str | None, int]] = defaultdict(dict)
    for row in engine.query(window_counts_sql()).to_pylist():
        if row["views"]:
            counts[(row["test_id"], row["period"])][row["value"]] = int(row["views"])
    return counts


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]


def _declared(test: ExposureTest) -> dict[str, Any]:
    return {
        "test_id": test.id,
        "attribute": test.attribute,
        "baseline_from": test.baseline.first,
        "baseline_to": test.baseline.last,
        "comparison_from": test.comparison.first,
        "comparison_to": test.comparison.last,
        "min_effect": test.min_effect,
        "alpha": test.alpha,
        "max_distance": test.max_distance,
        "registered": test.registered,
    }


def _tested(result: ExposureResult) -> dict[str, Any]:
    return {
        "status": "tested",
        "empty_windows": [],
        "baseline_total": result.baseline_total,
        "comparison_total": result.comparison_total,
        "values_tested": len(result.values),
        "distance": result.distance,
        "distance_exceeded": result.distance_exceeded,
    }


def _value_rows(test: ExposureTest, result: ExposureResult) -> list[dict[str, Any]]:
    return [
        {
            "test_id": test.id,
            "attribute": test.attribute,
            "value": value.value,
            "baseline_views": value.baseline_views,
            "comparison_views": value.comparison_views,
            "baseline_share": value.baseline_share,
            "comparison_share": value.comparison_share,
            "effect": value.effect,
            "g_statistic": value.g_statistic,
            "p_value": value.p_value,
            "p_adjusted": value.p_adjusted,
            "shifted": value.shifted,
        }
        for value in result.values
    ]


def _cap_row(cap: Decimal) -> dict[str, Any]:
    # At most nine decimals (model.feed): the denominator is at most 10**9, so views x
    # denominator stays inside a 64-bit integer for up to 9 billion views a day.
    numerator, denominator = cap.as_integer_ratio()
    return {"cap": str(cap), "cap_numerator": numerator, "cap_denominator": denominator}


def feed_outcomes(engine: TableStore) -> list[FeedTestOutcome]:
    """Every declared test's outcome, in declaration order (after run_feed_audit)."""
    shifted: defaultdict[str, list[str | None]] = defaultdict(list)
    for row in engine.query(
        "SELECT test_id, value FROM feed_exposure WHERE shifted ORDER BY test_id, value"
    ).to_pylist():
        shifted[row["test_id"]].append(row["value"])
    return [
        FeedTestOutcome(
            test_id=row["test_id"],
            attribute=row["attribute"],
            status=row["status"],
            baseline_total=row["baseline_total"] or 0,
            comparison_total=row["comparison_total"] or 0,
            values_tested=row["values_tested"] or 0,
            distance=row["distance"],
            shifted_values=tuple(shifted[row["test_id"]]),
            distance_exceeded=bool(row["distance_exceeded"]),
            empty_windows=tuple(row["empty_windows"] or ()),
            days_missing=row["days_missing"] or 0,
        )
        for row in engine.query("SELECT * FROM feed_tests").to_pylist()
    ]
