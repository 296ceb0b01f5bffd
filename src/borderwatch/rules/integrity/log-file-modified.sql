-- A CloudTrail log file whose uncompressed content no longer has the SHA-256 its digest
-- recorded. log_integrity: one row per failed check (ingest/cloudtrail_digest.py).
SELECT log_file AS resource, NULL AS principal, NULL AS person, NULL AS country,
    NULL AS data_classes, 1 AS count, NULL AS first_seen, NULL AS last_seen,
    struct_pack(
        digest := digest, local_path := local_path, expected := expected,
        actual := actual, detail := detail
    ) AS evidence
FROM log_integrity
WHERE problem = 'log-file-modified'
