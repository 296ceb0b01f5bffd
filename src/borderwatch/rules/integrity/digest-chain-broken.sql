-- A CloudTrail digest whose signature does not hold, that does not name the digest
-- before it, that is not where it says it is, or that cannot be read: the digests no
-- longer prove which log files CloudTrail delivered. `kind` tells the checks apart.
-- log_integrity: ingest/cloudtrail_digest.py.
SELECT digest AS resource, NULL AS principal, NULL AS person, NULL AS country,
    kind AS subject, NULL AS data_classes, 1 AS count, NULL AS first_seen, NULL AS last_seen,
    struct_pack(
        check_failed := kind, local_path := local_path, expected := expected,
        actual := actual, detail := detail
    ) AS evidence
FROM log_integrity
WHERE problem = 'digest-chain-broken'
