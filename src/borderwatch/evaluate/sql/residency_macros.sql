-- Pieces of residency_by_class (residency_by_class.sql), as macros so that the view
-- reads as the question it answers. DuckDB binds a macro when it is created, so these
-- come after the tables they read (store_countries, storage_approved).

-- Whether an approval covers the partition of a store. Partitions are hard boundaries:
-- an approval covers a store's partition when it names it, names the store's region
-- (which implies it), or names neither and the store is in its provider's default
-- partition.
CREATE OR REPLACE TEMP MACRO approval_covers_partition(
    approved_partition, approved_region, store_partition, store_in_default_partition
) AS (
    CASE WHEN approved_partition IS NOT NULL THEN approved_partition = lower(store_partition)
         WHEN approved_region IS NOT NULL THEN TRUE
         ELSE store_in_default_partition END
);

-- The store's countries no approval of the class covers, in order (NULL when none).
-- `any_partition` TRUE ignores partitions, so that residency_by_class can tell when a
-- store is outside only because of its partition.
CREATE OR REPLACE TEMP MACRO outside_countries(
    of_store, of_class, store_provider, store_location, store_partition,
    store_in_default_partition, any_partition
) AS (
    SELECT list(c.country ORDER BY c.country)
    FROM store_countries c
    WHERE c.store_id = of_store
      AND NOT EXISTS (
          SELECT 1 FROM storage_approved a
          WHERE a.data_class = of_class
            AND (a.provider IS NULL OR a.provider = store_provider)
            AND (a.region IS NULL OR a.region = store_location)
            AND (a.country IS NULL OR a.country = c.country)
            AND (any_partition OR approval_covers_partition(
                a.partition, a.region, store_partition, store_in_default_partition)))
);

-- Whether an approval naming no country covers the store (the test for global locations).
CREATE OR REPLACE TEMP MACRO approved_anywhere(
    of_class, store_provider, store_location, store_partition,
    store_in_default_partition, any_partition
) AS (
    EXISTS (
        SELECT 1 FROM storage_approved a
        WHERE a.data_class = of_class AND a.country IS NULL
          AND (a.provider IS NULL OR a.provider = store_provider)
          AND (a.region IS NULL OR a.region = store_location)
          AND (any_partition OR approval_covers_partition(
              a.partition, a.region, store_partition, store_in_default_partition)))
);
