-- A CloudTrail log file a digest names that is not in the folder checked (deleted, or
-- not copied): its events were not seen. log_integrity: ingest/cloudtrail_digest.py.
SELECT log_file AS resource, NULL AS principal, NULL AS person, NULL AS country,
    NULL AS data_classes, 1 AS count, NULL AS first_seen, NULL AS last_seen,
    struct_pack(
        digest := digest, local_path := local_path, expected := expected, detail := detail
    ) AS evidence
FROM log_integrity
WHERE problem = 'log-file-missing'
