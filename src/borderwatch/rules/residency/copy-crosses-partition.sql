-- A copy and the store it copies in different partitions: no provider replicates across
-- a partition (separate accounts, credentials, endpoints), so the data was exported, or
-- the inventory declares the copy or its region wrongly. Judged whether or not both
-- places are approved. A partition left empty (on-premises, unknown) is no boundary.
SELECT s.store_id AS resource, NULL AS principal, NULL AS person,
    (SELECT min(c.country) FROM store_countries c WHERE c.store_id = s.store_id) AS country,
    (SELECT list(DISTINCT p.data_class ORDER BY p.data_class)
     FROM protected_store_classes p WHERE p.store_id = s.store_id) AS data_classes,
    1 AS count, NULL::TIMESTAMPTZ AS first_seen, NULL::TIMESTAMPTZ AS last_seen,
    struct_pack(provider := s.provider, region := s.region, partition := s.partition,
                copied_from := o.store_id, copied_from_provider := o.provider,
                copied_from_region := o.region, copied_from_partition := o.partition,
                copy_kind := s.copy_kind, copy_path := s.copy_path,
                declared_at := s.origin) AS evidence
FROM stores s JOIN stores o ON o.store_id = s.copy_of
WHERE s.partition <> '' AND o.partition <> '' AND lower(s.partition) <> lower(o.partition)
  AND EXISTS (SELECT 1 FROM protected_store_classes p WHERE p.store_id = s.store_id)
