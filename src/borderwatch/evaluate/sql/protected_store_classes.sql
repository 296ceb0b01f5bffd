-- The stores that hold protected data, one row per (store, protected class).
CREATE OR REPLACE TEMP VIEW protected_store_classes AS
SELECT DISTINCT sc.store_id, sc.data_class
FROM store_classes sc JOIN protected_classes pc USING (data_class);
