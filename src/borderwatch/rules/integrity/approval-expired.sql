-- Artifacts whose digest a trusted reviewer approved, but every such approval expired
-- before the day approvals are judged on (--as-of, default today).
SELECT r.name || '@sha256:' || r.digest AS resource, NULL AS principal, NULL AS person,
    NULL AS country, [] AS data_classes, r.sightings AS count,
    r.first_seen, r.last_seen,
    struct_pack(
        kind := r.kind,
        expired_on := CAST((SELECT max(t.expires) FROM trusted_reviews t
                            WHERE t.digest = r.digest AND t.decision = 'approved') AS VARCHAR),
        judged_on := CAST((SELECT as_of FROM oversight_scope) AS VARCHAR),
        reviewers := (SELECT distinct_sorted(t.signed_by) FROM trusted_reviews t
                      WHERE t.digest = r.digest AND t.decision = 'approved'),
        namespaces := r.namespaces, workloads := r.workloads, origins := r.origins,
        sources := r.sources
    ) AS evidence
FROM running_digests r
WHERE r.approval_expired AND NOT (r.approved OR r.rejected)
