-- Nothing to judge: no protected store, no event, or no event naming a protected store.
WITH counts AS (
    SELECT
        (SELECT count(DISTINCT store_id) FROM protected_store_classes) AS protected_stores,
        (SELECT coalesce(sum(events), 0) FROM coverage_parts WHERE store_id IS NULL)
            AS events,
        (SELECT coalesce(sum(events), 0) FROM coverage_parts WHERE store_id IS NOT NULL)
            AS events_naming_protected
)
SELECT NULL AS resource, NULL AS principal, NULL AS person, NULL AS country,
    [] AS data_classes, 0 AS count, NULL AS first_seen, NULL AS last_seen,
    CASE WHEN protected_stores = 0 THEN 'no-protected-store'
         WHEN events = 0 THEN 'no-events'
         ELSE 'no-event-names-protected-data' END AS subject,
    struct_pack(
        protected_stores := protected_stores, events := CAST(events AS BIGINT),
        events_naming_protected_stores := CAST(events_naming_protected AS BIGINT)
    ) AS evidence,
    -- The policy sets the severity (coverage.nothing_judged); the rule's own is the default.
    (SELECT nothing_judged FROM coverage_policy) AS severity
FROM counts
WHERE protected_stores = 0 OR events = 0 OR events_naming_protected = 0
