-- One row per (protected store, protected class): is its location approved?
-- A location in several countries (multi-region) is approved only if every country
-- is; a global location only by an approval that names no country; an unknown one
-- never. Partitions are hard boundaries (approval_covers_partition, residency_macros.sql).
-- `partition_blocked` says the store would be approved if partitions were ignored, so
-- the finding can say why.
CREATE OR REPLACE TEMP VIEW residency_by_class AS
WITH checked AS (
    SELECT p.store_id, p.data_class, s.provider, s.location, s.location_kind,
        outside_countries(p.store_id, p.data_class, s.provider, s.location, s.partition,
                          s.default_partition, FALSE) AS outside_countries,
        outside_countries(p.store_id, p.data_class, s.provider, s.location, s.partition,
                          s.default_partition, TRUE) AS outside_any_partition,
        approved_anywhere(p.data_class, s.provider, s.location, s.partition,
                          s.default_partition, FALSE) AS approved_anywhere,
        approved_anywhere(p.data_class, s.provider, s.location, s.partition,
                          s.default_partition, TRUE) AS approved_anywhere_any_partition
    FROM protected_store_classes p JOIN stores s USING (store_id)
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
