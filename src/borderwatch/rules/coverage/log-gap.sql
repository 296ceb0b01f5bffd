-- Days of the scan window without events from a source, account and region that has
-- events on other days. Only places dense enough that a day without events means
-- missing logs count (coverage_policy.log_gap_min_daily_events, docs/rules.md).
-- coverage_days_seen and coverage_window_days: rules/shared/coverage.sql.
WITH places AS (
    SELECT source_format, provider, account, region, count(*) AS days_with_events,
        quantile_disc(events, 0.5) AS median_daily_events
    FROM coverage_days_seen GROUP BY ALL
    HAVING quantile_disc(events, 0.5)
        >= (SELECT log_gap_min_daily_events FROM coverage_policy)
),
gaps AS (
    SELECT p.*, w.day FROM places p CROSS JOIN coverage_window_days w
    WHERE NOT EXISTS (
        SELECT 1 FROM coverage_days_seen s
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
                   FROM coverage_window_days)
    ) AS evidence,
    -- The policy sets the severity (coverage.log_gap); the rule's own is the default.
    (SELECT log_gap FROM coverage_policy) AS severity
FROM gaps
GROUP BY source_format, provider, account, region
