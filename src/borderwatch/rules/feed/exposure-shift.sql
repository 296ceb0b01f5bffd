-- A pre-registered exposure test found a shift: a value whose share of views moved by at
-- least the declared minimal effect with a Benjamini-Hochberg adjusted p-value below
-- alpha, or (subject 'distribution') a Jensen-Shannon distance at or above the declared
-- maximum with no single value to blame. Not pure SQL: the G-tests, the adjustment and
-- the distance need scipy. evaluate/feed.py ran them on the counts of
-- evaluate/sql/feed_window_counts.sql and wrote feed_tests and feed_exposure, which this
-- query reads.
SELECT t.test_id || ': ' || t.attribute || '=' || coalesce(e.value, '(not given)')
        AS resource,
    NULL AS principal, NULL AS person, NULL AS country, [] AS data_classes,
    e.comparison_views AS count,
    CAST(t.comparison_from AS VARCHAR) AS first_seen,
    CAST(t.comparison_to AS VARCHAR) AS last_seen,
    CASE WHEN e.value IS NULL THEN 'value-not-given' END AS subject,
    struct_pack(
        test := t.test_id, attribute := t.attribute, value := e.value,
        baseline_views := e.baseline_views, comparison_views := e.comparison_views,
        baseline_total := t.baseline_total, comparison_total := t.comparison_total,
        baseline_share := e.baseline_share, comparison_share := e.comparison_share,
        effect := e.effect, g_statistic := e.g_statistic, p_value := e.p_value,
        p_adjusted := e.p_adjusted, distance := t.distance,
        declaration := struct_pack(
            baseline := CAST(t.baseline_from AS VARCHAR) || ' to '
                || CAST(t.baseline_to AS VARCHAR),
            comparison := CAST(t.comparison_from AS VARCHAR) || ' to '
                || CAST(t.comparison_to AS VARCHAR),
            min_effect := t.min_effect, alpha := t.alpha, max_distance := t.max_distance,
            registered := CAST(t.registered AS VARCHAR))
    ) AS evidence
FROM feed_exposure e
JOIN feed_tests t ON t.test_id = e.test_id
WHERE e.shifted
UNION ALL
SELECT t.test_id || ': ' || t.attribute AS resource,
    NULL AS principal, NULL AS person, NULL AS country, [] AS data_classes,
    t.comparison_total AS count,
    CAST(t.comparison_from AS VARCHAR) AS first_seen,
    CAST(t.comparison_to AS VARCHAR) AS last_seen,
    'distribution' AS subject,
    struct_pack(
        test := t.test_id, attribute := t.attribute, value := CAST(NULL AS VARCHAR),
        baseline_views := CAST(NULL AS BIGINT), comparison_views := CAST(NULL AS BIGINT),
        baseline_total := t.baseline_total, comparison_total := t.comparison_total,
        baseline_share := CAST(NULL AS DOUBLE), comparison_share := CAST(NULL AS DOUBLE),
        effect := CAST(NULL AS DOUBLE), g_statistic := CAST(NULL AS DOUBLE),
        p_value := CAST(NULL AS DOUBLE), p_adjusted := CAST(NULL AS DOUBLE),
        distance := t.distance,
        declaration := struct_pack(
            baseline := CAST(t.baseline_from AS VARCHAR) || ' to '
                || CAST(t.baseline_to AS VARCHAR),
            comparison := CAST(t.comparison_from AS VARCHAR) || ' to '
                || CAST(t.comparison_to AS VARCHAR),
            min_effect := t.min_effect, alpha := t.alpha, max_distance := t.max_distance,
            registered := CAST(t.registered AS VARCHAR))
    ) AS evidence
FROM feed_tests t
WHERE t.status = 'tested' AND t.distance_exceeded
  AND NOT EXISTS (SELECT 1 FROM feed_exposure e WHERE e.test_id = t.test_id AND e.shifted)
