-- Changes to where protected data is stored since the previous inventory
-- (--previous-inventory): a protected store appeared, moved, or gained a copy.
-- `subject` tells apart two changes to one store in the finding's id.
SELECT c.store_id AS resource, NULL AS principal, NULL AS person, NULL AS country,
    coalesce((SELECT list(DISTINCT p.data_class ORDER BY p.data_class)
              FROM protected_store_classes p WHERE p.store_id IN (c.store_id, c.detail)),
             []) AS data_classes,
    1 AS count, NULL::TIMESTAMPTZ AS first_seen, NULL::TIMESTAMPTZ AS last_seen,
    c.kind || ':' || coalesce(c.detail, '') AS subject,
    struct_pack(change := c.kind, before := c.before, after := c.after,
                new_copy := c.detail) AS evidence
FROM inventory_changes c
WHERE c.kind IN ('appeared', 'moved', 'gained-copy')
  AND EXISTS (SELECT 1 FROM protected_store_classes p
              WHERE p.store_id IN (c.store_id, c.detail))
