-- What the coverage rules share. They read `coverage_parts` (ingest/coverage.py): events
-- per (source format, provider, account, region, day), and per protected store the
-- events naming it; and the one-row table `coverage_policy` (the policy's `coverage:`
-- severities and thresholds, and the days asked for with --from/--to).

-- Every place (source, provider, account, region) and the days it has events.
CREATE OR REPLACE TEMP VIEW coverage_days_seen AS
SELECT source_format, provider, account, region, day, sum(events) AS events
FROM coverage_parts WHERE store_id IS NULL AND day IS NOT NULL
GROUP BY ALL;

-- The scan window: the requested days (--from/--to), else the first to the last day
-- with events; no row at all when there is neither.
CREATE OR REPLACE TEMP VIEW coverage_window_days AS
SELECT CAST(unnest(generate_series(
    CAST(coalesce(any_value(p.window_from), min(s.day)) AS TIMESTAMP),
    CAST(coalesce(any_value(p.window_to), max(s.day)) AS TIMESTAMP),
    INTERVAL 1 DAY)) AS DATE) AS day
FROM coverage_days_seen s CROSS JOIN coverage_policy p HAVING count(*) > 0;
