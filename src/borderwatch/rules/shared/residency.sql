-- Protected stores by residency verdict (residency_by_class, evaluate/sql), one row per
-- (verdict, store): `outside` stores (residency.store-outside-approved), `outside`
-- copies (residency.copy-outside-approved), and `unknown` ones, stores and copies alike
-- (residency.location-unknown). `is_copy` tells a copy (copy_of) from an original.
CREATE OR REPLACE TEMP VIEW residency_findings AS
-- Each store's countries, joined in (a subquery inside the aggregate would not run on
-- Spark, docs/spark.md).
WITH countries AS (
    SELECT store_id, list(country ORDER BY country) AS countries
    FROM store_countries GROUP BY store_id
)
SELECT r.verdict, any_value(s.copy_of) IS NOT NULL AS is_copy,
    r.store_id AS resource, NULL AS principal, NULL AS person,
    CASE WHEN len(flatten(list(r.outside_countries))) > 0
         THEN flat_sorted(r.outside_countries)[1] END AS country,
    list_sort(list(DISTINCT r.data_class)) AS data_classes,
    1 AS count, NULL::TIMESTAMPTZ AS first_seen, NULL::TIMESTAMPTZ AS last_seen,
    struct_pack(
        provider := any_value(s.provider),
        region := any_value(s.region),
        location := any_value(s.location),
        location_kind := any_value(s.location_kind),
        location_reason := any_value(s.location_reason),
        partition := nullif(any_value(s.partition), ''),
        partition_not_approved := bool_or(r.partition_blocked),
        countries := any_value(c.countries),
        outside_countries := flat_sorted(r.outside_countries),
        service := any_value(s.service),
        records := any_value(s.records),
        copy_path := any_value(s.copy_path),
        copy_kind := any_value(s.copy_kind),
        copy_problem := any_value(s.copy_problem),
        copied_from := any_value(s.copy_of),
        copied_from_partition := nullif(any_value(o.partition), ''),
        declared_at := any_value(s.origin)
    ) AS evidence
FROM residency_by_class r JOIN stores s USING (store_id)
    LEFT JOIN stores o ON o.store_id = s.copy_of
    LEFT JOIN countries c ON c.store_id = r.store_id
GROUP BY r.verdict, r.store_id;
