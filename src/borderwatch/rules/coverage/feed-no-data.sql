-- A feed check the policy declares that could not be made: an exposure test with a
-- window holding no views (evaluate/feed.py marks it 'no-data'), or an intervention cap
-- with no feed views at all. Not a pass: what was not seen is said.
SELECT 'feed test ' || test_id AS resource,
    NULL AS principal, NULL AS person, NULL AS country, [] AS data_classes,
    0 AS count, NULL AS first_seen, NULL AS last_seen,
    'exposure-test' AS subject,
    struct_pack(
        test := test_id, attribute := attribute, empty_windows := empty_windows,
        baseline := CAST(baseline_from AS VARCHAR) || ' to ' || CAST(baseline_to AS VARCHAR),
        comparison := CAST(comparison_from AS VARCHAR) || ' to '
            || CAST(comparison_to AS VARCHAR),
        cap := CAST(NULL AS VARCHAR)
    ) AS evidence
FROM feed_tests
WHERE status = 'no-data'
UNION ALL
SELECT 'feed intervention cap' AS resource,
    NULL AS principal, NULL AS person, NULL AS country, [] AS data_classes,
    0 AS count, NULL AS first_seen, NULL AS last_seen,
    'intervention-cap' AS subject,
    struct_pack(
        test := CAST(NULL AS VARCHAR), attribute := CAST(NULL AS VARCHAR),
        empty_windows := CAST([] AS VARCHAR[]),
        baseline := CAST(NULL AS VARCHAR), comparison := CAST(NULL AS VARCHAR), cap := c.cap
    ) AS evidence
FROM feed_intervention_cap c
WHERE NOT EXISTS (SELECT 1 FROM feed_days)
