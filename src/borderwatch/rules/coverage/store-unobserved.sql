-- A protected store no event names, while logs of its provider and region have events.
-- coverage_days_seen and coverage_window_days: rules/shared/coverage.sql.
WITH classes AS (
    SELECT store_id, list(data_class ORDER BY data_class) AS data_classes
    FROM protected_store_classes GROUP BY store_id
),
logged AS (
    SELECT provider, region, list(DISTINCT source_format ORDER BY source_format) AS sources,
        count(DISTINCT day) AS days
    FROM coverage_days_seen GROUP BY provider, region
)
SELECT s.store_id AS resource, NULL AS principal, NULL AS person, NULL AS country,
    c.data_classes, 0 AS count, NULL AS first_seen, NULL AS last_seen,
    struct_pack(
        provider := s.provider, region := s.location, service := s.service,
        sources_of_region := l.sources, days_of_region := l.days,
        scan_window := (SELECT CAST(min(day) AS VARCHAR) || ' to ' || CAST(max(day) AS VARCHAR)
                   FROM coverage_window_days)
    ) AS evidence,
    -- The policy sets the severity (coverage.store_unobserved); the rule's own is the default.
    (SELECT store_unobserved FROM coverage_policy) AS severity
FROM classes c JOIN stores s USING (store_id)
JOIN logged l ON l.provider = s.provider AND l.region = s.location
WHERE NOT EXISTS (SELECT 1 FROM coverage_parts t WHERE t.store_id = c.store_id)
