-- A quarantined inventory row is judged on what can still be read of it: the classes it
-- names (with the policy's store_classes patterns), or nothing at all when even those
-- are unreadable. Either way it is a finding on that row, never a silent drop.
WITH protected AS (
    -- One row: the protected classes (a subquery inside the list functions would not
    -- run on Spark, docs/spark.md).
    SELECT coalesce(list(data_class), []) AS classes FROM protected_classes
)
SELECT coalesce(u.store_id, u.row_name) AS resource, NULL AS principal, NULL AS person,
    NULL AS country,
    coalesce(list_sort(list_intersect(u.data_classes, p.classes)), []) AS data_classes,
    1 AS count, NULL::TIMESTAMPTZ AS first_seen, NULL::TIMESTAMPTZ AS last_seen,
    struct_pack(declared_at := u.declared_at, reason := u.reason,
                classes_read := u.data_classes IS NOT NULL,
                named_classes := u.data_classes) AS evidence
FROM unreadable_stores u CROSS JOIN protected p
WHERE u.data_classes IS NULL OR len(list_intersect(u.data_classes, p.classes)) > 0
