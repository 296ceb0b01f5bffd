-- Images in a protected namespace named by tag without a digest: what runs can change
-- under the same name at any push, so no review can be matched to it.
SELECT d.reference AS resource, NULL AS principal, NULL AS person, NULL AS country,
    [] AS data_classes, count(*) AS count, min(d.seen_at) AS first_seen,
    max(d.seen_at) AS last_seen,
    struct_pack(
        image := any_value(d.name),
        namespaces := distinct_sorted(d.namespace),
        workloads := distinct_sorted(d.workload)[1:10],
        origins := distinct_sorted(d.origin),
        sources := distinct_sorted(d.source)[1:10]
    ) AS evidence
FROM deployed_artifacts d
WHERE d.in_scope AND d.kind = 'image' AND d.digest IS NULL AND d.reference IS NOT NULL
GROUP BY d.reference
