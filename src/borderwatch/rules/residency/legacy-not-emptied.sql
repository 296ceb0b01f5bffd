-- Legacy locations (the policy's legacy_locations) still holding protected data after
-- their deadline.
SELECT h.store_id AS resource, NULL AS principal, NULL AS person,
    (SELECT min(c.country) FROM store_countries c WHERE c.store_id = h.store_id) AS country,
    (SELECT list(DISTINCT p.data_class ORDER BY p.data_class)
     FROM protected_store_classes p WHERE p.store_id = h.store_id) AS data_classes,
    1 AS count, NULL::TIMESTAMPTZ AS first_seen, NULL::TIMESTAMPTZ AS last_seen,
    struct_pack(legacy_location := h.legacy, deadline := CAST(h.deadline AS VARCHAR),
                days_overdue := datediff('day', h.deadline, h.as_of),
                records := h.records) AS evidence
FROM legacy_holdings h
WHERE h.as_of > h.deadline AND coalesce(h.records, 1) > 0
