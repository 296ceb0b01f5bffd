"""Coverage rules: what the scan could not see. A PASS needs none of them open.

They read `coverage_parts` (ingest/coverage.py): events per (source format, provider,
account, region, day), and per protected store the events naming it. The scan window
is the first to the last day with events, or the days asked for (`--from`/`--to`).
Their severity comes from the policy (`coverage:`, one-row table `coverage_policy`); a
rule's own severity is the default.
"""

from __future__ import annotations

from typing import Any

from borderwatch.model.findings import Severity
from borderwatch.rules.base import Rule

# Every place (source, provider, account, region) and the days it has events; the window.
_PLACES = """
seen AS (
    SELECT source_format, provider, account, region, day, sum(events) AS events
    FROM coverage_parts WHERE store_id IS NULL AND day IS NOT NULL
    GROUP BY ALL
),
-- The requested window (--from/--to), else the first to the last day with events.
window_days AS (
    SELECT CAST(unnest(generate_series(
        CAST(coalesce(any_value(p.window_from), min(s.day)) AS TIMESTAMP),
        CAST(coalesce(any_value(p.window_to), max(s.day)) AS TIMESTAMP),
        INTERVAL 1 DAY)) AS DATE) AS day
    FROM seen s CROSS JOIN coverage_policy p HAVING count(*) > 0
)"""

_REFERENCES = (
    "CISA security requirements (28 CFR 202.248): access and security logs kept",
    "28 CFR 202.1002 (audit of the preceding 12 months)",
    "Policy: coverage (severities)",
)
_SEVERITY = "(SELECT {setting} FROM coverage_policy) AS severity"

_LOG_GAP_SQL = f"""
WITH {_PLACES},
-- Only places dense enough that a day without events means missing logs (docs/rules.md).
places AS (
    SELECT source_format, provider, account, region, count(*) AS days_with_events,
        quantile_disc(events, 0.5) AS median_daily_events
    FROM seen GROUP BY ALL
    HAVING quantile_disc(events, 0.5)
        >= (SELECT log_gap_min_daily_events FROM coverage_policy)
),
gaps AS (
    SELECT p.*, w.day FROM places p CROSS JOIN window_days w
    WHERE NOT EXISTS (
        SELECT 1 FROM seen s
        WHERE s.source_format = p.source_format
          AND s.provider IS NOT DISTINCT FROM p.provider
          AND s.account IS NOT DISTINCT FROM p.account
          AND s.region IS NOT DISTINCT FROM p.region
          AND s.day = w.day)
)
SELECT concat_ws('/', coalesce(provider, '-'), coalesce(account, '-'), coalesce(region, '-'))
        AS resource,
    NULL AS principal, NULL AS person, NULL AS country, [] AS data_classes,
    count(*) AS count,
    CAST(min(day) AS VARCHAR) AS first_seen, CAST(max(day) AS VARCHAR) AS last_seen,
    source_format AS subject,
    struct_pack(
        source := source_format, provider := provider, account := account,
        region := region,
        -- The first 100 (count has them all): a stray timestamp years away must not
        -- make a finding of thousands of dates.
        missing_days := list(CAST(day AS VARCHAR) ORDER BY day)[1:100],
        days_with_events := any_value(days_with_events),
        median_daily_events := CAST(any_value(median_daily_events) AS BIGINT),
        scan_window := (SELECT CAST(min(day) AS VARCHAR) || ' to ' || CAST(max(day) AS VARCHAR)
                   FROM window_days)
    ) AS evidence,
    {_SEVERITY.format(setting="log_gap")}
FROM gaps
GROUP BY source_format, provider, account, region
"""

# A protected store no event names, while logs of its provider and region have events.
_STORE_UNOBSERVED_SQL = f"""
WITH {_PLACES},
classes AS (
    SELECT store_id, list(data_class ORDER BY data_class) AS data_classes
    FROM protected_store_classes GROUP BY store_id
),
logged AS (
    SELECT provider, region, list(DISTINCT source_format ORDER BY source_format) AS sources,
        count(DISTINCT day) AS days
    FROM seen GROUP BY provider, region
)
SELECT s.store_id AS resource, NULL AS principal, NULL AS person, NULL AS country,
    c.data_classes, 0 AS count, NULL AS first_seen, NULL AS last_seen,
    struct_pack(
        provider := s.provider, region := s.location, service := s.service,
        sources_of_region := l.sources, days_of_region := l.days,
        scan_window := (SELECT CAST(min(day) AS VARCHAR) || ' to ' || CAST(max(day) AS VARCHAR)
                   FROM window_days)
    ) AS evidence,
    {_SEVERITY.format(setting="store_unobserved")}
FROM classes c JOIN stores s USING (store_id)
JOIN logged l ON l.provider = s.provider AND l.region = s.location
WHERE NOT EXISTS (SELECT 1 FROM coverage_parts t WHERE t.store_id = c.store_id)
"""

