-- Views per declared exposure test, window and value of the test's attribute: the counts
-- the test compares (evaluate/feed.py runs the statistics on them). A value the records
-- did not give is NULL and counts as a value of its own, so the shares of a window sum
-- to one.
SELECT t.test_id, 'baseline' AS period, v.value, CAST(sum(v.views) AS BIGINT) AS views
FROM feed_tests t
JOIN feed_views v
    ON v.attribute = t.attribute AND v.day BETWEEN t.baseline_from AND t.baseline_to
GROUP BY t.test_id, v.value
UNION ALL
SELECT t.test_id, 'comparison' AS period, v.value, CAST(sum(v.views) AS BIGINT) AS views
FROM feed_tests t
JOIN feed_views v
    ON v.attribute = t.attribute AND v.day BETWEEN t.comparison_from AND t.comparison_to
GROUP BY t.test_id, v.value
