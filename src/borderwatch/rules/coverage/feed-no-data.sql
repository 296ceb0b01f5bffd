-- A feed check the policy declares that could not be made in full: an exposure test
-- with a window holding no views (evaluate/feed.py marks it 'no-data'), a test that ran
-- but whose windows have days without any view (a missing delivery: it saw less than
-- declared), or an intervention cap with no feed views at all. Not a pass: what was not
-- seen is said.
SELECT 'feed test ' || test_id AS resource,
    NULL AS principal, NULL AS person, NULL AS country, [] AS data_classes,
    0 AS count, NULL AS first_seen, NULL AS last_seen,
    'exposure-test' AS subject,
    struct_pack(
        test := test_id, attribute := attribute, empty_windows := empty_windows,
        missing_days := CAST([] AS VARCHAR[]),
        baseline := CAST(baseline_from AS VARCHAR) || ' to ' || CAST(baseline_to AS VARCHAR),
        comparison := CAST(comparison_from AS VARCHAR) || ' to '
            || CAST(comparison_to AS VARCHAR),
        cap := CAST(NULL AS VARCHAR)
    ) AS evidence
FROM feed_tests
WHERE status = 'no-data'
UNION ALL
SELECT 'feed test ' || test_id AS resource,
    NULL AS principal, NULL AS person, NULL AS country, [] AS data_classes,
    days_missing AS count, missing_days[1] AS first_seen,
    missing_days[length(missing_days)] AS last_seen,
    'missing-days' AS subject,
    struct_pack(
        test := test_id, attribute := attribute, empty_windows := CAST([] AS VARCHAR[]),
        missing_days := missing_days,
        baseline := CAST(baseline_from AS VARCHAR) || ' to ' || CAST(baseline_to AS VARCHAR),
        comparison := CAST(comparison_from AS VARCHAR) || ' to '
            || CAST(comparison_to AS VARCHAR),
        cap := CAST(NULL AS VARCHAR)
    ) AS evidence
FROM feed_tests
WHERE status = 'tested' AND days_missing > 0
UNION ALL
SELECT 'feed intervention cap' AS resource,
    NULL AS principal, NULL AS person, NULL AS country, [] AS data_classes,
    0 AS count, NULL AS first_seen, NULL AS last_seen,
    'intervention-cap' AS subject,
    struct_pack(
        test := CAST(NULL AS VARCHAR), attribute := CAST(NULL AS VARCHAR),
        empty_windows := CAST([] AS VARCHAR[]), missing_days := CAST([] AS VARCHAR[]),
        baseline := CAST(NULL AS VARCHAR), comparison := CAST(NULL AS VARCHAR), cap := c.cap
    ) AS evidence
FROM feed_intervention_cap c
WHERE NOT EXISTS (SELECT 1 FROM feed_days)