# Nothing to judge: no protected store, no event, or no event naming a protected store.
_NOTHING_JUDGED_SQL = f"""
WITH counts AS (
    SELECT
        (SELECT count(DISTINCT store_id) FROM protected_store_classes) AS protected_stores,
        (SELECT coalesce(sum(events), 0) FROM coverage_parts WHERE store_id IS NULL)
            AS events,
        (SELECT coalesce(sum(events), 0) FROM coverage_parts WHERE store_id IS NOT NULL)
            AS events_naming_protected
)
SELECT NULL AS resource, NULL AS principal, NULL AS person, NULL AS country,
    [] AS data_classes, 0 AS count, NULL AS first_seen, NULL AS last_seen,
    CASE WHEN protected_stores = 0 THEN 'no-protected-store'
         WHEN events = 0 THEN 'no-events'
         ELSE 'no-event-names-protected-data' END AS subject,
    struct_pack(
        protected_stores := protected_stores, events := CAST(events AS BIGINT),
        events_naming_protected_stores := CAST(events_naming_protected AS BIGINT)
    ) AS evidence,
    {_SEVERITY.format(setting="nothing_judged")}
FROM counts
WHERE protected_stores = 0 OR events = 0 OR events_naming_protected = 0
"""


def _log_gap(row: dict[str, Any]) -> str:
    evidence = row["evidence"]
    days = evidence["missing_days"]
    missing = int(row["count"])
    shown = ", ".join(days[:5]) + (f" and {missing - 5} more" if missing > 5 else "")
    return (
        f"No {evidence['source']} events from {row['resource']} on {missing} day(s) of "
        f"the scan window ({evidence['scan_window']}) while it has events on "
        f"{evidence['days_with_events']} other day(s), {evidence['median_daily_events']:,} "
        f"on the median one: {shown}. A missing delivery or a trail that was off: "
        "accesses on those days were not seen."
    )


def _store_unobserved(row: dict[str, Any]) -> str:
    evidence = row["evidence"]
    sources = ", ".join(evidence["sources_of_region"])
    return (
        f"No event in the scan window ({evidence['scan_window']}) names protected store "
        f"{row['resource']}, while {sources} logs of {evidence['provider']} "
        f"{evidence['region']} have events on {evidence['days_of_region']} day(s): its "
        "accesses are probably not logged (for CloudTrail: data events not enabled for it)."
    )


_NOTHING = {
    "no-protected-store": "no store holds protected data (check the inventory's data "
    "classes against the policy)",
    "no-events": "no access event was read (give the logs with --events)",
    "no-event-names-protected-data": "none of the {events:,} events read names a "
    "protected store (are these the logs of the inventory's accounts, with data events?)",
}


def _nothing_judged(row: dict[str, Any]) -> str:
    evidence = row["evidence"]
    why = _NOTHING[row["subject"]].format(events=evidence["events"])
    return (
        f"Nothing was judged: {why}. {evidence['protected_stores']} protected store(s), "
        f"{evidence['events']:,} event(s), {evidence['events_naming_protected_stores']:,} "
        "naming protected data."
    )


def rules() -> list[Rule]:
    """The coverage rules, in the order they are listed."""
    return [
        Rule(
            id="coverage.nothing-judged",
            title="Nothing to judge",
            severity=Severity.HIGH,
            rationale="A scan with no protected store, no events, or no event naming "
            "protected data judged nothing and cannot pass.",
            references=_REFERENCES,
            sql=_NOTHING_JUDGED_SQL,
            describe=_nothing_judged,
        ),
        Rule(
            id="coverage.store-unobserved",
            title="Protected store never seen in the logs",
            severity=Severity.HIGH,
            rationale="No event names a protected store while the logs of its region "
            "have events: its accesses are probably not logged.",
            references=_REFERENCES,
            sql=_STORE_UNOBSERVED_SQL,
            describe=_store_unobserved,
        ),
        Rule(
            id="coverage.log-gap",
            title="Days without logs",
            severity=Severity.MEDIUM,
            rationale="A source, account and region with no events on days of the scan "
            "window while it has events on others: a missing delivery or a disabled trail.",
            references=_REFERENCES,
            sql=_LOG_GAP_SQL,
            describe=_log_gap,
        ),
    ]
