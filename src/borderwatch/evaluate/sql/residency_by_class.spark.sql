-- The Spark variant of residency_by_class.sql (the same view, the same rows; the parity
-- suite, tests/test_spark_parity.py, runs both). Spark cannot correlate a subquery two
-- levels deep, as the macros outside_countries and approved_anywhere do (NOT EXISTS
-- inside a scalar subquery), so the same question is asked with joins: each country of
-- a protected store and class, and whether some approval covers it, with and without
-- partitions (approval_covers_partition, residency_macros.sql).
CREATE OR REPLACE TEMP VIEW residency_by_class AS
WITH base AS (
    SELECT p.store_id, p.data_class, s.provider, s.location, s.location_kind,
        s.partition, s.default_partition
    FROM protected_store_classes p JOIN stores s USING (store_id)
),
covered AS (
    SELECT b.store_id, b.data_class, c.country,
        bool_or(coalesce(a.data_class IS NOT NULL AND approval_covers_partition(
            a.partition, a.region, b.partition, b.default_partition), FALSE)) AS covered,
        bool_or(a.data_class IS NOT NULL) AS covered_any_partition
    FROM base b JOIN store_countries c ON c.store_id = b.store_id
    LEFT JOIN storage_approved a
      ON a.data_class = b.data_class
     AND (a.provider IS NULL OR a.provider = b.provider)
     AND (a.region IS NULL OR a.region = b.location)
     AND (a.country IS NULL OR a.country = c.country)
    GROUP BY b.store_id, b.data_class, c.country
),
-- The countries no approval covers, in order; NULL when none (as the macro's list).
outside AS (
    SELECT store_id, data_class,
        list(country ORDER BY country) FILTER (WHERE NOT covered) AS outside_countries,
        list(country ORDER BY country) FILTER (WHERE NOT covered_any_partition)
            AS outside_any_partition
    FROM covered GROUP BY store_id, data_class
),
anywhere AS (
    SELECT b.store_id, b.data_class,
        bool_or(coalesce(a.data_class IS NOT NULL AND approval_covers_partition(
            a.partition, a.region, b.partition, b.default_partition), FALSE))
            AS approved_anywhere,
        bool_or(a.data_class IS NOT NULL) AS approved_anywhere_any_partition
    FROM base b LEFT JOIN storage_approved a
      ON a.data_class = b.data_class AND a.country IS NULL
     AND (a.provider IS NULL OR a.provider = b.provider)
     AND (a.region IS NULL OR a.region = b.location)
    GROUP BY b.store_id, b.data_class
),
checked AS (
    SELECT b.store_id, b.data_class, b.provider, b.location, b.location_kind,
        o.outside_countries, o.outside_any_partition, w.approved_anywhere,
        w.approved_anywhere_any_partition
    FROM base b
    LEFT JOIN outside o ON o.store_id = b.store_id AND o.data_class = b.data_class
    JOIN anywhere w ON w.store_id = b.store_id AND w.data_class = b.data_class
), judged AS (
    SELECT *,
        CASE
            WHEN location_kind = 'unknown' THEN 'unknown'
            WHEN location_kind = 'global' THEN
                CASE WHEN approved_anywhere THEN 'approved' ELSE 'outside' END
            WHEN len(coalesce(outside_countries, [])) = 0 THEN 'approved'
            ELSE 'outside'
        END AS verdict
    FROM checked
)
SELECT store_id, data_class, location_kind,
    coalesce(outside_countries, []) AS outside_countries, verdict,
    verdict = 'outside' AND CASE
        WHEN location_kind = 'global' THEN approved_anywhere_any_partition
        ELSE len(coalesce(outside_any_partition, [])) < len(outside_countries)
    END AS partition_blocked
FROM judged;
