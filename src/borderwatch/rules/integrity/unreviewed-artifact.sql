-- Artifacts that run with no valid approval: in scope (a model-store file, or an image
-- in a protected namespace), pinned by a digest no trusted reviewer approved for a scope
-- the policy accepts (or one a trusted reviewer rejected), and not explained by a more precise rule: an approval of
-- that digest that expired (integrity.approval-expired) or an approval of the same name
-- with another digest (integrity.modified-after-review). An image the audit log does not
-- record (a workload change logged at Metadata level) cannot be shown reviewed either.
SELECT r.name || '@sha256:' || r.digest AS resource, NULL AS principal, NULL AS person,
    NULL AS country, [] AS data_classes, r.sightings AS count,
    r.first_seen, r.last_seen,
    struct_pack(
        reason := CASE WHEN r.rejected THEN 'rejected by a trusted reviewer'
                       WHEN r.approved_for_other_scope
                       THEN 'approved by a trusted reviewer only for another scope ('
                            || array_to_string(
                                (SELECT distinct_sorted(o.scope) FROM trusted_reviews o
                                 WHERE o.digest = r.digest AND o.decision = 'approved'
                                 AND NOT o.scope_counts), ', ')
                            || ') than the policy''s oversight.approval_scopes'
                       ELSE 'no approval by a trusted reviewer' END,
        kind := r.kind, namespaces := r.namespaces, workloads := r.workloads,
        origins := r.origins, sources := r.sources,
        untrusted_reviews := (SELECT distinct_sorted(u.signature || ': ' || u.source)
                              FROM oversight_reviews u WHERE u.digest = r.digest
                              AND u.signature <> 'verified')
    ) AS evidence
FROM running_digests r
WHERE r.rejected OR NOT (r.approved OR r.approval_expired OR r.name_approved_elsewhere)
UNION ALL
SELECT d.workload AS resource, NULL AS principal, NULL AS person, NULL AS country,
    [] AS data_classes, count(*) AS count, min(d.seen_at) AS first_seen,
    max(d.seen_at) AS last_seen,
    struct_pack(
        reason := 'the image is not recorded (audit level Metadata)',
        kind := 'image', namespaces := distinct_sorted(d.namespace),
        workloads := distinct_sorted(d.workload)[1:10], origins := distinct_sorted(d.origin),
        sources := distinct_sorted(d.source)[1:10], untrusted_reviews := []
    ) AS evidence
FROM deployed_artifacts d
WHERE d.in_scope AND d.reference IS NULL
GROUP BY d.workload
