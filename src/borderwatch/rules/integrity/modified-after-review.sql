-- Artifacts whose name a trusted reviewer approved with another digest, while nobody
-- trusted approved (or rejected) the digest that runs: changed since the review.
SELECT r.name || '@sha256:' || r.digest AS resource, NULL AS principal, NULL AS person,
    NULL AS country, [] AS data_classes, r.sightings AS count,
    r.first_seen, r.last_seen,
    struct_pack(
        kind := r.kind, running_digest := r.digest,
        reviewed_digests := (SELECT distinct_sorted(t.digest) FROM trusted_reviews t
                             WHERE t.name = r.name AND t.decision = 'approved'),
        reviewers := (SELECT distinct_sorted(t.signed_by) FROM trusted_reviews t
                      WHERE t.name = r.name AND t.decision = 'approved'),
        namespaces := r.namespaces, workloads := r.workloads, origins := r.origins,
        sources := r.sources
    ) AS evidence
FROM running_digests r
WHERE r.name_approved_elsewhere AND NOT (r.approved OR r.approval_expired OR r.rejected)
